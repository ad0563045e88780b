package postgrescdc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// snapshot reads the captured tables in one REPEATABLE READ transaction.
// When the slot was created by this lease the transaction uses the slot's
// exported snapshot, so the rows read are exactly the state at the slot's
// consistent point and streaming continues from there without gap or
// overlap. A snapshot that a lease's budget cuts short resumes in the next
// lease after the last primary key emitted, in a new transaction; changes
// made in between are then both in the later rows and replayed from the
// slot (at least once, and the last event of a row is its current state).
type snapshot struct {
	lsn     pglogrepl.LSN // the slot's consistent point
	tables  []*table
	idx     int      // table being read
	after   []any    // text of the primary key to resume after (nil: table start)
	cursor  bool     // a cursor is open on tables[idx]
	held    *heldRow // the row read last, not yet emitted
	read    int      // rows read from tables[idx]
	first   bool     // no snapshot record emitted yet
	started time.Time
}

// beginSnapshot opens the snapshot transaction and lists the tables; from
// resumes an unfinished snapshot.
func (t *Task) beginSnapshot(ctx context.Context, lsn pglogrepl.LSN, exported string, from *position) error {
	sql := "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	if exported != "" {
		sql += "; SET TRANSACTION SNAPSHOT " + literal(exported)
	}
	if _, err := exec(ctx, t.conn, sql); err != nil {
		return fmt.Errorf("starting the snapshot transaction: %w", err)
	}
	names, err := t.listTables(ctx)
	if err != nil {
		return err
	}
	sn := &snapshot{lsn: lsn, first: from == nil, started: time.Now()}
	for _, n := range names {
		tb, err := t.table(ctx, n[0], n[1], nil)
		if err != nil {
			return err
		}
		sn.tables = append(sn.tables, tb)
	}
	if from != nil && from.snapTable != "" {
		i := slices.IndexFunc(sn.tables, func(tb *table) bool { return tb.id() == from.snapTable })
		if i >= 0 {
			sn.idx = i
			if len(from.snapKey) == len(sn.tables[i].keyCols) && len(from.snapKey) > 0 {
				sn.after = from.snapKey
				sn.read = 1
			}
		}
	}
	t.snap = sn
	t.log.Info("snapshot", "tables", len(sn.tables), "lsn", lsn, "exported", exported != "", "resumed", from != nil)
	return nil
}

// table builds a captured table's shape from the catalog; rel, when given,
// is the column order and types of a pgoutput Relation message.
func (t *Task) table(ctx context.Context, schema, name string, rel *pglogrepl.RelationMessage) (*table, error) {
	cat, err := loadCatalog(ctx, t.conn, schema, name)
	if err != nil {
		return nil, connect.Retriable(err)
	}
	if rel != nil {
		byName := map[string]catalogColumn{}
		for _, c := range cat {
			byName[c.name] = c
		}
		cols := make([]catalogColumn, len(rel.Columns))
		for i, rc := range rel.Columns {
			c, ok := byName[rc.Name]
			if !ok {
				// A column dropped since: the catalog no longer knows it.
				c = catalogColumn{name: rc.Name, optional: true, key: -1}
			}
			c.oid, c.typmod = rc.DataType, rc.TypeModifier
			cols[i] = c
		}
		cat = cols
	}
	tb := t.s.newTable(schema, name, cat)
	t.tables[tb.id()] = tb
	return tb, nil
}

