// Package pgtest runs a real PostgreSQL server for tests, from Debian's
// postgresql package (installed by `make db-tools`): initdb in a temporary
// directory owned by the postgres user, postgres on a free loopback port
// with its socket in that directory, stopped when the tests end.
//
// One server serves a whole test binary; each test gets a fresh database:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
//	func TestX(t *testing.T) {
//		db := pgtest.NewDB(t) // CREATE DATABASE, dropped when the test ends
//		db.Exec(t, "CREATE TABLE t (id int PRIMARY KEY)")
//	}
//
// The server always runs with wal_level=logical, max_replication_slots=10
// and max_wal_senders=10, so logical replication (CDC) works. It runs with
// fsync=off: a commit survives a killed server process (synchronous_commit
// stays on), not a machine crash.
// When the server cannot start, the tests fail; they never skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/sluicehq/sluice/internal/daemontest"
)

// BinDirs are where the server's programs are looked for, newest major
// version first, before $PATH. SLUICE_PG_BINDIR, if set, comes first.
var BinDirs = []string{"/usr/lib/postgresql/*/bin"}

// User is the superuser of every server.
const User = "postgres"

// Settings are the server settings every server starts with.
var Settings = map[string]string{
	"listen_addresses":      "127.0.0.1",
	"wal_level":             "logical",
	"max_replication_slots": "10",
	"max_wal_senders":       "10",
	"max_connections":       "200",
	"fsync":                 "off",
	"full_page_writes":      "off",
}

// Options change how a server starts.
type Options struct {
	// Settings are added to (or override) Settings, as -c name=value.
	Settings map[string]string
}

// Server is a running PostgreSQL. Its methods are safe for concurrent use
// except Stop, Kill and Restart.
type Server struct {
	// Host and Port are where it listens (TCP, 127.0.0.1).
	Host string
	Port int
	// Password is the superuser's (User) password; TCP connections need it.
	Password string
	// SocketDir holds the Unix socket; DataDir the cluster.
	SocketDir, DataDir string
	// Version is the server's major version, e.g. 15.
	Version int

	bindir  string
	dir     string
	opts    Options
	account daemontest.Account
	daemon  *daemontest.Daemon
}

// StartServer initialises a cluster in a new temporary directory and starts
// a server on a free port. Call Close when done.
func StartServer(opts Options) (*Server, error) {
	bindir := os.Getenv("SLUICE_PG_BINDIR")
	dirs := BinDirs
	if bindir != "" {
		dirs = append([]string{bindir}, dirs...)
	}
	postgres, err := daemontest.FindBinary(dirs, "postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: PostgreSQL server not found (make db-tools installs Debian's postgresql): %w", err)
	}
	account, err := daemontest.LookupAccount("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	dir, err := account.TempDir("sluice-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{
		Host:      "127.0.0.1",
		Password:  randomHex(12),
		SocketDir: dir,
		DataDir:   filepath.Join(dir, "data"),
		bindir:    filepath.Dir(postgres),
		dir:       dir,
		opts:      opts,
		account:   account,
	}
	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A port found free can be taken before the server binds it; try a few.
	for range 3 {
		if err = s.start(0); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func (s *Server) initdb() error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.account.Switch {
		if err := os.Chown(pwfile, s.account.UID, s.account.GID); err != nil {
			return err
		}
	}
	cmd := s.account.Command(syscall.SIGKILL, filepath.Join(s.bindir, "initdb"),
		"-D", s.DataDir, "-U", User, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale", "--no-sync")
	out, err := daemontest.Run(cmd, 2*time.Minute)
	os.Remove(pwfile)
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	return nil
}

// start starts the server on port (0: a free one) and waits until it
// accepts connections.
func (s *Server) start(port int) error {
	if port == 0 {
		var err error
		if port, err = daemontest.FreePort(); err != nil {
			return err
		}
	}
	s.Port = port
	args := []string{"-D", s.DataDir, "-p", strconv.Itoa(port), "-k", s.SocketDir}
	settings := map[string]string{}
	for k, v := range Settings {
		settings[k] = v
	}
	for k, v := range s.opts.Settings {
		settings[k] = v
	}
	for k, v := range settings {
		args = append(args, "-c", k+"="+v)
	}
	// SIGQUIT if the test binary dies: an immediate shutdown, and the
	// backends go with the postmaster.
	cmd := s.account.Command(syscall.SIGQUIT, filepath.Join(s.bindir, "postgres"), args...)
	d, err := daemontest.Start("postgres", cmd, syscall.SIGINT)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.daemon = d
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		d.Kill()
		return err
	}
	defer db.Close()
	err = d.WaitReady(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.QueryRowContext(ctx, "SHOW server_version_num").Scan(&s.Version)
	})
	if err != nil {
		d.Kill()
		return fmt.Errorf("pgtest: %v\npostgres output:\n%s", err, daemontest.LastLines(d.Log.String(), 40))
	}
	s.Version /= 10000
	return nil
}

