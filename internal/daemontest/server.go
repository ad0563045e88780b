package daemontest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"
)

// Process is the life of a test database server's process: the temporary
// directory it owns, the running daemon and the port it listens on, with
// stop, kill, restart on the same port and close. pgtest.Server and
// mariadbtest.Server embed it; how the server starts is theirs (launch).
type Process struct {
	// Port is where the server listens (TCP, 127.0.0.1).
	Port int

	pkg    string // "pgtest", for errors
	dir    string
	daemon *Daemon
	launch func(port int) (*Daemon, error)
}

// NewProcess returns the process of a server whose files are in dir.
// launch starts the server on port and returns once it accepts
// connections; pkg names the calling package in errors.
func NewProcess(pkg, dir string, launch func(port int) (*Daemon, error)) *Process {
	return &Process{pkg: pkg, dir: dir, launch: launch}
}

// Start starts the server on a free port. A port found free can be taken
// before the server binds it, so it tries a few.
func (p *Process) Start() error {
	var err error
	for range 3 {
		var port int
		if port, err = FreePort(); err != nil {
			return err
		}
		if err = p.startOn(port); err == nil {
			return nil
		}
	}
	return err
}

func (p *Process) startOn(port int) error {
	p.Port = port
	d, err := p.launch(port)
	if err != nil {
		return err
	}
	p.daemon = d
	return nil
}

// Daemon is the running server process.
func (p *Process) Daemon() *Daemon { return p.daemon }

// PID is the server process's id, for benchmarks that measure the server's
// CPU time.
func (p *Process) PID() int { return p.daemon.Cmd.Process.Pid }

// Stop shuts the server down, keeping its data for Restart.
func (p *Process) Stop() { p.daemon.Stop() }

// Kill kills the server at once, as a crash would.
func (p *Process) Kill() { p.daemon.Kill() }

// Restart starts the stopped (or killed) server again on the same port
// with the same data.
func (p *Process) Restart() error {
	p.daemon.Stop()
	// The port can linger for a moment.
	return Retry(50, 100*time.Millisecond, func() error { return p.startOn(p.Port) })
}

// Close stops the server and removes its directory.
func (p *Process) Close() {
	if p.daemon != nil {
		p.daemon.Stop()
	}
	os.RemoveAll(p.dir)
}

// Shared is the one server a test binary shares: started by Get on first
// use, closed when Run returns.
type Shared[S interface{ Close() }] struct {
	pkg   string
	start func() (S, error)

	mu      sync.Mutex
	running bool // Run is running the tests
	started bool
	server  S
	err     error
}

// NewShared returns the shared server that start starts; pkg names the
// calling package in errors.
func NewShared[S interface{ Close() }](pkg string, start func() (S, error)) *Shared[S] {
	return &Shared[S]{pkg: pkg, start: start}
}

// Run runs the tests (m.Run) and closes the shared server, if one was
// started. m is a *testing.M, or anything that runs the tests, so that
// harnesses nest: pgtest.Run(runner(func() int { return mariadbtest.Run(m) })).
func (sh *Shared[S]) Run(m interface{ Run() int }) int {
	sh.mu.Lock()
	sh.running = true
	sh.mu.Unlock()
	code := m.Run()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.started && sh.err == nil {
		sh.server.Close()
	}
	var zero S
	sh.server, sh.started, sh.err, sh.running = zero, false, nil, false
	return code
}

// Get returns the shared server, starting it on first use. The test fails
// if TestMain does not call Run or the server cannot start.
func (sh *Shared[S]) Get(tb testing.TB) S {
	tb.Helper()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !sh.running {
		tb.Fatalf("%[1]s: the shared server needs TestMain to call os.Exit(%[1]s.Run(m))", sh.pkg)
	}
	if !sh.started {
		sh.server, sh.err = sh.start()
		sh.started = true
	}
	if sh.err != nil {
		tb.Fatal(sh.err)
	}
	return sh.server
}

// Owned returns s, a server of the test's own, closed when the test ends;
// the test fails on err.
func Owned[S interface{ Close() }](tb testing.TB, s S, err error) S {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// DB is a database created for one test.
type DB struct {
	// Name is the database's name.
	Name string
	// SQL is a connection pool to it.
	SQL *sql.DB

	pkg string
}

// Database says how to create and drop a test's database on a server.
type Database struct {
	// Pkg names the calling package in errors.
	Pkg string
	// Process is the server's.
	Process *Process
	// Open opens a database by name; "" is the server's administrative one.
	Open func(name string) (*sql.DB, error)
	// Drop drops database name through admin.
	Drop func(ctx context.Context, admin *sql.DB, name string) error
}

// NewDB creates a database with a fresh name, dropped when the test ends
// unless the server has exited by then.
func (d Database) NewDB(tb testing.TB) *DB {
	tb.Helper()
	name := "t_" + RandomHex(6)
	admin, err := d.Open("")
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("%s: CREATE DATABASE %s: %v", d.Pkg, name, err)
	}
	db, err := d.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		db.Close()
		if exited, _ := d.Process.Daemon().Exited(); exited {
			return
		}
		admin, err := d.Open("")
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Drop(ctx, admin, name); err != nil {
			tb.Errorf("%s: DROP DATABASE %s: %v", d.Pkg, name, err)
		}
	})
	return &DB{Name: name, SQL: db, pkg: d.Pkg}
}

// Exec runs a statement on the database, failing the test on an error.
func (d *DB) Exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := d.SQL.ExecContext(ctx, query, args...); err != nil {
		tb.Fatalf("%s: %s: %v", d.pkg, query, err)
	}
}

// QueryInt runs a query that returns one integer, failing the test on an
// error.
func (d *DB) QueryInt(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var n int64
	if err := d.SQL.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %s: %v", d.pkg, query, err)
	}
	return n
}

// Settings returns base with over added or overriding, as a new map.
func Settings(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// RandomHex returns n random bytes in hex (passwords, database names).
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
