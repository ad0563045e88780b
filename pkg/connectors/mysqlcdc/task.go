package mysqlcdc

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

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// Offset fields (Debezium's MySQL offset keys): file and pos are where the
// current transaction starts in the binlog, event how many of its row
// changes were already emitted; snapshot marks the snapshot's records.
const (
	serverKey        = "server"
	fileKey          = "file"
	posKey           = "pos"
	eventKey         = "event"
	rowKey           = "row"
	serverIDKey      = "server_id"
	tsSecKey         = "ts_sec"
	gtidsKey         = "gtids"
	snapshotKey      = "snapshot"
	snapshotDoneKey  = "snapshot_completed"
	snapshotTableKey = "snapshot_table"
	snapshotCountKey = "snapshot_key"
)

// Task reads one server's binlog. It is not safe for concurrent use.
type Task struct {
	s         *settings
	mariadb   bool // the server is MariaDB
	source    *data.Schema
	connector string
	log       *slog.Logger
	partition map[string]any

	db     *sql.DB
	tables map[string]*table
	hist   *history // nil without schema.history.internal.kafka.topic
	// schemas: the schema change events' (include.schema.changes).
	schemas *debezium.SchemaChangeSchemas
	// pending are records Poll returns before any other: the snapshot's
	// schema change events.
	pending []connect.SourceRecord

	// startBeat: the first poll returns a heartbeat at the position
	// streaming starts at, to commit it.
	startBeat bool

	snap *snapshot

	syncer   *replication.BinlogSyncer
	streamer *replication.BinlogStreamer
	onlySnap bool

	file      string
	txStart   uint32 // position of the current transaction's first event
	beginPos  uint32 // position of its BEGIN statement, or txStart
	txEvents  int64  // row changes of the current transaction seen
	skip      int64  // row changes to skip in the first transaction (resume)
	skipFile  string
	skipPos   uint32
	gtid      string
	ts        time.Time
	inTx      bool
	nextStart uint32 // where the next transaction starts

	// meta is the current transaction's metadata once its BEGIN record
	// was emitted (provide.transaction.metadata), nil before.
	meta *txMeta
	// resumeMeta is the metadata of the transaction a lease resumes
	// inside (from the committed offset): it is the current one's when
	// that transaction starts at skipFile/skipPos.
	resumeMeta *txMeta
}

// txMeta counts a transaction's change events for the transaction blocks
// and its END record.
type txMeta struct {
	id       string
	total    int64
	perTable map[string]int64 // by data collection, <database>.<table>
}

var _ connect.SourceTask = (*Task)(nil)

func newTask(mariadb bool) *Task {
	t := &Task{mariadb: mariadb, source: debezium.MySQLSourceSchema, connector: "mysql"}
	if mariadb {
		t.source, t.connector = debezium.MariaDBSourceSchema, "mariadb"
	}
	return t
}

// sourceSchema follows the connector name set by the plugin.
func (t *Task) sourceSchema() {
	if t.connector == "mariadb" {
		t.source = debezium.MariaDBSourceSchema
	}
}

