// Package daemontest runs database servers for tests: a server process
// started as an unprivileged system user (postgres, mysql) when the test
// runs as root, in a temporary directory that user owns, killed when the
// test binary dies, and stopped with a bounded wait.
//
// It is the common part of pgtest and mariadbtest (and the process side of
// mosquittotest and s3test); tests use those.
package daemontest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// Account is the operating-system user a server runs as: the named system
// user when the test runs as root (PostgreSQL refuses to run as root), the
// test's own user otherwise.
type Account struct {
	Name     string
	UID, GID int
	// Switch is true when the process must switch to UID/GID.
	Switch bool
}

// LookupAccount returns the account for system user name.
func LookupAccount(name string) (Account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return Account{}, err
		}
		return Account{Name: u.Username, UID: os.Getuid(), GID: os.Getgid()}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return Account{}, fmt.Errorf("the tests run as root, so the server runs as system user %q: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return Account{Name: name, UID: uid, GID: gid, Switch: true}, nil
}

// TempDir creates a directory under the system temporary directory owned
// by the account, for a server's data, socket and logs. The caller removes it.
func (a Account) TempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if a.Switch {
		if err := os.Chown(dir, a.UID, a.GID); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// Command returns cmd prepared to run as the account, in its own process
// group, killed (with sig) if the test binary dies first.
func (a Account) Command(sig syscall.Signal, path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: sig}
	if a.Switch {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID)}
		cmd.Env = append(os.Environ(), "HOME="+os.TempDir(), "USER="+a.Name, "LOGNAME="+a.Name)
	}
	return cmd
}

// Run runs cmd to completion within timeout, returning its combined output
// with the error.
func Run(cmd *exec.Cmd, timeout time.Duration) (string, error) {
	var out proctest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("%s did not finish within %s", filepath.Base(cmd.Path), timeout)
	}
}

// Daemon is a running server process.
type Daemon struct {
	Name string
	Cmd  *exec.Cmd
	Log  *proctest.Buffer

	stopSig syscall.Signal
	done    chan struct{}
	err     error
}

// Start starts cmd as a daemon whose output goes to a new buffer. stopSig
// is what Stop sends first (SIGINT is PostgreSQL's fast shutdown, SIGTERM
// MariaDB's, mosquitto's and versitygw's).
func Start(name string, cmd *exec.Cmd, stopSig syscall.Signal) (*Daemon, error) {
	return StartLogged(name, cmd, stopSig, &proctest.Buffer{})
}

// StartLogged is Start with the output going to log, which a server keeps
// across restarts. cmd should be in its own process group (Setpgid, as
// Account.Command makes it), which Kill kills.
func StartLogged(name string, cmd *exec.Cmd, stopSig syscall.Signal, log *proctest.Buffer) (*Daemon, error) {
	d := &Daemon{Name: name, Cmd: cmd, Log: log, stopSig: stopSig, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.Log, d.Log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// Exited reports whether the process has exited, with its exit error.
func (d *Daemon) Exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.err
	default:
		return false, nil
	}
}

// Done is closed when the process has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// WaitReady calls ready every 50 ms until it returns nil, the process exits
// or timeout passes.
func (d *Daemon) WaitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if exited, exitErr := d.Exited(); exited {
			return fmt.Errorf("%s exited (%v) before it was ready: %v", d.Name, exitErr, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not ready within %s: %v", d.Name, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends the stop signal and waits up to 20 s, then kills the process
// group. Stopping a stopped daemon does nothing.
func (d *Daemon) Stop() {
	if exited, _ := d.Exited(); exited {
		return
	}
	_ = d.Cmd.Process.Signal(d.stopSig)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.Kill()
	}
}

// Kill kills the process group at once (a crash) and waits for the exit.
func (d *Daemon) Kill() {
	if exited, _ := d.Exited(); exited {
		return
	}
	_ = syscall.Kill(-d.Cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}

// FreePort returns a loopback TCP port that is free right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FindBinary returns the first of names found in dirs (globs allowed,
// matches tried newest-version first by reverse sort), then in $PATH.
func FindBinary(dirs []string, names ...string) (string, error) {
	var tried []string
	for _, pattern := range dirs {
		matches, _ := filepath.Glob(pattern)
		sortVersionsDesc(matches)
		for _, dir := range matches {
			for _, n := range names {
				p := filepath.Join(dir, n)
				tried = append(tried, p)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return p, nil
				}
			}
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		tried = append(tried, "$PATH/"+n)
	}
	return "", errors.New("none of " + strings.Join(tried, ", ") + " exists")
}

// sortVersionsDesc sorts paths so that /usr/lib/postgresql/17/bin comes
// before /usr/lib/postgresql/15/bin (numerically, not as strings).
func sortVersionsDesc(paths []string) {
	version := func(p string) int {
		for _, part := range strings.Split(p, string(filepath.Separator)) {
			if n, err := strconv.Atoi(part); err == nil {
				return n
			}
		}
		return -1
	}
	sort.SliceStable(paths, func(i, j int) bool { return version(paths[i]) > version(paths[j]) })
}

// Retry calls f up to n times, pausing between tries, until it succeeds;
// it returns f's last error. A server restarted on the same port retries
// while the port lingers.
func Retry(n int, pause time.Duration, f func() error) error {
	var err error
	for i := range n {
		if err = f(); err == nil {
			return nil
		}
		if i < n-1 {
			time.Sleep(pause)
		}
	}
	return err
}
