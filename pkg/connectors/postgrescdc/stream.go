package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// txState is the transaction being read from the stream.
type txState struct {
	xid        int64
	final      pglogrepl.LSN // LSN of its commit record
	commitTime time.Time
	events     int64 // change messages of captured tables seen so far
	skip       int64 // change messages already emitted by an earlier lease
	skipLSN    pglogrepl.LSN
	// With provide.transaction.metadata: begun is whether its BEGIN
	// record was written, by this lease or (as the committed offset
	// says) an earlier one; emitted its change events so far, the last
	// total order; perTable those of each table (by schema.table), the
	// last data collection order; tables the tables in the order their
	// first events came, with their offset keys (countKeys).
	begun     bool
	emitted   int64
	perTable  map[string]int64
	tables    []string
	countKeys []string
	id        string // "<txId>:<commit LSN>", once made (txID)
	// offset holds the offset values of its events that are the same for
	// all of them, boxed once (streamOffset).
	offset struct{ txID, tsUsec any }
}

// pollWait bounds how long one Poll waits for the stream; catchUpWait how
// long the first Polls of a lease wait for the server's first message.
const (
	pollWait    = 200 * time.Millisecond
	catchUpWait = 30 * time.Second
)

// startStreaming starts replication from t.start.
func (t *Task) startStreaming(ctx context.Context) error {
	rows, err := exec(ctx, t.conn, "SELECT pg_current_wal_flush_lsn()")
	if err != nil || len(rows) != 1 {
		return connect.Retriable(fmt.Errorf("reading the WAL position: %w", err))
	}
	if t.catchUpTo, err = pglogrepl.ParseLSN(string(rows[0][0])); err != nil {
		return err
	}
	err = pglogrepl.StartReplication(ctx, t.repl, t.s.slot, t.start, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names " + literal(t.s.publication)},
	})
	if err != nil {
		return t.streamError(err)
	}
	t.streaming = true
	if t.lastEnd == 0 {
		t.lastEnd = t.start
	}
	t.lastReply, t.lastBeat = time.Now(), time.Now()
	t.log.Info("streaming", "from", t.start)
	return nil
}

// streamError explains the server's errors a user must act on.
func (t *Task) streamError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42704": // undefined_object: the slot or the publication
			return fmt.Errorf("streaming from slot %q with publication %q: %w (check that the replication slot and the publication exist)", t.s.slot, t.s.publication, err)
		case "55006": // object_in_use
			return connect.Retriable(fmt.Errorf("replication slot %q is in use by another connection: %w", t.s.slot, err))
		}
	}
	return fmt.Errorf("streaming from slot %q: %w", t.s.slot, err)
}

// pollStream reads messages until a batch is full or the stream is quiet.
func (t *Task) pollStream(ctx context.Context) ([]connect.SourceRecord, error) {
	// As many as the last batch had, so that a busy stream's batch does
	// not grow (and get copied) record by record.
	recs := make([]connect.SourceRecord, 0, t.lastBatch)
	now := time.Now()
	deadline := now.Add(pollWait)
	if !t.caughtUp {
		// The server may first decode (and skip) a long stretch of WAL
		// from the slot's restart LSN: that is not idleness.
		deadline = now.Add(catchUpWait)
	}
	// readDeadline is the socket's read deadline as last set in this
	// Poll (zero: not set yet, or something else may have changed it).
	var readDeadline time.Time
	for len(recs) < t.s.batch {
		now = time.Now()
		if now.Sub(t.lastReply) >= t.s.statusInterval {
			if err := t.confirm(ctx, t.durable); err != nil {
				return recs, err
			}
			readDeadline = time.Time{}
		}
		if t.caughtUp && len(recs) == 0 && deadline.Sub(now) > pollWait {
			deadline = now.Add(pollWait)
		}
		wait := deadline.Sub(now)
		if len(recs) > 0 {
			wait = min(wait, 5*time.Millisecond)
		}
		if wait <= 0 {
			break
		}
		if ctx.Err() != nil {
			break
		}
		// A read deadline on the socket rather than a context per message:
		// a context costs a timer and a watcher per message, which halves
		// the rate. It is moved only when it would move by more than a
		// millisecond: at most that much earlier than asked, it saves
		// resetting the socket's timer for each of a busy stream's messages.
		if want := now.Add(wait); readDeadline.IsZero() || want.Sub(readDeadline).Abs() > time.Millisecond {
			if err := t.repl.Conn().SetReadDeadline(want); err != nil {
				return recs, t.streamError(err)
			}
			readDeadline = want
		}
		msg, err := t.repl.ReceiveMessage(context.Background())
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				break
			}
			return recs, t.streamError(err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if recs, err = t.handleCopyData(ctx, recs, m.Data); err != nil {
				return recs, err
			}
		case *pgproto3.ErrorResponse:
			return recs, t.streamError(pgconn.ErrorResponseToPgError(m))
		}
	}
	if hb, ok := t.heartbeat(); ok {
		recs = append(recs, hb)
	}
	t.lastBatch = len(recs)
	return recs, nil
}

