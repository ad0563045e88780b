package jdbc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// mysqlDialect is the MySQL and MariaDB dialect (go-sql-driver/mysql).
// loadData is the sink's mysql.load.data.local (see CopyRows); stmts, a
// sink task's prepared multi-row statements (nil: none).
type mysqlDialect struct {
	loadData bool
	stmts    *mysqlStmts
}

func (mysqlDialect) Name() string { return MySQLDialectName }

func (mysqlDialect) Open(cs connSettings) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd = cs.User, cs.Password
	c.Net, c.Addr = "tcp", net.JoinHostPort(cs.Host, cs.Port)
	c.DBName = cs.Database
	c.ParseTime = true
	// DATETIME values are wall-clock times in db.timezone; TIMESTAMP values
	// are instants, which the server renders in the session's zone. The
	// sink's session zone is UTC: it writes them as UTC (sinkValue). The
	// source's is the server's default (connSettings.ServerZone), which
	// it reads with SessionZone, reading TIMESTAMP values and binding
	// their bounds in it. A UTC session needs no time zone tables on the
	// server.
	c.Loc = cs.TimeZone
	if !cs.ServerZone {
		c.Params = map[string]string{"time_zone": "'+00:00'"}
	}
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

func (mysqlDialect) TimestampParam(int, bool) string { return "?" }

// AtTimeZone: MySQL has no timestamp type holding an instant to compare
// with (TIMESTAMP values compare as wall clocks in the session's zone).
func (mysqlDialect) AtTimeZone(string, *time.Location) string { return "" }

// SessionZone reads the session's time_zone: an offset ('+09:00'), a
// named zone, or SYSTEM, the server's system_time_zone.
func (mysqlDialect) SessionZone(ctx context.Context, q querier) (*time.Location, string, error) {
	var name, system string
	if err := q.QueryRowContext(ctx, "SELECT @@session.time_zone, @@system_time_zone").Scan(&name, &system); err != nil {
		return nil, "", err
	}
	if strings.EqualFold(name, "SYSTEM") {
		name = system
	}
	return mysqlZone(name), name, nil
}

// mysqlZone is a MySQL time zone name as a location; nil when Go does not
// know it (a zone abbreviation such as CEST, which says nothing of the
// zone's rules).
func mysqlZone(name string) *time.Location {
	if len(name) == 6 && (name[0] == '+' || name[0] == '-') && name[3] == ':' {
		h, err1 := strconv.Atoi(name[1:3])
		m, err2 := strconv.Atoi(name[4:6])
		if err1 != nil || err2 != nil {
			return nil
		}
		off := h*3600 + m*60
		if name[0] == '-' {
			off = -off
		}
		if off == 0 {
			return time.UTC
		}
		return time.FixedZone(name, off)
	}
	if name == "" || strings.EqualFold(name, "Local") {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

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
	// UTC_TIMESTAMP is UTC whatever the session's zone; read the wall clock
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
	if errors.Is(err, errLoadWarnings) {
		return true
	}
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

// CopyRows writes rows with LOAD DATA LOCAL INFILE when the sink's
// mysql.load.data.local is on; otherwise with the task's prepared
// multi-row statement (mysqlStmts) when it has one for them, or it says
// not done (the statement is sent as text instead). The rows stream from memory (a registered
// reader, never a file) as tab-separated text. Upserts load into a
// temporary copy of the table, then INSERT .. SELECT .. ON DUPLICATE KEY
// UPDATE, so that they keep the statement's semantics (REPLACE would reset
// the columns not written). LOCAL turns the server's data errors into
// warnings: any warning rolls the batch back (errLoadWarnings is a data
// error) and the batch is written again with statements, row by row,
// which report the bad rows.
func (m mysqlDialect) CopyRows(ctx context.Context, conn *sql.Conn, table string, cols, _, keys []string, upsert bool, rows [][]any, quote bool) (bool, error) {
	if !m.loadData {
		return m.stmts.exec(ctx, conn, m, table, cols, keys, upsert, rows, quote)
	}
	var buf bytes.Buffer
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				buf.WriteByte('\t')
			}
			if !appendLoadValue(&buf, v) {
				return false, nil // a value of a type this path does not write
			}
		}
		buf.WriteByte('\n')
	}
	target := table
	if upsert {
		// A fresh staging table a batch: emptying one with DELETE inside
		// the lease's transaction would leave every deleted row for the
		// next INSERT .. SELECT to step over. Neither statement commits
		// (TEMPORARY).
		target = m.Quote(fmt.Sprintf("sluice_load_%x", fnv64(table)), true)
		if _, err := conn.ExecContext(ctx, "DROP TEMPORARY TABLE IF EXISTS "+target); err != nil {
			return true, err
		}
		if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE "+target+" LIKE "+table); err != nil {
			return true, err
		}
	}
	name := fmt.Sprintf("sluice-%d", loadSeq.Add(1))
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(buf.Bytes()) })
	defer mysql.DeregisterReaderHandler(name)
	qcols := make([]string, len(cols))
	for i, c := range cols {
		qcols[i] = m.Quote(c, quote)
	}
	list := strings.Join(qcols, ", ")
	load := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + target +
		" CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" + list + ")"
	if _, err := conn.ExecContext(ctx, load); err != nil {
		return true, err
	}
	var warnings int
	if err := conn.QueryRowContext(ctx, "SELECT @@warning_count").Scan(&warnings); err != nil {
		return true, err
	}
	if warnings > 0 {
		return true, fmt.Errorf("%w: %d warnings", errLoadWarnings, warnings)
	}
	if upsert {
		// The destination's columns are qualified: the staging table has
		// the same names.
		var sets []string
		for i, c := range cols {
			if !contains(keys, c) {
				sets = append(sets, table+"."+qcols[i]+" = VALUES("+qcols[i]+")")
			}
		}
		if len(sets) == 0 {
			k := table + "." + m.Quote(keys[0], quote)
			sets = append(sets, k+" = "+k)
		}
		stmt := "INSERT INTO " + table + " (" + list + ") SELECT " + list + " FROM " + target +
			" ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return true, err
		}
	}
	return true, nil
}