// Start connects and decides from the committed offset whether to
// snapshot, resume a snapshot, or read the binlog.
func (t *Task) Start(ctx context.Context, tc connect.SourceTaskContext, props map[string]string) (err error) {
	if t.s, err = parseSettings(props); err != nil {
		return err
	}
	t.sourceSchema()
	t.schemas = debezium.NewSchemaChangeSchemas(t.connector, t.source)
	t.log = slog.Default().With("connector", t.connector+"-cdc", "server", t.s.prefix)
	t.partition = map[string]any{serverKey: t.s.prefix}
	t.tables = map[string]*table{}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = t.s.user, t.s.password, "tcp", fmt.Sprintf("%s:%d", t.s.host, t.s.port)
	cfg.Loc = time.UTC
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	t.db = sql.OpenDB(conn)
	t.db.SetMaxOpenConns(2)
	var version string
	if err := t.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return connect.Retriable(fmt.Errorf("connecting to %s:%d as %s: %w", t.s.host, t.s.port, t.s.user, err))
	}
	// The server's kind decides the binlog protocol and the snapshot's
	// locking; the class decides the events' connector name.
	t.mariadb = strings.Contains(version, "MariaDB")
	t.onlySnap = t.s.snapshotMode == SnapshotInitialOnly
	var off map[string]any
	if tc != nil && tc.Offsets() != nil {
		off = tc.Offsets().Offset(t.partition)
	}
	if t.s.historyTopic != "" {
		if t.hist, err = openHistory(ctx, t.s, props); err != nil {
			return err
		}
	}
	switch {
	case off == nil && t.s.snapshotMode != SnapshotNoData:
		return t.beginSnapshot(ctx, nil)
	case off == nil:
		file, pos, err := t.binlogEnd(ctx)
		if err != nil {
			return err
		}
		if t.tracksDDL() {
			if err := t.startSchema(ctx, file, pos, 0); err != nil {
				return err
			}
		}
		// Without a snapshot nothing else commits the position streaming
		// starts at: a lease without changes would leave no offset, and
		// the next one would start at the binlog's end then, losing the
		// changes in between.
		t.startBeat = true
		return t.startStreaming(file, pos, 0)
	case off[snapshotKey] == true && off[snapshotDoneKey] != true:
		return t.beginSnapshot(ctx, off)
	}
	if t.onlySnap {
		return nil
	}
	file, _ := off[fileKey].(string)
	pos, err := connect.OffsetPosition(off[posKey])
	if err != nil || file == "" {
		return fmt.Errorf("committed offset %v has no binlog position", off)
	}
	event, _ := connect.OffsetPosition(off[eventKey])
	if row, _ := connect.OffsetPosition(off[rowKey]); row > 0 {
		// Debezium's offset inside a transaction (taken over from a
		// Debezium connector): its event counts the transaction's binlog
		// events Debezium handled and its row the rows of the next one,
		// which this source cannot map onto its own count of row changes
		// exactly (the events a server sends depend on the replica's
		// dump flags). Sluice's own offsets always have row 0. The
		// transaction is read again from its start: its changes Debezium
		// already emitted arrive twice, none is lost.
		t.log.Warn("resuming from a Debezium offset inside a transaction: reading the transaction again from its start",
			"file", file, "pos", pos, "event", event, "row", row)
		event = 0
	} else if t.s.txMetadata {
		t.resumeMeta = txMetaOf(off)
	}
	if n, ok := snapshotDDLCount(off); ok && t.s.schemaChanges {
		// A lease ended inside snapshot.mode=no_data's schema change
		// events: the others are written first.
		if err := t.startSchema(ctx, file, uint32(pos), n); err != nil {
			return err
		}
	}
	switch {
	case t.hist != nil:
		// The tables as they were where the lease resumes.
		tables, err := t.hist.recover(ctx, &binlogPos{file: file, pos: pos})
		if err != nil {
			return err
		}
		t.tables = map[string]*table{}
		for id, cols := range tables {
			db, name, _ := strings.Cut(id, ".")
			t.tables[id] = t.s.newTable(t.source, db, name, cols)
		}
	case t.s.schemaChanges && len(t.tables) == 0:
		// The tables known, to tell what a DDL statement changed: as
		// information_schema has them now.
		if _, err := t.loadCaptured(ctx, t.db); err != nil {
			return err
		}
	}
	return t.startStreaming(file, uint32(pos), event)
}

// tracksDDL: the tables known are kept up to date at each DDL statement
// (with a schema history or schema change events); otherwise a statement
// forgets its database's tables, re-read when next needed.
func (t *Task) tracksDDL() bool { return t.hist != nil || t.s.schemaChanges }

