package postgrescdc

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// dial opens a connection to the database, a replication connection
// (replication=database) when replication is set. Sessions run in UTC so
// that timestamptz text is parsed the same everywhere.
func (s *settings) dial(ctx context.Context, replication bool) (*pgconn.PgConn, error) {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(s.host, strconv.Itoa(s.port)), Path: "/" + s.dbname}
	u.User = url.UserPassword(s.user, s.password)
	q := url.Values{"sslmode": {s.sslmode}, "application_name": {"sluice-cdc"}}
	u.RawQuery = q.Encode()
	cfg, err := pgconn.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("connection settings: %w", err)
	}
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["DateStyle"] = "ISO"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	if replication {
		cfg.RuntimeParams["replication"] = "database"
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s:%d/%s as %s: %w", s.host, s.port, s.dbname, s.user, err)
	}
	return conn, nil
}

// exec runs sql (simple protocol) and returns its last result's rows as text.
func exec(ctx context.Context, conn *pgconn.PgConn, sql string) ([][][]byte, error) {
	results, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, nil
	}
	return results[len(results)-1].Rows, results[len(results)-1].Err
}

// ident quotes an identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// literal quotes a string literal (standard_conforming_strings on).
func literal(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
