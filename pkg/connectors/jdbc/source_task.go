package jdbc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Offset and partition keys, Confluent's.
const (
	offsetIncrementing   = "incrementing"
	offsetTimestamp      = "timestamp"
	offsetTimestampNanos = "timestamp_nanos"
	partitionProtocol    = "protocol"
	partitionTable       = "table"
	partitionQuery       = "query"
)

// SourceTask copies its tables (or the query) into Kafka, batch.max.rows
// rows per poll, one table per poll in turn. Its position is its source
// offsets, in Confluent's format: partition {"protocol":"1",
// "table":"schema.table"} ({"query":"query"} in query mode), offset
// {"incrementing":n} and/or {"timestamp":ms,"timestamp_nanos":ns}.
// Offsets committed by Confluent's connector (protocol 1, or the older
// {"table":"name"}) are read too. A SourceTask is used from one goroutine.
type SourceTask struct {
	s       sourceSettings
	db      *sql.DB
	queries []*tableQuery
	next    int
	log     *slog.Logger
	// zone is the session's time zone as read by Dialect.SessionZone
	// (MySQL; nil for PostgreSQL).
	zone *time.Location
}

var _ connect.SourceTask = (*SourceTask)(nil)

// NewSourceTask returns a source task.
func NewSourceTask() *SourceTask { return &SourceTask{} }

// tableQuery is one table (or the query) and its position.
type tableQuery struct {
	table     TableID // empty in query mode
	from      string  // the FROM clause's source
	partition map[string]any
	topic     string
	cols      []sourceColumn // nil in query mode before the first query
	selectSQL string         // the column list
	keyIdx    []int
	keySchema *data.Schema
	valSchema *data.Schema
	incIdx    int
	tsIdx     []int
	// tsExpr is the timestamp column(s)' expression in comparisons, and
	// tsWall the zone of the wall clocks it holds (nil: instants).
	tsExpr string
	tsWall *time.Location

	inc     int64
	ts      time.Time
	nextRun time.Time
	dropped bool
	bulk    *sql.Rows // an open bulk pass
}

// Start connects and restores each table's position from its offsets.
func (t *SourceTask) Start(ctx context.Context, tc connect.SourceTaskContext, props map[string]string) error {
	s, err := parseSource(props)
	if err != nil {
		return err
	}
	t.s = s
	t.log = slog.With("connector", props["name"])
	t.db, err = openDB(ctx, s.conn.dialect, s.conn.settings, s.conn.attempts, s.conn.backoff)
	if err != nil {
		return err
	}
	zone, zoneName, err := s.conn.dialect.SessionZone(ctx, t.db)
	if err != nil {
		return fmt.Errorf("jdbc: reading the session's time zone: %w", err)
	}
	if zone == nil && zoneName != "" {
		// TIMESTAMP values would be wall clocks of a zone whose rules
		// are unknown: read them in a UTC session instead.
		t.log.Warn("jdbc: the server's time zone is not a zone name or offset; the source's sessions use UTC (NOW() in a query is UTC)", "time_zone", zoneName)
		t.db.Close()
		t.s.conn.settings.ServerZone = false
		if t.db, err = openDB(ctx, s.conn.dialect, t.s.conn.settings, s.conn.attempts, s.conn.backoff); err != nil {
			return err
		}
		zone = time.UTC
	}
	t.zone = zone
	var initial time.Time
	if s.tsInitial != nil {
		if *s.tsInitial == TimestampInitialCurrent {
			if initial, err = s.conn.dialect.CurrentTime(ctx, t.db); err != nil {
				return fmt.Errorf("jdbc: reading the database's time for timestamp.initial: %w", err)
			}
		} else {
			initial = time.UnixMilli(*s.tsInitial)
		}
	} else {
		initial = time.Unix(0, 0)
	}
	if s.query != "" {
		q := &tableQuery{
			from:      "(" + s.query + ") sluice_query",
			partition: map[string]any{partitionQuery: partitionQuery},
			topic:     s.topicPrefix,
			selectSQL: "*",
		}
		t.queries = append(t.queries, q)
		return q.restore(tc.Offsets().Offset(q.partition), initial, s.mode)
	}
	for _, name := range s.tables {
		schema, table, _ := strings.Cut(name, ".")
		id := TableID{Schema: schema, Name: table}
		if table == "" {
			// An unqualified name is in the connection's default schema.
			def, err := s.conn.dialect.DefaultSchema(ctx, t.db)
			if err != nil {
				return fmt.Errorf("jdbc: reading the default schema: %w", err)
			}
			id = TableID{Schema: def, Name: schema}
		}
		q, err := t.newTableQuery(ctx, id)
		if err != nil {
			return err
		}
		if q == nil {
			continue // dropped since the connector listed it
		}
		offset := tc.Offsets().Offset(q.partition)
		if offset == nil {
			offset = tc.Offsets().Offset(map[string]any{partitionTable: id.Name}) // protocol 0
		}
		if err := q.restore(offset, initial, s.mode); err != nil {
			return fmt.Errorf("jdbc: table %s: %w", id, err)
		}
		t.queries = append(t.queries, q)
	}
	return nil
}