// errLoadWarnings is LOAD DATA LOCAL's warnings: rows it changed or skipped.
var errLoadWarnings = errors.New("jdbc: LOAD DATA LOCAL INFILE reported warnings")

var loadSeq atomic.Int64

func fnv64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// appendLoadValue writes v as a LOAD DATA field (\N for NULL, escapes
// for backslash, tab, newline, carriage return and NUL); false for a type
// it does not know.
func appendLoadValue(buf *bytes.Buffer, v any) bool {
	switch x := v.(type) {
	case nil:
		buf.WriteString(`\N`)
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case float64:
		buf.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		if x {
			buf.WriteByte('1')
		} else {
			buf.WriteByte('0')
		}
	case string:
		appendLoadEscaped(buf, x)
	case []byte:
		appendLoadEscaped(buf, string(x))
	default:
		return false
	}
	return true
}

func appendLoadEscaped(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			buf.WriteString(`\\`)
		case '\t':
			buf.WriteString(`\t`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case 0:
			buf.WriteString(`\0`)
		default:
			buf.WriteByte(c)
		}
	}
}

// mysqlStmts are a sink task's multi-row INSERT and upsert statements
// prepared on its connection. The statements of a batch's table, columns
// and row count are prepared the second time a batch of them is written
// (a lease's full batches recur; an odd-sized last batch does not), and
// each later batch of them executes them: the values travel in the binary
// protocol, and the server neither parses a statement of thousands of
// literals again nor the driver escapes them into one. Only batches whose
// values all bind as the interpolated text reads them go this way: NULL,
// integers, booleans and valid UTF-8 strings (the sink's decimals, dates,
// times and timestamps are strings, see sinkValue); a batch holding a
// float or bytes is sent as text, as before.
//
// A batch is split into statements of equal size whose packets stay
// under stmtPacketBytes, which the driver keeps one buffer for, rather
// than growing a new one for each batch. They run in the batch's
// savepoint: if one fails, the batch is rolled back whole and written
// row by row, as when it was one statement.
type mysqlStmts struct {
	conn     *sql.Conn
	seen     map[stmtKey]int
	prepared map[stmtKey]*sql.Stmt
	order    []stmtKey // prepared's keys, least recently used first
	// executed counts the batches written with prepared statements.
	executed int
}

// maxPreparedStmts bounds a task's prepared statements (each holds
// rows×columns parameters on the server); a batch uses at most two.
const maxPreparedStmts = 8

