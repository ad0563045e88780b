package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/pkg/connect"
)

// Task streams one database's changes. Within a lease it restores its
// position from the committed offset, snapshots if it must, then reads the
// slot from that position. It confirms to the server (the slot's confirmed
// flush LSN) only what the executor has reported as acked by Kafka with its
// offsets written (CommitOffsets, then Commit), so WAL that Kafka does not
// hold is never released. It is not safe for concurrent use.
type Task struct {
	s         *settings
	log       *slog.Logger
	partition map[string]any

	conn *pgconn.PgConn // catalog queries and the snapshot
	repl *pgconn.PgConn // the replication connection

	tables map[string]*table // by schema.table, as last built
	rels   map[uint32]*table // relation id → captured table (nil: not captured)

	snap      *snapshot // non-nil while snapshotting
	streaming bool
	onlySnap  bool // initial_only: nothing after the snapshot

	start   pglogrepl.LSN // where streaming starts
	resume  *position     // the offset streaming resumes inside, if any
	tx      *txState      // the transaction being read
	lastEnd pglogrepl.LSN // end of the last completely processed transaction
	// lastEndValue is lastEnd boxed for the offsets, while it is lsn.
	lastEndValue struct {
		lsn pglogrepl.LSN
		v   any
	}
	lastXid int64
	// emittedEnd is the lastEnd of the last record emitted.
	emittedEnd pglogrepl.LSN
	lastBeat   time.Time
	lastReply  time.Time

	acked pglogrepl.LSN // highest lsn_commit of records Kafka acked
	// durable is a position whose changes are all in Kafka with their
	// offsets written (the committed offset's): the periodic status
	// updates confirm it, which lets the server move the slot's restart
	// LSN (and release WAL) as it decodes, never past what Kafka holds.
	durable pglogrepl.LSN
	// caughtUp: the server has streamed up to catchUpTo, the WAL flush
	// position when streaming started; until then a quiet stream means the
	// server is still decoding, not that there is nothing to read.
	caughtUp  bool
	catchUpTo pglogrepl.LSN
	// lastBatch is how many records the last Poll of the stream returned.
	lastBatch int
	// tuples holds the columns of the last row message's old and new
	// tuples (parseRowMessage), reused by the next.
	tuples [2][]tupleValue
}

var (
	_ connect.SourceTask            = (*Task)(nil)
	_ connect.SourceCommitter       = (*Task)(nil)
	_ connect.SourceOffsetCommitter = (*Task)(nil)
)

// NewTask returns a task.
func NewTask() *Task { return &Task{} }

// Start connects, makes sure the publication and the slot exist, and
// decides from the committed offset whether to snapshot, resume a
// snapshot, or stream.
func (t *Task) Start(ctx context.Context, tc connect.SourceTaskContext, props map[string]string) (err error) {
	if t.s, err = parseSettings(props); err != nil {
		return err
	}
	t.log = slog.Default().With("connector", "postgres-cdc", "server", t.s.prefix, "slot", t.s.slot)
	t.partition = map[string]any{serverKey: t.s.prefix}
	t.tables, t.rels = map[string]*table{}, map[uint32]*table{}
	var pos *position
	if tc != nil && tc.Offsets() != nil {
		pos = parsePosition(tc.Offsets().Offset(t.partition))
	}
	if t.conn, err = t.s.dial(ctx, false); err != nil {
		return connect.Retriable(err)
	}
	if t.repl, err = t.s.dial(ctx, true); err != nil {
		return connect.Retriable(err)
	}
	if err := t.ensurePublication(ctx); err != nil {
		return err
	}
	if err := t.waitSlotInactive(ctx); err != nil {
		return err
	}
	slotLSN, slotExists, err := t.slotState(ctx)
	if err != nil {
		return err
	}
	t.onlySnap = t.s.snapshotMode == SnapshotInitialOnly

	needSnapshot := t.s.snapshotMode != SnapshotNoData
	if pos != nil && slotExists && !pos.snapshotInProgress() && slotLSN > pos.streamStart() {
		if t.s.snapshotMode != SnapshotWhenNeeded {
			return fmt.Errorf("%w: slot %q has confirmed LSN %s but the committed offset is at %s; the changes between were released. "+
				"Set snapshot.mode=when_needed to take a new snapshot", ErrSlotBehind, t.s.slot, slotLSN, pos.streamStart())
		}
		t.log.Warn("the slot is past the committed offset; taking a new snapshot", "slot_lsn", slotLSN, "offset", pos.streamStart())
		pos = nil
	}
	if pos != nil && !slotExists {
		if t.s.snapshotMode != SnapshotWhenNeeded {
			return slotMissing(t.s.slot, pos.streamStart().String())
		}
		t.log.Warn("the replication slot is gone; taking a new snapshot (snapshot.mode=when_needed)")
		pos = nil
	}
	switch {
	case pos == nil:
		exported := ""
		if !slotExists {
			action := "NOEXPORT_SNAPSHOT"
			if needSnapshot {
				action = "EXPORT_SNAPSHOT"
			}
			res, err := pglogrepl.CreateReplicationSlot(ctx, t.repl, t.s.slot, "pgoutput",
				pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
			if err != nil {
				return fmt.Errorf("creating replication slot %q: %w", t.s.slot, err)
			}
			if slotLSN, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
				return err
			}
			exported = res.SnapshotName
			t.log.Info("created replication slot", "consistent_point", res.ConsistentPoint)
		}
		t.start = slotLSN
		if needSnapshot {
			return t.beginSnapshot(ctx, slotLSN, exported, nil)
		}
	case pos.snapshotInProgress():
		t.start = pos.lsn
		return t.beginSnapshot(ctx, pos.lsn, "", pos)
	default:
		if t.onlySnap {
			return nil
		}
		t.start, t.resume = pos.streamStart(), pos
		t.lastEnd, t.durable = pos.lsnCommit, pos.streamStart()
	}
	if t.onlySnap {
		return nil
	}
	return t.startStreaming(ctx)
}

