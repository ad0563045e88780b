package jdbc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SinkClass is the sink connector's Sluice class name;
// ConfluentSinkClass, Confluent's, is accepted as an alias.
const (
	SinkClass          = "io.sluice.connect.jdbc.JdbcSinkConnector"
	ConfluentSinkClass = "io.confluent.connect.jdbc.JdbcSinkConnector"
)

// SinkPlugins returns the sink connector only.
func SinkPlugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:        SinkClass,
		Aliases:      []string{ConfluentSinkClass},
		Kind:         connect.KindSink,
		Version:      Version,
		NewConnector: func() connect.Connector { return NewSinkConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewSinkTask() },
	}}
}

// SinkConnector validates the configuration and gives every task the same
// one (tasks differ only in the partitions their leases cover).
type SinkConnector struct {
	props map[string]string
}

var (
	_ connect.Connector = (*SinkConnector)(nil)
)

// NewSinkConnector returns a sink connector.
func NewSinkConnector() *SinkConnector { return &SinkConnector{} }

// Start validates the configuration.
func (c *SinkConnector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSink(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.props)
	}
	return out, nil
}

// Stop does nothing.
func (c *SinkConnector) Stop() error { return nil }

// Config returns SinkConfig().
func (c *SinkConnector) Config() *config.Def { return SinkConfig() }

// SinkTask writes a lease's records in one database transaction:
//
//  1. Open begins it and, with exactly.once.enabled, locks the leased
//     partitions' rows of the offsets table and reads how far they were
//     written (a zombie lease of the same partitions waits here);
//  2. Put skips records below that, maps the others to rows and writes
//     them batch.size at a time (PostgreSQL: binary arrays or COPY; MySQL: multi-row
//     statements; each batch inside a savepoint); a row the
//     database rejects for its data goes to the errant record reporter
//     (DLQ with errors.tolerance=all), the rest of its batch is written;
//  3. PreCommit writes the partitions' next offsets into the offsets table
//     and commits: rows and offsets become durable together;
//  4. Stop rolls back what was not committed.
//
// Schema changes (auto.create, auto.evolve) commit the rows so far with
// their offsets first, since MySQL commits DDL implicitly.
type SinkTask struct {
	s        sinkSettings
	db       *sql.DB
	conn     *sql.Conn // the lease's connection, kept until Stop
	tx       *txn      // the open transaction on conn, nil when none
	reporter connect.ErrantRecordReporter
	log      *slog.Logger

	// next is, per leased partition, the offset the offsets table says is
	// next to write; done the next offset after what this lease handled.
	next       map[connect.TopicPartition]int64
	done       map[connect.TopicPartition]int64
	partitions []connect.TopicPartition

	tables     map[TableID]*tableState
	lastShape  *shape
	lastDelete *shape
	buf        batch
	// writing is the batch being written on its own goroutine while Put
	// maps the next one (nil when none); only it uses the connection
	// until wait has collected it.
	writing *write
	broken  error
	// scanner reads the values the lease left undecoded (sink_raw.go).
	scanner converter.JSONScanner
	rawFast []fastValue
	// rawPrefix is the bytes before the payload of the last value read
	// from its bytes (pendingRow.prefix).
	rawPrefix []byte
	// rawBytes and rawValues are blocks the rows' copies of payloads and
	// keys, and their RawValues, are taken from (own, newRawValue).
	rawBytes  []byte
	rawValues []connect.RawValue
}

// write is a batch being written: when done is closed, err is what
// failed the transaction and rejects the rows the database refused.
type write struct {
	table   *tableState
	rows    []pendingRow
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	rejects []reject
}

type reject struct {
	rec *connect.SinkRecord
	err error
}

// tableState is what the task knows of a destination table.
type tableState struct {
	name    string // quoted, qualified
	columns map[string]Column
	// checked holds, for each shape checked against the table, the
	// table's columns in the shape's order.
	checked map[*shape][]Column
}

// batch is the rows waiting for one statement: one shape, one operation.
type batch struct {
	shape  *shape
	delete bool
	rows   []pendingRow
	byKey  map[string]int
	// encoded is, per statement of rows (chunk), what the dialect
	// encoded ahead of the write (savepointCopier.EncodeCopy), or nil.
	encoded []any
}

type pendingRow struct {
	rec  connect.SinkRecord
	args []any
	// prefix, when set, is what comes before rec's value's bytes (a
	// JsonConverter payload read from its bytes) in the record's value,
	// which ends with a '}' (see rawRow).
	prefix []byte
}

