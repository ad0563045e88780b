// Package hdfstest starts a real HDFS for tests: Hadoop's own test cluster,
// MiniDFSCluster, and for a secured cluster Hadoop's test KDC, MiniKdc, run
// by a small Java launcher (launcher/Launcher.java) on loopback ports.
//
// The Hadoop jars are resolved from Maven Central by `make hdfs-tools`
// (mvn dependency:copy-dependencies with launcher/pom.xml) into
// $HOME/.cache/sluice/hadoop-<version>/libs, or SLUICE_HADOOP_LIBS. When
// they or Java are missing, Start fails the test rather than skipping it.
//
// A cluster takes 5 to 20 seconds to start, so tests share one per mode
// (Shared) and the package's TestMain stops them (Main); a test that stops
// nodes starts its own (Start).
package hdfstest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Hadoop version launcher/pom.xml resolves.
const Version = "3.4.1"

// startTimeout bounds a cluster's start; commandTimeout one command.
const (
	startTimeout   = 4 * time.Minute
	commandTimeout = 2 * time.Minute
)

// Mode selects the cluster's shape.
type Mode struct {
	// Kerberos secures the cluster with MiniKdc: Kerberos RPC
	// authentication, block tokens, dfs.data.transfer.protection
	// authentication and HTTPS.
	Kerberos bool
	// HA starts two namenodes, the first active.
	HA bool
}

func (m Mode) args() []string {
	var a []string
	if m.Kerberos {
		a = append(a, "kerberos")
	}
	if m.HA {
		a = append(a, "ha")
	}
	return a
}

// Cluster is a running MiniDFSCluster. Its methods are safe for concurrent
// use.
type Cluster struct {
	// Namenodes are the namenodes' RPC addresses, host:port (two with HA,
	// the first active at start).
	Namenodes []string `json:"namenodes"`
	// SuperUser owns "/" (the launcher's user, or hdfs when secured); "/"
	// is world-writable.
	SuperUser string `json:"superuser"`

	// Kerberos only: the realm, the krb5.conf MiniKdc wrote, a keytab for
	// Principal (sluice@REALM), and the namenode's principal.
	Realm             string `json:"realm"`
	Krb5Conf          string `json:"krb5conf"`
	Keytab            string `json:"keytab"`
	Principal         string `json:"principal"`
	NamenodePrincipal string `json:"namenodePrincipal"`

	// Dir is the cluster's working directory.
	Dir string `json:"-"`

	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *os.File
	done   chan struct{}
}

// URL is hdfs://<first namenode>.
func (c *Cluster) URL() string { return "hdfs://" + c.Namenodes[0] }

var (
	sharedMu sync.Mutex
	shared   = map[Mode]*Cluster{}
	sharedEr = map[Mode]error{}
)

// Shared returns the cluster of mode shared by the test binary, starting
// it on first use. The package's TestMain must call Main so that it stops.
func Shared(tb testing.TB, mode Mode) *Cluster {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if err := sharedEr[mode]; err != nil {
		tb.Fatalf("hdfstest: %v", err)
	}
	if c := shared[mode]; c != nil {
		return c
	}
	c, err := launch(mode)
	if err != nil {
		sharedEr[mode] = err
		tb.Fatalf("hdfstest: %v", err)
	}
	shared[mode] = c
	return c
}

// Main runs the tests and stops the shared clusters; call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(hdfstest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for mode, c := range shared {
		c.Close()
		delete(shared, mode)
	}
	return code
}

