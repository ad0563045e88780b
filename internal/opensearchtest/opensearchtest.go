// Package opensearchtest runs a real OpenSearch node for tests: OpenSearch
// 2.19's server artifacts from Maven Central, started by a small Java
// launcher (launcher/, built by `make opensearch` into
// $HOME/.cache/sluice/opensearch-<version>) as a single node on loopback
// with the netty4 transport, security off and a 512 MB heap.
//
// A JVM takes seconds to start, so a test binary starts one node in
// TestMain and shares it; the tests that use it run under the build tag
// "search" (make test-search). When the launcher is not built, Start
// returns an error that says how to build it; callers fail, never skip.
package opensearchtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Version is the OpenSearch version the launcher is built with.
const Version = "2.19.6"

// StartTimeout bounds how long Start waits for the node to answer.
const StartTimeout = 180 * time.Second

// Home is where `make opensearch` put the launcher: $SLUICE_OPENSEARCH_HOME,
// or $HOME/.cache/sluice/opensearch-<Version>.
func Home() string {
	if h := os.Getenv("SLUICE_OPENSEARCH_HOME"); h != "" {
		return h
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sluice", "opensearch-"+Version)
}

// Node is a running OpenSearch node. Its methods are not safe for
// concurrent use.
type Node struct {
	// URL is the node's HTTP address, http://127.0.0.1:<port>.
	URL string

	dir           string
	httpPort      string
	transportPort string
	d             *daemontest.Daemon // nil while stopped
	log           *proctest.Buffer
}

// Start starts a node with its data in a new temporary directory.
func Start() (*Node, error) {
	jar := filepath.Join(Home(), "launcher.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("opensearchtest: %s is missing: run make opensearch (Maven resolves OpenSearch %s from Maven Central)", jar, Version)
	}
	dir, err := os.MkdirTemp("", "sluice-opensearch-")
	if err != nil {
		return nil, err
	}
	n := &Node{dir: dir, log: &proctest.Buffer{}}
	for range 3 { // a free port may be taken before the JVM binds it
		var hp, tp int
		if hp, err = daemontest.FreePort(); err != nil {
			break
		}
		if tp, err = daemontest.FreePort(); err != nil {
			break
		}
		n.httpPort, n.transportPort = strconv.Itoa(hp), strconv.Itoa(tp)
		n.URL = "http://127.0.0.1:" + n.httpPort
		if err = n.start(); err == nil {
			return n, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func (n *Node) start() error {
	home := Home()
	java := "java"
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		java = filepath.Join(jh, "bin", "java")
	}
	cmd := exec.Command(java, "-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:-HeapDumpOnOutOfMemoryError",
		"-Djava.awt.headless=true", "-Dlog4j2.disable.jmx=true",
		"-cp", filepath.Join(home, "launcher.jar")+string(os.PathListSeparator)+filepath.Join(home, "lib", "*"),
		"io.sluice.opensearchtest.Main", n.dir, n.httpPort, n.transportPort)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d, err := daemontest.StartLogged("opensearch", cmd, syscall.SIGTERM, n.log)
	if err != nil {
		return fmt.Errorf("opensearchtest: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err = d.WaitReady(StartTimeout, func() error {
		resp, err := client.Get(n.URL + "/_cluster/health?wait_for_status=yellow&timeout=1s")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("cluster health: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		d.Stop()
		return fmt.Errorf("opensearchtest: %w\n%s", err, proctest.LastLines(n.log.String(), 40))
	}
	n.d = d
	return nil
}

// Stop stops the node (SIGTERM, SIGKILL after 30 s), keeping its data for
// Restart. Stopping a stopped node does nothing.
func (n *Node) Stop() {
	if n.d != nil {
		n.d.Stop()
		n.d = nil
	}
}

// Restart starts the stopped node again on the same ports with its data.
func (n *Node) Restart() error {
	n.Stop()
	return daemontest.Retry(20, 500*time.Millisecond, n.start) // the ports may linger for a moment
}

// Close stops the node and removes its data.
func (n *Node) Close() {
	n.Stop()
	os.RemoveAll(n.dir)
}

// Log returns the last lines the node printed.
func (n *Node) Log(lines int) string { return proctest.LastLines(n.log.String(), lines) }