// handleCopyData appends to dst the records of one message of the stream.
func (t *Task) handleCopyData(ctx context.Context, dst []connect.SourceRecord, b []byte) ([]connect.SourceRecord, error) {
	if len(b) == 0 {
		return dst, nil
	}
	switch b[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(b[1:])
		if err != nil {
			return dst, err
		}
		if t.tx == nil && ka.ServerWALEnd > t.lastEnd && ka.ServerWALEnd >= t.start {
			// Every transaction committed before the server's sent position
			// was delivered before this message.
			t.lastEnd = ka.ServerWALEnd
		}
		if ka.ServerWALEnd >= t.catchUpTo {
			t.caughtUp = true
		}
		if ka.ReplyRequested {
			return dst, t.confirm(ctx, t.durable)
		}
		return dst, nil
	case pglogrepl.XLogDataByteID:
		x, err := pglogrepl.ParseXLogData(b[1:])
		if err != nil {
			return dst, err
		}
		if x.WALStart >= t.catchUpTo {
			t.caughtUp = true
		}
		if isRowMessage(x.WALData) {
			m, err := parseRowMessage(x.WALData, &t.tuples)
			if err != nil {
				return dst, fmt.Errorf("decoding pgoutput message: %w", err)
			}
			return t.handleRow(dst, x.WALStart, m)
		}
		msg, err := pglogrepl.Parse(x.WALData)
		if err != nil {
			return dst, fmt.Errorf("decoding pgoutput message: %w", err)
		}
		recs, err := t.handle(ctx, x.WALStart, msg)
		if err != nil {
			return dst, err
		}
		return append(dst, recs...), nil
	}
	return dst, nil
}

// handle turns one pgoutput message into change events.
func (t *Task) handle(ctx context.Context, lsn pglogrepl.LSN, msg pglogrepl.Message) ([]connect.SourceRecord, error) {
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		if !t.s.filter.table(m.Namespace, m.RelationName) {
			t.rels[m.RelationID] = nil
			return nil, nil
		}
		tb, err := t.table(ctx, m.Namespace, m.RelationName, m)
		if err != nil {
			return nil, err
		}
		t.rels[m.RelationID] = tb
	case *pglogrepl.BeginMessage:
		t.tx = &txState{xid: int64(m.Xid), final: m.FinalLSN, commitTime: m.CommitTime, perTable: map[string]int64{}}
		if r := t.resume; r != nil {
			// The first transaction of a resumed stream may be the one the
			// last lease stopped inside.
			if r.txID == t.tx.xid {
				if r.hasEvent {
					t.tx.skip = r.event
				} else {
					t.tx.skipLSN = r.lsn
				}
				if t.s.txMetadata && r.txContext != "" && r.txContext == t.txID() {
					t.tx.resumeContext(r.txCounts)
				}
			}
			t.resume = nil
		}
	case *pglogrepl.CommitMessage:
		var recs []connect.SourceRecord
		if t.tx != nil && t.s.txMetadata && t.tx.begun {
			recs = append(recs, t.txEnd())
		}
		t.lastEnd, t.lastXid, t.tx = m.TransactionEndLSN, t.tx.xidOr(t.lastXid), nil
		return recs, nil
	case *pglogrepl.TruncateMessage:
		var recs []connect.SourceRecord
		for _, id := range m.RelationIDs {
			var err error
			recs, err = t.change(recs, lsn, id, func(dst []connect.SourceRecord, tb *table) ([]connect.SourceRecord, error) {
				if t.s.skipped[string(debezium.OpTruncate)] {
					return dst, nil
				}
				now := time.Now()
				value := debezium.NewEnvelope(tb.envelope, debezium.OpTruncate, nil, nil, t.streamSource(tb, lsn), t.txBlock(tb), now)
				return append(dst, t.record(tb, nil, value, t.withTxContext(t.streamOffset(lsn)), now)), nil
			})
			if err != nil {
				return nil, err
			}
		}
		return recs, nil
	}
	return nil, nil
}