// startSchema records the captured tables where streaming starts without
// a snapshot (snapshot.mode=no_data): in the schema history, and as
// schema change events (those after the first skip ones), whose offsets
// are the streaming start with their count.
func (t *Task) startSchema(ctx context.Context, file string, pos uint32, skip int64) error {
	tables, err := t.loadCaptured(ctx, t.db)
	if err != nil {
		return err
	}
	st, err := readSnapshotTables(ctx, t.db, tables)
	if err != nil {
		return err
	}
	if skip == 0 {
		if err := t.snapshotHistory(ctx, file, pos, st); err != nil {
			return err
		}
	}
	if !t.s.schemaChanges {
		return nil
	}
	now := time.Now()
	recs, err := t.snapshotSchemaRecords(ctx, t.db, file, pos, st, func(n int) map[string]any {
		return map[string]any{fileKey: file, posKey: int64(pos), eventKey: int64(0), rowKey: int64(0),
			serverIDKey: int64(t.s.serverID), tsSecKey: now.Unix(), snapshotDDLKey: int64(n)}
	})
	if err != nil {
		return err
	}
	t.pending = recs[min(int(skip), len(recs)):]
	return nil
}

func (t *Task) binlogEnd(ctx context.Context) (string, uint32, error) {
	var file string
	var pos uint32
	var a, b any
	row := t.db.QueryRowContext(ctx, "SHOW MASTER STATUS")
	cols := []any{&file, &pos, &a, &b}
	if t.mariadb {
		cols = cols[:4]
	}
	if err := row.Scan(cols...); err != nil {
		// MySQL 8.4 adds a fifth column (Executed_Gtid_Set).
		var c any
		if err2 := t.db.QueryRowContext(ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &a, &b, &c); err2 != nil {
			return "", 0, fmt.Errorf("reading the binlog position (is log_bin on?): %w", err)
		}
	}
	return file, pos, nil
}

func (t *Task) startStreaming(file string, pos uint32, skip int64) error {
	flavor := gomysql.MySQLFlavor
	if t.mariadb {
		flavor = gomysql.MariaDBFlavor
	}
	t.syncer = replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: t.s.serverID, Flavor: flavor, Host: t.s.host, Port: uint16(t.s.port), User: t.s.user, Password: t.s.password,
		Logger: slog.New(slog.DiscardHandler),
	})
	st, err := t.syncer.StartSync(gomysql.Position{Name: file, Pos: pos})
	if err != nil {
		return connect.Retriable(fmt.Errorf("reading the binlog from %s:%d: %w", file, pos, err))
	}
	t.streamer, t.file, t.nextStart = st, file, pos
	t.skip, t.skipFile, t.skipPos = skip, file, pos
	t.log.Info("streaming", "file", file, "pos", pos, "skip", skip)
	return nil
}

// txMetaOf reads the metadata of the transaction a committed offset is
// inside (Debezium's transaction context, which a record inside a
// transaction holds with provide.transaction.metadata, so that a lease
// resuming inside it neither repeats its BEGIN record nor restarts its
// orders); nil when it is between transactions.
func txMetaOf(off map[string]any) *txMeta {
	id, counts := debezium.TxContextOf(off)
	if id == "" {
		return nil
	}
	m := &txMeta{id: id, perTable: counts}
	for _, n := range counts {
		m.total += n
	}
	return m
}

// table returns a captured table's shape, loading it when needed.
func (t *Task) table(ctx context.Context, db, name string) (*table, error) {
	if tb, ok := t.tables[db+"."+name]; ok {
		return tb, nil
	}
	tb, err := t.s.loadTable(ctx, t.db, t.source, db, name)
	if err != nil {
		return nil, connect.Retriable(err)
	}
	t.tables[db+"."+name] = tb
	return tb, nil
}

