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
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
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
// except Stop, Kill and Restart (daemontest.Process's, as are Port and
// PID).
type Server struct {
	*daemontest.Process
	// Host is where it listens, with Port (TCP, 127.0.0.1).
	Host string
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
		Password:  daemontest.RandomHex(12),
		SocketDir: dir,
		DataDir:   filepath.Join(dir, "data"),
		bindir:    filepath.Dir(postgres),
		dir:       dir,
		opts:      opts,
		account:   account,
	}
	s.Process = daemontest.NewProcess("pgtest", dir, s.launch)
	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
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

// launch starts the server on port and waits until it accepts
// connections.
func (s *Server) launch(port int) (*daemontest.Daemon, error) {
	args := []string{"-D", s.DataDir, "-p", strconv.Itoa(port), "-k", s.SocketDir}
	for k, v := range daemontest.Settings(Settings, s.opts.Settings) {
		args = append(args, "-c", k+"="+v)
	}
	// SIGQUIT if the test binary dies: an immediate shutdown, and the
	// backends go with the postmaster.
	cmd := s.account.Command(syscall.SIGQUIT, filepath.Join(s.bindir, "postgres"), args...)
	d, err := daemontest.Start("postgres", cmd, syscall.SIGINT)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		d.Kill()
		return nil, err
	}
	defer db.Close()
	err = d.WaitReady(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.QueryRowContext(ctx, "SHOW server_version_num").Scan(&s.Version)
	})
	if err != nil {
		d.Kill()
		return nil, fmt.Errorf("pgtest: %v\npostgres output:\n%s", err, proctest.LastLines(d.Log.String(), 40))
	}
	s.Version /= 10000
	return d, nil
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
func (s *Server) Log() string { return s.Daemon().Log.String() }

// Start starts a server of the test's own (for tests that stop, kill or
// reconfigure it), closed when the test ends. Most tests use NewDB.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := StartServer(opts)
	return daemontest.Owned(tb, s, err)
}

// shared is the server the test binary shares.
var shared = daemontest.NewShared("pgtest", func() (*Server, error) { return StartServer(Options{}) })

// Run runs the tests (m.Run) and stops the shared server, if one was
// started; call it from TestMain: os.Exit(pgtest.Run(m)).
//
// m is a *testing.M, or anything that runs the tests, so that harnesses
// nest: pgtest.Run(runner(func() int { return mariadbtest.Run(m) })).
func Run(m interface{ Run() int }) int { return shared.Run(m) }

// Shared returns the test binary's server, starting it on first use. The
// test fails if TestMain does not call Run or the server cannot start.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	return shared.Get(tb)
}

// DB is a database created for one test: its Name, SQL (a connection
// pool to it, as the superuser), Exec and QueryInt are daemontest.DB's.
type DB struct {
	*daemontest.DB
	Server *Server
	// URL and JDBCURL connect to it (see Server.URL and Server.JDBCURL).
	URL, JDBCURL string
}

// NewDB creates a fresh database on the shared server, dropped (with its
// connections) when the test ends.
func NewDB(tb testing.TB) *DB {
	tb.Helper()
	return Shared(tb).NewDB(tb)
}

// NewDB creates a fresh database on s, dropped (with its connections) when
// the test ends.
func (s *Server) NewDB(tb testing.TB) *DB {
	tb.Helper()
	db := daemontest.Database{Pkg: "pgtest", Process: s.Process,
		Open: func(name string) (*sql.DB, error) { return s.Open(cmp.Or(name, "postgres")) },
		Drop: func(ctx context.Context, admin *sql.DB, name string) error {
			// Replication slots keep a database in use; drop them first.
			_, _ = admin.ExecContext(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", name)
			_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return err
		},
	}.NewDB(tb)
	return &DB{DB: db, Server: s, URL: s.URL(db.Name), JDBCURL: s.JDBCURL(db.Name)}
}
