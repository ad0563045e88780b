package jdbc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers database/sql driver "pgx"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// postgres is the PostgreSQL dialect (pgx).
type postgres struct{}

func (postgres) Name() string { return PostgresDialectName }

// pgParams maps pgjdbc URL parameters to libpq/pgx ones; others are
// dropped, since pgx would send them to the server as settings.
var pgParams = map[string]string{
	"sslmode":         "sslmode",
	"sslcert":         "sslcert",
	"sslkey":          "sslkey",
	"sslrootcert":     "sslrootcert",
	"connectTimeout":  "connect_timeout",
	"ApplicationName": "application_name",
	"currentSchema":   "search_path",
	"options":         "options",
}

func (postgres) Open(cs connSettings) (*sql.DB, error) {
	q := url.Values{}
	for k, vs := range cs.Params {
		if to, ok := pgParams[k]; ok && len(vs) > 0 {
			q.Set(to, vs[0])
		}
	}
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "prefer")
	}
	// The sink's session time zone is db.timezone, so that text without
	// an offset written into timestamptz columns is read in it. The
	// source's is the server's default (connSettings.ServerZone): it reads
	// timestamps in binary, which no session zone changes, and binds its
	// bounds typed (TimestampParam).
	if !cs.ServerZone {
		q.Set("timezone", cs.TimeZone.String())
	}
	u := url.URL{Scheme: "postgres", Host: cs.Host + ":" + cs.Port, Path: "/" + cs.Database, RawQuery: q.Encode()}
	if cs.User != "" {
		u.User = url.UserPassword(cs.User, cs.Password)
	}
	return sql.Open("pgx", u.String())
}

func (postgres) Quote(ident string, quote bool) string {
	if !quote {
		return ident
	}
	return quoteWith(ident, `"`)
}

func (postgres) Placeholder(i int) string { return "$" + strconv.Itoa(i) }

// TimestampParam casts a wall clock to timestamp, compared with a
// timestamp (without time zone) or date column as is, and an instant to
// timestamptz: neither comparison depends on the session's time zone.
func (postgres) TimestampParam(i int, wall bool) string {
	if wall {
		return "CAST($" + strconv.Itoa(i) + " AS timestamp)"
	}
	return "CAST($" + strconv.Itoa(i) + " AS timestamptz)"
}

// AtTimeZone reads expr's wall clock in loc: a timestamptz (a date is
// its midnight).
func (postgres) AtTimeZone(expr string, loc *time.Location) string {
	return "(CAST(" + expr + " AS timestamp) AT TIME ZONE '" + strings.ReplaceAll(loc.String(), "'", "''") + "')"
}

func (postgres) SessionZone(context.Context, querier) (*time.Location, string, error) {
	return nil, "", nil
}

// pgResultTypes maps pgx's type names to format_type's.
var pgResultTypes = map[string]string{
	"INT2": "smallint", "INT4": "integer", "INT8": "bigint", "FLOAT4": "real", "FLOAT8": "double precision",
	"BOOL": "boolean", "NUMERIC": "numeric", "BYTEA": "bytea", "DATE": "date", "TIME": "time without time zone",
	"TIMESTAMP": "timestamp without time zone", "TIMESTAMPTZ": "timestamp with time zone",
}

func (postgres) ResultColumn(ct *sql.ColumnType) Column {
	c := Column{Name: ct.Name(), Type: pgResultTypes[ct.DatabaseTypeName()], Nullable: true}
	if c.Type == "" {
		c.Type = "text"
	}
	if p, s, ok := ct.DecimalSize(); ok && c.Type == "numeric" {
		c.Precision, c.Scale = int(p), int(s)
	}
	return c
}

func (postgres) Limit(n int) string { return " LIMIT " + strconv.Itoa(n) }

func (postgres) Tables(ctx context.Context, q querier, schemaPattern string, types []string) ([]TableID, error) {
	kinds := tableKinds(types, "BASE TABLE")
	query := `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\_%'
		AND table_type = ANY($1) AND ($2 = '' OR table_schema LIKE $2)
		ORDER BY table_schema, table_name`
	return scanTables(ctx, q, query, kinds, schemaPattern)
}

