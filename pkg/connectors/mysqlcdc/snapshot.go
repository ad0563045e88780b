package mysqlcdc

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// snapshot reads the captured tables in one consistent-snapshot
// transaction, with the binlog position of that snapshot: MariaDB reports
// it (binlog_snapshot_file/position); on MySQL the tables are locked
// (FLUSH TABLES WITH READ LOCK) while the transaction starts. A snapshot cut
// short by a lease's budget resumes in the next lease after the last
// primary key emitted, in a new transaction.
type snapshot struct {
	conn    *sql.Conn
	file    string
	pos     uint32
	tables  []*table
	idx     int
	after   []any // primary key to resume after in tables[idx] (an earlier lease's last row)
	read    int64 // rows of tables[idx] read so far
	rows    *sql.Rows
	held    *held
	first   bool
	started time.Time
}

type held struct {
	tb                        *table
	vals                      []any
	n                         int64
	firstOfTable, lastOfTable bool
}

// queryer is a *sql.DB or, inside the snapshot's transaction, a *sql.Conn.
type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// capturedNames lists the captured base tables, of database db only when
// db is not empty, as [database, table] in name order: byte order, case
// counting, as Debezium orders table ids (information_schema's collation
// ignores case).
func (t *Task) capturedNames(ctx context.Context, q queryer, db string) ([][2]string, error) {
	query, args := `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'`, []any{}
	if db != "" {
		query, args = query+` AND TABLE_SCHEMA = ?`, append(args, db)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, connect.Retriable(fmt.Errorf("listing the tables: %w", err))
	}
	defer rows.Close()
	var names [][2]string
	for rows.Next() {
		var d, name string
		if err := rows.Scan(&d, &name); err != nil {
			return nil, err
		}
		if t.s.captured(d, name) {
			names = append(names, [2]string{d, name})
		}
	}
	slices.SortFunc(names, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	return names, rows.Err()
}

// loadCaptured loads every captured base table, in name order.
func (t *Task) loadCaptured(ctx context.Context, q queryer) ([]*table, error) {
	names, err := t.capturedNames(ctx, q, "")
	if err != nil {
		return nil, err
	}
	var tables []*table
	for _, n := range names {
		tb, err := t.table(ctx, n[0], n[1])
		if err != nil {
			return nil, err
		}
		tables = append(tables, tb)
	}
	return tables, nil
}

func (t *Task) beginSnapshot(ctx context.Context, from map[string]any) error {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return connect.Retriable(err)
	}
	sn := &snapshot{conn: conn, first: from == nil, started: time.Now()}
	t.snap = sn
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		return err
	}
	if t.mariadb {
		if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return err
		}
		var name, file, pos string
		if err := conn.QueryRowContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_file'").Scan(&name, &file); err != nil {
			return fmt.Errorf("reading the snapshot's binlog position: %w", err)
		}
		if err := conn.QueryRowContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_position'").Scan(&name, &pos); err != nil {
			return fmt.Errorf("reading the snapshot's binlog position: %w", err)
		}
		var p int
		fmt.Sscan(pos, &p)
		sn.file, sn.pos = file, uint32(p)
	} else {
		if _, err := conn.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
			return fmt.Errorf("locking the tables for the snapshot: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return err
		}
		file, pos, err := t.binlogEnd(ctx)
		if _, uerr := conn.ExecContext(ctx, "UNLOCK TABLES"); uerr != nil && err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
		sn.file, sn.pos = file, pos
	}
	if sn.tables, err = t.loadCaptured(ctx, conn); err != nil {
		return err
	}
	if err := t.snapshotSchema(ctx, sn, from); err != nil {
		return err
	}
	if from != nil {
		id, _ := from[snapshotTableKey].(string)
		for i, tb := range sn.tables {
			if tb.id() == id {
				sn.idx = i
				if k, ok := from[snapshotCountKey].([]any); ok && len(k) == len(tb.keyCols) && len(k) > 0 {
					sn.after = k
				}
			}
		}
	}
	t.log.Info("snapshot", "tables", len(sn.tables), "file", sn.file, "pos", sn.pos, "resumed", from != nil)
	return nil
}

// snapshotSchema records the snapshot's tables: in the schema history
// when the snapshot starts, and as schema change events (all when it
// starts, those an earlier lease did not write when it resumes among
// them).
func (t *Task) snapshotSchema(ctx context.Context, sn *snapshot, from map[string]any) error {
	skip, resumed := snapshotDDLCount(from)
	if from != nil && (!resumed || !t.s.schemaChanges) {
		return nil
	}
	st, err := readSnapshotTables(ctx, sn.conn, sn.tables)
	if err != nil {
		return err
	}
	if from == nil {
		if err := t.snapshotHistory(ctx, sn.file, sn.pos, st); err != nil {
			return err
		}
	}
	if !t.s.schemaChanges {
		return nil
	}
	now := time.Now()
	recs, err := t.snapshotSchemaRecords(ctx, sn.conn, sn.file, sn.pos, st, func(n int) map[string]any {
		return map[string]any{fileKey: sn.file, posKey: int64(sn.pos), snapshotKey: true, snapshotDoneKey: false,
			tsSecKey: now.Unix(), snapshotDDLKey: int64(n)}
	})
	if err != nil {
		return err
	}
	t.pending = recs[min(int(skip), len(recs)):]
	return nil
}

