// Package mariadbtest runs a real MariaDB server for tests, from Debian's
// mariadb-server package (installed by `make db-tools`): its own data
// directory made by mariadb-install-db in a temporary directory, mariadbd
// as the mysql user on a free loopback port with its own socket, stopped
// when the tests end.
//
// One server serves a whole test binary; each test gets a fresh database:
//
//	func TestMain(m *testing.M) { os.Exit(mariadbtest.Run(m)) }
//
//	func TestX(t *testing.T) {
//		db := mariadbtest.NewDB(t) // CREATE DATABASE, dropped when the test ends
//		db.Exec(t, "CREATE TABLE t (id int PRIMARY KEY)")
//	}
//
// The server always writes a row-based binary log (log_bin,
// binlog_format=ROW, binlog_row_image=FULL, server_id=1), so binlog
// readers (CDC) work. It does not sync to disk on commit: a commit
// survives a killed server process, not a machine crash. When the server
// cannot start, the tests fail; they never skip.
package mariadbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/internal/daemontest"
)

// BinDirs are where mariadbd and mariadb-install-db are looked for, before
// $PATH. SLUICE_MARIADB_BINDIR, if set, comes first.
var BinDirs = []string{"/usr/sbin", "/usr/bin"}

// User is the account every server has for TCP connections from
// 127.0.0.1, with all privileges (replication included) and Password.
const User = "sluice"

// Settings are the server options every server starts with.
var Settings = map[string]string{
	"bind-address":                   "127.0.0.1",
	"log-bin":                        "binlog",
	"binlog-format":                  "ROW",
	"binlog-row-image":               "FULL",
	"server-id":                      "1",
	"skip-name-resolve":              "ON",
	"innodb-buffer-pool-size":        "128M",
	"innodb-flush-log-at-trx-commit": "2",
	"sync-binlog":                    "0",
	"max-connections":                "200",
	"character-set-server":           "utf8mb4",
	"collation-server":               "utf8mb4_unicode_ci",
}

// Options change how a server starts.
type Options struct {
	// Settings are added to (or override) Settings, as --name=value.
	Settings map[string]string
}

// Server is a running MariaDB. Its methods are safe for concurrent use
// except Stop, Kill and Restart.
type Server struct {
	// Host and Port are where it listens (TCP, 127.0.0.1).
	Host string
	Port int
	// Password is User's password.
	Password string
	// Socket is the server's Unix socket; root connects there without a
	// password.
	Socket  string
	DataDir string
	// Version is what SELECT VERSION() returned.
	Version string

	mariadbd string
	dir      string
	opts     Options
	account  daemontest.Account
	daemon   *daemontest.Daemon
}

// StartServer creates a data directory in a new temporary directory and
// starts a server on a free port. Call Close when done.
func StartServer(opts Options) (*Server, error) {
	dirs := BinDirs
	if d := os.Getenv("SLUICE_MARIADB_BINDIR"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	mariadbd, err := daemontest.FindBinary(dirs, "mariadbd", "mysqld")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: MariaDB server not found (make db-tools installs Debian's mariadb-server): %w", err)
	}
	installDB, err := daemontest.FindBinary(dirs, "mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: mariadb-install-db not found (make db-tools installs Debian's mariadb-server): %w", err)
	}
	account, err := daemontest.LookupAccount("mysql")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	dir, err := account.TempDir("sluice-mariadbtest-")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	s := &Server{
		Host:     "127.0.0.1",
		Password: randomHex(12),
		Socket:   filepath.Join(dir, "mariadbd.sock"),
		DataDir:  filepath.Join(dir, "data"),
		mariadbd: mariadbd,
		dir:      dir,
		opts:     opts,
		account:  account,
	}
	cmd := account.Command(syscall.SIGKILL, installDB, "--no-defaults",
		"--datadir="+s.DataDir, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	if account.Switch {
		cmd.Args = append(cmd.Args, "--user="+account.Name)
	}
	if out, err := daemontest.Run(cmd, 3*time.Minute); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadbtest: mariadb-install-db: %v\n%s", err, out)
	}
	// A port found free can be taken before the server binds it; try a few.
	for range 3 {
		if err = s.start(0); err == nil {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.createUser(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start starts the server on port (0: a free one) and waits until it
// accepts connections on its socket.
func (s *Server) start(port int) error {
	if port == 0 {
		var err error
		if port, err = daemontest.FreePort(); err != nil {
			return err
		}
	}
	s.Port = port
	args := []string{"--no-defaults",
		"--datadir=" + s.DataDir,
		"--socket=" + s.Socket,
		"--port=" + strconv.Itoa(port),
		"--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"),
		"--tmpdir=" + s.dir,
		"--log-error=" + filepath.Join(s.dir, "error.log"),
	}
	settings := map[string]string{}
	for k, v := range Settings {
		settings[k] = v
	}
	for k, v := range s.opts.Settings {
		settings[k] = v
	}
	for k, v := range settings {
		args = append(args, "--"+k+"="+v)
	}
	// Started as the mysql user rather than with --user: a process that
	// changes its own credentials loses its parent-death signal, and the
	// server would outlive a killed test binary.
	cmd := s.account.Command(syscall.SIGKILL, s.mariadbd, args...)
	d, err := daemontest.Start("mariadbd", cmd, syscall.SIGTERM)
	if err != nil {
		return fmt.Errorf("mariadbtest: %w", err)
	}
	s.daemon = d
	db, err := sql.Open("mysql", s.rootDSN())
	if err != nil {
		d.Kill()
		return err
	}
	defer db.Close()
	err = d.WaitReady(90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.Version)
	})
	if err != nil {
		d.Kill()
		log, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
		return fmt.Errorf("mariadbtest: %v\nmariadbd error log:\n%s%s", err,
			daemontest.LastLines(string(log), 40), d.Log.String())
	}
	return nil
}

func (s *Server) rootDSN() string {
	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "unix"
	c.Addr = s.Socket
	return c.FormatDSN()
}

func (s *Server) createUser() error {
	db, err := sql.Open("mysql", s.rootDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", User, s.Password),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1' WITH GRANT OPTION", User),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mariadbtest: %s: %w", q, err)
		}
	}
	return nil
}