func (postgres) DefaultSchema(ctx context.Context, q querier) (string, error) {
	var s string
	err := q.QueryRowContext(ctx, "SELECT current_schema()").Scan(&s)
	return s, err
}

func (p postgres) Columns(ctx context.Context, q querier, t TableID) ([]Column, error) {
	schema := t.Schema
	if schema == "" {
		var err error
		if schema, err = p.DefaultSchema(ctx, q); err != nil {
			return nil, err
		}
	}
	rows, err := q.QueryContext(ctx, `
		SELECT a.attname, format_type(a.atttypid, NULL), t.typtype = 'e',
		       CASE WHEN a.atttypid IN (1700) AND a.atttypmod > 0 THEN ((a.atttypmod - 4) >> 16) & 65535 ELSE 0 END,
		       CASE WHEN a.atttypid IN (1700) AND a.atttypmod > 0 THEN (a.atttypmod - 4) & 65535 ELSE 0 END,
		       NOT a.attnotnull,
		       COALESCE((SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) WHERE k.attnum = a.attnum), 0)::int
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, schema, t.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type, &c.Enum, &c.Precision, &c.Scale, &c.Nullable, &c.PrimaryKey); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

func (postgres) CurrentTime(ctx context.Context, q querier) (time.Time, error) {
	var t time.Time
	err := q.QueryRowContext(ctx, "SELECT CURRENT_TIMESTAMP").Scan(&t)
	return t, err
}

func (p postgres) Upsert(table string, cols, keys []string, rows int, quote bool) string {
	return insertValues(p, table, cols, rows, quote) + p.onConflict(cols, keys, quote)
}

// onConflict is the upsert's ON CONFLICT clause.
func (p postgres) onConflict(cols, keys []string, quote bool) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Quote(k, quote))
	}
	b.WriteString(")")
	var sets []string
	for _, c := range cols {
		if !contains(keys, c) {
			q := p.Quote(c, quote)
			sets = append(sets, q+" = EXCLUDED."+q)
		}
	}
	if len(sets) == 0 {
		b.WriteString(" DO NOTHING")
	} else {
		b.WriteString(" DO UPDATE SET ")
		b.WriteString(strings.Join(sets, ", "))
	}
	return b.String()
}

// CopyRows writes a batch in binary when every value has an exact binary
// form for its column's type (pgbinary.go): an upsert as one INSERT ..
// SELECT unnest(array), .. ON CONFLICT, an insert as a binary COPY FROM
// STDIN. Otherwise it copies CSV, where every value goes through its
// column type's input function as a literal would (a value the type
// cannot hold is an error, not converted); an upsert into a temporary
// staging table of the same column types, then INSERT .. SELECT .. ON
// CONFLICT from it.
func (p postgres) CopyRows(ctx context.Context, conn *sql.Conn, table string, cols, types, keys []string, upsert bool, rows [][]any, quote bool) (bool, error) {
	return true, p.copyRows(ctx, conn, nil, "", table, cols, types, keys, upsert, rows, quote)
}

// EncodeCopy encodes an upsert's rows as binary arrays ahead of
// CopyRowsInSavepoint, so that the sink's goroutine that maps the rows
// does it while the database writes the batch before, and not the writer
// while the database waits for it.
func (postgres) EncodeCopy(types []string, upsert bool, rows [][]any) any {
	if !upsert {
		return nil
	}
	return encodeArrays(types, rows) // nil too: no binary form
}

// CopyRowsInSavepoint is CopyRows between SAVEPOINT savepoint and RELEASE
// SAVEPOINT savepoint, with the rows' arrays if EncodeCopy encoded them
// (encoded is its result, or nil). An upsert in binary arrays sends the
// three statements at once, in one round trip: the server skips what
// follows a failed one, so that a failed write leaves the transaction to
// be rolled back to the savepoint as when they go one by one.
func (p postgres) CopyRowsInSavepoint(ctx context.Context, conn *sql.Conn, encoded any, savepoint, table string, cols, types, keys []string, upsert bool, rows [][]any, quote bool) error {
	return p.copyRows(ctx, conn, encoded, savepoint, table, cols, types, keys, upsert, rows, quote)
}

// pgArrayBatch is an upsert's rows as one binary array per column
// (pgArrays), slices of buf, a pooled buffer reused batch after batch
// instead of grown anew.
type pgArrayBatch struct {
	buf        *bytes.Buffer
	arrays     [][]byte
	arrayTypes []string
}

// encodeArrays is rows as binary arrays, nil when a value has no binary
// form or no column has an array (a select list of NULLs alone would be
// one row).
func encodeArrays(types []string, rows [][]any) *pgArrayBatch {
	buf := copyBuffers.Get().(*bytes.Buffer)
	arrays, arrayTypes, ok := pgArrays(buf, types, rows)
	if !ok || !slices.ContainsFunc(arrayTypes, func(t string) bool { return t != "" }) {
		copyBuffers.Put(buf)
		return nil
	}
	return &pgArrayBatch{buf, arrays, arrayTypes}
}

// copyRows is CopyRows inside savepoint, or none when savepoint is "";
// encoded is EncodeCopy's result, or nil when not encoded yet.
func (p postgres) copyRows(ctx context.Context, conn *sql.Conn, encoded any, savepoint, table string, cols, types, keys []string, upsert bool, rows [][]any, quote bool) error {
	var list []string
	for _, c := range cols {
		list = append(list, p.Quote(c, quote))
	}
	colList := strings.Join(list, ", ")
	if upsert {
		a, ok := encoded.(*pgArrayBatch)
		if !ok {
			a = encodeArrays(types, rows)
		}
		if a != nil {
			err := p.upsertArrays(ctx, conn, savepoint, table, cols, keys, colList, a.arrays, a.arrayTypes, quote)
			copyBuffers.Put(a.buf)
			return err
		}
	}
	if savepoint != "" {
		if _, err := conn.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
			return err
		}
	}
	if err := p.copyFrom(ctx, conn, table, cols, keys, colList, types, upsert, rows, quote); err != nil {
		return err
	}
	if savepoint != "" {
		_, err := conn.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint)
		return err
	}
	return nil
}

// copyFrom copies rows without binary arrays: a binary COPY when every
// value has a binary form (inserts), CSV otherwise, upserts through a
// staging table.
func (p postgres) copyFrom(ctx context.Context, conn *sql.Conn, table string, cols, keys []string, colList string, types []string, upsert bool, rows [][]any, quote bool) error {
	target := table
	if upsert {
		h := fnv.New64a()
		h.Write([]byte(table + "\x00" + colList))
		target = fmt.Sprintf("sluice_stage_%x", h.Sum64())
		if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+target+" ON COMMIT DROP AS SELECT "+colList+
			" FROM "+table+" WITH NO DATA"); err != nil {
			return err
		}
	}
	buf := copyBuffers.Get().(*bytes.Buffer)
	defer copyBuffers.Put(buf)
	buf.Reset()
	format := "binary"
	// An upsert's rows without binary arrays have no binary COPY either.
	if upsert || !appendPGBinary(buf, types, rows) {
		buf.Reset()
		format = "csv"
		for _, row := range rows {
			for i, v := range row {
				if i > 0 {
					buf.WriteByte(',')
				}
				appendCSV(buf, v)
			}
			buf.WriteByte('\n')
		}
	}
	err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("jdbc: COPY needs a pgx connection, not %T", dc)
		}
		_, err := sc.Conn().PgConn().CopyFrom(ctx, buf, "COPY "+target+" ("+colList+") FROM STDIN (FORMAT "+format+")")
		return err
	})
	if err != nil || !upsert {
		return err
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO "+table+" ("+colList+") SELECT "+colList+" FROM "+target+
		p.onConflict(cols, keys, quote)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "TRUNCATE "+target)
	return err
}

// upsertArrays upserts a batch sent as one binary array parameter per
// column: INSERT .. SELECT unnest(..), unnest(..) .. ON CONFLICT, one
// statement without a staging table. Each array's elements convert to
// the column's type by assignment, as a literal's value would. The
// arrays are unnested in the select list, in step (they have a row's
// element each), not in FROM: unnest(a, b, ..) in FROM stores its rows
// in a tuplestore before the insert reads them (EXPLAIN ANALYZE of a
// 3000-row batch: 2.0-2.3 ms in that function scan, 0.8 ms in the select
// list's ProjectSet; about a tenth of the server's CPU for the batch).
// With a savepoint, SAVEPOINT, the statement and RELEASE SAVEPOINT go in
// one round trip, and the rows are first tried as a plain INSERT of the
// same arrays (insertFirst), upserted only when it fails.
func (p postgres) upsertArrays(ctx context.Context, conn *sql.Conn, savepoint, table string, cols, keys []string, colList string, arrays [][]byte, arrayTypes []string, quote bool) error {
	// A column NULL in every row has no array: NULL, of the column's type
	// by assignment (encodeArrays encodes no batch without any array: a
	// select list of NULLs alone would be one row).
	var sel []string
	var values [][]byte
	var formats []int16
	for i, t := range arrayTypes {
		if t == "" {
			sel = append(sel, "NULL")
			continue
		}
		values = append(values, arrays[i])
		formats = append(formats, 1) // binary
		sel = append(sel, fmt.Sprintf("unnest($%d::%s)", len(values), t))
	}
	insert := "INSERT INTO " + table + " (" + colList + ") SELECT " + strings.Join(sel, ", ")
	upsert := insert + p.onConflict(cols, keys, quote)
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("jdbc: upserting arrays needs a pgx connection, not %T", dc)
		}
		pc := sc.Conn().PgConn()
		name, err := prepared(ctx, pc, upsert)
		if err != nil {
			return err
		}
		if savepoint == "" {
			_, err = pc.ExecPrepared(ctx, name, values, formats, nil).Close()
			return err
		}
		ins, err := insertsFirst(ctx, pc, table, keys)
		if err != nil {
			return err
		}
		if !ins.try() {
			return execInSavepoint(ctx, pc, savepoint, name, values, formats)
		}
		plain, err := prepared(ctx, pc, insert)
		if err != nil {
			return err
		}
		err = execInSavepoint(ctx, pc, savepoint, plain, values, formats)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			ins.done(err == nil)
			return err // nil, or the connection's failure
		}
		// A key the table holds (or any error the server reported): the
		// batch is upserted from the savepoint, which the failed insert
		// left set, and its outcome is the upsert's.
		ins.done(false)
		var batch pgconn.Batch
		batch.ExecParams("ROLLBACK TO SAVEPOINT "+savepoint, nil, nil, nil, nil)
		batch.ExecPrepared(name, values, formats, nil)
		batch.ExecParams("RELEASE SAVEPOINT "+savepoint, nil, nil, nil, nil)
		_, err = execBatch(ctx, pc, &batch)
		return err
	})
}

// execInSavepoint runs prepared statement name between SAVEPOINT
// savepoint and RELEASE SAVEPOINT savepoint, in one round trip: the
// server skips what follows a failed statement, so that a failed write
// leaves the savepoint set and the transaction to be rolled back to it.
func execInSavepoint(ctx context.Context, pc *pgconn.PgConn, savepoint, name string, values [][]byte, formats []int16) error {
	var batch pgconn.Batch
	batch.ExecParams("SAVEPOINT "+savepoint, nil, nil, nil, nil)
	batch.ExecPrepared(name, values, formats, nil)
	batch.ExecParams("RELEASE SAVEPOINT "+savepoint, nil, nil, nil, nil)
	_, err := execBatch(ctx, pc, &batch)
	return err
}

// execBatch sends batch in one round trip and returns its results and the
// first statement's error, or the connection's.
func execBatch(ctx context.Context, pc *pgconn.PgConn, batch *pgconn.Batch) ([]*pgconn.Result, error) {
	results, err := pc.ExecBatch(ctx, batch).ReadAll()
	for _, r := range results {
		if r.Err != nil {
			return results, r.Err
		}
	}
	return results, err
}

// insertFirst is whether an upsert of binary arrays into a table first
// tries a plain INSERT of its rows (without ON CONFLICT), on one
// connection. Of rows whose keys the table does not hold, an INSERT
// writes what the upsert would, at about half the database's CPU (1.7
// against 3.1 s for a million rows in batches of 3000, the statements
// alone): ON CONFLICT probes the key's index before each row's insert
// and inserts the row speculatively (a lock taken and released, a
// second WAL record), where an INSERT only inserts. The INSERT fires the
// table's INSERT triggers only, where ON CONFLICT DO UPDATE also fires
// its UPDATE statement triggers. When the INSERT fails (a
// key the table holds, 23505, or anything else the server rejects), the
// batch is rolled back to its savepoint and upserted, so what the table
// holds, and which rows are rejected, are the upsert's; the INSERT's
// work until the failure is lost. So that a stream of updates does not
// pay for that batch after batch, each failure doubles the number of
// batches that then upsert directly (1, 2, 4, … up to 64) before an
// INSERT is tried again; a success resets it.
// The INSERT is tried only where the upsert's ON CONFLICT has its
// arbiter (hasArbiter): elsewhere the upsert fails whatever its rows,
// and an INSERT would write them.
type insertFirst struct {
	skip, penalty int
	never         bool // no arbiter: always upsert
}

const maxInsertFirstPenalty = 64

// insertsFirst is the insertFirst of table and its key columns keys on
// pc (per connection, as a lease's transaction is).
func insertsFirst(ctx context.Context, pc *pgconn.PgConn, table string, keys []string) (*insertFirst, error) {
	m, _ := pc.CustomData()["sluice.insertFirst"].(map[string]*insertFirst)
	if m == nil {
		m = map[string]*insertFirst{}
		pc.CustomData()["sluice.insertFirst"] = m
	}
	k := table + "\x00" + strings.Join(keys, "\x00")
	s := m[k]
	if s == nil {
		ok, err := hasArbiter(ctx, pc, table, keys)
		if err != nil {
			return nil, err
		}
		s = &insertFirst{never: !ok}
		m[k] = s
	}
	return s, nil
}

// hasArbiter reports whether table has an index that ON CONFLICT (keys)
// takes as its arbiter: unique, valid, not deferrable, without
// expressions or a predicate, its key columns exactly keys. Where there
// is none (or the table is not found), the upsert fails with an error of
// its own, and an INSERT must not be tried. Nor where the upsert is
// refused, or checked, otherwise than an INSERT: a table with INSERT or
// UPDATE rules, or row security, or on which the session lacks the
// SELECT or UPDATE privilege (as a table's: column privileges alone
// count as lacking it). The query runs in a savepoint of its own, so
// that a failure of it (reported as false) leaves the transaction as it
// was.
func hasArbiter(ctx context.Context, pc *pgconn.PgConn, table string, keys []string) (bool, error) {
	const query = `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate AND i.indisvalid
		AND i.indpred IS NULL AND i.indexprs IS NULL
		AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
			WHERE k.n <= i.indnkeyatts ORDER BY 1)
		  = ARRAY(SELECT jsonb_array_elements_text($2::jsonb) ORDER BY 1)
		AND NOT c.relrowsecurity
		AND NOT EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.ev_type IN ('2', '3'))
		AND has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'UPDATE'))`
	names, err := json.Marshal(keys)
	if err != nil {
		return false, err
	}
	var batch pgconn.Batch
	batch.ExecParams("SAVEPOINT sluice_arbiter", nil, nil, nil, nil)
	batch.ExecParams(query, [][]byte{[]byte(table), names}, nil, nil, nil)
	batch.ExecParams("RELEASE SAVEPOINT sluice_arbiter", nil, nil, nil, nil)
	results, err := execBatch(ctx, pc, &batch)
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return len(results) == 3 && len(results[1].Rows) == 1 && string(results[1].Rows[0][0]) == "t", nil
	case !errors.As(err, &pe):
		return false, err
	}
	if err := pc.Exec(ctx, "ROLLBACK TO SAVEPOINT sluice_arbiter; RELEASE SAVEPOINT sluice_arbiter").Close(); err != nil {
		return false, err
	}
	return false, nil
}

// try reports whether this batch tries the INSERT first.
func (s *insertFirst) try() bool {
	if s.never {
		return false
	}
	if s.skip > 0 {
		s.skip--
		return false
	}
	return true
}

// done records how the INSERT went.
func (s *insertFirst) done(ok bool) {
	if ok {
		s.penalty = 0
		return
	}
	s.penalty = min(max(1, 2*s.penalty), maxInsertFirstPenalty)
	s.skip = s.penalty
}

// prepared returns the name of query's prepared statement on the
// connection, preparing it the first time: the server plans a batch's
// statement once, not once a batch. The connection is the task's own
// (each task opens its pool), so the names live as long as the
// statements.
func prepared(ctx context.Context, pc *pgconn.PgConn, query string) (string, error) {
	names, _ := pc.CustomData()["sluice.prepared"].(map[string]string)
	if names == nil {
		names = map[string]string{}
		pc.CustomData()["sluice.prepared"] = names
	}
	if name, ok := names[query]; ok {
		return name, nil
	}
	name := fmt.Sprintf("sluice_%x", fnv64(query))
	if _, err := pc.Prepare(ctx, name, query, nil); err != nil {
		return "", err
	}
	names[query] = name
	return name, nil
}

// copyBuffers hold the COPY data of a batch between batches.
var copyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendCSV writes a driver argument as a CSV field of COPY's csv format:
// NULL unquoted and empty, every other value quoted.
func appendCSV(b *bytes.Buffer, v any) {
	var s string
	switch x := v.(type) {
	case nil:
		return
	case string:
		s = x
	case []byte:
		s = `\x` + hex.EncodeToString(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case bool:
		s = strconv.FormatBool(x)
	case float64:
		switch {
		case math.IsInf(x, 1):
			s = "Infinity"
		case math.IsInf(x, -1):
			s = "-Infinity"
		default:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		}
	default:
		s = fmt.Sprint(x)
	}
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(s, `"`, `""`))
	b.WriteByte('"')
}