// Poll returns snapshot rows or binlog changes.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if len(t.pending) > 0 {
		n := min(len(t.pending), t.s.batch)
		recs := t.pending[:n:n]
		t.pending = t.pending[n:]
		return recs, nil
	}
	if t.snap != nil {
		recs, done, err := t.pollSnapshot(ctx)
		if err != nil || !done {
			return recs, err
		}
		file, pos := t.snap.file, t.snap.pos
		t.snap = nil
		if !t.onlySnap {
			return recs, t.startStreaming(file, pos, 0)
		}
		return recs, nil
	}
	if t.streamer == nil {
		return nil, nil
	}
	return t.pollBinlog(ctx)
}

const pollWait = 200 * time.Millisecond

func (t *Task) pollBinlog(ctx context.Context) ([]connect.SourceRecord, error) {
	var recs []connect.SourceRecord
	if t.startBeat {
		t.startBeat = false
		recs = append(recs, t.heartbeat())
	}
	deadline := time.Now().Add(pollWait)
	for len(recs) < t.s.batch {
		wait := time.Until(deadline)
		if len(recs) > 0 {
			wait = min(wait, 5*time.Millisecond)
		}
		if wait <= 0 {
			break
		}
		ectx, cancel := context.WithTimeout(ctx, wait)
		ev, err := t.streamer.GetEvent(ectx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				break
			}
			return recs, fmt.Errorf("reading the binlog: %w", err)
		}
		out, err := t.handle(ctx, ev)
		if err != nil {
			return recs, err
		}
		recs = append(recs, out...)
	}
	return recs, nil
}

func (t *Task) beginTx(h *replication.EventHeader) {
	t.inTx, t.txEvents = true, 0
	t.txStart = h.LogPos - h.EventSize
	t.beginPos = t.txStart
	t.ts = time.Unix(int64(h.Timestamp), 0)
	t.meta = nil
	if t.resumeMeta != nil && t.file == t.skipFile && t.txStart == t.skipPos {
		// The transaction an earlier lease stopped inside: its BEGIN
		// record was emitted, and its orders go on.
		t.meta = t.resumeMeta
	}
	t.resumeMeta = nil
}

func (t *Task) handle(ctx context.Context, ev *replication.BinlogEvent) ([]connect.SourceRecord, error) {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		t.file, t.nextStart = string(e.NextLogName), uint32(e.Position)
	case *replication.MariadbGTIDEvent:
		// MariaDB starts every event group, a DDL statement's too, with
		// a GTID event, and Debezium begins a transaction at each.
		t.beginTx(h)
		t.gtid = e.GTID.String()
		return t.txBegin(h), nil
	case *replication.GTIDEvent:
		t.beginTx(h)
		if h.EventType == replication.GTID_EVENT {
			// Not an anonymous GTID (gtid_mode=OFF).
			if next, err := e.GTIDNext(); err == nil {
				t.gtid = next.String()
			}
		}
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		if strings.EqualFold(q, "BEGIN") {
			if !t.inTx {
				t.beginTx(h)
			}
			t.beginPos = h.LogPos - h.EventSize
			return t.txBegin(h), nil
		}
		if strings.EqualFold(q, "COMMIT") {
			// The end of a transaction on a non-transactional engine.
			return t.endTx(h, true), nil
		}
		if t.tracksDDL() {
			// DDL: record the captured tables' new definitions, and write
			// the statement's schema change events.
			if !t.inTx {
				t.beginTx(h)
			}
			p := binlogPos{file: t.file, pos: int64(h.LogPos - h.EventSize)}
			named, parsed := namedTables(q, string(e.Schema))
			dbs := t.ddlDatabases(string(e.Schema))
			for _, n := range named {
				if t.s.capturedDB(n.db) && !slices.Contains(dbs, n.db) {
					dbs = append(dbs, n.db)
				}
			}
			changes, err := t.ddlChanges(ctx, p, dbs, q)
			if err != nil {
				return nil, err
			}
			var recs []connect.SourceRecord
			if t.s.schemaChanges {
				evs, err := t.ddlEvents(ctx, string(e.Schema), q, named, parsed, changes)
				if err != nil {
					return nil, err
				}
				recs = t.ddlRecords(h, q, evs)
			}
			t.endTx(h, false)
			return recs, nil
		}
		// DDL: forget the shapes of the database's tables; they are
		// re-read from information_schema when next needed.
		for id := range t.tables {
			if strings.HasPrefix(id, string(e.Schema)+".") || len(e.Schema) == 0 {
				delete(t.tables, id)
			}
		}
		t.endTx(h, false)
	case *replication.XIDEvent:
		return t.endTx(h, true), nil
	case *replication.RowsEvent:
		return t.rows(ctx, h, ev.Header.EventType, e)
	}
	return nil, nil
}