// pollSnapshot returns the next rows; done reports that every table was read
// (the transaction is then closed). One row is always held back, across
// tables too, so that the snapshot's last record is known when it is
// emitted (last_snapshot_record, and source.snapshot=last) even when the
// last tables are empty.
func (t *Task) pollSnapshot(ctx context.Context) (recs []connect.SourceRecord, done bool, err error) {
	sn := t.snap
	emit := func(p *heldRow, last bool) error {
		rec, err := t.snapshotRecord(p, sn, last)
		if err == nil {
			recs = append(recs, rec)
		}
		return err
	}
	for len(recs) == 0 {
		if sn.idx >= len(sn.tables) {
			if sn.held != nil {
				err := emit(sn.held, true)
				sn.held = nil
				return recs, false, err
			}
			if _, err := exec(ctx, t.conn, "COMMIT"); err != nil {
				return recs, false, err
			}
			t.log.Info("snapshot done", "took", time.Since(sn.started).Round(time.Millisecond))
			return recs, true, nil
		}
		tb := sn.tables[sn.idx]
		if !sn.cursor {
			if err := t.openCursor(ctx, tb, sn.after); err != nil {
				return nil, false, err
			}
			sn.cursor = true
		}
		rows, err := fetch(ctx, t, t.s.batch)
		if err != nil {
			return nil, false, fmt.Errorf("snapshot of %s: %w", tb.id(), err)
		}
		exhausted := len(rows) < t.s.batch
		for i, vals := range rows {
			if sn.held != nil {
				if err := emit(sn.held, false); err != nil {
					return nil, false, err
				}
			}
			sn.held = &heldRow{tb: tb, vals: vals, firstOfTable: sn.read == 0, lastOfTable: exhausted && i == len(rows)-1}
			sn.read++
		}
		if exhausted {
			if _, err := exec(ctx, t.conn, "CLOSE sluice_snapshot"); err != nil {
				return nil, false, err
			}
			sn.idx, sn.after, sn.cursor, sn.read = sn.idx+1, nil, false, 0
		}
	}
	return recs, false, nil
}

// heldRow is a snapshot row read but not yet emitted.
type heldRow struct {
	tb                        *table
	vals                      []tupleValue
	firstOfTable, lastOfTable bool
}

// openCursor declares the snapshot cursor on a table, ordered by primary
// key and starting after `after` when resuming.
func (t *Task) openCursor(ctx context.Context, tb *table, after []any) error {
	cols := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		cols[i] = ident(c.name)
	}
	sql := "DECLARE sluice_snapshot NO SCROLL CURSOR FOR SELECT " + strings.Join(cols, ", ") + " FROM " + ident(tb.schema) + "." + ident(tb.name)
	if len(tb.keyCols) > 0 {
		keys := make([]string, len(tb.keyCols))
		for i, j := range tb.keyCols {
			keys[i] = ident(tb.cols[j].name)
		}
		if after != nil {
			vals := make([]string, len(after))
			for i, v := range after {
				vals[i] = literal(fmt.Sprint(v))
			}
			sql += " WHERE (" + strings.Join(keys, ", ") + ") > (" + strings.Join(vals, ", ") + ")"
		}
		sql += " ORDER BY " + strings.Join(keys, ", ")
	}
	if _, err := exec(ctx, t.conn, sql); err != nil {
		return fmt.Errorf("snapshot of %s: %w", tb.id(), err)
	}
	return nil
}

// fetch reads up to n rows from the snapshot cursor.
func fetch(ctx context.Context, t *Task, n int) ([][]tupleValue, error) {
	rows, err := exec(ctx, t.conn, fmt.Sprintf("FETCH %d FROM sluice_snapshot", n))
	if err != nil {
		return nil, err
	}
	out := make([][]tupleValue, len(rows))
	for i, r := range rows {
		vals := make([]tupleValue, len(r))
		for j, b := range r {
			vals[j] = tupleValue{text: string(b), null: b == nil}
		}
		out[i] = vals
	}
	return out, nil
}

// snapshotRecord is a read (op r) event of one row.
func (t *Task) snapshotRecord(p *heldRow, sn *snapshot, last bool) (connect.SourceRecord, error) {
	tb, vals := p.tb, p.vals
	after, err := tb.row(vals)
	if err != nil {
		return connect.SourceRecord{}, err
	}
	key, err := tb.key(vals)
	if err != nil {
		return connect.SourceRecord{}, err
	}
	marker := debezium.SnapshotPosition{First: sn.first, Last: last, FirstOfTable: p.firstOfTable, LastOfTable: p.lastOfTable}.Marker()
	sn.first = false
	now := time.Now()
	value := debezium.NewEnvelope(tb.envelope, debezium.OpRead, nil, after,
		tb.source(t.s, marker, now, 0, int64(sn.lsn), 0), nil, now)
	offset := map[string]any{lsnKey: int64(sn.lsn), tsUsecKey: now.UnixMicro(), snapshotKey: true, lastSnapshotRecordKey: last}
	if !last {
		offset[snapshotTableKey] = tb.id()
		if len(tb.keyCols) > 0 {
			offset[snapshotRowKey] = tb.keyText(vals)
		}
	}
	return t.record(tb, key, value, offset, now), nil
}
