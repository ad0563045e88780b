package mysqlcdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// The schema history (Debezium's schema.history.internal.kafka.topic): a
// single-partition topic of the captured tables' definitions, one record
// for each table when the connector first starts and one for each DDL
// statement it reads in the binlog, with the binlog position the
// definitions hold from. A lease that resumes at a position rebuilds the
// tables as they were there, not as information_schema shows them now, so
// rows logged before a later ALTER TABLE are decoded with the columns they
// were written with.
//
// A record is written, and acknowledged by every in-sync replica, before
// the lease reads past its statement, so it is durable before any offset
// after it is committed (rule 1). A replayed statement whose record is
// already in the topic is not written again: its definitions come from the
// record.
//
// The definitions of a DDL statement are read from information_schema
// when the statement is read in the binlog. If further DDL statements on
// the same tables ran before the connector read the first one, the first
// record holds the later shape (Debezium parses the statement instead);
// the lease then fails on a row that does not fit, naming the table.

// historyRecord is one record of the topic, in Debezium's format.
type historyRecord struct {
	Source       map[string]any `json:"source"`
	Position     map[string]any `json:"position"`
	TsMs         int64          `json:"ts_ms"`
	DatabaseName string         `json:"databaseName,omitempty"`
	DDL          string         `json:"ddl"`
	TableChanges []tableChange  `json:"tableChanges"`
}

// tableChange is a table's definition after a statement (Debezium's
// TableChanges serialisation).
type tableChange struct {
	Type  string        `json:"type"` // CREATE, ALTER or DROP
	ID    string        `json:"id"`   // "db"."table"
	Table *historyTable `json:"table,omitempty"`
}

type historyTable struct {
	DefaultCharsetName    *string         `json:"defaultCharsetName"`
	PrimaryKeyColumnNames []string        `json:"primaryKeyColumnNames"`
	Columns               []historyColumn `json:"columns"`
	Attributes            []any           `json:"attributes"`
}

type historyColumn struct {
	Name            string  `json:"name"`
	JdbcType        int32   `json:"jdbcType"`
	TypeName        string  `json:"typeName"`
	TypeExpression  string  `json:"typeExpression"`
	CharsetName     *string `json:"charsetName"`
	Length          int     `json:"length"`
	Scale           int     `json:"scale"`
	Position        int     `json:"position"`
	Optional        bool    `json:"optional"`
	AutoIncremented bool    `json:"autoIncremented"`
	Generated       bool    `json:"generated"`
	Comment         *string `json:"comment"`
	HasDefaultValue bool    `json:"hasDefaultValue"`
	// DefaultValueExpression is the default's text (a string literal
	// without its outer quotes), with HasDefaultValue.
	DefaultValueExpression *string  `json:"defaultValueExpression,omitempty"`
	EnumValues             []string `json:"enumValues"`
}

// tableID is Debezium's table id, "db"."table".
func tableID(db, name string) string { return `"` + db + `"."` + name + `"` }

func splitTableID(id string) (db, name string, ok bool) {
	db, name, ok = strings.Cut(id, `"."`)
	if !ok || !strings.HasPrefix(db, `"`) || !strings.HasSuffix(name, `"`) {
		return "", "", false
	}
	return db[1:], name[:len(name)-1], true
}

func historyOf(t *table, charset *string) *historyTable {
	h := &historyTable{DefaultCharsetName: charset, PrimaryKeyColumnNames: []string{}, Attributes: []any{}}
	for i, c := range t.cols {
		typeName := strings.ToUpper(c.dataType)
		h.Columns = append(h.Columns, historyColumn{Name: c.name, JdbcType: jdbcType(c.dataType), TypeName: typeName,
			TypeExpression: c.columnType, CharsetName: c.charset, Length: c.precision, Scale: c.scale, Position: i + 1, Optional: c.optional,
			AutoIncremented: c.autoInc, Generated: c.generated,
			HasDefaultValue: c.def != nil, DefaultValueExpression: c.def, EnumValues: enumValues(c.columnType)})
		if c.key {
			h.PrimaryKeyColumnNames = append(h.PrimaryKeyColumnNames, c.name)
		}
	}
	return h
}