// newTableQuery reads a table's columns and checks the mode's columns; nil
// when the table no longer exists.
func (t *SourceTask) newTableQuery(ctx context.Context, id TableID) (*tableQuery, error) {
	d := t.s.conn.dialect
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cols, err := d.Columns(cctx, t.db, id)
	if err != nil {
		return nil, fmt.Errorf("jdbc: reading the columns of %s: %w", id, err)
	}
	if len(cols) == 0 {
		t.log.Warn("jdbc source: table not found; skipping it", "table", id.String())
		return nil, nil
	}
	q := &tableQuery{
		table:     id,
		from:      qualified(d, id, t.s.conn.quote),
		partition: map[string]any{partitionProtocol: "1", partitionTable: id.String()},
		topic:     t.s.topicPrefix + id.Name,
	}
	if err := t.setColumns(q, cols, id.Name); err != nil {
		return nil, err
	}
	var names []string
	for _, c := range cols {
		names = append(names, d.Quote(c.Name, t.s.conn.quote))
	}
	q.selectSQL = strings.Join(names, ", ")
	return q, nil
}

// setColumns maps the columns and finds the key, incrementing and
// timestamp columns.
func (t *SourceTask) setColumns(q *tableQuery, cols []Column, schemaName string) error {
	q.cols = q.cols[:0]
	vb := data.StructBuilder().Name(schemaName)
	if schemaName == "" {
		vb = data.StructBuilder()
	}
	type pk struct{ pos, idx int }
	var pks []pk
	for i, c := range cols {
		sc := mapColumn(c, t.s.numericMapping, t.s.granularity)
		if sc.kind == kTimestampUTC {
			sc.zone = t.zone
		}
		q.cols = append(q.cols, sc)
		vb.Field(c.Name, sc.schema)
		if c.PrimaryKey > 0 {
			pks = append(pks, pk{c.PrimaryKey, i})
		}
	}
	q.valSchema = vb.MustBuild()
	q.keyIdx, q.keySchema = nil, nil
	if len(pks) > 0 {
		for i := range pks { // primary key order
			for j := i + 1; j < len(pks); j++ {
				if pks[j].pos < pks[i].pos {
					pks[i], pks[j] = pks[j], pks[i]
				}
			}
		}
		kb := data.StructBuilder()
		for _, p := range pks {
			q.keyIdx = append(q.keyIdx, p.idx)
			kb.Field(cols[p.idx].Name, q.cols[p.idx].schema)
		}
		q.keySchema = kb.MustBuild()
	}
	where := q.from
	find := func(name string) (int, error) {
		for i, c := range cols {
			if c.Name == name {
				return i, nil
			}
		}
		return -1, fmt.Errorf("jdbc: %s has no column %q", where, name)
	}
	q.incIdx, q.tsIdx = -1, nil
	if t.s.mode == ModeIncrementing || t.s.mode == ModeTimestampIncrementing {
		i, err := find(t.s.incColumn)
		if err != nil {
			return err
		}
		if k := q.cols[i].kind; k != kInt && k != kDecimal && k != kUint64 {
			return fmt.Errorf("jdbc: %s: incrementing column %q has type %s, not an integer", where, t.s.incColumn, cols[i].Type)
		}
		if t.s.validateNull && cols[i].Nullable && q.table.Name != "" {
			return fmt.Errorf("jdbc: cannot make incremental queries using incrementing column %s on %s because this column is nullable", t.s.incColumn, where)
		}
		q.incIdx = i
	}
	if t.s.mode == ModeTimestamp || t.s.mode == ModeTimestampIncrementing {
		for _, name := range t.s.tsColumns {
			i, err := find(name)
			if err != nil {
				return err
			}
			if !q.cols[i].isTimestamp() && q.cols[i].kind != kDate {
				return fmt.Errorf("jdbc: %s: timestamp column %q has type %s", where, name, cols[i].Type)
			}
			if t.s.validateNull && len(t.s.tsColumns) == 1 && cols[i].Nullable && q.table.Name != "" {
				return fmt.Errorf("jdbc: cannot make incremental queries using timestamp column %s on %s because this column is nullable", name, where)
			}
			q.tsIdx = append(q.tsIdx, i)
		}
		return t.setTimestampExpr(q, where)
	}
	return nil
}

