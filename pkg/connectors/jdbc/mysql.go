package jdbc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// mysqlDialect is the MySQL and MariaDB dialect (go-sql-driver/mysql).
type mysqlDialect struct{}

func (mysqlDialect) Name() string { return MySQLDialectName }

func (mysqlDialect) Open(cs connSettings) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd = cs.User, cs.Password
	c.Net, c.Addr = "tcp", net.JoinHostPort(cs.Host, cs.Port)
	c.DBName = cs.Database
	c.ParseTime = true
	// DATETIME values are wall-clock times in db.timezone; TIMESTAMP values
	// are instants, read in the session's zone, UTC, and re-read as UTC
	// (sourceValue), written as UTC (sinkValue) and compared with UTC
	// bounds in timestamp modes (tableQuery.tsArg). A UTC session needs
	// no time zone tables on the server.
	c.Loc = cs.TimeZone
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	c.InterpolateParams = true
	c.MaxAllowedPacket = 0 // the server's max_allowed_packet
	switch strings.ToLower(firstParam(cs.Params, "sslMode", "sslmode")) {
	case "required", "verify_ca", "verify_identity", "verify-full":
		c.TLSConfig = "true"
	case "":
		if strings.EqualFold(firstParam(cs.Params, "useSSL"), "true") {
			c.TLSConfig = "skip-verify"
		}
	}
	if v := firstParam(cs.Params, "connectTimeout"); v != "" {
		if d, err := time.ParseDuration(v + "ms"); err == nil {
			c.Timeout = d
		}
	}
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	return sql.OpenDB(conn), nil
}

func firstParam(p map[string][]string, names ...string) string {
	for _, n := range names {
		if v := p[n]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (mysqlDialect) Quote(ident string, quote bool) string {
	if !quote {
		return ident
	}
	return quoteWith(ident, "`")
}

func (mysqlDialect) Placeholder(int) string { return "?" }

func (mysqlDialect) TimestampParam(int) string { return "?" }

func (mysqlDialect) ResultColumn(ct *sql.ColumnType) Column {
	t := strings.ToLower(ct.DatabaseTypeName())
	if rest, ok := strings.CutPrefix(t, "unsigned "); ok {
		t = rest + " unsigned"
	}
	c := Column{Name: ct.Name(), Type: t, Nullable: true}
	if c.Type == "enum" || c.Type == "set" {
		c.Type, c.Enum = "varchar", true
	}
	if p, s, ok := ct.DecimalSize(); ok && strings.HasPrefix(t, "decimal") {
		c.Precision, c.Scale = int(p), int(s)
	}
	if n, ok := ct.Nullable(); ok {
		c.Nullable = n
	}
	return c
}

func (mysqlDialect) Limit(n int) string { return fmt.Sprintf(" LIMIT %d", n) }

// Tables: MySQL's catalogs are its databases; schema.pattern (or the
// connection's database when it is empty) selects them.
func (mysqlDialect) Tables(ctx context.Context, q querier, schemaPattern string, types []string) ([]TableID, error) {
	kinds := tableKinds(types, "BASE TABLE")
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", ")
	args := []any{}
	for _, k := range kinds {
		args = append(args, k)
	}
	cond := "table_schema = DATABASE()"
	if schemaPattern != "" {
		cond = "table_schema LIKE ?"
		args = append(args, schemaPattern)
	}
	query := "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type IN (" + ph + ") AND " + cond +
		" ORDER BY table_schema, table_name"
	return scanTables(ctx, q, query, args...)
}

func (mysqlDialect) DefaultSchema(ctx context.Context, q querier) (string, error) {
	var s sql.NullString
	err := q.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&s)
	return s.String, err
}

