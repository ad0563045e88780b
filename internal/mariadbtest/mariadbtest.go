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
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
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
// except Stop, Kill and Restart (daemontest.Process's, as are Port and
// PID).
type Server struct {
	*daemontest.Process
	// Host is where it listens, with Port (TCP, 127.0.0.1).
	Host string
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
		Password: daemontest.RandomHex(12),
		Socket:   filepath.Join(dir, "mariadbd.sock"),
		DataDir:  filepath.Join(dir, "data"),
		mariadbd: mariadbd,
		dir:      dir,
		opts:     opts,
		account:  account,
	}
	s.Process = daemontest.NewProcess("mariadbtest", dir, s.launch)
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
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.createUser(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// launch starts the server on port and waits until it accepts
// connections on its socket.
func (s *Server) launch(port int) (*daemontest.Daemon, error) {
	args := []string{"--no-defaults",
		"--datadir=" + s.DataDir,
		"--socket=" + s.Socket,
		"--port=" + strconv.Itoa(port),
		"--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"),
		"--tmpdir=" + s.dir,
		"--log-error=" + filepath.Join(s.dir, "error.log"),
	}
	for k, v := range daemontest.Settings(Settings, s.opts.Settings) {
		args = append(args, "--"+k+"="+v)
	}
	// Started as the mysql user rather than with --user: a process that
	// changes its own credentials loses its parent-death signal, and the
	// server would outlive a killed test binary.
	cmd := s.account.Command(syscall.SIGKILL, s.mariadbd, args...)
	d, err := daemontest.Start("mariadbd", cmd, syscall.SIGTERM)
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	db, err := sql.Open("mysql", s.rootDSN())
	if err != nil {
		d.Kill()
		return nil, err
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
		return nil, fmt.Errorf("mariadbtest: %v\nmariadbd error log:\n%s%s", err,
			proctest.LastLines(string(log), 40), d.Log.String())
	}
	return d, nil
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
	return string(b) + s.Daemon().Log.String()
}

// Start starts a server of the test's own (for tests that stop, kill or
// reconfigure it), closed when the test ends. Most tests use NewDB.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := StartServer(opts)
	return daemontest.Owned(tb, s, err)
}

// shared is the server the test binary shares.
var shared = daemontest.NewShared("mariadbtest", func() (*Server, error) { return StartServer(Options{}) })

// Run runs the tests (m.Run) and stops the shared server, if one was
// started; call it from TestMain: os.Exit(mariadbtest.Run(m)).
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
// pool to it, as User), Exec and QueryInt are daemontest.DB's.
type DB struct {
	*daemontest.DB
	Server *Server
	// DSN and JDBCURL connect to it (see Server.DSN and Server.JDBCURL).
	DSN, JDBCURL string
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
	db := daemontest.Database{Pkg: "mariadbtest", Process: s.Process, Open: s.Open,
		Drop: func(ctx context.Context, admin *sql.DB, name string) error {
			_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
			return err
		},
	}.NewDB(tb)
	return &DB{DB: db, Server: s, DSN: s.DSN(db.Name), JDBCURL: s.JDBCURL(db.Name)}
}
