package mysqlcdc

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// Schema change events (include.schema.changes, true by default): on the
// topic <topic.prefix>, keyed by database, as Debezium's binlog
// connectors write them.
//
// A snapshot (and snapshot.mode=no_data's start) first writes the
// statements Debezium writes for it: SET character_set_server and
// collation_server; DROP TABLE IF EXISTS of each captured table; for each
// database of those tables DROP DATABASE IF EXISTS, CREATE DATABASE with
// its character set and collation, and USE; then each table's SHOW CREATE
// TABLE statement with its definition. Their offsets count them
// (snapshotDDLKey), so that a lease resuming after some of them writes the
// others, read again.
//
// In the binlog, each DDL statement that changes captured tables has one
// event per table changed (CREATE, ALTER or DROP), with the statement's
// text as read; a CREATE, ALTER or DROP of a captured database, or a
// statement of that kind run in one that changes no captured table, has
// one event without table changes. The events of a statement but the last
// have the offset of the statement's transaction with their count (as a
// transaction's row changes do); the last the position after it. A lease
// resuming before the statement reads it again and writes its events; one
// resuming inside them writes those not written yet.

// snapshotDDLKey counts, in the offsets of the snapshot's schema change
// events, the events written so far.
const snapshotDDLKey = "snapshot_ddl"

// Debezium's java.sql.Types of the MySQL types (its DDL parser's).
var schemaJdbcTypes = map[string]int32{
	"tinyint": 5, "smallint": 5, "mediumint": 4, "int": 4, "integer": 4, "bigint": -5, "float": 6, "double": 8,
	"real": 7, "decimal": 3, "numeric": 2, "bit": -7, "bool": 16, "boolean": 16,
	"char": 1, "varchar": 12, "tinytext": 12, "text": 12, "mediumtext": 12, "longtext": 12, "enum": 1, "set": 1,
	"binary": -2, "varbinary": -3, "tinyblob": 2004, "blob": 2004, "mediumblob": 2004, "longblob": 2004,
	"date": 91, "time": 92, "datetime": 93, "timestamp": 2014, "year": 4,
}

// typeArgs are the numbers in a column type's parentheses ("decimal(10,2)"
// gives 10 and 2).
func typeArgs(columnType string) []int32 {
	_, inner, ok := strings.Cut(columnType, "(")
	if !ok {
		return nil
	}
	inner, _, _ = strings.Cut(inner, ")")
	var out []int32
	for _, a := range strings.Split(inner, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(a), 10, 32)
		if err != nil {
			return nil
		}
		out = append(out, int32(n))
	}
	return out
}

