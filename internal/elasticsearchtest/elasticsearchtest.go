// Package elasticsearchtest runs a real Elasticsearch node for tests:
// Elasticsearch's integration-test distribution
// (org.elasticsearch.distribution.integ-test-zip:elasticsearch: in 7.17 the
// OSS server with only the netty4 transport module, in 8.0 also X-Pack core
// and security, which the node runs with off), resolved from Maven Central
// and unpacked by `make elasticsearch` into
// $HOME/.cache/sluice/elasticsearch-<version>, started as a single node on
// loopback with a 512 MB heap and the machine's Java 17.
//
// Elasticsearch refuses to run as root: when the test runs as root the
// node runs as the user nobody, from a copy of the distribution in the
// node's temporary directory.
//
// A JVM takes seconds to start, so a test binary starts one node in
// TestMain and shares it; the tests that use it run under the build tag
// "search" (make test-search). When the distribution is not unpacked,
// Start returns an error that says how to get it; callers fail, never
// skip.
package elasticsearchtest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Version is the Elasticsearch version the tests run against by default.
const Version = "7.17.0"

// WantedVersion is the version the tests run against:
// $SLUICE_ELASTICSEARCH_VERSION (make test-search runs 7.17.0 and 8.0.0),
// or Version.
func WantedVersion() string {
	if v := os.Getenv("SLUICE_ELASTICSEARCH_VERSION"); v != "" {
		return v
	}
	return Version
}

// StartTimeout bounds how long Start waits for the node to answer.
const StartTimeout = 180 * time.Second

// Home is where `make elasticsearch` unpacked the distribution:
// $SLUICE_ELASTICSEARCH_HOME, or
// $HOME/.cache/sluice/elasticsearch-<WantedVersion>.
func Home() string {
	if h := os.Getenv("SLUICE_ELASTICSEARCH_HOME"); h != "" {
		return h
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sluice", "elasticsearch-"+WantedVersion())
}

// Node is a running Elasticsearch node. Its methods are not safe for
// concurrent use.
type Node struct {
	// URL is the node's HTTP address, http://127.0.0.1:<port>, or https
	// with security on.
	URL string
	// CAFile is the test CA's PEM file, with security on (Options).
	CAFile string

	// Node's Dir is the node's temporary directory; Stop, Restart, Close
	// and Log come from it.
	daemontest.Node

	password string // the user elastic's, with security on

	home          string // the distribution the node runs from
	httpPort      string
	transportPort string
	cred          *syscall.Credential
}

// Start starts a node with its data in a new temporary directory.
func Start() (*Node, error) { return StartWith(Options{}) }

// StartWith starts a node with opts, its data in a new temporary
// directory.
func StartWith(opts Options) (*Node, error) {
	dist := Home()
	if _, err := os.Stat(filepath.Join(dist, "bin", "elasticsearch")); err != nil {
		return nil, fmt.Errorf("elasticsearchtest: %s/bin/elasticsearch is missing: run make elasticsearch (Maven resolves Elasticsearch %s from Maven Central)", dist, WantedVersion())
	}
	dir, err := os.MkdirTemp("", "sluice-elasticsearch-")
	if err != nil {
		return nil, err
	}
	n := &Node{Node: daemontest.Node{Dir: dir, Output: &proctest.Buffer{}}, home: dist}
	n.Launch = n.launch
	if _, err := os.Stat(filepath.Join(dist, "modules", "x-pack-security")); err != nil && opts.Password != "" {
		os.RemoveAll(dir)
		return nil, ErrNoSecurity
	}
	if os.Geteuid() == 0 || opts.Password != "" {
		if err := n.copyHome(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if opts.Password != "" {
		if err := n.secure(opts.Password); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if os.Geteuid() == 0 {
		if err := n.asNobody(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	err = daemontest.StartOnFreePorts(func(httpPort, transportPort string) error {
		n.httpPort, n.transportPort = httpPort, transportPort
		n.URL = "http://127.0.0.1:" + n.httpPort
		if n.password != "" {
			n.URL = "https://127.0.0.1:" + n.httpPort
		}
		return n.Start()
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return n, nil
}

// copyHome copies the distribution into the node's directory: root's
// cache is not readable by other users, and a secured node's certificates
// and keystore go into its own copy.
func (n *Node) copyHome() error {
	home := filepath.Join(n.Dir, "elasticsearch")
	if out, err := exec.Command("cp", "-a", n.home, home).CombinedOutput(); err != nil {
		return fmt.Errorf("elasticsearchtest: copying %s: %v: %s", n.home, err, out)
	}
	n.home = home
	return nil
}

// asNobody hands the node's directory to nobody, whom the node (and the
// keystore tool) then runs as.
func (n *Node) asNobody() error {
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("elasticsearchtest: Elasticsearch refuses to run as root and there is no user nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(n.Dir, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("chown", "-R", u.Uid+":"+u.Gid, n.Dir).CombinedOutput(); err != nil {
		return fmt.Errorf("elasticsearchtest: chown: %v: %s", err, out)
	}
	n.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

// env is the environment of the node and its tools.
func (n *Node) env() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + n.Dir,
		"ES_JAVA_OPTS=-Xms256m -Xmx512m -XX:-HeapDumpOnOutOfMemoryError -XX:-UseDynamicNumberOfCompilerThreads"}
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		env = append(env, "ES_JAVA_HOME="+jh)
	} else if java, err := exec.LookPath("java"); err == nil {
		if real, err := filepath.EvalSymlinks(java); err == nil {
			env = append(env, "ES_JAVA_HOME="+filepath.Dir(filepath.Dir(real)))
		}
	}
	return env
}

func (n *Node) procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: n.cred}
}

func (n *Node) launch() (*daemontest.Daemon, error) {
	cmd := exec.Command(filepath.Join(n.home, "bin", "elasticsearch"),
		"-E", "cluster.name=sluice-test", "-E", "node.name=sluice-test",
		"-E", "network.host=127.0.0.1", "-E", "http.port="+n.httpPort, "-E", "transport.port="+n.transportPort,
		"-E", "discovery.type=single-node", "-E", "path.data="+filepath.Join(n.Dir, "data"),
		"-E", "path.logs="+filepath.Join(n.Dir, "logs"),
		"-E", "cluster.routing.allocation.disk.threshold_enabled=false")
	if n.password != "" {
		cmd.Args = append(cmd.Args, securityArgs()...)
	} else if _, err := os.Stat(filepath.Join(n.home, "modules", "x-pack-security")); err == nil {
		// Elasticsearch 8's distribution has security, on by default.
		cmd.Args = append(cmd.Args, "-E", "xpack.security.enabled=false")
	}
	cmd.Env = n.env()
	cmd.Dir = n.Dir
	cmd.SysProcAttr = n.procAttr()
	d, err := daemontest.StartLogged("elasticsearch", cmd, syscall.SIGTERM, n.Output)
	if err != nil {
		return nil, fmt.Errorf("elasticsearchtest: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	var auth func(*http.Request)
	if n.password != "" {
		cfg, err := n.TLSConfig()
		if err != nil {
			d.Stop()
			return nil, err
		}
		client.Transport = &http.Transport{TLSClientConfig: cfg}
		auth = func(req *http.Request) { req.SetBasicAuth("elastic", n.password) }
	}
	if err := daemontest.WaitHealthy(d, StartTimeout, client, n.URL, auth); err != nil {
		return nil, fmt.Errorf("elasticsearchtest: %w", err)
	}
	return d, nil
}
