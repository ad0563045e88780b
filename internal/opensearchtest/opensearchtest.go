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
	"cmp"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Version is the OpenSearch version the launcher is built with:
// $SLUICE_OPENSEARCH_VERSION (make test-search sets it for each of
// OPENSEARCH_VERSIONS), else DefaultVersion.
var Version = cmp.Or(os.Getenv("SLUICE_OPENSEARCH_VERSION"), DefaultVersion)

// DefaultVersion is the OpenSearch version of make opensearch's default.
const DefaultVersion = "2.19.6"

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

// Node is a running OpenSearch node: Stop, Restart, Close and Log come
// from daemontest.Node. Its methods are not safe for concurrent use.
type Node struct {
	// URL is the node's HTTP address, http://127.0.0.1:<port>.
	URL string
	daemontest.Node

	httpPort      string
	transportPort string
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
	n := &Node{Node: daemontest.Node{Dir: dir, Output: &proctest.Buffer{}}}
	n.Launch = n.launch
	err = daemontest.StartOnFreePorts(func(httpPort, transportPort string) error {
		n.httpPort, n.transportPort = httpPort, transportPort
		n.URL = "http://127.0.0.1:" + n.httpPort
		return n.Start()
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return n, nil
}

func (n *Node) launch() (*daemontest.Daemon, error) {
	home := Home()
	java := "java"
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		java = filepath.Join(jh, "bin", "java")
	}
	cmd := exec.Command(java, "-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:-HeapDumpOnOutOfMemoryError", "-XX:-UseDynamicNumberOfCompilerThreads",
		"-Djava.awt.headless=true", "-Dlog4j2.disable.jmx=true",
		"-cp", filepath.Join(home, "launcher.jar")+string(os.PathListSeparator)+filepath.Join(home, "lib", "*"),
		"io.sluice.opensearchtest.Main", n.Dir, n.httpPort, n.transportPort)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d, err := daemontest.StartLogged("opensearch", cmd, syscall.SIGTERM, n.Output)
	if err != nil {
		return nil, fmt.Errorf("opensearchtest: %w", err)
	}
	if err := daemontest.WaitHealthy(d, StartTimeout, &http.Client{Timeout: 2 * time.Second}, n.URL, nil); err != nil {
		return nil, fmt.Errorf("opensearchtest: %w", err)
	}
	return d, nil
}