// quotedValues are an ENUM or SET type's values as the type has them,
// quoted.
func quotedValues(columnType string) []string {
	_, inner, _ := strings.Cut(columnType, "(")
	inner = strings.TrimSuffix(strings.TrimSpace(inner), ")")
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(inner); i++ {
		ch := inner[i]
		switch {
		case ch == '\'' && quoted && i+1 < len(inner) && inner[i+1] == '\'':
			cur.WriteString("''")
			i++
			continue
		case ch == '\'':
			quoted = !quoted
		case ch == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(ch)
	}
	return append(out, cur.String())
}

// schemaColumn is a column as Debezium's schema change events describe
// it: the type's name in capitals with UNSIGNED (and ZEROFILL) as type
// name and expression, the length and scale in its parentheses (an ENUM's
// length 1, a SET's its values and commas between them).
func schemaColumn(c historyColumn) debezium.SchemaColumn {
	dataType := strings.ToLower(c.TypeName)
	ct := strings.ToLower(c.TypeExpression)
	name := strings.ToUpper(dataType)
	if strings.Contains(ct, "unsigned") {
		name += " UNSIGNED"
	}
	if strings.Contains(ct, "zerofill") {
		name += " ZEROFILL"
	}
	sc := debezium.SchemaColumn{Name: c.Name, JdbcType: jdbcType(dataType), TypeName: name, TypeExpression: &name, CharsetName: c.CharsetName,
		Position: int32(c.Position), Optional: c.Optional, AutoIncremented: c.AutoIncremented, Generated: c.Generated}
	if c.HasDefaultValue {
		sc.DefaultValueExpression = c.DefaultValueExpression
	}
	switch dataType {
	case "enum", "set":
		sc.EnumValues = quotedValues(c.TypeExpression)
		n := int32(1)
		if dataType == "set" {
			n = int32(max(0, 2*len(sc.EnumValues)-1))
		}
		sc.Length = &n
	default:
		args := typeArgs(c.TypeExpression)
		if len(args) > 0 {
			sc.Length = &args[0]
		}
		if len(args) > 1 {
			sc.Scale = &args[1]
		}
	}
	return sc
}

// schemaChanges converts table changes to the events'.
func schemaChanges(changes []tableChange) []debezium.TableChange {
	out := make([]debezium.TableChange, len(changes))
	for i, c := range changes {
		out[i] = debezium.TableChange{Type: c.Type, ID: c.ID}
		if c.Type == "DROP" || c.Table == nil {
			continue
		}
		st := &debezium.SchemaTable{DefaultCharsetName: c.Table.DefaultCharsetName, PrimaryKeyColumnNames: c.Table.PrimaryKeyColumnNames}
		if st.PrimaryKeyColumnNames == nil {
			st.PrimaryKeyColumnNames = []string{}
		}
		for _, col := range c.Table.Columns {
			st.Columns = append(st.Columns, schemaColumn(col))
		}
		out[i].Table = st
	}
	return out
}

// schemaRecord is a schema change event of database db (its table table,
// or none) with source block src.
func (t *Task) schemaRecord(src debezium.MySQLSource, db, ddl string, changes []tableChange, off map[string]any) connect.SourceRecord {
	k, v := t.schemas.Record(debezium.SchemaChange{Source: src.Struct(t.source), Time: time.Now(), DatabaseName: db, DDL: ddl,
		TableChanges: schemaChanges(changes)})
	r := connect.SourceRecord{SourcePartition: t.partition, SourceOffset: off}
	r.Topic, r.Partition = t.s.prefix, connect.PartitionOf(0)
	r.KeySchema, r.Key, r.ValueSchema, r.Value = t.schemas.Key, k, t.schemas.Value, v
	return r
}

// snapshotSchemaRecords are the schema change events of a snapshot at
// file and pos of tables; offset gives the offset of the event after n
// events.
func (t *Task) snapshotSchemaRecords(ctx context.Context, q queryer, file string, pos uint32, tables []snapshotTable,
	offset func(n int) map[string]any) ([]connect.SourceRecord, error) {
	var charset, collation string
	if err := q.QueryRowContext(ctx, "SELECT @@character_set_server, @@collation_server").Scan(&charset, &collation); err != nil {
		return nil, connect.Retriable(fmt.Errorf("reading the server's character set: %w", err))
	}
	var recs []connect.SourceRecord
	add := func(db, table, ddl string, changes []tableChange) {
		src := debezium.MySQLSource{Common: debezium.Common{Connector: t.connector, Name: t.s.prefix, DB: db, Snapshot: debezium.SnapshotTrue,
			Time: time.Now()}, Table: table, File: file, Pos: int64(pos)}
		recs = append(recs, t.schemaRecord(src, db, ddl, changes, offset(len(recs)+1)))
	}
	add("", "", "SET character_set_server="+charset+", collation_server="+collation, nil)
	var dbs []string
	for _, st := range tables {
		tb := st.tb
		add(tb.db, tb.name, "DROP TABLE IF EXISTS "+quoteIdent(tb.db)+"."+quoteIdent(tb.name), []tableChange{{Type: "DROP", ID: tableID(tb.db, tb.name)}})
		if len(dbs) == 0 || dbs[len(dbs)-1] != tb.db {
			dbs = append(dbs, tb.db)
		}
	}
	for _, db := range dbs {
		var cs, co sql.NullString
		if err := q.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
			db).Scan(&cs, &co); err != nil {
			return nil, connect.Retriable(fmt.Errorf("reading the character set of database %s: %w", db, err))
		}
		add(db, "", "DROP DATABASE IF EXISTS "+quoteIdent(db), nil)
		add(db, "", "CREATE DATABASE "+quoteIdent(db)+" CHARSET "+cs.String+" COLLATE "+co.String, nil)
		add(db, "", "USE "+quoteIdent(db), nil)
		for _, st := range tables {
			if tb := st.tb; tb.db == db {
				add(db, tb.name, st.ddl, []tableChange{{Type: "CREATE", ID: tableID(db, tb.name), Table: historyOf(tb, st.charset)}})
			}
		}
	}
	return recs, nil
}