// ensurePublication creates the publication as publication.autocreate.mode
// says, or fails clearly when it is missing and may not be created.
func (t *Task) ensurePublication(ctx context.Context) error {
	rows, err := exec(ctx, t.conn, "SELECT puballtables FROM pg_publication WHERE pubname = "+literal(t.s.publication))
	if err != nil {
		return connect.Retriable(fmt.Errorf("reading publication %q: %w", t.s.publication, err))
	}
	exists := len(rows) == 1
	switch t.s.pubMode {
	case PublicationDisabled:
		if !exists {
			return fmt.Errorf("%w: publication %q does not exist and publication.autocreate.mode is disabled; "+
				"create it (CREATE PUBLICATION %s FOR ALL TABLES, or FOR TABLE ...) or set publication.autocreate.mode to all_tables or filtered",
				ErrPublicationMissing, t.s.publication, ident(t.s.publication))
		}
		return nil
	case PublicationAllTables:
		if exists {
			return nil
		}
		_, err := exec(ctx, t.conn, "CREATE PUBLICATION "+ident(t.s.publication)+" FOR ALL TABLES")
		if err != nil {
			return fmt.Errorf("creating publication %q: %w", t.s.publication, err)
		}
		t.log.Info("created publication FOR ALL TABLES", "publication", t.s.publication)
		return nil
	}
	// filtered: the publication lists exactly the included tables.
	tables, err := t.listTables(ctx)
	if err != nil {
		return err
	}
	list := ""
	for i, tb := range tables {
		if i > 0 {
			list += ", "
		}
		list += ident(tb[0]) + "." + ident(tb[1])
	}
	var sql string
	switch {
	case !exists && list == "":
		sql = "CREATE PUBLICATION " + ident(t.s.publication)
	case !exists:
		sql = "CREATE PUBLICATION " + ident(t.s.publication) + " FOR TABLE " + list
	case list != "":
		sql = "ALTER PUBLICATION " + ident(t.s.publication) + " SET TABLE " + list
	default:
		return nil
	}
	if _, err := exec(ctx, t.conn, sql); err != nil {
		return fmt.Errorf("publication %q: %s: %w", t.s.publication, sql, err)
	}
	return nil
}