// record is the row's record, as the task was given it.
func (p *pendingRow) record() *connect.SinkRecord {
	if p.prefix == nil {
		return &p.rec
	}
	raw := p.rec.Value.(*connect.RawValue)
	value := make([]byte, 0, len(p.prefix)+len(raw.Bytes)+1)
	value = append(append(append(value, p.prefix...), raw.Bytes...), '}')
	rec := p.rec
	rec.Value = &connect.RawValue{Topic: raw.Topic, Bytes: value, Converter: raw.Converter}
	return &rec
}

var (
	_ connect.SinkTask        = (*SinkTask)(nil)
	_ connect.PartitionOpener = (*SinkTask)(nil)
	_ connect.PreCommitter    = (*SinkTask)(nil)
)

// NewSinkTask returns a sink task.
func NewSinkTask() *SinkTask { return &SinkTask{} }

// Start connects, retrying max.retries times.
func (t *SinkTask) Start(ctx context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	s, err := parseSink(props)
	if err != nil {
		return err
	}
	t.s = s
	t.reporter = tc.ErrantRecordReporter()
	t.log = slog.With("connector", s.connector)
	t.tables = map[TableID]*tableState{}
	t.db, err = openDB(ctx, s.conn.dialect, s.conn.settings, max(s.conn.attempts, s.maxRetries+1), t.retryBackoff())
	return err
}

func (t *SinkTask) retryBackoff() time.Duration {
	if t.s.retryBackoff > 0 {
		return t.s.retryBackoff
	}
	return t.s.conn.backoff
}