// snapshotDDLCount is how many snapshot schema change events an offset
// says were written; ok false when it is not one of theirs.
func snapshotDDLCount(off map[string]any) (n int64, ok bool) {
	v, ok := off[snapshotDDLKey]
	if !ok {
		return 0, false
	}
	n, err := connect.OffsetPosition(v)
	return n, err == nil
}

// databaseDDL matches a statement on a database, naming it.
var databaseDDL = regexp.MustCompile("(?is)^\\s*(?:CREATE|ALTER|DROP)\\s+(?:OR\\s+REPLACE\\s+)?(?:DATABASE|SCHEMA)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(?:`((?:[^`]|``)+)`|([^\\s;`]+))")

// schemaDDL matches the statements that write an event without table
// changes when they change no captured table.
var schemaDDL = regexp.MustCompile(`(?is)^\s*(?:CREATE|ALTER|DROP|RENAME)\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+|ONLINE\s+|IGNORE\s+|UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)*(?:TABLE|TABLES|DATABASE|SCHEMA|INDEX|VIEW)\b`)

// Table names in DDL statements: an identifier, quoted or not, and a
// table's name, with its database or without.
const (
	identRE = "(?:`(?:[^`]|``)+`|[A-Za-z0-9_$\\x{80}-\\x{10FFFF}]+)"
	qnameRE = identRE + `(?:\s*\.\s*` + identRE + `)?`
)