// jdbcType is a column type's java.sql.Types code as Debezium gives it
// (OTHER for types it does not map), the same in the schema history and
// the schema change events.
func jdbcType(dataType string) int32 {
	if t, ok := schemaJdbcTypes[dataType]; ok {
		return t
	}
	return 1111
}

// columns are the history table's columns as readColumns returns them.
func (h *historyTable) columns() []column {
	cols := make([]column, len(h.Columns))
	for i, c := range h.Columns {
		cols[i] = column{name: c.Name, dataType: strings.ToLower(c.TypeName), columnType: c.TypeExpression,
			optional: c.Optional, key: slices.Contains(h.PrimaryKeyColumnNames, c.Name), precision: c.Length, scale: c.Scale,
			charset: c.CharsetName, autoInc: c.AutoIncremented, generated: c.Generated}
		if c.HasDefaultValue {
			cols[i].def = c.DefaultValueExpression
		}
	}
	return cols
}

// binlogPos is a position in the binlog: file, then offset in it. A
// snapshot's records hold from before any binlog position of the same
// file and offset.
type binlogPos struct {
	file     string
	pos      int64
	snapshot bool
}

func positionOf(m map[string]any) (binlogPos, bool) {
	file, _ := m[fileKey].(string)
	pos, err := connect.OffsetPosition(m[posKey])
	if file == "" || err != nil {
		return binlogPos{}, false
	}
	snap, _ := m[snapshotKey].(bool)
	return binlogPos{file: file, pos: pos, snapshot: snap}, true
}

// before reports whether the definitions at p hold at q.
func (p binlogPos) before(q binlogPos) bool {
	if p.file != q.file {
		return p.file < q.file
	}
	return p.pos < q.pos || p.pos == q.pos && p.snapshot && !q.snapshot
}

// history writes and reads the schema history topic.
type history struct {
	client   *kafka.Client
	producer *kafka.Producer
	topic    string
	server   string
	// ahead are the records past the position the lease resumed at, by
	// position: a replayed statement takes its definitions from them.
	ahead map[binlogPos][]historyRecord
}

// historyPrefix prefixes the Kafka client settings of the history topic
// (Debezium's schema.history.internal.producer.* and consumer.*; Sluice
// uses one client for both).
const historyPrefix = "schema.history.internal.producer."

// openHistory connects to the history topic's cluster, creating the topic
// (one partition, kept forever) if it does not exist.
func openHistory(ctx context.Context, s *settings, props map[string]string) (*history, error) {
	sub := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, historyPrefix); ok {
			sub[rest] = v
		}
	}
	sec, err := kafka.SecurityFromProperties(sub)
	if err != nil {
		return nil, fmt.Errorf("schema history: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, err := kafka.Dial(dctx, kafka.Config{Brokers: s.historyServers, ClientID: "sluice-schema-history", Security: sec})
	if err != nil {
		return nil, connect.Retriable(fmt.Errorf("schema history: %w", err))
	}
	h := &history{client: client, topic: s.historyTopic, server: s.prefix}
	if _, err := client.CreateTopic(dctx, kafka.TopicSpec{Name: s.historyTopic, Partitions: 1,
		Configs: map[string]string{"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}}); err != nil {
		h.close()
		return nil, connect.Retriable(fmt.Errorf("schema history: creating topic %s: %w", s.historyTopic, err))
	}
	if h.producer, err = client.NewProducer(kafka.ProducerOptions{}); err != nil {
		h.close()
		return nil, connect.Retriable(fmt.Errorf("schema history: %w", err))
	}
	return h, nil
}

func (h *history) close() {
	if h.producer != nil {
		_ = h.producer.Close()
	}
	_ = h.client.Close()
}

// recover reads the whole topic and returns the tables as they were at
// at (or, with at nil, as the last records have them); the records past
// at are kept for replayed statements.
func (h *history) recover(ctx context.Context, at *binlogPos) (map[string][]column, error) {
	tp := kafka.TopicPartition{Topic: h.topic, Partition: 0}
	wm, err := h.client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		return nil, connect.Retriable(fmt.Errorf("schema history: reading topic %s: %w", h.topic, err))
	}
	tables := map[string][]column{}
	h.ahead = map[binlogPos][]historyRecord{}
	if wm[tp].High <= wm[tp].Low {
		return tables, nil
	}
	err = h.client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			var r historyRecord
			if err := json.Unmarshal(m.Value, &r); err != nil {
				return fmt.Errorf("record at offset %d: %w", m.Offset, err)
			}
			if srv, _ := r.Source["server"].(string); srv != h.server {
				continue // another connector's history in the same topic
			}
			p, ok := positionOf(r.Position)
			if !ok {
				return fmt.Errorf("record at offset %d has no binlog position", m.Offset)
			}
			if at != nil && !p.before(*at) {
				h.ahead[p] = append(h.ahead[p], r)
				continue
			}
			apply(tables, r)
		}
		return nil
	})
	if err != nil {
		return nil, connect.Retriable(fmt.Errorf("schema history: reading topic %s: %w", h.topic, err))
	}
	return tables, nil
}