// handleRow appends to dst the change events of an Insert, Update or
// Delete message.
func (t *Task) handleRow(dst []connect.SourceRecord, lsn pglogrepl.LSN, m rowMessage) ([]connect.SourceRecord, error) {
	return t.change(dst, lsn, m.relation, func(dst []connect.SourceRecord, tb *table) ([]connect.SourceRecord, error) {
		return t.rowEvent(dst, tb, lsn, m.op, m.old, m.new)
	})
}

func (tx *txState) xidOr(def int64) int64 {
	if tx == nil {
		return def
	}
	return tx.xid
}

// change counts a change message of a captured table and, unless an
// earlier lease already emitted it, appends its events to dst (build
// appends them).
func (t *Task) change(dst []connect.SourceRecord, lsn pglogrepl.LSN, rel uint32,
	build func([]connect.SourceRecord, *table) ([]connect.SourceRecord, error)) ([]connect.SourceRecord, error) {
	tb, known := t.rels[rel]
	if !known {
		return dst, fmt.Errorf("change for relation %d before its Relation message", rel)
	}
	if tb == nil || t.tx == nil {
		return dst, nil
	}
	t.tx.events++
	if t.tx.events <= t.tx.skip || t.tx.skipLSN != 0 && lsn <= t.tx.skipLSN {
		return dst, nil
	}
	n := len(dst)
	out, err := build(dst, tb)
	if err != nil {
		return dst, err
	}
	if len(out) > n && t.s.txMetadata && !t.tx.begun {
		// The transaction's BEGIN record goes before its first events.
		out = append(out, connect.SourceRecord{})
		copy(out[n+1:], out[n:])
		out[n] = t.txBegin()
		t.tx.begun = true
	}
	return out, nil
}

// rowEvent builds the events of an insert, update or delete. An update
// that changes the primary key becomes a delete of the old key (and its
// tombstone) and a create of the new one, as Debezium does.
func (t *Task) rowEvent(dst []connect.SourceRecord, tb *table, lsn pglogrepl.LSN, op debezium.Op, oldVals, newVals []tupleValue) ([]connect.SourceRecord, error) {
	if op == debezium.OpUpdate && oldVals != nil {
		oldKey, err := tb.key(oldVals)
		if err != nil {
			return dst, err
		}
		newKey, err := tb.key(newVals)
		if err != nil {
			return dst, err
		}
		if oldKey != nil && !data.ValuesEqual(oldKey, newKey) {
			n := len(dst)
			out, err := t.rowEvent(dst, tb, lsn, debezium.OpDelete, oldVals, nil)
			if err != nil {
				return dst, err
			}
			nDel := len(out)
			if out, err = t.rowEvent(out, tb, lsn, debezium.OpCreate, nil, newVals); err != nil {
				return dst, err
			}
			for i := n; i < nDel; i++ {
				out[i].Headers.Add(debezium.NewKeyHeader, tb.keySchema, newKey)
			}
			if len(out) > nDel {
				out[nDel].Headers.Add(debezium.OldKeyHeader, tb.keySchema, oldKey)
			}
			return out, nil
		}
	}
	if t.s.skipped[string(op)] {
		return dst, nil
	}
	var before, after *data.Struct
	var err error
	if oldVals != nil {
		if before, err = tb.row(oldVals); err != nil {
			return dst, err
		}
	}
	keyVals, keyRow := oldVals, before
	if newVals != nil {
		if after, err = tb.row(newVals); err != nil {
			return dst, err
		}
		keyVals, keyRow = newVals, after
	}
	key, err := tb.keyOf(keyRow, keyVals)
	if err != nil {
		return dst, err
	}
	now := time.Now()
	l := any(int64(lsn)) // shared by the source block and the offset
	value := debezium.NewEnvelope(tb.envelope, op, before, after, t.streamSourceBoxed(tb, lsn, l), t.txBlock(tb), now)
	offset := t.withTxContext(t.streamOffsetBoxed(lsn, l))
	t.emittedEnd = t.lastEnd
	dst = append(dst, t.record(tb, key, value, offset, now))
	if op == debezium.OpDelete && t.s.tombstones {
		tomb := t.record(tb, key, nil, offset, now)
		tomb.ValueSchema = nil
		dst = append(dst, tomb)
	}
	return dst, nil
}