// Open begins the lease's transaction.
func (t *SinkTask) Open(ctx context.Context, partitions []connect.TopicPartition) error {
	t.partitions = slices.Clone(partitions)
	slices.SortFunc(t.partitions, func(a, b connect.TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	t.done = map[connect.TopicPartition]int64{}
	if t.s.eos {
		if err := t.createOffsetsTable(ctx); err != nil {
			return err
		}
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = t.begin(ctx); err == nil || attempt >= t.s.maxRetries || ctx.Err() != nil || t.s.conn.dialect.IsPermanent(err) {
			return err
		}
		t.log.Warn("jdbc sink: beginning the transaction failed; retrying", "error", err, "attempt", attempt+1)
		time.Sleep(t.retryBackoff())
	}
}

// offsetsTable is the qualified, quoted offsets table.
func (t *SinkTask) offsetsTable() string {
	id := TableID{Name: t.s.offsetsTable}
	if s, n, ok := strings.Cut(t.s.offsetsTable, "."); ok {
		id = TableID{Schema: s, Name: n}
	}
	return qualified(t.s.conn.dialect, id, true)
}

func (t *SinkTask) createOffsetsTable(ctx context.Context) error {
	_, err := t.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+t.offsetsTable()+
		" (connector VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, kafka_partition INT NOT NULL,"+
		" next_offset BIGINT NOT NULL, PRIMARY KEY (connector, topic, kafka_partition))")
	if err != nil {
		return fmt.Errorf("jdbc: creating the offsets table %s: %w", t.offsetsTable(), err)
	}
	return nil
}

// begin starts a transaction and, with exactly-once, locks and reads the
// partitions' written offsets.
func (t *SinkTask) begin(ctx context.Context) error {
	if t.conn == nil {
		c, err := t.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("jdbc: connecting: %w", err)
		}
		t.conn = c
	}
	if _, err := t.conn.ExecContext(ctx, "BEGIN"); err != nil {
		// The connection may be dead: the next attempt takes another.
		_ = t.conn.Close()
		t.conn = nil
		return fmt.Errorf("jdbc: beginning a transaction: %w", err)
	}
	tx := &txn{t.conn}
	if !t.s.eos {
		t.tx = tx
		return nil
	}
	d := t.s.conn.dialect
	next := map[connect.TopicPartition]int64{}
	table := t.offsetsTable()
	ins := "INSERT INTO " + table + " (connector, topic, kafka_partition, next_offset) VALUES (" +
		d.Placeholder(1) + ", " + d.Placeholder(2) + ", " + d.Placeholder(3) + ", 0)"
	if d.Name() == PostgresDialectName {
		ins += " ON CONFLICT DO NOTHING"
	} else {
		ins = strings.Replace(ins, "INSERT INTO", "INSERT IGNORE INTO", 1)
	}
	sel := "SELECT next_offset FROM " + table + " WHERE connector = " + d.Placeholder(1) +
		" AND topic = " + d.Placeholder(2) + " AND kafka_partition = " + d.Placeholder(3) + " FOR UPDATE"
	for _, tp := range t.partitions {
		if _, err := tx.ExecContext(ctx, ins, t.s.connector, tp.Topic, tp.Partition); err != nil {
			tx.Rollback()
			return fmt.Errorf("jdbc: registering %s-%d in %s: %w", tp.Topic, tp.Partition, table, err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, sel, t.s.connector, tp.Topic, tp.Partition).Scan(&n); err != nil {
			tx.Rollback()
			return fmt.Errorf("jdbc: reading the written offset of %s-%d from %s: %w", tp.Topic, tp.Partition, table, err)
		}
		next[tp] = n
	}
	t.tx, t.next = tx, next
	return nil
}

// commit writes the offsets (exactly-once) and commits the transaction.
func (t *SinkTask) commit(ctx context.Context, offsets map[connect.TopicPartition]int64) error {
	if t.tx == nil {
		return errors.New("jdbc: no open transaction")
	}
	if t.s.eos && len(offsets) > 0 {
		d := t.s.conn.dialect
		upd := "UPDATE " + t.offsetsTable() + " SET next_offset = " + d.Placeholder(1) + " WHERE connector = " + d.Placeholder(2) +
			" AND topic = " + d.Placeholder(3) + " AND kafka_partition = " + d.Placeholder(4) + " AND next_offset < " + d.Placeholder(5)
		for _, tp := range t.partitions {
			off, ok := offsets[tp]
			if !ok {
				continue
			}
			if _, err := t.tx.ExecContext(ctx, upd, off, t.s.connector, tp.Topic, tp.Partition, off); err != nil {
				return t.fail(fmt.Errorf("jdbc: writing the offset of %s-%d: %w", tp.Topic, tp.Partition, err))
			}
			t.next[tp] = max(t.next[tp], off)
		}
	}
	err := t.tx.Commit(ctx)
	t.tx = nil
	if err != nil {
		return t.fail(fmt.Errorf("jdbc: committing: %w", err))
	}
	if t.s.eos && len(offsets) > 0 {
		afterDBCommit()
	}
	return nil
}

// fail marks the task broken: its transaction is gone, so nothing more of
// this lease may be written or committed; the lease fails and is retried whole.
func (t *SinkTask) fail(err error) error {
	t.stopWriting() // its outcome no longer matters
	if t.broken == nil {
		t.broken = err
	}
	if t.tx != nil {
		t.tx.Rollback()
		t.tx = nil
	}
	return err
}

// Put maps records to rows and writes them in batches.
func (t *SinkTask) Put(ctx context.Context, records []connect.SinkRecord) error {
	if t.broken != nil {
		return t.broken
	}
	if t.tx == nil {
		if err := t.begin(ctx); err != nil {
			return t.fail(err)
		}
	}
	for i := range records {
		r := &records[i]
		tp := connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		if t.s.eos && r.OriginalOffset < t.next[tp] {
			continue // written by an earlier lease
		}
		if err := t.add(ctx, r); err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				return t.fail(err)
			}
			if rerr := t.reporter.Report(ctx, r, err); rerr != nil {
				return t.fail(rerr)
			}
		}
		t.done[tp] = r.OriginalOffset + 1
	}
	return nil
}

// add buffers a record's row (or its delete), flushing as needed.
func (t *SinkTask) add(ctx context.Context, r *connect.SinkRecord) error {
	if raw, ok := r.Value.(*connect.RawValue); ok {
		s, row, err := t.rawRow(ctx, r, raw)
		if err != nil {
			return err
		}
		if s != nil {
			return t.buffer(ctx, s, false, row)
		}
		// Not read from its bytes: decoded, as the lease would have.
		if r.ValueSchema, r.Value, err = raw.Decode(); err != nil {
			return &RecordError{Err: err}
		}
	}
	if err := decodeKey(r); err != nil {
		return err
	}
	del := r.Value == nil
	if del && !t.s.deleteOn {
		return nil // a tombstone without delete.enabled
	}
	var s *shape
	var err error
	if del {
		s, err = t.deleteShape(r)
	} else {
		s, err = t.shapeOf(r)
	}
	if err != nil {
		return err
	}
	ts, err := t.ensureTable(ctx, s, del)
	if err != nil {
		return err
	}
	args, err := s.values(r)
	if err != nil {
		return err
	}
	if err := t.toSink(s, ts, args); err != nil {
		return err
	}
	return t.buffer(ctx, s, del, pendingRow{rec: *r, args: args})
}

