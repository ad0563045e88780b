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
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
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
	cmd           *exec.Cmd
	done          chan struct{}
	log           *logBuffer
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
	n := &Node{dir: dir, log: &logBuffer{}}
	for range 3 { // a free port may be taken before the JVM binds it
		n.httpPort, err = freePort()
		if err != nil {
			break
		}
		if n.transportPort, err = freePort(); err != nil {
			break
		}
		n.URL = "http://127.0.0.1:" + n.httpPort
		if err = n.start(); err == nil {
			return n, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
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
	cmd.Stdout, cmd.Stderr = n.log, n.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opensearchtest: starting java: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-done:
			n.cmd = nil
			return fmt.Errorf("opensearchtest: the node exited: %v\n%s", cmd.ProcessState, n.log.tail(40))
		default:
		}
		resp, err := client.Get(n.URL + "/_cluster/health?wait_for_status=yellow&timeout=1s")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			n.Stop()
			return fmt.Errorf("opensearchtest: the node did not answer within %s\n%s", StartTimeout, n.log.tail(40))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops the node (SIGTERM, SIGKILL after 30 s), keeping its data for
// Restart. Stopping a stopped node does nothing.
func (n *Node) Stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
}

// Restart starts the stopped node again on the same ports with its data.
func (n *Node) Restart() error {
	n.Stop()
	var err error
	for range 20 { // the ports may linger for a moment
		if err = n.start(); err == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return err
}

// Close stops the node and removes its data.
func (n *Node) Close() {
	n.Stop()
	os.RemoveAll(n.dir)
}

// Log returns the last lines the node printed.
func (n *Node) Log(lines int) string { return n.log.tail(lines) }

// logBuffer keeps what the node prints, bounded.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

const maxLogLines = 2000

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sc := bufio.NewScanner(strings.NewReader(b.part + string(p)))
	b.part = ""
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(p) > 0 && p[len(p)-1] != '\n' && len(lines) > 0 {
		b.part, lines = lines[len(lines)-1], lines[:len(lines)-1]
	}
	b.lines = append(b.lines, lines...)
	if len(b.lines) > maxLogLines {
		b.lines = b.lines[len(b.lines)-maxLogLines:]
	}
	return len(p), nil
}

func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines[max(0, len(b.lines)-n):], "\n")
}