// streamSource returns the source block of an event at lsn in the current
// transaction, completed from the table's template for the transaction.
func (t *Task) streamSource(tb *table, lsn pglogrepl.LSN) *data.Struct {
	var l any
	if lsn != 0 {
		l = int64(lsn)
	}
	return t.streamSourceBoxed(tb, lsn, l)
}

// streamSourceBoxed is streamSource for lsn already boxed as int64 (l).
func (t *Task) streamSourceBoxed(tb *table, lsn pglogrepl.LSN, l any) *data.Struct {
	if c := &tb.streamSrc; c.tx != t.tx || c.lastEnd != t.lastEnd {
		c.tx, c.lastEnd = t.tx, t.lastEnd
		c.template = tb.sourceInfo(t.s, debezium.SnapshotFalse, t.tx.commitTime, t.tx.xid, 0, int64(t.lastEnd)).Template()
	}
	return tb.streamSrc.template.AtBoxed(int64(lsn), l)
}

// streamOffset is the offset of an event at lsn in the current transaction.
// The values shared with the other events of the transaction are boxed
// once for all of them (offset.txID, offset.tsUsec, t.lastEndValue).
func (t *Task) streamOffset(lsn pglogrepl.LSN) map[string]any {
	return t.streamOffsetBoxed(lsn, int64(lsn))
}

// streamOffsetBoxed is streamOffset for lsn already boxed as int64 (l).
func (t *Task) streamOffsetBoxed(lsn pglogrepl.LSN, l any) map[string]any {
	tx := t.tx
	if tx.offset.txID == nil {
		tx.offset.txID, tx.offset.tsUsec = tx.xid, tx.commitTime.UnixMicro()
	}
	off := make(map[string]any, 6)
	off[lsnKey], off[lsnProcKey], off[txIDKey], off[tsUsecKey], off[eventKey] = l, l, tx.offset.txID, tx.offset.tsUsec, tx.events
	if t.lastEnd != 0 {
		if t.lastEndValue.lsn != t.lastEnd {
			t.lastEndValue.lsn, t.lastEndValue.v = t.lastEnd, int64(t.lastEnd)
		}
		off[lsnCommitKey] = t.lastEndValue.v
	}
	return off
}

// record wraps a change event; the topic is the table's.
func (t *Task) record(tb *table, key *data.Struct, value *data.Struct, offset map[string]any, _ time.Time) connect.SourceRecord {
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: offset}
	r.Topic = tb.topic
	if key != nil {
		r.KeySchema, r.Key = tb.keySchema, key
	}
	if value != nil {
		r.ValueSchema, r.Value = tb.envelope, value
	}
	return r
}

// txBlock counts an event into the transaction and returns its block, or
// nil without provide.transaction.metadata.
func (t *Task) txBlock(tb *table) *debezium.Tx {
	if !t.s.txMetadata || t.tx == nil {
		return nil
	}
	t.tx.emitted++
	if t.tx.perTable[tb.id()] == 0 {
		t.tx.addTable(tb.id())
	}
	t.tx.perTable[tb.id()]++
	return &debezium.Tx{ID: t.txID(), TotalOrder: t.tx.emitted, DataCollectionOrder: t.tx.perTable[tb.id()]}
}