func (m mysqlDialect) Columns(ctx context.Context, q querier, t TableID) ([]Column, error) {
	schema := t.Schema
	if schema == "" {
		var err error
		if schema, err = m.DefaultSchema(ctx, q); err != nil {
			return nil, err
		}
	}
	rows, err := q.QueryContext(ctx, `
		SELECT c.column_name, c.data_type, c.column_type, COALESCE(c.numeric_precision, 0), COALESCE(c.numeric_scale, 0),
		       c.is_nullable = 'YES', COALESCE(k.ordinal_position, 0)
		FROM information_schema.columns c
		LEFT JOIN information_schema.key_column_usage k
		  ON k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name
		 AND k.constraint_name = 'PRIMARY'
		WHERE c.table_schema = ? AND c.table_name = ?
		ORDER BY c.ordinal_position`, schema, t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var dataType, columnType string
		if err := rows.Scan(&c.Name, &dataType, &columnType, &c.Precision, &c.Scale, &c.Nullable, &c.PrimaryKey); err != nil {
			return nil, err
		}
		c.Type = strings.ToLower(dataType)
		ct := strings.ToLower(columnType)
		switch {
		case c.Type == "enum":
			c.Enum = true
		case strings.Contains(ct, "unsigned"):
			c.Type += " unsigned"
		case c.Type == "tinyint" && strings.HasPrefix(ct, "tinyint(1)"):
			c.Type = "tinyint(1)"
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

func (mysqlDialect) CurrentTime(ctx context.Context, q querier) (time.Time, error) {
	// The session's zone is UTC (time_zone '+00:00'); read the wall clock
	// as text so the driver's Loc does not apply.
	var s string
	if err := q.QueryRowContext(ctx, "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f')").Scan(&s); err != nil {
		return time.Time{}, err
	}
	return time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
}

func (m mysqlDialect) Upsert(table string, cols, keys []string, rows int, quote bool) string {
	var b strings.Builder
	b.WriteString(insertValues(m, table, cols, rows, quote))
	var sets []string
	for _, c := range cols {
		if !contains(keys, c) {
			q := m.Quote(c, quote)
			sets = append(sets, q+" = VALUES("+q+")")
		}
	}
	if len(sets) == 0 {
		// Nothing to update: keep the row (the key columns are equal).
		q := m.Quote(keys[0], quote)
		sets = append(sets, q+" = "+q)
	}
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	b.WriteString(strings.Join(sets, ", "))
	return b.String()
}

func (mysqlDialect) ColumnType(s *data.Schema, key bool) (string, error) {
	switch s.Name {
	case data.DecimalName:
		scale, err := data.DecimalScale(s)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("DECIMAL(65,%d)", scale), nil
	case data.DateName:
		return "DATE", nil
	case data.TimeName:
		return "TIME(3)", nil
	case data.TimestampName:
		return "DATETIME(3)", nil
	}
	switch s.Type {
	case data.TypeInt8:
		return "TINYINT", nil
	case data.TypeInt16:
		return "SMALLINT", nil
	case data.TypeInt32:
		return "INT", nil
	case data.TypeInt64:
		return "BIGINT", nil
	case data.TypeFloat32:
		return "FLOAT", nil
	case data.TypeFloat64:
		return "DOUBLE", nil
	case data.TypeBoolean:
		return "TINYINT(1)", nil
	case data.TypeString:
		if key {
			return "VARCHAR(256)", nil
		}
		return "LONGTEXT", nil
	case data.TypeBytes:
		if key {
			return "VARBINARY(256)", nil
		}
		return "LONGBLOB", nil
	}
	return "", fmt.Errorf("%w: no MySQL column type for a Connect %s", ErrUnrepresentable, strings.ToUpper(string(s.Type)))
}

func (mysqlDialect) IsUndefinedTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}

// IsDataError: bad null (1048), duplicate key (1062), data too long
// (1406), out of range (1264), truncated or incorrect values (1265, 1292,
// 1366), foreign keys (1451, 1452), check constraints (4025, 3819).
func (mysqlDialect) IsDataError(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1048, 1062, 1406, 1264, 1265, 1292, 1366, 1451, 1452, 4025, 3819, 1364:
		return true
	}
	return false
}

// IsPermanent: access denied (1044, 1045), unknown database (1049).
func (mysqlDialect) IsPermanent(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1044 || me.Number == 1045 || me.Number == 1049)
}

// CopyRows: MySQL's bulk path, LOAD DATA LOCAL INFILE, is not used (it
// needs local_infile on the server); multi-row statements write instead.
func (mysqlDialect) CopyRows(context.Context, *sql.Conn, string, []string, []string, bool, [][]any, bool) (bool, error) {
	return false, nil
}