// The statements whose tables the events name, as Debezium's parser
// does: CREATE TABLE, ALTER TABLE (without RENAME), DROP TABLE and
// CREATE or DROP INDEX (an ALTER of its table).
var (
	createTableDDL = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(` + qnameRE + `)`)
	alterTableDDL  = regexp.MustCompile(`(?is)^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?(` + qnameRE + `)`)
	dropTableDDL   = regexp.MustCompile(`(?is)^\s*DROP\s+TABLES?\s+(?:IF\s+EXISTS\s+)?(` + qnameRE + `(?:\s*,\s*` + qnameRE + `)*)`)
	indexDDL       = regexp.MustCompile(`(?is)^\s*(?:CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?(?:ONLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?` +
		identRE + `\s+(?:USING\s+\w+\s+)?ON\s+(` + qnameRE + `)`)
	renameDDL = regexp.MustCompile(`(?i)\bRENAME\b`)
	qnameAll  = regexp.MustCompile(qnameRE)
	identAll  = regexp.MustCompile(identRE)
)

// namedTable is a table a DDL statement names, with the change it makes.
type namedTable struct{ typ, db, name string }

func unquoteIdent(s string) string {
	if strings.HasPrefix(s, "`") {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// namedTables are the tables a DDL statement run in database current
// names; ok false for other statements.
func namedTables(ddl, current string) (out []namedTable, ok bool) {
	qname := func(typ, q string) {
		parts := identAll.FindAllString(q, -1)
		db, name := current, unquoteIdent(parts[len(parts)-1])
		if len(parts) == 2 {
			db = unquoteIdent(parts[0])
		}
		out = append(out, namedTable{typ: typ, db: db, name: name})
	}
	switch {
	case createTableDDL.MatchString(ddl):
		qname("CREATE", createTableDDL.FindStringSubmatch(ddl)[1])
	case alterTableDDL.MatchString(ddl) && !renameDDL.MatchString(ddl):
		qname("ALTER", alterTableDDL.FindStringSubmatch(ddl)[1])
	case dropTableDDL.MatchString(ddl):
		for _, q := range qnameAll.FindAllString(dropTableDDL.FindStringSubmatch(ddl)[1], -1) {
			qname("DROP", q)
		}
	case indexDDL.MatchString(ddl):
		qname("ALTER", indexDDL.FindStringSubmatch(ddl)[1])
	default:
		return nil, false
	}
	return out, true
}

// ddlEvent is a schema change event of a DDL statement: a database's,
// or one table's change.
type ddlEvent struct {
	db, table string
	changes   []tableChange
}

// ddlEvents are the events of a DDL statement run in database current:
// one for each captured table it names (its definition after the
// statement as the tables known have it, none when it was dropped
// since), or, for a statement whose
// tables cannot be told, one for each table the tables known say it
// changed; a statement on a captured database, or one of its kind that
// changes no captured table, has one without table changes.
func (t *Task) ddlEvents(ctx context.Context, current, ddl string, named []namedTable, parsed bool, changes []dbChanges) ([]ddlEvent, error) {
	var evs []ddlEvent
	if parsed {
		for _, n := range named {
			if !t.s.captured(n.db, n.name) {
				continue
			}
			c := tableChange{Type: n.typ, ID: tableID(n.db, n.name)}
			if n.typ != "DROP" {
				for _, dc := range changes {
					for _, ch := range dc.changes {
						if ch.ID == c.ID && ch.Table != nil {
							c.Table = ch.Table
						}
					}
				}
				// A table dropped since has no definition.
				if tb, ok := t.tables[n.db+"."+n.name]; ok && c.Table == nil {
					cs, err := tableCharset(ctx, t.db, n.db, n.name)
					if err != nil {
						return nil, err
					}
					c.Table = historyOf(tb, cs)
				}
			}
			evs = append(evs, ddlEvent{db: n.db, table: n.name, changes: []tableChange{c}})
		}
		return evs, nil
	}
	for _, dc := range changes {
		for _, c := range dc.changes {
			_, name, _ := splitTableID(c.ID)
			evs = append(evs, ddlEvent{db: dc.db, table: name, changes: []tableChange{c}})
		}
	}
	if len(evs) == 0 && schemaDDL.MatchString(ddl) {
		db := current
		if m := databaseDDL.FindStringSubmatch(ddl); m != nil {
			db = m[2]
			if m[1] != "" {
				db = strings.ReplaceAll(m[1], "``", "`")
			}
		}
		if db != "" && t.s.capturedDB(db) {
			evs = append(evs, ddlEvent{db: db})
		}
	}
	return evs, nil
}

// ddlRecords are the records of a DDL statement's events, read at h.
// Those an earlier lease wrote (the statement's transaction's skip count)
// are left out.
func (t *Task) ddlRecords(h *replication.EventHeader, ddl string, evs []ddlEvent) []connect.SourceRecord {
	var recs []connect.SourceRecord
	for i, e := range evs {
		t.txEvents++
		if t.skip > 0 && t.file == t.skipFile && t.txStart == t.skipPos && t.txEvents <= t.skip {
			continue
		}
		off := t.txOffset(t.txEvents, h.ServerID)
		if i == len(evs)-1 {
			// The statement's last event: the next lease starts after it.
			off = map[string]any{fileKey: t.file, posKey: int64(h.LogPos), eventKey: int64(0), rowKey: int64(0),
				serverIDKey: int64(h.ServerID), tsSecKey: int64(h.Timestamp)}
		}
		src := debezium.MySQLSource{Common: debezium.Common{Connector: t.connector, Name: t.s.prefix, DB: e.db, Time: time.Unix(int64(h.Timestamp), 0)},
			Table: e.table, ServerID: int64(h.ServerID), GTID: t.gtid, File: t.file, Pos: int64(h.LogPos - h.EventSize)}
		recs = append(recs, t.schemaRecord(src, e.db, ddl, e.changes, off))
	}
	return recs
}