// Start starts a cluster of mode for one test and stops it when the test
// ends.
func Start(tb testing.TB, mode Mode) *Cluster {
	tb.Helper()
	c, err := launch(mode)
	if err != nil {
		tb.Fatalf("hdfstest: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// Libs is the folder holding the Hadoop jars.
func Libs() string {
	if d := os.Getenv("SLUICE_HADOOP_LIBS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sluice", "hadoop-"+Version, "libs")
}

func launcherSource() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "launcher", "Launcher.java")
}

func launch(mode Mode) (*Cluster, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java is not installed: a JDK (17+) runs Hadoop's test cluster")
	}
	libs := Libs()
	if m, _ := filepath.Glob(filepath.Join(libs, "hadoop-client-minicluster-*.jar")); len(m) == 0 {
		return nil, fmt.Errorf("the Hadoop jars are not in %s: run make hdfs-tools", libs)
	}
	dir, err := os.MkdirTemp("", "sluice-hdfs-")
	if err != nil {
		return nil, err
	}
	// KeyStoreTestUtil writes ssl-server.xml and ssl-client.xml here; Hadoop
	// finds them on the classpath.
	sslDir := filepath.Join(dir, "ssl")
	if err := os.MkdirAll(sslDir, 0o755); err != nil {
		return nil, err
	}
	stderr, err := os.Create(filepath.Join(dir, "launcher.log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true",
		"-cp", filepath.Join(libs, "*") + string(os.PathListSeparator) + sslDir,
		launcherSource(), dir}, mode.args()...)
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, cmd: cmd, stdin: stdin, lines: make(chan string, 16), stderr: stderr, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return nil, c.fail("the HDFS launcher exited before the cluster was up")
			}
			if rest, found := strings.CutPrefix(line, "READY "); found {
				if err := json.Unmarshal([]byte(rest), c); err != nil {
					return nil, c.fail(fmt.Sprintf("the HDFS launcher's READY line %q: %v", line, err))
				}
				return c, nil
			}
			if strings.HasPrefix(line, "FAILED ") {
				return nil, c.fail("the HDFS cluster did not start: " + line)
			}
		case <-timer.C:
			return nil, c.fail(fmt.Sprintf("the HDFS cluster was not up after %v", startTimeout))
		}
	}
}

// Do sends a command to the launcher (see launcher/Launcher.java) and
// returns its answer.
func (c *Cluster) Do(command string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, command+"\n"); err != nil {
		return "", fmt.Errorf("hdfstest: %s: %w", command, err)
	}
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", fmt.Errorf("hdfstest: %s: the launcher exited:\n%s", command, c.logTail())
		}
		if rest, found := strings.CutPrefix(line, "OK"); found {
			return strings.TrimSpace(rest), nil
		}
		return "", fmt.Errorf("hdfstest: %s: %s", command, strings.TrimPrefix(line, "ERR "))
	case <-time.After(commandTimeout):
		return "", fmt.Errorf("hdfstest: %s: no answer after %v", command, commandTimeout)
	}
}

// MustDo is Do that fails the test on an error.
func (c *Cluster) MustDo(tb testing.TB, command string) string {
	tb.Helper()
	out, err := c.Do(command)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// ReadFile reads an HDFS file through Hadoop's own FileSystem API (the
// launcher copies it out), not through the client under test.
func (c *Cluster) ReadFile(tb testing.TB, hdfsPath string) []byte {
	tb.Helper()
	local := filepath.Join(tb.TempDir(), filepath.Base(hdfsPath))
	c.MustDo(tb, "get "+hdfsPath+" "+local)
	b, err := os.ReadFile(local)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Exists reports whether a path exists, asked through Hadoop's API.
func (c *Cluster) Exists(tb testing.TB, hdfsPath string) bool {
	tb.Helper()
	return c.MustDo(tb, "exists "+hdfsPath) == "true"
}

// Close stops the cluster and removes its directory.
func (c *Cluster) Close() {
	_, _ = io.WriteString(c.stdin, "exit\n")
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = c.stderr.Close()
	_ = os.RemoveAll(c.Dir)
}

// fail stops a cluster that did not start and returns an error carrying
// the end of its log.
func (c *Cluster) fail(msg string) error {
	tail := c.logTail()
	c.Close()
	return fmt.Errorf("%s:\n%s", msg, tail)
}

// logTail is the end of the launcher's log, for error messages.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.stderr.Name())
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