// endTx ends the current transaction at the event of h, returning its END
// record when commit (an XID event or a COMMIT statement) and its BEGIN
// record was emitted. A DDL statement ends it without one, as Debezium's
// binlog connectors do: on MariaDB its GTID event has a BEGIN record that
// no END record follows.
func (t *Task) endTx(h *replication.EventHeader, commit bool) []connect.SourceRecord {
	var recs []connect.SourceRecord
	t.nextStart = h.LogPos
	if commit && t.meta != nil {
		recs = append(recs, t.txEnd(h))
	}
	t.inTx, t.gtid, t.meta, t.resumeMeta = false, "", nil, nil
	t.skip = 0
	return recs
}

// txTopic is Debezium's transaction topic, <topic.prefix>.transaction.
func (t *Task) txTopic() string { return debezium.AdjustName(t.s.prefix + ".transaction") }

// txID is Debezium's id of a binlog transaction: its GTID, or without
// GTIDs "file=<binlog file>,pos=<position of its BEGIN statement>" (MySQL
// with gtid_mode=OFF, where an anonymous GTID event comes before it).
func (t *Task) txID() string {
	if t.gtid != "" {
		return t.gtid
	}
	return fmt.Sprintf("file=%s,pos=%d", t.file, t.beginPos)
}

// txOffset is the offset of a record inside the current transaction
// after events row changes of it: its start, and with transaction
// metadata the transaction's id and counts.
func (t *Task) txOffset(events int64, serverID uint32) map[string]any {
	off := map[string]any{fileKey: t.file, posKey: int64(t.txStart), eventKey: events, rowKey: int64(0),
		serverIDKey: int64(serverID), tsSecKey: t.ts.Unix()}
	if t.gtid != "" {
		off[gtidsKey] = t.gtid
	}
	if t.meta != nil {
		off[debezium.TxIDOffsetKey] = t.meta.id
		for table, n := range t.meta.perTable {
			off[debezium.TxCountOffsetKeyPrefix+table] = n
		}
	}
	return off
}

// txBegin returns the BEGIN record of the transaction starting at h (a
// MariaDB GTID event or a BEGIN statement), as Debezium writes one for
// every transaction of the binlog, whether or not it changes captured
// tables; none when an earlier lease emitted it (the transaction it
// stopped inside) or without transaction metadata. Its time is the
// transaction's, as its events' source blocks have it.
func (t *Task) txBegin(h *replication.EventHeader) []connect.SourceRecord {
	if !t.s.txMetadata {
		return nil
	}
	id := t.txID()
	if t.meta != nil && t.meta.id == id {
		return nil
	}
	t.meta = &txMeta{id: id, perTable: map[string]int64{}}
	k, v := debezium.TransactionBegin(id, t.ts)
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: t.txOffset(0, h.ServerID)}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = t.txTopic(), debezium.TransactionKeySchema, k, debezium.TransactionValueSchema, v
	return []connect.SourceRecord{r}
}