func (tx *txState) addTable(id string) {
	tx.tables = append(tx.tables, id)
	tx.countKeys = append(tx.countKeys, debezium.TxCountOffsetKeyPrefix+id)
}

// resumeContext takes the counts of the transaction's change events that
// earlier leases emitted, by table, from the committed offset: its BEGIN
// record was written, and its orders go on from them. The tables they
// name come first in its END record, by name (the offset does not keep
// the order their first events came in).
func (tx *txState) resumeContext(counts map[string]int64) {
	tx.begun = true
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		tx.addTable(id)
		tx.perTable[id] = counts[id]
		tx.emitted += counts[id]
	}
}

// withTxContext adds to the offset of a change event the transaction's
// context with provide.transaction.metadata (Debezium's
// TransactionContext.store): its id and its events by table so far, this
// one's included.
func (t *Task) withTxContext(off map[string]any) map[string]any {
	if !t.s.txMetadata {
		return off
	}
	off[debezium.TxIDOffsetKey] = t.txID()
	for i, k := range t.tx.countKeys {
		off[k] = t.tx.perTable[t.tx.tables[i]]
	}
	return off
}

// txID is Debezium's PostgreSQL transaction id: "<txId>:<lsn of the commit>".
func (t *Task) txID() string {
	if t.tx.id == "" {
		t.tx.id = strconv.FormatInt(t.tx.xid, 10) + ":" + strconv.FormatInt(int64(t.tx.final), 10)
	}
	return t.tx.id
}

func (t *Task) txTopic() string { return debezium.AdjustName(t.s.prefix + ".transaction") }

func (t *Task) txBegin() connect.SourceRecord {
	k, v := debezium.TransactionBegin(t.txID(), t.tx.commitTime)
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: t.streamOffset(0)}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = t.txTopic(), debezium.TransactionKeySchema, k, debezium.TransactionValueSchema, v
	// Before the change it precedes: a lease that ends here resumes with
	// that change, the transaction begun and no events counted.
	r.SourceOffset[eventKey] = t.tx.events - 1
	r.SourceOffset[debezium.TxIDOffsetKey] = t.txID()
	delete(r.SourceOffset, lsnKey)
	delete(r.SourceOffset, lsnProcKey)
	return r
}

func (t *Task) txEnd() connect.SourceRecord {
	per := make([]debezium.CollectionCount, len(t.tx.tables))
	for i, id := range t.tx.tables {
		per[i] = debezium.CollectionCount{Collection: id, Events: t.tx.perTable[id]}
	}
	k, v := debezium.TransactionEnd(t.txID(), t.tx.commitTime, t.tx.emitted, per)
	// Its offset has no transaction context: a lease that ends here
	// resumes past the transaction's changes and writes no END again.
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: t.streamOffset(t.tx.final)}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = t.txTopic(), debezium.TransactionKeySchema, k, debezium.TransactionValueSchema, v
	return r
}

// heartbeat returns a heartbeat record when heartbeat.interval.ms has passed,
// the stream is between transactions, and the position moved since the last
// record (so an idle database does not keep a lease busy). Its offset is the end of the
// last transaction read, so committing it lets the slot release the WAL of
// tables that are not captured.
func (t *Task) heartbeat() (connect.SourceRecord, bool) {
	if t.s.heartbeat <= 0 || t.tx != nil || t.lastEnd <= t.emittedEnd || time.Since(t.lastBeat) < t.s.heartbeat {
		return connect.SourceRecord{}, false
	}
	t.lastBeat, t.emittedEnd = time.Now(), t.lastEnd
	k, v := debezium.Heartbeat(t.s.prefix, t.lastBeat)
	off := map[string]any{lsnKey: int64(t.lastEnd), lsnProcKey: int64(t.lastEnd), lsnCommitKey: int64(t.lastEnd),
		tsUsecKey: t.lastBeat.UnixMicro(), eventKey: int64(0)}
	if t.lastXid != 0 {
		off[txIDKey] = t.lastXid
	}
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: off}
	r.Topic, r.KeySchema, r.Key, r.ValueSchema, r.Value = t.s.heartbeatTopic, debezium.HeartbeatKeySchema, k, debezium.HeartbeatValueSchema, v
	return r, true
}