// toSink turns a row's Connect values into driver arguments in place.
func (t *SinkTask) toSink(s *shape, ts *tableState, args []any) error {
	cols := ts.checked[s]
	var err error
	for i, c := range s.cols {
		if args[i], err = sinkValue(c.schema, args[i], &cols[i], t.s.conn.settings.TimeZone); err != nil {
			return &RecordError{Err: &ValueError{Table: s.table.String(), Column: c.name, Err: err}}
		}
	}
	return nil
}

// buffer adds a row of shape s (or its delete) to the batch, flushing as
// needed.
func (t *SinkTask) buffer(ctx context.Context, s *shape, del bool, row pendingRow) error {
	args := row.args
	if t.buf.shape != s || t.buf.delete != del {
		if err := t.startWrite(ctx); err != nil {
			return err
		}
		t.buf.shape, t.buf.delete = s, del
		if t.buf.byKey == nil {
			t.buf.byKey = map[string]int{}
		}
	}
	if len(s.keys) > 0 && t.s.insertMode != InsertModeInsert || del {
		// Several rows with one key in one statement: the last wins (and
		// PostgreSQL's ON CONFLICT would reject the statement).
		k := keyString(s, args)
		if i, ok := t.buf.byKey[k]; ok {
			t.buf.rows[i] = row
			return nil
		}
		t.buf.byKey[k] = len(t.buf.rows)
	}
	t.buf.rows = append(t.buf.rows, row)
	if len(t.buf.rows) >= t.s.batchSize {
		return t.startWrite(ctx)
	}
	return nil
}

// deleteShape is the shape of a tombstone: the key's columns only.
func (t *SinkTask) deleteShape(r *connect.SinkRecord) (*shape, error) {
	table := t.tableFor(r.Topic)
	for _, s := range []*shape{t.lastShape, t.lastDelete} {
		if s != nil && s.table == table && sameSchema(s.keySchema, r.KeySchema) {
			return keysOnly(s), nil
		}
	}
	// The key's columns do not depend on the value: map them with an
	// empty value schema.
	probe := *r
	probe.ValueSchema = emptyStruct
	s, err := t.newShape(table, &probe)
	if err != nil {
		return nil, err
	}
	t.lastDelete = s
	return keysOnly(s), nil
}

var emptyStruct = data.StructBuilder().MustBuild()

// keysOnly returns s's shape restricted to its key columns (cached on s).
func keysOnly(s *shape) *shape {
	if s.keysShape == nil {
		k := &shape{table: s.table, keys: s.keys, keySchema: s.keySchema}
		for _, c := range s.cols {
			if c.key {
				k.cols = append(k.cols, c)
			}
		}
		s.keysShape = k
	}
	return s.keysShape
}

// flush writes the buffered rows and waits until every write is done.
func (t *SinkTask) flush(ctx context.Context) error {
	if err := t.startWrite(ctx); err != nil {
		return err
	}
	return t.wait(ctx)
}

// startWrite hands the buffered rows to a goroutine that writes them,
// after the previous batch's write is done: the database writes one batch
// while Put maps the next (and the dialect encodes it, EncodeCopy), and
// at most two batches are held.
func (t *SinkTask) startWrite(ctx context.Context) error {
	if len(t.buf.rows) == 0 {
		return nil
	}
	b := batch{shape: t.buf.shape, delete: t.buf.delete, rows: t.buf.rows}
	// Encoded while the batch before is still being written.
	if sc, ok := t.s.conn.dialect.(savepointCopier); ok {
		ts, chunk := t.tables[b.shape.table], t.chunk(&b)
		for start := 0; start < len(b.rows); start += chunk {
			rows := b.rows[start:min(start+chunk, len(b.rows))]
			var enc any
			if t.copies(b.delete, rows) {
				table, types := copyArgs(ts, b.shape, rows)
				enc = sc.EncodeCopy(types, t.s.insertMode == InsertModeUpsert, table)
			}
			b.encoded = append(b.encoded, enc)
		}
	}
	var spare []pendingRow
	if t.writing != nil {
		spare = t.writing.rows
		if err := t.wait(ctx); err != nil {
			return err
		}
		clear(spare)
	}
	t.buf.rows = spare[:0]
	clear(t.buf.byKey)
	// Put's context ends when Put returns: the write keeps its deadline
	// only, and wait, fail and Stop end it.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if dl, ok := ctx.Deadline(); ok {
		wctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	w := &write{table: t.tables[b.shape.table], rows: b.rows, cancel: cancel, done: make(chan struct{})}
	t.writing = w
	go func() {
		defer close(w.done)
		w.rejects, w.err = t.write(wctx, w.table, &b)
	}()
	return nil
}