// txEnd is the END record of the current transaction, read up to its
// commit event (h): its offset is past the transaction.
func (t *Task) txEnd(h *replication.EventHeader) connect.SourceRecord {
	tables := slices.Sorted(maps.Keys(t.meta.perTable))
	per := make([]debezium.CollectionCount, len(tables))
	for i, table := range tables {
		per[i] = debezium.CollectionCount{Collection: table, Events: t.meta.perTable[table]}
	}
	k, v := debezium.TransactionEnd(t.meta.id, time.Unix(int64(h.Timestamp), 0), t.meta.total, per)
	off := map[string]any{fileKey: t.file, posKey: int64(h.LogPos), eventKey: int64(0), rowKey: int64(0),
		serverIDKey: int64(h.ServerID), tsSecKey: int64(h.Timestamp)}
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: off}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = t.txTopic(), debezium.TransactionKeySchema, k, debezium.TransactionValueSchema, v
	return r
}

// txBlock counts a change event of tb into the current transaction and
// returns its transaction block; nil without transaction metadata.
func (t *Task) txBlock(tb *table) *debezium.Tx {
	if t.meta == nil {
		return nil
	}
	id := tb.id()
	t.meta.total++
	t.meta.perTable[id]++
	return &debezium.Tx{ID: t.meta.id, TotalOrder: t.meta.total, DataCollectionOrder: t.meta.perTable[id]}
}

func (t *Task) rows(ctx context.Context, h *replication.EventHeader, typ replication.EventType, e *replication.RowsEvent) ([]connect.SourceRecord, error) {
	db, name := string(e.Table.Schema), string(e.Table.Table)
	if !t.s.captured(db, name) {
		return nil, nil
	}
	if !t.inTx {
		t.beginTx(h)
	}
	tb, err := t.table(ctx, db, name)
	if err != nil {
		return nil, err
	}
	var op debezium.Op
	step := 1
	switch typ {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		op = debezium.OpCreate
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		op, step = debezium.OpUpdate, 2
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		op = debezium.OpDelete
	default:
		return nil, nil
	}
	var recs []connect.SourceRecord
	for i, r := 0, int32(0); i+step <= len(e.Rows); i, r = i+step, r+1 {
		t.txEvents++
		if t.skip > 0 && t.file == t.skipFile && t.txStart == t.skipPos && t.txEvents <= t.skip {
			continue
		}
		// The source block's pos is the row event's position, as
		// Debezium gives it; the offset's is the transaction's start.
		ev := rowEvent{t: t, tb: tb, src: debezium.MySQLSource{
			Common: debezium.Common{Connector: t.connector, Name: t.s.prefix, DB: db, Time: t.ts},
			Table:  name, ServerID: int64(h.ServerID), GTID: t.gtid, File: t.file, Pos: int64(h.LogPos - h.EventSize), Row: r}}
		row, err := tb.decodeBinlog(e.Rows[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tb.id(), err)
		}
		var out []connect.SourceRecord
		switch op {
		case debezium.OpCreate:
			out, err = ev.emit(debezium.OpCreate, nil, row, nil)
		case debezium.OpUpdate:
			var next []any
			if next, err = tb.decodeBinlog(e.Rows[i+1]); err == nil {
				out, err = ev.update(row, next)
			}
		case debezium.OpDelete:
			out, err = ev.emit(debezium.OpDelete, row, nil, nil)
		}
		if err != nil {
			return nil, err
		}
		// The row's events share the offset after it: a lease resumes
		// after the whole row, its counts included.
		off := t.txOffset(t.txEvents, h.ServerID)
		for i := range out {
			out[i].SourceOffset = off
		}
		recs = append(recs, out...)
	}
	return recs, nil
}

// rowEvent builds the change events of one binlog row.
type rowEvent struct {
	t   *Task
	tb  *table
	src debezium.MySQLSource
}