// wallZone is the zone of the wall clocks a timestamp column holds as the
// database compares it: db.timezone for a timestamp without time zone
// (DATETIME), the session's zone for a MySQL TIMESTAMP, UTC for a date
// (read as its UTC midnight); nil for an instant (timestamptz).
func (t *SourceTask) wallZone(sc *sourceColumn) *time.Location {
	switch sc.kind {
	case kTimestamp:
		return t.s.conn.settings.TimeZone
	case kTimestampUTC:
		return sc.sessionZone()
	case kDate:
		return time.UTC
	}
	return nil
}

func sameZone(a, b *time.Location) bool {
	return a == b || (a != nil && b != nil && a.String() == b.String())
}

// setTimestampExpr sets q.tsExpr and q.tsWall. Columns holding wall clocks
// of one zone compare with a bound rendered as a wall clock of that zone,
// instants with an instant: no comparison depends on the session's time
// zone, the server's default. Columns of different zones compare as
// instants (PostgreSQL: each wall clock read AT TIME ZONE its zone);
// MySQL cannot, and refuses them rather than skip or repeat rows.
func (t *SourceTask) setTimestampExpr(q *tableQuery, where string) error {
	d := t.s.conn.dialect
	zone := t.wallZone(&q.cols[q.tsIdx[0]])
	same := true
	for _, i := range q.tsIdx[1:] {
		same = same && sameZone(zone, t.wallZone(&q.cols[i]))
	}
	var exprs []string
	for _, i := range q.tsIdx {
		e := d.Quote(q.cols[i].Name, t.s.conn.quote)
		if z := t.wallZone(&q.cols[i]); !same && z != nil {
			if e = d.AtTimeZone(e, z); e == "" {
				return fmt.Errorf("jdbc: %s: the timestamp columns %v mix MySQL TIMESTAMP and DATETIME (or DATE) columns, which cannot be compared in one COALESCE: the server renders TIMESTAMP values in the session's zone %s, DATETIME values are wall clocks of db.timezone=%s",
					where, t.s.tsColumns, t.zone, t.s.conn.settings.TimeZone)
			}
		}
		exprs = append(exprs, e)
	}
	q.tsExpr, q.tsWall = exprs[0], nil
	if len(exprs) > 1 {
		q.tsExpr = "COALESCE(" + strings.Join(exprs, ", ") + ")"
	}
	if same {
		q.tsWall = zone
	}
	return nil
}

// tsArg is an instant bound to a comparison with q.tsExpr: the wall clock
// of q.tsWall as text, or the instant.
func (q *tableQuery) tsArg(at time.Time) any {
	if q.tsWall != nil {
		return at.In(q.tsWall).Format("2006-01-02 15:04:05.999999")
	}
	return at
}

// restore sets the position from a committed offset (nil: none).
func (q *tableQuery) restore(offset map[string]any, initial time.Time, mode string) error {
	q.inc, q.ts = -1, initial
	if offset == nil {
		return nil
	}
	if v, ok := offset[offsetIncrementing]; ok && v != nil {
		n, err := offsetInt(v)
		if err != nil {
			return fmt.Errorf("offset %s: %w", offsetIncrementing, err)
		}
		q.inc = n
	}
	if v, ok := offset[offsetTimestamp]; ok && v != nil {
		ms, err := offsetInt(v)
		if err != nil {
			return fmt.Errorf("offset %s: %w", offsetTimestamp, err)
		}
		// java.sql.Timestamp: the milliseconds' second, then its nanos.
		sec := ms / 1000
		if ms%1000 < 0 {
			sec--
		}
		nanos := (ms - sec*1000) * int64(time.Millisecond)
		if nv, ok := offset[offsetTimestampNanos]; ok && nv != nil {
			if nanos, err = offsetInt(nv); err != nil {
				return fmt.Errorf("offset %s: %w", offsetTimestampNanos, err)
			}
		}
		q.ts = time.Unix(sec, nanos).UTC()
	}
	return nil
}