// apply sets the tables a record defines and removes those it drops.
func apply(tables map[string][]column, r historyRecord) {
	for _, c := range r.TableChanges {
		db, name, ok := splitTableID(c.ID)
		if !ok {
			continue
		}
		if c.Type == "DROP" || c.Table == nil {
			delete(tables, db+"."+name)
			continue
		}
		tables[db+"."+name] = c.Table.columns()
	}
}

// write appends a record and waits until Kafka has it.
func (h *history) write(ctx context.Context, r historyRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := h.producer.Send(ctx, kafka.Message{Topic: h.topic, Partition: 0, Value: b}); err != nil {
		return connect.Retriable(fmt.Errorf("schema history: writing to %s: %w", h.topic, err))
	}
	if err := h.producer.Flush(ctx); err != nil {
		return connect.Retriable(fmt.Errorf("schema history: writing to %s: %w", h.topic, err))
	}
	return nil
}

func (h *history) record(p binlogPos, serverID uint32, db, ddl string, changes []tableChange) historyRecord {
	pos := map[string]any{fileKey: p.file, posKey: p.pos, serverIDKey: int64(serverID)}
	if p.snapshot {
		pos[snapshotKey] = true
	}
	return historyRecord{Source: map[string]any{"server": h.server}, Position: pos, TsMs: time.Now().UnixMilli(),
		DatabaseName: db, DDL: ddl, TableChanges: changes}
}

// snapshotTable is a captured table at the snapshot's (or the stream's
// first) position: its shape, SHOW CREATE TABLE statement and default
// character set.
type snapshotTable struct {
	tb      *table
	ddl     string
	charset *string
}

// readSnapshotTables reads the tables' CREATE TABLE statements and
// default character sets.
func readSnapshotTables(ctx context.Context, q queryer, tables []*table) ([]snapshotTable, error) {
	out := make([]snapshotTable, len(tables))
	for i, tb := range tables {
		var name, ddl string
		show := "SHOW CREATE TABLE " + quoteIdent(tb.db) + "." + quoteIdent(tb.name)
		if err := q.QueryRowContext(ctx, show).Scan(&name, &ddl); err != nil {
			return nil, fmt.Errorf("%s: %w", show, err)
		}
		cs, err := tableCharset(ctx, q, tb.db, tb.name)
		if err != nil {
			return nil, err
		}
		out[i] = snapshotTable{tb: tb, ddl: ddl, charset: cs}
	}
	return out, nil
}