// stmtPacketBytes is the size the packets of a batch's statements aim
// at: under the 256 KiB buffer go-sql-driver/mysql keeps for a connection
// (a variable for tests).
var stmtPacketBytes = 160 << 10

type stmtKey struct {
	table, cols, keys string
	upsert, quote     bool
	rows              int
}

// exec writes rows with the prepared statements for them, preparing them
// if a batch of their size was seen before; done is false when the batch
// is to be sent as text.
func (p *mysqlStmts) exec(ctx context.Context, conn *sql.Conn, m mysqlDialect, table string, cols, keys []string, upsert bool, rows [][]any, quote bool) (bool, error) {
	if p == nil || len(rows) < 2 {
		return false, nil
	}
	size, ok := bindsAsText(rows)
	if !ok {
		return false, nil
	}
	if p.conn != conn { // a new connection: the statements were the old one's
		p.close()
		p.conn = conn
	}
	k := stmtKey{table: table, cols: strings.Join(cols, "\x00"), keys: strings.Join(keys, "\x00"), upsert: upsert, quote: quote, rows: len(rows)}
	if p.seen == nil || len(p.seen) >= 256 {
		p.seen = map[stmtKey]int{}
	}
	if p.seen[k]++; p.seen[k] < 2 {
		return false, nil
	}
	// Statements of per rows (the last one of fewer), each prepared before
	// any runs: a batch is written either all with them or all as text.
	n := max(1, min(len(rows), (size+stmtPacketBytes-1)/stmtPacketBytes))
	per := (len(rows) + n - 1) / n
	full, err := p.stmt(ctx, conn, m, k, cols, keys, per)
	if err != nil {
		return false, nil // the statement sent as text reports it
	}
	last := full
	if rest := len(rows) % per; rest != 0 {
		if last, err = p.stmt(ctx, conn, m, k, cols, keys, rest); err != nil {
			return false, nil
		}
	}
	args := make([]any, 0, per*len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		st := full
		if len(chunk) != per {
			st = last
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			if start == 0 && errors.Is(err, mysql.ErrPktTooLarge) {
				return false, nil // checked before anything was sent
			}
			return true, err
		}
	}
	p.executed++
	return true, nil
}

// stmt is the prepared statement of k's table and columns (cols, keys:
// k's, unjoined) for rows rows.
func (p *mysqlStmts) stmt(ctx context.Context, conn *sql.Conn, m mysqlDialect, k stmtKey, cols, keys []string, rows int) (*sql.Stmt, error) {
	k.rows = rows
	if st := p.prepared[k]; st != nil {
		i := slices.Index(p.order, k)
		p.order = append(slices.Delete(p.order, i, i+1), k)
		return st, nil
	}
	query := insertValues(m, k.table, cols, rows, k.quote)
	if k.upsert {
		query = m.Upsert(k.table, cols, keys, rows, k.quote)
	}
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(p.order) >= maxPreparedStmts {
		_ = p.prepared[p.order[0]].Close()
		delete(p.prepared, p.order[0])
		p.order = slices.Delete(p.order, 0, 1)
	}
	if p.prepared == nil {
		p.prepared = map[stmtKey]*sql.Stmt{}
	}
	p.prepared[k] = st
	p.order = append(p.order, k)
	return st, nil
}

// close closes the prepared statements.
func (p *mysqlStmts) close() {
	if p == nil {
		return
	}
	for _, st := range p.prepared {
		_ = st.Close()
	}
	p.prepared, p.order, p.seen, p.conn = nil, nil, nil, nil
}

// bindsAsText reports whether every value binds as a parameter with the
// meaning the interpolated text gives it: NULL, an integer, a boolean
// (1 or 0 either way) or a valid UTF-8 string (a quoted literal in the
// connection's utf8mb4). A float (a DECIMAL literal as text) and bytes
// (a _binary literal) are not. size estimates the rows' bytes in an
// execute packet.
func bindsAsText(rows [][]any) (size int, ok bool) {
	for _, r := range rows {
		size += 2*len(r) + (len(r)+7)/8 // types, NULL bitmap
		for _, v := range r {
			switch x := v.(type) {
			case nil:
			case int64:
				size += 8
			case bool:
				size++
			case string:
				if !utf8.ValidString(x) {
					return 0, false
				}
				size += len(x) + 3
			default:
				return 0, false
			}
		}
	}
	return size, true
}