// update emits an update, or, when the row's primary key changed, a delete
// of the old key (with its tombstone) and a create of the new one, as
// Debezium does: the delete carries the new key in header
// __debezium.newkey, the create the old key in __debezium.oldkey.
func (ev rowEvent) update(oldRow, newRow []any) ([]connect.SourceRecord, error) {
	oldKey, err := ev.tb.key(oldRow)
	if err != nil {
		return nil, err
	}
	newKey, err := ev.tb.key(newRow)
	if err != nil {
		return nil, err
	}
	if oldKey == nil || data.ValuesEqual(oldKey, newKey) {
		return ev.emit(debezium.OpUpdate, oldRow, newRow, nil)
	}
	var h connect.Headers
	h.Add(debezium.NewKeyHeader, ev.tb.keySchema, newKey)
	del, err := ev.emit(debezium.OpDelete, oldRow, nil, h)
	if err != nil {
		return nil, err
	}
	h = nil
	h.Add(debezium.OldKeyHeader, ev.tb.keySchema, oldKey)
	cre, err := ev.emit(debezium.OpCreate, nil, newRow, h)
	return append(del, cre...), err
}

// emit builds the event of op from the row before and after it (nil where
// op has none), and the tombstone after a delete.
func (ev rowEvent) emit(op debezium.Op, oldRow, newRow []any, headers connect.Headers) ([]connect.SourceRecord, error) {
	var before, after *data.Struct
	var err error
	keyRow := oldRow
	if oldRow != nil {
		if before, err = ev.tb.row(oldRow); err != nil {
			return nil, err
		}
	}
	if newRow != nil {
		if after, err = ev.tb.row(newRow); err != nil {
			return nil, err
		}
		keyRow = newRow
	}
	key, err := ev.tb.key(keyRow)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	value := debezium.NewEnvelope(ev.tb.envelope, op, before, after, ev.src.Struct(ev.t.source), ev.t.txBlock(ev.tb), now)
	rec := connect.SourceRecord{SourcePartition: ev.t.partition}
	rec.Topic, rec.ValueSchema, rec.Value, rec.Headers = ev.tb.topic, ev.tb.envelope, value, headers
	if key != nil {
		rec.KeySchema, rec.Key = ev.tb.keySchema, key
	}
	recs := []connect.SourceRecord{rec}
	if op == debezium.OpDelete && ev.t.s.tombstones {
		tomb := rec
		tomb.ValueSchema, tomb.Value = nil, nil
		recs = append(recs, tomb)
	}
	return recs, nil
}

// heartbeat is a Debezium heartbeat record (topic
// __debezium-heartbeat.<topic.prefix>) whose offset is the position the
// next transaction starts at.
func (t *Task) heartbeat() connect.SourceRecord {
	now := time.Now()
	k, v := debezium.Heartbeat(t.s.prefix, now)
	off := map[string]any{fileKey: t.file, posKey: int64(t.nextStart), eventKey: int64(0), rowKey: int64(0),
		serverIDKey: int64(t.s.serverID), tsSecKey: now.Unix()}
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: off}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = debezium.DefaultHeartbeatTopicPrefix+"."+t.s.prefix,
		debezium.HeartbeatKeySchema, k, debezium.HeartbeatValueSchema, v
	return r
}

// ddlDatabases are the databases whose tables a DDL statement run in
// database current may have changed: current (when captured) and those of
// the tables known, since a statement may name another database's table.
func (t *Task) ddlDatabases(current string) []string {
	set := map[string]bool{}
	if current != "" && t.s.capturedDB(current) {
		set[current] = true
	}
	for id := range t.tables {
		db, _, _ := strings.Cut(id, ".")
		set[db] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Stop closes the binlog reader and the connections.
func (t *Task) Stop() error {
	if t.hist != nil {
		t.hist.close()
	}
	if t.snap != nil && t.snap.rows != nil {
		t.snap.rows.Close()
	}
	if t.snap != nil && t.snap.conn != nil {
		t.snap.conn.Close()
	}
	if t.syncer != nil {
		t.syncer.Close()
	}
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}