// listTables lists the captured tables, ordered by schema and name.
func (t *Task) listTables(ctx context.Context) ([][2]string, error) {
	rows, err := exec(ctx, t.conn, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1, 2`)
	if err != nil {
		return nil, connect.Retriable(fmt.Errorf("listing tables: %w", err))
	}
	var out [][2]string
	for _, r := range rows {
		if t.s.filter.table(string(r[0]), string(r[1])) {
			out = append(out, [2]string{string(r[0]), string(r[1])})
		}
	}
	return out, nil
}

// slotState reads the slot's confirmed flush LSN.
func (t *Task) slotState(ctx context.Context) (pglogrepl.LSN, bool, error) {
	rows, err := exec(ctx, t.conn, "SELECT confirmed_flush_lsn, plugin, database FROM pg_replication_slots WHERE slot_name = "+literal(t.s.slot))
	if err != nil {
		return 0, false, connect.Retriable(fmt.Errorf("reading replication slot %q: %w", t.s.slot, err))
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	if p := string(rows[0][1]); p != "pgoutput" {
		return 0, true, fmt.Errorf("replication slot %q uses plugin %s, not pgoutput", t.s.slot, p)
	}
	if db := string(rows[0][2]); db != t.s.dbname {
		return 0, true, fmt.Errorf("replication slot %q belongs to database %s, not %s", t.s.slot, db, t.s.dbname)
	}
	lsn, err := pglogrepl.ParseLSN(string(rows[0][0]))
	return lsn, true, err
}

// waitSlotInactive waits (up to 10 s) for the slot's previous reader, the
// server process of an earlier lease, to let go of it.
func (t *Task) waitSlotInactive(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := exec(ctx, t.conn, "SELECT active FROM pg_replication_slots WHERE slot_name = "+literal(t.s.slot))
		if err != nil {
			return connect.Retriable(fmt.Errorf("reading replication slot %q: %w", t.s.slot, err))
		}
		if len(rows) == 0 || string(rows[0][0]) != "t" {
			return nil
		}
		if time.Now().After(deadline) {
			return connect.Retriable(fmt.Errorf("replication slot %q is in use by another connection", t.s.slot))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Poll returns the next snapshot rows or streamed changes.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.snap != nil {
		recs, done, err := t.pollSnapshot(ctx)
		if err != nil || !done {
			return recs, err
		}
		t.snap = nil
		if !t.onlySnap {
			if err := t.startStreaming(ctx); err != nil {
				return recs, err
			}
		}
		return recs, nil
	}
	if !t.streaming {
		return nil, nil
	}
	return t.pollStream(ctx)
}

// CommitOffsets notes the position the lease wrote as its offset, every
// record before it acked by Kafka; Commit then confirms it to the server.
// The lease keeps nothing per record for it (a CommitRecord per record
// kept each record's offset until the flush: ~500 bytes a change).
func (t *Task) CommitOffsets(_ context.Context, written connect.OffsetReader) error {
	if lsn, ok := streamStartOf(written.Offset(t.partition)); ok && lsn > t.acked {
		t.acked = lsn
	}
	return nil
}

// Commit moves the slot's confirmed flush LSN to the committed position:
// every record before it is in Kafka and its offset written. It waits
// (briefly) until the server shows the new position.
func (t *Task) Commit(ctx context.Context) error {
	if t.acked == 0 || t.repl == nil || !t.streaming {
		return nil
	}
	if err := t.confirm(ctx, t.acked); err != nil {
		return err
	}
	t.durable = t.acked
	if t.conn == nil || t.conn.IsClosed() {
		// A Poll stopped by the end of the lease inside a catalog query
		// (a Relation message's table) leaves the connection closed
		// (pgconn closes a connection whose query a context cancels):
		// the slot is read on a new one.
		c, err := t.s.dial(ctx, false)
		if err != nil {
			t.log.Warn("the confirmed LSN is sent; reading it back failed", "lsn", t.acked, "error", err)
			return nil
		}
		t.conn = c
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		lsn, _, err := t.slotState(ctx)
		if err == nil && lsn >= t.acked {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.log.Warn("the server has not shown the confirmed LSN yet", "lsn", t.acked)
	return nil
}

// confirm sends a standby status update confirming lsn as written and flushed.
func (t *Task) confirm(ctx context.Context, lsn pglogrepl.LSN) error {
	t.lastReply = time.Now()
	if err := pglogrepl.SendStandbyStatusUpdate(ctx, t.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: lsn}); err != nil {
		return connect.Retriable(fmt.Errorf("confirming LSN %s: %w", lsn, err))
	}
	return nil
}

// Stop closes the connections; the slot keeps its position for the next lease.
func (t *Task) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if t.snap != nil && t.conn != nil {
		_, _ = exec(ctx, t.conn, "ROLLBACK")
	}
	for _, c := range []*pgconn.PgConn{t.repl, t.conn} {
		if c != nil {
			errs = append(errs, c.Close(ctx))
		}
	}
	t.repl, t.conn = nil, nil
	return errors.Join(errs...)
}