// tableCharset is a table's default character set: its collation's
// (a collation's name starts with its character set's).
func tableCharset(ctx context.Context, q queryer, db, name string) (*string, error) {
	var cs sql.NullString
	err := q.QueryRowContext(ctx, `SELECT SUBSTRING_INDEX(TABLE_COLLATION, '_', 1) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
		db, name).Scan(&cs)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, connect.Retriable(fmt.Errorf("reading the character set of %s.%s: %w", db, name, err))
	}
	if !cs.Valid {
		return nil, nil
	}
	return &cs.String, nil
}

// snapshotHistory writes one record per captured table at the snapshot's
// (or the stream's first) position, with its CREATE TABLE statement.
func (t *Task) snapshotHistory(ctx context.Context, file string, pos uint32, tables []snapshotTable) error {
	if t.hist == nil {
		return nil
	}
	p := binlogPos{file: file, pos: int64(pos), snapshot: true}
	for _, st := range tables {
		tb := st.tb
		r := t.hist.record(p, t.s.serverID, tb.db, st.ddl, []tableChange{{Type: "CREATE", ID: tableID(tb.db, tb.name), Table: historyOf(tb, st.charset)}})
		if err := t.hist.write(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// dbChanges are a DDL statement's changes to one database's captured
// tables.
type dbChanges struct {
	db      string
	changes []tableChange
}

// ddlChanges returns how a DDL statement read at p changed the captured
// tables of dbs, and records them in the schema history: a replayed
// statement takes the definitions its history records hold; otherwise
// they are read from information_schema and compared with the tables
// known, and each database's changed ones are written.
func (t *Task) ddlChanges(ctx context.Context, p binlogPos, dbs []string, ddl string) ([]dbChanges, error) {
	if t.hist != nil {
		if rs, ok := t.hist.ahead[p]; ok {
			delete(t.hist.ahead, p)
			var out []dbChanges
			for _, r := range rs {
				for _, c := range r.TableChanges {
					if d, name, ok := splitTableID(c.ID); ok {
						delete(t.tables, d+"."+name)
						if c.Type != "DROP" && c.Table != nil {
							t.tables[d+"."+name] = t.s.newTable(t.source, d, name, c.Table.columns())
						}
					}
				}
				out = append(out, dbChanges{db: r.DatabaseName, changes: r.TableChanges})
			}
			return out, nil
		}
	}
	var out []dbChanges
	for _, db := range dbs {
		changes, err := t.reloadTables(ctx, db)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			continue
		}
		if t.hist != nil {
			if err := t.hist.write(ctx, t.hist.record(p, t.s.serverID, db, ddl, changes)); err != nil {
				return nil, err
			}
		}
		out = append(out, dbChanges{db: db, changes: changes})
	}
	return out, nil
}

// reloadTables reads db's captured tables from information_schema and
// returns how they changed from the tables known.
func (t *Task) reloadTables(ctx context.Context, db string) ([]tableChange, error) {
	names, err := t.capturedNames(ctx, t.db, db)
	if err != nil {
		return nil, err
	}
	var changes []tableChange
	now := map[string]bool{}
	for _, n := range names {
		name := n[1]
		now[db+"."+name] = true
		cols, err := readColumns(ctx, t.db, db, name)
		if err != nil {
			return nil, connect.Retriable(err)
		}
		tb := t.s.newTable(t.source, db, name, cols)
		old, known := t.tables[tb.id()]
		t.tables[tb.id()] = tb
		typ := "CREATE"
		if known {
			if slices.EqualFunc(old.cols, tb.cols, sameColumn) {
				continue
			}
			typ = "ALTER"
		}
		cs, err := tableCharset(ctx, t.db, db, name)
		if err != nil {
			return nil, err
		}
		changes = append(changes, tableChange{Type: typ, ID: tableID(db, name), Table: historyOf(tb, cs)})
	}
	for _, id := range slices.Sorted(maps.Keys(t.tables)) {
		if d, name, _ := strings.Cut(id, "."); d == db && !now[id] {
			delete(t.tables, id)
			changes = append(changes, tableChange{Type: "DROP", ID: tableID(d, name)})
		}
	}
	return changes, nil
}

func sameColumn(a, b column) bool {
	return a.name == b.name && a.dataType == b.dataType && a.columnType == b.columnType && a.optional == b.optional &&
		a.key == b.key && a.autoInc == b.autoInc && a.generated == b.generated && a.precision == b.precision && a.scale == b.scale && (a.def == nil) == (b.def == nil) &&
		(a.def == nil || *a.def == *b.def) && (a.charset == nil) == (b.charset == nil) && (a.charset == nil || *a.charset == *b.charset)
}