func (t *Task) pollSnapshot(ctx context.Context) (recs []connect.SourceRecord, done bool, err error) {
	sn := t.snap
	emit := func(h *held, last bool) error {
		rec, err := t.snapshotRecord(sn, h, last)
		recs = append(recs, rec)
		return err
	}
	for len(recs) == 0 {
		if sn.idx >= len(sn.tables) {
			if sn.held != nil {
				err := emit(sn.held, true)
				sn.held = nil
				return recs, false, err
			}
			_, err := sn.conn.ExecContext(ctx, "COMMIT")
			sn.conn.Close()
			sn.conn = nil
			t.log.Info("snapshot done", "took", time.Since(sn.started).Round(time.Millisecond))
			return recs, true, err
		}
		tb := sn.tables[sn.idx]
		if sn.rows == nil {
			cols := make([]string, len(tb.cols))
			for i, c := range tb.cols {
				cols[i] = quoteIdent(c.name)
			}
			q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(tb.db) + "." + quoteIdent(tb.name)
			if len(tb.keyCols) > 0 {
				keys := make([]string, len(tb.keyCols))
				for i, j := range tb.keyCols {
					keys[i] = quoteIdent(tb.cols[j].name)
				}
				if sn.after != nil {
					q += " WHERE (" + strings.Join(keys, ", ") + ") > (" + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + ")"
				}
				q += " ORDER BY " + strings.Join(keys, ", ")
			}
			if sn.rows, err = sn.conn.QueryContext(ctx, q, sn.after...); err != nil {
				return nil, false, fmt.Errorf("snapshot of %s: %w", tb.id(), err)
			}
		}
		for n := 0; n < t.s.batch; n++ {
			if !sn.rows.Next() {
				if err := sn.rows.Err(); err != nil {
					return nil, false, fmt.Errorf("snapshot of %s: %w", tb.id(), err)
				}
				sn.rows.Close()
				sn.rows = nil
				if sn.held != nil && sn.held.tb == tb {
					sn.held.lastOfTable = true
				}
				sn.idx, sn.read, sn.after = sn.idx+1, 0, nil
				break
			}
			vals := make([]any, len(tb.cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := sn.rows.Scan(ptrs...); err != nil {
				return nil, false, err
			}
			sn.read++
			if sn.held != nil {
				if err := emit(sn.held, false); err != nil {
					return nil, false, err
				}
			}
			sn.held = &held{tb: tb, vals: vals, n: sn.read, firstOfTable: sn.read == 1}
		}
	}
	return recs, false, nil
}

func (t *Task) snapshotRecord(sn *snapshot, h *held, last bool) (connect.SourceRecord, error) {
	tb := h.tb
	rec := connect.SourceRecord{SourcePartition: t.partition}
	after, err := tb.row(h.vals)
	if err != nil {
		return rec, err
	}
	key, err := tb.key(h.vals)
	if err != nil {
		return rec, err
	}
	marker := debezium.SnapshotPosition{First: sn.first, Last: last, FirstOfTable: h.firstOfTable, LastOfTable: h.lastOfTable}.Marker()
	sn.first = false
	now := time.Now()
	// The source block's time is in whole seconds, as the binlog's are
	// and as Debezium gives a snapshot record's.
	src := debezium.MySQLSource{Common: debezium.Common{Connector: t.connector, Name: t.s.prefix, DB: tb.db, Snapshot: marker, Time: now.Truncate(time.Second)},
		Table: tb.name, ServerID: 0, File: sn.file, Pos: int64(sn.pos)}.Struct(t.source)
	rec.SourceOffset = map[string]any{fileKey: sn.file, posKey: int64(sn.pos), snapshotKey: true, snapshotDoneKey: last, tsSecKey: now.Unix()}
	if !last {
		rec.SourceOffset[snapshotTableKey] = tb.id()
		if len(tb.keyCols) > 0 {
			k := make([]any, len(tb.keyCols))
			for i, j := range tb.keyCols {
				k[i] = fmt.Sprintf("%s", h.vals[j])
			}
			rec.SourceOffset[snapshotCountKey] = k
		}
	}
	rec.Topic, rec.ValueSchema, rec.Value = tb.topic, tb.envelope, debezium.NewEnvelope(tb.envelope, debezium.OpRead, nil, after, src, nil, now)
	if key != nil {
		rec.KeySchema, rec.Key = tb.keySchema, key
	}
	return rec, nil
}