// Config returns a driver configuration for database db as User over TCP,
// with parseTime on.
func (s *Server) Config(db string) *mysql.Config {
	c := mysql.NewConfig()
	c.User = User
	c.Passwd = s.Password
	c.Net = "tcp"
	c.Addr = fmt.Sprintf("%s:%d", s.Host, s.Port)
	c.DBName = db
	c.ParseTime = true
	return c
}

// DSN returns a go-sql-driver/mysql DSN for database db as User over TCP.
func (s *Server) DSN(db string) string { return s.Config(db).FormatDSN() }

// JDBCURL returns the JDBC URL of database db, as Kafka Connect's JDBC
// connectors take it (credentials go in separate properties).
func (s *Server) JDBCURL(db string) string {
	return fmt.Sprintf("jdbc:mysql://%s:%d/%s", s.Host, s.Port, db)
}

// Open opens database db as User.
func (s *Server) Open(db string) (*sql.DB, error) {
	return sql.Open("mysql", s.DSN(db))
}

// Log returns the server's error log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
	return string(b) + s.daemon.Log.String()
}

// PID is the server process's id (PostgreSQL's postmaster, whose children
// are the backends), for benchmarks that measure the server's CPU time.
func (s *Server) PID() int { return s.daemon.Cmd.Process.Pid }

// Stop shuts the server down, keeping its data for Restart.
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
// started; call it from TestMain: os.Exit(mariadbtest.Run(m)).
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
		tb.Fatal("mariadbtest: the shared server needs TestMain to call os.Exit(mariadbtest.Run(m))")
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
	// DSN and JDBCURL connect to it (see Server.DSN and Server.JDBCURL).
	DSN, JDBCURL string
	// SQL is a connection pool to it, as User.
	SQL *sql.DB
}

// NewDB creates a fresh database on the shared server, dropped when the
// test ends.
func NewDB(tb testing.TB) *DB {
	tb.Helper()
	return Shared(tb).NewDB(tb)
}

// NewDB creates a fresh database on s, dropped when the test ends.
func (s *Server) NewDB(tb testing.TB) *DB {
	tb.Helper()
	name := "t_" + randomHex(6)
	admin, err := s.Open("")
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("mariadbtest: CREATE DATABASE %s: %v", name, err)
	}
	db, err := s.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	d := &DB{Server: s, Name: name, DSN: s.DSN(name), JDBCURL: s.JDBCURL(name), SQL: db}
	tb.Cleanup(func() {
		db.Close()
		if exited, _ := s.daemon.Exited(); exited {
			return
		}
		admin, err := s.Open("")
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("mariadbtest: DROP DATABASE %s: %v", name, err)
		}
	})
	return d
}

// Exec runs a statement on the database, failing the test on an error.
func (d *DB) Exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := d.SQL.ExecContext(ctx, query, args...); err != nil {
		tb.Fatalf("mariadbtest: %s: %v", query, err)
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
		tb.Fatalf("mariadbtest: %s: %v", query, err)
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