// wait waits for the batch being written, reports the rows the database
// refused and fails the task if the write failed.
func (t *SinkTask) wait(ctx context.Context) error {
	w := t.writing
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		t.stopWriting()
		return t.fail(fmt.Errorf("jdbc: writing %d rows to %s: %w", len(w.rows), w.table.name, ctx.Err()))
	}
	w.cancel()
	t.writing = nil
	if w.err != nil {
		return t.fail(w.err)
	}
	for _, r := range w.rejects {
		if err := t.reporter.Report(ctx, r.rec, r.err); err != nil {
			return t.fail(err)
		}
	}
	return nil
}

// stopWriting ends the batch being written, if any, and waits for it.
func (t *SinkTask) stopWriting() {
	if w := t.writing; w != nil {
		w.cancel()
		<-w.done
		t.writing = nil
	}
}

// write writes a batch: one statement per batch.size rows inside a
// savepoint; when the database rejects a row's data, each row alone, so
// that only the bad rows are rejected. It runs on the writer goroutine
// and touches nothing but the transaction.
func (t *SinkTask) write(ctx context.Context, ts *tableState, b *batch) ([]reject, error) {
	d := t.s.conn.dialect
	chunk := t.chunk(b)
	var rejects []reject
	for start := 0; start < len(b.rows); start += chunk {
		rows := b.rows[start:min(start+chunk, len(b.rows))]
		var enc any
		if b.encoded != nil {
			enc = b.encoded[start/chunk]
		}
		err := t.execSaved(ctx, ts, b.shape, b.delete, rows, enc)
		if err == nil {
			continue
		}
		if !d.IsDataError(err) {
			return nil, fmt.Errorf("jdbc: writing %d rows to %s: %w", len(rows), b.shape.table, err)
		}
		for i := range rows {
			one := rows[i : i+1]
			err := t.savepoint(ctx, func() error { return t.exec(ctx, ts, b.shape, b.delete, one) })
			if err == nil {
				continue
			}
			if !d.IsDataError(err) {
				return nil, fmt.Errorf("jdbc: writing a row to %s: %w", b.shape.table, err)
			}
			rejects = append(rejects, reject{one[0].record(), &RecordError{Err: fmt.Errorf("table %s rejected the row: %w", b.shape.table, err)}})
		}
	}
	return rejects, nil
}

// savepointCopier is a dialect whose bulk path (Dialect.CopyRows) can
// set and release a savepoint around its write itself, in the same round
// trip, and encode the rows ahead of the write (EncodeCopy, nil when it
// does not). CopyRowsInSavepoint leaves a failed write's transaction to
// be rolled back to the savepoint.
type savepointCopier interface {
	EncodeCopy(types []string, upsert bool, rows [][]any) any
	CopyRowsInSavepoint(ctx context.Context, conn *sql.Conn, encoded any, savepoint, table string, cols, types, keys []string, upsert bool, rows [][]any, quote bool) error
}

// execSaved is exec inside savepoint sluice_batch, rolled back to when
// exec fails; enc is the rows as EncodeCopy encoded them, or nil.
func (t *SinkTask) execSaved(ctx context.Context, ts *tableState, s *shape, del bool, rows []pendingRow, enc any) error {
	sc, ok := t.s.conn.dialect.(savepointCopier)
	if !ok || !t.copies(del, rows) {
		return t.savepoint(ctx, func() error { return t.exec(ctx, ts, s, del, rows) })
	}
	table, types := copyArgs(ts, s, rows)
	if err := sc.CopyRowsInSavepoint(ctx, t.conn, enc, "sluice_batch", ts.name, s.colNames(), types, s.keys, t.s.insertMode == InsertModeUpsert, table, t.s.conn.quote); err != nil {
		return t.rollbackTo(ctx, err)
	}
	return nil
}