// offsetInt reads a number from an offset: int64 as written, float64 after JSON.
func offsetInt(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case float64:
		if n != math.Trunc(n) {
			return 0, fmt.Errorf("%v is not a whole number", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// Poll queries the next table that is due (one whose last query returned
// rows, or whose poll.interval.ms has passed) and returns up to
// batch.max.rows records; none when no table is due.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	now := time.Now()
	for range len(t.queries) {
		q := t.queries[t.next%len(t.queries)]
		t.next = (t.next + 1) % len(t.queries)
		if q.dropped || now.Before(q.nextRun) {
			continue
		}
		recs, exhausted, err := t.pollQuery(ctx, q)
		if err != nil {
			if t.s.conn.dialect.IsUndefinedTable(err) && q.table.Name != "" {
				// Dropped while running: the connector's table watch
				// reconfigures the tasks without it.
				t.log.Warn("jdbc source: table dropped; skipping it", "table", q.table.String())
				q.dropped = true
				continue
			}
			return nil, err
		}
		if exhausted {
			q.nextRun = time.Now().Add(t.s.pollInterval)
		}
		if len(recs) > 0 {
			return recs, nil
		}
	}
	return nil, nil
}

// pollQuery runs one query of the mode and converts its rows. exhausted
// says the query returned everything there is now.
func (t *SourceTask) pollQuery(ctx context.Context, q *tableQuery) (recs []connect.SourceRecord, exhausted bool, err error) {
	if t.s.mode == ModeBulk {
		return t.pollBulk(ctx, q)
	}
	d := t.s.conn.dialect
	quote := func(c string) string { return d.Quote(c, t.s.conn.quote) }
	var tsExpr string
	if len(t.s.tsColumns) > 0 {
		if q.cols == nil {
			// Query mode before its first query: the bounds' form
			// depends on the result's column types.
			if err := t.probeColumns(ctx, q); err != nil {
				return nil, false, err
			}
		}
		tsExpr = q.tsExpr
	}
	var end time.Time
	if tsExpr != "" {
		now, err := d.CurrentTime(ctx, t.db)
		if err != nil {
			return nil, false, fmt.Errorf("jdbc: reading the database's time: %w", err)
		}
		end = now.Add(-t.s.tsDelay)
	}
	limit := t.s.batchMaxRows
	var where, order string
	var args []any
	n := 0
	p := func() string { n++; return d.Placeholder(n) }
	tp := func() string { n++; return d.TimestampParam(n, q.tsWall != nil) }
	switch t.s.mode {
	case ModeIncrementing:
		where = quote(t.s.incColumn) + " > " + p()
		args = append(args, q.inc)
		order = quote(t.s.incColumn)
	case ModeTimestamp:
		where = tsExpr + " > " + tp() + " AND " + tsExpr + " < " + tp()
		args = append(args, q.tsArg(q.ts), q.tsArg(end))
		order = tsExpr
	case ModeTimestampIncrementing:
		where = tsExpr + " < " + tp() + " AND ((" + tsExpr + " = " + tp() + " AND " + quote(t.s.incColumn) + " > " + p() + ") OR " + tsExpr + " > " + tp() + ")"
		args = append(args, q.tsArg(end), q.tsArg(q.ts), q.inc, q.tsArg(q.ts))
		order = tsExpr + ", " + quote(t.s.incColumn)
	}
	query := "SELECT " + q.selectSQL + " FROM " + q.from + " WHERE " + where + " ORDER BY " + order + " ASC" + d.Limit(limit) + t.suffix()
	recs, err = t.query(ctx, q, query, args, limit)
	if err != nil {
		return nil, false, err
	}
	exhausted = len(recs) < limit
	if t.s.mode == ModeTimestamp && !exhausted {
		// Rows sharing the batch's last timestamp may continue past the
		// limit, and the offset (a timestamp alone) cannot say which were
		// sent: leave them for a query of that timestamp alone.
		cut := len(recs)
		lastTS := recOffsetTime(recs[len(recs)-1])
		for cut > 0 && recOffsetTime(recs[cut-1]).Equal(lastTS) {
			cut--
		}
		if cut > 0 {
			recs = recs[:cut]
			q.ts = recOffsetTime(recs[cut-1])
		} else {
			n = 0
			all := "SELECT " + q.selectSQL + " FROM " + q.from + " WHERE " + tsExpr + " = " + tp() + t.suffix()
			if recs, err = t.query(ctx, q, all, []any{q.tsArg(lastTS)}, 0); err != nil {
				return nil, false, err
			}
		}
	}
	return recs, exhausted, nil
}

func (t *SourceTask) suffix() string {
	if t.s.querySuffix == "" {
		return ""
	}
	return " " + t.s.querySuffix
}

// recOffsetTime reads the timestamp of a record's offset.
func recOffsetTime(r connect.SourceRecord) time.Time {
	ms, _ := r.SourceOffset[offsetTimestamp].(int64)
	nanos, _ := r.SourceOffset[offsetTimestampNanos].(int64)
	sec := ms / 1000
	if ms%1000 < 0 {
		sec--
	}
	return time.Unix(sec, nanos).UTC()
}

// query runs a query and converts every row, advancing q's position;
// limit is the most rows it returns, the records' capacity.
func (t *SourceTask) query(ctx context.Context, q *tableQuery, query string, args []any, limit int) ([]connect.SourceRecord, error) {
	rows, done, err := t.run(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("jdbc: querying %s: %w\n%s", q.from, err, query)
	}
	defer done()
	defer rows.Close()
	recs := make([]connect.SourceRecord, 0, limit)
	if err := t.scan(q, rows, -1, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// run runs a query, in a read-only transaction of the configured
// isolation level when it is not the default.
func (t *SourceTask) run(ctx context.Context, query string, args []any) (*sql.Rows, func(), error) {
	if t.s.isolation == sql.LevelDefault {
		rows, err := t.db.QueryContext(ctx, query, args...)
		return rows, func() {}, err
	}
	tx, err := t.db.BeginTx(ctx, &sql.TxOptions{Isolation: t.s.isolation, ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		_ = tx.Rollback()
		return nil, nil, err
	}
	return rows, func() { _ = tx.Commit() }, nil
}

// pollBulk reads the next batch of a bulk pass, starting a pass when none
// is open. Bulk records carry no offsets: a pass cut short by the end of a
// lease starts again, as Confluent's does after a restart.
func (t *SourceTask) pollBulk(ctx context.Context, q *tableQuery) ([]connect.SourceRecord, bool, error) {
	if q.bulk == nil {
		rows, err := t.db.QueryContext(ctx, "SELECT "+q.selectSQL+" FROM "+q.from+t.suffix())
		if err != nil {
			return nil, false, fmt.Errorf("jdbc: querying %s: %w", q.from, err)
		}
		q.bulk = rows
	}
	var recs []connect.SourceRecord
	if err := t.scan(q, q.bulk, t.s.batchMaxRows, &recs); err != nil {
		q.bulk.Close()
		q.bulk = nil
		return nil, false, err
	}
	if len(recs) < t.s.batchMaxRows {
		q.bulk.Close()
		q.bulk = nil
		return recs, true, nil
	}
	return recs, false, nil
}

// probeColumns sets a query's columns from its result's, reading no row.
func (t *SourceTask) probeColumns(ctx context.Context, q *tableQuery) error {
	rows, err := t.db.QueryContext(ctx, "SELECT * FROM "+q.from+" WHERE 1 = 0")
	if err != nil {
		return fmt.Errorf("jdbc: reading the columns of %s: %w", q.from, err)
	}
	defer rows.Close()
	return t.resultColumns(q, rows)
}

// resultColumns sets a query's columns from a result's.
func (t *SourceTask) resultColumns(q *tableQuery, rows *sql.Rows) error {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]Column, len(cts))
	for i, ct := range cts {
		cols[i] = t.s.conn.dialect.ResultColumn(ct)
	}
	return t.setColumns(q, cols, "")
}

// scan converts up to max rows (all when max < 0) into records.
func (t *SourceTask) scan(q *tableQuery, rows *sql.Rows, max int, recs *[]connect.SourceRecord) error {
	if q.cols == nil {
		if err := t.resultColumns(q, rows); err != nil {
			return err
		}
	}
	// Scanning copies every value out of the destinations, so one set
	// serves every row.
	dests := make([]any, len(q.cols))
	for i := range q.cols {
		dests[i] = q.cols[i].dest()
	}
	tz := t.s.conn.settings.TimeZone
	name := tableName(q)
	vals := make([]any, len(q.cols))
	if max > 0 && cap(*recs) == 0 {
		*recs = make([]connect.SourceRecord, 0, max)
	}
	for (max < 0 || len(*recs) < max) && rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return fmt.Errorf("jdbc: reading a row of %s: %w", q.from, err)
		}
		rec, err := t.record(q, name, dests, vals, tz)
		if err != nil {
			return err
		}
		*recs = append(*recs, rec)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jdbc: reading %s: %w", q.from, err)
	}
	return nil
}

// record builds a record from a scanned row and advances the position;
// name is the table's, vals a slice of one value per column it may use.
func (t *SourceTask) record(q *tableQuery, name string, dests, vals []any, tz *time.Location) (connect.SourceRecord, error) {
	value := data.NewStruct(q.valSchema)
	clear(vals)
	for i := range q.cols {
		v, err := q.cols[i].value(name, dests[i], tz)
		if err != nil {
			return connect.SourceRecord{}, t.rowError(q, vals, err)
		}
		vals[i] = v
		// The value's fields are the columns, in order (setColumns).
		if err := value.PutAt(i, v); err != nil {
			return connect.SourceRecord{}, t.rowError(q, vals, err)
		}
	}
	rec := connect.SourceRecord{Record: connect.Record{Topic: q.topic, ValueSchema: q.valSchema, Value: value}}
	if q.keySchema != nil {
		key := data.NewStruct(q.keySchema)
		for k, i := range q.keyIdx {
			if err := key.PutAt(k, vals[i]); err != nil {
				return connect.SourceRecord{}, t.rowError(q, vals, err)
			}
		}
		rec.KeySchema, rec.Key = q.keySchema, key
	}
	if t.s.mode == ModeBulk {
		return rec, nil
	}
	offset := make(map[string]any, 2)
	if q.incIdx >= 0 {
		inc, err := incrementingValue(vals[q.incIdx])
		if err != nil {
			return connect.SourceRecord{}, t.rowError(q, vals, err)
		}
		q.inc = inc
		if _, boxed := vals[q.incIdx].(int64); boxed {
			offset[offsetIncrementing] = vals[q.incIdx] // the value's box, not a second one
		} else {
			offset[offsetIncrementing] = inc
		}
	}
	if len(q.tsIdx) > 0 {
		var ts time.Time
		found := false
		for _, i := range q.tsIdx {
			if ts, found = q.cols[i].instant(dests[i], tz); found {
				break
			}
		}
		if !found {
			return connect.SourceRecord{}, t.rowError(q, vals, errors.New("the timestamp column(s) are NULL"))
		}
		q.ts = ts
		offset[offsetTimestamp] = ts.UnixMilli()
		offset[offsetTimestampNanos] = int64(ts.Nanosecond())
	}
	rec.SourcePartition, rec.SourceOffset = q.partition, offset
	return rec, nil
}

func tableName(q *tableQuery) string {
	if q.table.Name != "" {
		return q.table.String()
	}
	return "query"
}

// rowError names the row (its key, or its incrementing value) in err.
func (t *SourceTask) rowError(q *tableQuery, vals []any, err error) error {
	var id []string
	for _, i := range q.keyIdx {
		id = append(id, fmt.Sprintf("%s=%v", q.cols[i].Name, vals[i]))
	}
	if len(id) == 0 && q.incIdx >= 0 {
		id = append(id, fmt.Sprintf("%s=%v", q.cols[q.incIdx].Name, vals[q.incIdx]))
	}
	return fmt.Errorf("jdbc: %s row [%s]: %w", tableName(q), strings.Join(id, ", "), err)
}

// incrementingValue reads the incrementing column's value as an int64.
func incrementingValue(v any) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case data.Decimal:
		r := n.Rat()
		if r.IsInt() && r.Num().IsInt64() {
			return r.Num().Int64(), nil
		}
	case nil:
		return 0, errors.New("the incrementing column is NULL")
	}
	return 0, fmt.Errorf("incrementing value %v does not fit a 64-bit offset", v)
}

// Stop closes the connection.
func (t *SourceTask) Stop() error {
	for _, q := range t.queries {
		if q.bulk != nil {
			q.bulk.Close()
		}
	}
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}
