//go:build ui

package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConsoleInChromium drives the console in Debian's headless Chromium
// (/usr/bin/chromium, never a downloaded browser) with playwright-core
// (npm, installed by `make test-ui` under SLUICE_PLAYWRIGHT_DIR), against
// a real dev-mode coordinator process running the example datagen
// connector. The browser script, e2e.mjs, creates a FileStreamSink through
// the generated form (one invalid value shown inline, then fixed), watches
// its leases appear, pauses and resumes it, stops it and edits its
// offsets, deletes it, and measures the page weight of the first load.
// Screenshots go to SLUICE_UI_ARTIFACTS (default: a new temporary folder,
// kept and logged). A missing browser, Node.js or playwright-core fails
// the test.
func TestConsoleInChromium(t *testing.T) {
	chromium := envOr("SLUICE_CHROMIUM", "/usr/bin/chromium")
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is required (make test-ui installs Debian's package): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js is required (make test-ui installs it): %v", err)
	}
	home, _ := os.UserHomeDir()
	pwDir := envOr("SLUICE_PLAYWRIGHT_DIR", filepath.Join(home, ".cache", "sluice", "playwright"))
	if _, err := os.Stat(filepath.Join(pwDir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is required in %s (make test-ui installs it): %v", pwDir, err)
	}
	artifacts := os.Getenv("SLUICE_UI_ARTIFACTS")
	if artifacts == "" {
		if artifacts, err = os.MkdirTemp("", "sluice-console-e2e-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", artifacts)

	work := t.TempDir()
	bin := filepath.Join(work, "coordinator")
	build := exec.Command("go", "build", "-o", bin, "../cmd/coordinator")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	example, err := filepath.Abs("../../examples/datagen-orders.properties")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	coord := exec.CommandContext(ctx, bin, example)
	coord.Dir = work
	coord.Env = append(os.Environ(), "SLUICE_REST_LISTENER=127.0.0.1:"+port, "SLUICE_EMBEDDED_KAFKA_ADDR=127.0.0.1:0",
		"SLUICE_DATA_DIR=data", "SLUICE_LOG_LEVEL=warn")
	stdout, err := coord.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(artifacts, "coordinator.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	coord.Stderr = logFile
	coord.WaitDelay = 10 * time.Second
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = coord.Process.Signal(os.Interrupt)
		_ = coord.Wait()
	}()

	// Dev mode prints the console's URL next to the REST and kcat hints.
	urlCh := make(chan string, 1)
	var printed strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(&printed, line)
			if m := regexp.MustCompile(`^Console: open (\S+)$`).FindStringSubmatch(line); m != nil {
				urlCh <- m[1]
			}
		}
	}()
	var consoleURL string
	select {
	case consoleURL = <-urlCh:
	case <-time.After(90 * time.Second):
		t.Fatalf("the coordinator printed no console URL in 90 s:\n%s", printed.String())
	}
	if want := "http://127.0.0.1:" + port + "/ui/"; consoleURL != want {
		t.Fatalf("console URL %q, want %q", consoleURL, want)
	}
	waitFor(t, 60*time.Second, "the example connector to run", func() bool {
		var st struct{ Connector struct{ State string } }
		return getJSON(strings.TrimSuffix(consoleURL, "ui/")+"connectors/orders-datagen/status", &st) == nil && st.Connector.State == "RUNNING"
	})

	sinkFile := filepath.Join(work, "console-sink.jsonl")
	script := exec.CommandContext(ctx, node, "e2e.mjs")
	script.Env = append(os.Environ(), "CONSOLE_URL="+consoleURL, "ARTIFACTS="+artifacts, "SINK_FILE="+sinkFile,
		"CHROMIUM="+chromium, "PLAYWRIGHT_DIR="+pwDir)
	out, err := script.CombinedOutput()
	t.Logf("e2e.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v (coordinator log: %s)", err, logFile.Name())
	}
	if m := regexp.MustCompile(`(?m)^PAGE_WEIGHT .*$`).Find(out); m == nil {
		t.Error("no page weight reported")
	}
	if fi, err := os.Stat(sinkFile); err != nil || fi.Size() == 0 {
		t.Errorf("the FileStreamSink created in the console wrote nothing to %s: %v", sinkFile, err)
	}
	for _, shot := range []string{"overview.png", "form-invalid.png", "connector.png", "offsets.png", "narrow.png", "overview-live.png"} {
		if fi, err := os.Stat(filepath.Join(artifacts, shot)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", shot, err)
		}
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func getJSON(url string, v any) error {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