// chunk is the rows of b a statement writes.
func (t *SinkTask) chunk(b *batch) int {
	if t.s.insertMode == InsertModeUpdate && !b.delete {
		return 1
	}
	return max(1, min(t.s.batchSize, 65535/len(b.shape.cols)))
}

func (t *SinkTask) savepoint(ctx context.Context, f func() error) error {
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT sluice_batch"); err != nil {
		return err
	}
	if err := f(); err != nil {
		return t.rollbackTo(ctx, err)
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT sluice_batch")
	return err
}

// rollbackTo rolls back to savepoint sluice_batch after err, and returns
// err.
func (t *SinkTask) rollbackTo(ctx context.Context, err error) error {
	if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sluice_batch"); rerr != nil {
		return fmt.Errorf("%w (and rolling back to the savepoint: %v)", err, rerr)
	}
	_, _ = t.tx.ExecContext(ctx, "RELEASE SAVEPOINT sluice_batch")
	return err
}

// copies reports whether exec writes rows through the dialect's bulk
// path (Dialect.CopyRows).
func (t *SinkTask) copies(del bool, rows []pendingRow) bool {
	return !del && t.s.insertMode != InsertModeUpdate && len(rows) > 1
}

// copyArgs are rows' driver arguments and their columns' types, as
// Dialect.CopyRows takes them.
func copyArgs(ts *tableState, s *shape, rows []pendingRow) (table [][]any, types []string) {
	table = make([][]any, len(rows))
	for i := range rows {
		table[i] = rows[i].args
	}
	types = make([]string, len(s.cols))
	for i, c := range s.cols {
		types[i] = ts.columns[c.name].Type
	}
	return table, types
}

// exec writes rows in one statement.
func (t *SinkTask) exec(ctx context.Context, ts *tableState, s *shape, del bool, rows []pendingRow) error {
	d, quote := t.s.conn.dialect, t.s.conn.quote
	var query string
	var args []any
	switch {
	case del:
		query = deleteSQL(d, ts.name, s, len(rows), quote)
		for _, r := range rows {
			args = append(args, r.args...)
		}
	case t.s.insertMode == InsertModeUpdate:
		var order []int
		query, order = updateSQL(d, ts.name, s, quote)
		for _, i := range order {
			args = append(args, rows[0].args[i])
		}
	default:
		upsert := t.s.insertMode == InsertModeUpsert
		if t.copies(del, rows) {
			table, types := copyArgs(ts, s, rows)
			if done, err := d.CopyRows(ctx, t.conn, ts.name, s.colNames(), types, s.keys, upsert, table, quote); done {
				return err
			}
		}
		if upsert {
			query = d.Upsert(ts.name, s.colNames(), s.keys, len(rows), quote)
		} else {
			query = insertValues(d, ts.name, s.colNames(), len(rows), quote)
		}
		args = make([]any, 0, len(rows)*len(s.cols))
		for _, r := range rows {
			args = append(args, r.args...)
		}
	}
	_, err := t.tx.ExecContext(ctx, query, args...)
	return err
}

// PreCommit flushes, writes the offsets (exactly-once) and commits.
func (t *SinkTask) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if t.broken != nil {
		return nil, t.broken
	}
	if t.tx == nil {
		if err := t.begin(ctx); err != nil {
			return nil, t.fail(err)
		}
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	if err := t.commit(ctx, offsets); err != nil {
		return nil, err
	}
	return offsets, nil
}

// Close does nothing: PreCommit committed, Stop rolls back the rest.
func (t *SinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// Stop rolls back an open transaction and closes the connection.
func (t *SinkTask) Stop() error {
	t.stopWriting()
	if t.tx != nil {
		t.tx.Rollback()
		t.tx = nil
	}
	if t.conn != nil {
		_ = t.conn.Close()
	}
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}

// txn is a transaction begun and ended with SQL statements on one
// connection, rather than a *sql.Tx, so that the connection stays
// reachable for what database/sql does not offer (PostgreSQL's COPY).
type txn struct{ *sql.Conn }

// Commit commits the transaction.
func (x *txn) Commit(ctx context.Context) error {
	_, err := x.ExecContext(ctx, "COMMIT")
	return err
}

// Rollback rolls the transaction back; a connection that cannot is
// closed by Stop anyway.
func (x *txn) Rollback() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = x.ExecContext(ctx, "ROLLBACK")
}
