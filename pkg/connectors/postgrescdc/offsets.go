package postgrescdc

import (
	"github.com/jackc/pglogrepl"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// Source partition and offset fields. The offset keeps Debezium's keys, so
// that a Debezium offset can be taken over and the other way round:
//
//   - lsn: the event's LSN; lsn_proc: the last completely processed LSN
//     (Sluice writes the event's); lsn_commit: the end LSN of the last
//     transaction completely processed before the event (streaming only);
//     txId: the event's transaction; ts_usec: its commit time;
//   - snapshot, last_snapshot_record: set on snapshot records;
//   - with provide.transaction.metadata, on the records of a transaction
//     from its BEGIN record to its last change (not its END record):
//     transaction_id, the transaction's id (<txId>:<commit LSN>), and
//     transaction_data_collection_order_<schema>.<table>, its change
//     events of each table so far (Debezium's TransactionContext keys,
//     whose sum is the total order so far), so that a lease resuming
//     inside the transaction writes no second BEGIN record and goes on
//     with its orders;
//
// and Sluice's own, which Debezium ignores:
//
//   - event: how many change messages of transaction txId precede the
//     next one to emit, so a lease that ended inside a transaction
//     resumes exactly after its last record (several rows may share an
//     LSN, as a multi-row insert writes them in one WAL record);
//   - snapshot_table, snapshot_key: where an unfinished snapshot resumes
//     (the table and the text of the last primary key emitted).
const (
	serverKey             = "server"
	lsnKey                = "lsn"
	lsnProcKey            = "lsn_proc"
	lsnCommitKey          = "lsn_commit"
	txIDKey               = "txId"
	tsUsecKey             = "ts_usec"
	snapshotKey           = "snapshot"
	lastSnapshotRecordKey = "last_snapshot_record"
	eventKey              = "event"
	snapshotTableKey      = "snapshot_table"
	snapshotRowKey        = "snapshot_key"
)

// position is a committed offset, parsed.
type position struct {
	snapshot, lastSnapshot bool
	lsn, lsnCommit         pglogrepl.LSN
	txID                   int64
	event                  int64
	hasEvent               bool
	snapTable              string
	snapKey                []any
	// txContext is the transaction_id of an offset inside a transaction
	// whose BEGIN record was written; txCounts its events by table.
	txContext string
	txCounts  map[string]int64
}

func num(v any) (int64, bool) {
	switch v.(type) {
	case nil:
		return 0, false
	}
	n, err := connect.OffsetPosition(v)
	return n, err == nil
}

func parsePosition(off map[string]any) *position {
	if off == nil {
		return nil
	}
	p := &position{}
	p.snapshot, _ = off[snapshotKey].(bool)
	p.lastSnapshot, _ = off[lastSnapshotRecordKey].(bool)
	if n, ok := num(off[lsnKey]); ok {
		p.lsn = pglogrepl.LSN(n)
	}
	if n, ok := num(off[lsnCommitKey]); ok {
		p.lsnCommit = pglogrepl.LSN(n)
	}
	p.txID, _ = num(off[txIDKey])
	p.event, p.hasEvent = num(off[eventKey])
	p.snapTable, _ = off[snapshotTableKey].(string)
	if k, ok := off[snapshotRowKey].([]any); ok {
		p.snapKey = k
	}
	p.txContext, p.txCounts = debezium.TxContextOf(off)
	return p
}

// snapshotInProgress reports whether the offset is inside an unfinished snapshot.
func (p *position) snapshotInProgress() bool { return p != nil && p.snapshot && !p.lastSnapshot }

// streamStart is where streaming resumes: the end of the last completely
// processed transaction, or the snapshot's LSN.
func (p *position) streamStart() pglogrepl.LSN {
	if p.lsnCommit != 0 {
		return p.lsnCommit
	}
	return p.lsn
}

// streamStartOf is parsePosition(off).streamStart() for an offset outside
// an unfinished snapshot; ok is false for one inside it (or no offset).
func streamStartOf(off map[string]any) (lsn pglogrepl.LSN, ok bool) {
	if off == nil {
		return 0, false
	}
	if snap, _ := off[snapshotKey].(bool); snap {
		if last, _ := off[lastSnapshotRecordKey].(bool); !last {
			return 0, false
		}
	}
	if n, ok := num(off[lsnCommitKey]); ok && n != 0 {
		return pglogrepl.LSN(n), true
	}
	n, _ := num(off[lsnKey])
	return pglogrepl.LSN(n), true
}
