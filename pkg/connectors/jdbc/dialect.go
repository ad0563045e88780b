package jdbc

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Dialect names, as Confluent's dialect.name takes them.
const (
	PostgresDialectName = "PostgreSqlDatabaseDialect"
	MySQLDialectName    = "MySqlDatabaseDialect"
)

// TableID names a table: Schema is PostgreSQL's schema or MySQL's database.
type TableID struct {
	Schema string
	Name   string
}

// String is the unquoted qualified name, "schema.table", as Confluent's
// offsets name a table (QuoteMethod.NEVER).
func (t TableID) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// Column is a table column as the database describes it.
type Column struct {
	Name string
	// Type is the database's type name, lower case ("integer", "numeric",
	// "timestamp with time zone", "varchar", "bigint unsigned").
	Type string
	// Precision and Scale of numeric columns (Precision 0: unconstrained).
	Precision, Scale int
	Nullable         bool
	// PrimaryKey is the column's position in the primary key (1-based), 0
	// when it is not part of it.
	PrimaryKey int
	// Enum is set for enum columns.
	Enum bool
}

// Dialect keeps what differs between databases in one place per database
// (postgres.go, mysql.go): SQL syntax, catalog queries, type names.
type Dialect interface {
	// Name is Confluent's dialect name.
	Name() string
	// Open opens a pool for the parsed connection settings.
	Open(cs connSettings) (*sql.DB, error)
	// Quote quotes an identifier when quote is true.
	Quote(ident string, quote bool) string
	// Placeholder is the i-th (1-based) bind parameter.
	Placeholder(i int) string
	// Tables lists the tables (and views when asked) matching the patterns.
	Tables(ctx context.Context, q querier, schemaPattern string, types []string) ([]TableID, error)
	// Columns describes a table's columns in order; none if it does not exist.
	Columns(ctx context.Context, q querier, t TableID) ([]Column, error)
	// DefaultSchema is where an unqualified table name is created and found.
	DefaultSchema(ctx context.Context, q querier) (string, error)
	// CurrentTime is the database's clock.
	CurrentTime(ctx context.Context, q querier) (time.Time, error)
	// TimestampParam is the i-th bind parameter compared with timestamp
	// columns: a wall clock ("2006-01-02 15:04:05.999999" text) when wall
	// is true, an instant (time.Time) when it is false.
	TimestampParam(i int, wall bool) string
	// AtTimeZone is expr, a column holding wall clocks in loc, as an
	// instant comparable with an instant parameter; "" when the database
	// has no such expression.
	AtTimeZone(expr string, loc *time.Location) string
	// SessionZone is the zone in which the database renders the instants
	// it holds (MySQL TIMESTAMP) for a session whose time zone is the
	// server's default; nil, with the zone's name, when the name is not
	// a zone Go knows. PostgreSQL, whose drivers read instants as
	// instants, returns nil and "".
	SessionZone(ctx context.Context, q querier) (*time.Location, string, error)
	// ResultColumn describes a column of a query's result (query mode).
	ResultColumn(ct *sql.ColumnType) Column
	// Limit is the clause that bounds a query's rows.
	Limit(n int) string
	// Upsert renders an insert of rows×cols placeholders that updates the
	// non-key columns on a key conflict.
	Upsert(table string, cols, keys []string, rows int, quote bool) string
	// CopyRows writes rows (driver arguments, in cols order) with the
	// database's bulk path, updating the non-key columns of existing keys
	// when upsert is set; done is false when the dialect has none. types
	// are the columns' Column.Type ("" when unknown).
	CopyRows(ctx context.Context, conn *sql.Conn, table string, cols, types, keys []string, upsert bool, rows [][]any, quote bool) (done bool, err error)
	// ColumnType is the column type auto.create and auto.evolve give a
	// Connect schema; key is true for primary key columns.
	ColumnType(s *data.Schema, key bool) (string, error)
	// IsUndefinedTable reports whether err says a table does not exist.
	IsUndefinedTable(err error) bool
	// IsConstraintViolation reports whether err is about the row's data
	// (a NOT NULL, unique, check or foreign key violation, a value out of
	// range), not the connection or the statement.
	IsDataError(err error) bool
	// IsPermanent reports whether a connection error will not go away by
	// retrying: bad credentials, a database that does not exist.
	IsPermanent(err error) bool
}

