// Package e2e runs the function binaries as they are deployed: built with
// go build, under an emulation of the AWS Lambda Runtime API, as long-lived
// workers pulling leases over HTTP, and invoked by the real coordinator
// through an emulation of the Lambda Invoke API. Everything listens on
// loopback; every process started is killed when its test ends.
package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The binaries, built once per test binary by binaries.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// bins are the paths of the built binaries.
type bins struct {
	sourcePoll, sinkBatch, coordinator string
}

// binaries builds source-poll and sink-batch (each as a Lambda "bootstrap")
// and the coordinator, once, in parallel.
func binaries(t *testing.T) bins {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "sluice-functions-e2e-"); buildErr != nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i, pkg := range []string{"functions/source-poll", "functions/sink-batch", "coordinator/cmd/coordinator"} {
			wg.Go(func() {
				out := filepath.Join(buildDir, filepath.Base(pkg), "bootstrap")
				cmd := exec.Command("go", "build", "-o", out, "github.com/sluicehq/sluice/"+pkg)
				if b, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && buildErr == nil {
				buildErr = err
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins{
		sourcePoll:  filepath.Join(buildDir, "source-poll", "bootstrap"),
		sinkBatch:   filepath.Join(buildDir, "sink-batch", "bootstrap"),
		coordinator: filepath.Join(buildDir, "coordinator", "bootstrap"),
	}
}

// syncBuffer collects a process's output; it is safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a binary started by a test, killed when the test ends if it
// is still running.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	started        time.Time
	done           chan struct{} // closed once the process has exited
	err            error         // Wait's error, set before done closes
}

// baseEnv is the test's environment without SLUICE_* and AWS_* settings,
// so that only what a test sets applies.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// start starts path with env added to the base environment.
func start(t *testing.T, name, path string, env ...string) *process {
	t.Helper()
	p := &process{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(path)
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s stdout:\n%s", p.name, p.stdout.String())
			t.Logf("%s stderr (last 40 lines):\n%s", p.name, lastLines(p.stderr.String(), 40))
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits up to d for the process to exit, killing it if it does not.
func (p *process) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		t.Errorf("%s did not exit within %s", p.name, d)
		return p.err
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// checkFor calls f every sleep until it returns nil, failing the test with
// f's last error after wait.
func checkFor(t *testing.T, wait, sleep time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", wait, err)
		}
		time.Sleep(sleep)
	}
}
