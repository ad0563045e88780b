// Package proctest runs programs for tests: a process started with a clean
// environment, its output kept, killed when the test ends and its output
// logged when the test failed; plus the small helpers such tests share.
package proctest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Buffer collects a process's output; it is safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Process is a program started by a test. It is killed when the test ends
// if it is still running.
type Process struct {
	Name           string
	Cmd            *exec.Cmd
	Stdout, Stderr Buffer
	Started        time.Time
	// LogFilter, if set, filters the stderr logged for a failed test.
	LogFilter func(string) string

	done chan struct{} // closed once the process has exited
	err  error         // Wait's error, set before done closes
}

// BaseEnv is the test's environment without SLUICE_* and AWS_* settings,
// so that only what a test sets applies.
func BaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// Start starts path with args and env added to BaseEnv, in a temporary
// working directory.
func Start(t testing.TB, name, path string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, done: make(chan struct{})}
	p.Cmd = exec.Command(path, args...)
	p.Cmd.Env = append(BaseEnv(), env...)
	p.Cmd.Dir = t.TempDir()
	p.Cmd.Stdout, p.Cmd.Stderr = &p.Stdout, &p.Stderr
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			stderr := p.Stderr.String()
			if p.LogFilter != nil {
				stderr = p.LogFilter(stderr)
			}
			t.Logf("%s stdout:\n%s", p.Name, p.Stdout.String())
			t.Logf("%s stderr (last 60 lines):\n%s", p.Name, LastLines(stderr, 60))
		}
	})
	return p
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error, once it has exited (nil before).
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Wait waits up to d for the process to exit, killing it and failing the
// test if it does not; it returns the process's exit error.
func (p *Process) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.Kill()
		t.Errorf("%s did not exit within %s", p.Name, d)
		return p.err
	}
}

// LastLines returns the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FreeAddr returns a loopback address whose port is free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// CheckFor calls f every sleep until it returns nil, failing the test with
// f's last error after wait.
func CheckFor(t testing.TB, wait, sleep time.Duration, f func() error) {
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