func (postgres) ColumnType(s *data.Schema, key bool) (string, error) {
	switch s.Name {
	case data.DecimalName:
		return "NUMERIC", nil
	case data.DateName:
		return "DATE", nil
	case data.TimeName:
		return "TIME(3)", nil
	case data.TimestampName:
		return "TIMESTAMP(3)", nil
	}
	switch s.Type {
	case data.TypeInt8, data.TypeInt16:
		return "SMALLINT", nil
	case data.TypeInt32:
		return "INTEGER", nil
	case data.TypeInt64:
		return "BIGINT", nil
	case data.TypeFloat32:
		return "REAL", nil
	case data.TypeFloat64:
		return "DOUBLE PRECISION", nil
	case data.TypeBoolean:
		return "BOOLEAN", nil
	case data.TypeString:
		return "TEXT", nil
	case data.TypeBytes:
		return "BYTEA", nil
	}
	return "", fmt.Errorf("%w: no PostgreSQL column type for a Connect %s", ErrUnrepresentable, strings.ToUpper(string(s.Type)))
}

func (postgres) IsUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// IsDataError: class 22 (data exception) and 23 (integrity constraint
// violation); and 21000 (cardinality violation), which an upsert's ON
// CONFLICT raises when two of its rows have keys the column type equates
// though the sink's deduplication (keyString) told them apart (char's
// padding, citext): written one row at a time, in order, the last wins as
// it would have.
func (postgres) IsDataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23") || pe.Code == "21000")
}

// tableKinds maps table.types (TABLE, VIEW) to information_schema's
// table_type values.
func tableKinds(types []string, table string) []string {
	var kinds []string
	for _, t := range types {
		switch strings.ToUpper(strings.TrimSpace(t)) {
		case "TABLE":
			kinds = append(kinds, table)
		case "VIEW":
			kinds = append(kinds, "VIEW")
		case "SYSTEM VIEW":
			kinds = append(kinds, "SYSTEM VIEW")
		}
	}
	if len(kinds) == 0 {
		kinds = []string{table}
	}
	return kinds
}

func scanTables(ctx context.Context, q querier, query string, args ...any) ([]TableID, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TableID
	for rows.Next() {
		var t TableID
		if err := rows.Scan(&t.Schema, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// insertValues renders INSERT INTO table (cols) VALUES (...), ... for rows
// rows of placeholders.
func insertValues(d Dialect, table string, cols []string, rows int, quote bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Quote(c, quote))
	}
	b.WriteString(") VALUES ")
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.Placeholder(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsPermanent: class 28 (invalid authorization) and 3D000 (no such database).
func (postgres) IsPermanent(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000")
}