// querier is what catalog queries need: a pool, a connection or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// connSettings are the connection keys, parsed.
type connSettings struct {
	// Kind is "postgresql" or "mysql" (mysql and mariadb URLs).
	Kind     string
	Host     string
	Port     string
	Database string
	User     string
	Password string
	// Params are the URL's query parameters.
	Params url.Values
	// TimeZone is db.timezone.
	TimeZone *time.Location
	// ServerZone leaves the session's time zone at the server's default
	// (the source: SQL of the user's, NOW() or CURRENT_DATE in a query,
	// a view or query.suffix, runs as in any other client, as with
	// Confluent's connector). Otherwise (the sink) the session's zone is
	// db.timezone (PostgreSQL) or UTC (MySQL).
	ServerZone bool
	// Isolation is transaction.isolation.mode (sql.LevelDefault if DEFAULT).
	Isolation sql.IsolationLevel
}

// parseURL parses a JDBC URL: jdbc:postgresql://host[:port]/db[?params],
// jdbc:mysql://… or jdbc:mariadb://…. user and password parameters are
// taken as credentials when connection.user/password are not set.
func parseURL(raw string) (connSettings, error) {
	var cs connSettings
	rest, ok := strings.CutPrefix(strings.TrimSpace(raw), "jdbc:")
	if !ok {
		return cs, fmt.Errorf("%w: %q does not start with jdbc:", ErrBadURL, raw)
	}
	scheme, _, _ := strings.Cut(rest, ":")
	switch scheme {
	case "postgresql":
		cs.Kind = "postgresql"
	case "mysql", "mariadb":
		cs.Kind = "mysql"
	default:
		return cs, fmt.Errorf("%w: %q: Sluice connects to jdbc:postgresql, jdbc:mysql and jdbc:mariadb URLs", ErrBadURL, raw)
	}
	u, err := url.Parse(rest)
	if err != nil {
		return cs, fmt.Errorf("%w: %q: %v", ErrBadURL, raw, err)
	}
	if u.Host == "" {
		return cs, fmt.Errorf("%w: %q has no host", ErrBadURL, raw)
	}
	if strings.Contains(u.Host, ",") {
		return cs, fmt.Errorf("%w: %q: several hosts are not supported", ErrBadURL, raw)
	}
	cs.Host, cs.Port = u.Hostname(), u.Port()
	if cs.Port == "" {
		cs.Port = map[string]string{"postgresql": "5432", "mysql": "3306"}[cs.Kind]
	}
	cs.Database = strings.TrimPrefix(u.Path, "/")
	// MySQL's Connector/J also takes properties after ';'.
	query := u.RawQuery
	if i := strings.IndexByte(cs.Database, ';'); i >= 0 {
		query = strings.ReplaceAll(cs.Database[i+1:], ";", "&") + "&" + query
		cs.Database = cs.Database[:i]
	}
	cs.Params, err = url.ParseQuery(query)
	if err != nil {
		return cs, fmt.Errorf("%w: %q: %v", ErrBadURL, raw, err)
	}
	if u.User != nil {
		cs.User = u.User.Username()
		cs.Password, _ = u.User.Password()
	}
	if v := cs.Params.Get("user"); v != "" {
		cs.User = v
	}
	if v := cs.Params.Get("password"); v != "" {
		cs.Password = v
	}
	cs.Params.Del("user")
	cs.Params.Del("password")
	return cs, nil
}

// dialectFor returns the dialect named by dialect.name, or the URL's.
func dialectFor(name string, cs connSettings) (Dialect, error) {
	switch name {
	case PostgresDialectName:
		return postgres{}, nil
	case MySQLDialectName:
		return mysqlDialect{}, nil
	case "":
		if cs.Kind == "postgresql" {
			return postgres{}, nil
		}
		return mysqlDialect{}, nil
	}
	return nil, fmt.Errorf("jdbc: dialect.name %q is not supported (%s or %s)", name, PostgresDialectName, MySQLDialectName)
}

// openDB opens the database and pings it, up to attempts times with
// backoff between (connection.attempts, connection.backoff.ms).
func openDB(ctx context.Context, d Dialect, cs connSettings, attempts int, backoff time.Duration) (*sql.DB, error) {
	db, err := d.Open(cs)
	if err != nil {
		return nil, err
	}
	attempts = max(attempts, 1)
	for i := 1; ; i++ {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if i >= attempts || ctx.Err() != nil || d.IsPermanent(err) {
			db.Close()
			return nil, fmt.Errorf("jdbc: connecting to %s:%s/%s failed after %d attempt(s): %w", cs.Host, cs.Port, cs.Database, i, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// quoteWith doubles q inside ident and wraps it.
func quoteWith(ident string, q string) string {
	return q + strings.ReplaceAll(ident, q, q+q) + q
}

// qualified renders a table name, quoting each part when quote is set.
func qualified(d Dialect, t TableID, quote bool) string {
	if t.Schema == "" {
		return d.Quote(t.Name, quote)
	}
	return d.Quote(t.Schema, quote) + "." + d.Quote(t.Name, quote)
}