// URL returns a connection string for database db as the superuser, over
// TCP (pgx and libpq format).
func (s *Server) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(User, s.Password),
		Host:     fmt.Sprintf("%s:%d", s.Host, s.Port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// JDBCURL returns the JDBC URL of database db, as Kafka Connect's JDBC
// connectors take it (credentials go in separate properties).
func (s *Server) JDBCURL(db string) string {
	return fmt.Sprintf("jdbc:postgresql://%s:%d/%s", s.Host, s.Port, db)
}

// Open opens database db as the superuser.
func (s *Server) Open(db string) (*sql.DB, error) {
	return sql.Open("pgx", s.URL(db))
}

// Log returns what the server printed.
func (s *Server) Log() string { return s.daemon.Log.String() }

// PID is the server process's id (PostgreSQL's postmaster, whose children
// are the backends), for benchmarks that measure the server's CPU time.
func (s *Server) PID() int { return s.daemon.Cmd.Process.Pid }

// Stop shuts the server down (fast shutdown), keeping its data for Restart.
func (s *Server) Stop() { s.daemon.Stop() }

// Kill kills the server at once, as a crash would.
func (s *Server) Kill() { s.daemon.Kill() }

// Restart starts the stopped (or killed) server again on the same port
// with the same data.
func (s *Server) Restart() error {
	s.daemon.Stop()
	var err error
	for range 50 { // the port can linger for a moment
		if err = s.start(s.Port); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.daemon.Stop()
	os.RemoveAll(s.dir)
}

// Start starts a server of the test's own (for tests that stop, kill or
// reconfigure it), closed when the test ends. Most tests use NewDB.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := StartServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// The server the test binary shares.
var shared struct {
	sync.Mutex
	running bool // Run is running the tests
	server  *Server
	err     error
}

// Run runs the tests (m.Run) and stops the shared server, if one was
// started; call it from TestMain: os.Exit(pgtest.Run(m)).
//
// m is a *testing.M, or anything that runs the tests, so that harnesses
// nest: pgtest.Run(runner(func() int { return mariadbtest.Run(m) })).
func Run(m interface{ Run() int }) int {
	shared.Lock()
	shared.running = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.server != nil {
		shared.server.Close()
		shared.server = nil
	}
	shared.running = false
	return code
}

// Shared returns the test binary's server, starting it on first use. The
// test fails if TestMain does not call Run or the server cannot start.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.running {
		tb.Fatal("pgtest: the shared server needs TestMain to call os.Exit(pgtest.Run(m))")
	}
	if shared.server == nil && shared.err == nil {
		shared.server, shared.err = StartServer(Options{})
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.server
}

// DB is a database created for one test.
type DB struct {
	Server *Server
	// Name is the database's name.
	Name string
	// URL and JDBCURL connect to it (see Server.URL and Server.JDBCURL).
	URL, JDBCURL string
	// SQL is a connection pool to it, as the superuser.
	SQL *sql.DB
}

// NewDB creates a fresh database on the shared server, dropped (with its
// connections) when the test ends.
func NewDB(tb testing.TB) *DB {
	tb.Helper()
	return Shared(tb).NewDB(tb)
}

// NewDB creates a fresh database on s, dropped when the test ends.
func (s *Server) NewDB(tb testing.TB) *DB {
	tb.Helper()
	name := "t_" + randomHex(6)
	admin, err := s.Open("postgres")
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: CREATE DATABASE %s: %v", name, err)
	}
	db, err := s.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	d := &DB{Server: s, Name: name, URL: s.URL(name), JDBCURL: s.JDBCURL(name), SQL: db}
	tb.Cleanup(func() {
		db.Close()
		if exited, _ := s.daemon.Exited(); exited {
			return
		}
		admin, err := s.Open("postgres")
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Replication slots keep a database in use; drop them first.
		_, _ = admin.ExecContext(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", name)
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: DROP DATABASE %s: %v", name, err)
		}
	})
	return d
}

// Exec runs statements on the database, failing the test on an error.
func (d *DB) Exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := d.SQL.ExecContext(ctx, query, args...); err != nil {
		tb.Fatalf("pgtest: %s: %v", query, err)
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
		tb.Fatalf("pgtest: %s: %v", query, err)
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
