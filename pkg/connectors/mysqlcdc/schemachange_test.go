package mysqlcdc

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// schemaEvent is a schema change event as the tests check it.
type schemaEvent struct {
	ddl, db  string
	snapshot bool
	changes  []string // "<type> <table>"
	value    map[string]any
}

// schemaEvents reads the schema change topic (srv).
func (e *env) schemaEvents(t *testing.T) []schemaEvent {
	t.Helper()
	topics, err := e.kafka.Client.Topics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(topics, "srv") {
		return nil
	}
	var out []schemaEvent
	for _, v := range e.read(t, "srv") {
		src := v["source"].(map[string]any)
		ev := schemaEvent{ddl: v["ddl"].(string), db: v["databaseName"].(string), snapshot: src["snapshot"] == "true", value: v}
		for _, c := range v["tableChanges"].([]any) {
			m := c.(map[string]any)
			_, name, _ := splitTableID(m["id"].(string))
			ev.changes = append(ev.changes, m["type"].(string)+" "+name)
		}
		out = append(out, ev)
	}
	return out
}

func ddls(evs []schemaEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ddl
	}
	return out
}

// snapshotDDLs are the snapshot's schema change statements of a database
// with one table, a.
func snapshotDDLs(db string) []string {
	return []string{"SET character_set_server=", "DROP TABLE IF EXISTS `" + db + "`.`a`", "DROP DATABASE IF EXISTS `" + db + "`",
		"CREATE DATABASE `" + db + "` CHARSET ", "USE `" + db + "`", "CREATE TABLE `a` ("}
}

// checkDDLs checks the statements of evs against want, each a prefix.
func checkDDLs(t *testing.T, evs []schemaEvent, want []string) {
	t.Helper()
	got := ddls(evs)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Fatalf("schema change events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// With include.schema.changes at its default (true), the snapshot writes
// its statements and CREATE TABLE, ALTER TABLE ADD COLUMN and DROP TABLE
// read in the binlog write theirs, with the tables' definitions after
// them; with and without a schema history.
func TestSchemaChangeEvents(t *testing.T) {
	for _, hist := range []bool{false, true} {
		t.Run(fmt.Sprintf("history=%v", hist), func(t *testing.T) {
			e := newEnv(t, MariaDBClass)
			delete(e.config, IncludeSchemaChangesConfig) // the default
			if hist {
				withHistory(e)
			}
			e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, v varchar(10) NOT NULL)`)
			e.db.Exec(t, `INSERT INTO a VALUES (1, 'x')`)
			e.mustRun(t)
			e.db.Exec(t, `CREATE TABLE b (k bigint unsigned PRIMARY KEY AUTO_INCREMENT, s set('p','q','r')) CHARACTER SET latin1`)
			e.db.Exec(t, `ALTER TABLE a ADD COLUMN w decimal(6,2) DEFAULT 1.25`)
			e.db.Exec(t, `INSERT INTO a VALUES (2, 'y', 3.5)`)
			e.mustRun(t)
			e.db.Exec(t, `DROP TABLE b`)
			e.mustRun(t)
			evs := e.schemaEvents(t)
			checkDDLs(t, evs, append(snapshotDDLs(e.db.Name), "CREATE TABLE b", "ALTER TABLE a ADD COLUMN w", "DROP TABLE `b`"))
			for i, ev := range evs {
				if ev.snapshot != (i < 6) || (i > 0 && ev.db != e.db.Name) {
					t.Fatalf("event %d (%s): snapshot %v, database %q", i, ev.ddl, ev.snapshot, ev.db)
				}
			}
			wantChanges := [][]string{nil, {"DROP a"}, nil, nil, nil, {"CREATE a"}, {"CREATE b"}, {"ALTER a"}, {"DROP b"}}
			for i, w := range wantChanges {
				if !slices.Equal(evs[i].changes, w) {
					t.Fatalf("event %d (%s): table changes %v, want %v", i, evs[i].ddl, evs[i].changes, w)
				}
			}
			table := func(i int) map[string]any {
				return evs[i].value["tableChanges"].([]any)[0].(map[string]any)["table"].(map[string]any)
			}
			b := table(6)
			k := b["columns"].([]any)[0].(map[string]any)
			s := b["columns"].([]any)[1].(map[string]any)
			if b["defaultCharsetName"] != "latin1" || fmt.Sprint(b["primaryKeyColumnNames"]) != "[k]" ||
				k["typeName"] != "BIGINT UNSIGNED" || k["jdbcType"] != -5.0 || k["autoIncremented"] != true || k["optional"] != false ||
				s["typeName"] != "SET" || s["charsetName"] != "latin1" || s["length"] != 5.0 || fmt.Sprint(s["enumValues"]) != "['p' 'q' 'r']" {
				t.Fatalf("table b: %v", b)
			}
			cols := table(7)["columns"].([]any)
			w := cols[len(cols)-1].(map[string]any)
			if len(cols) != 3 || w["name"] != "w" || w["typeName"] != "DECIMAL" || w["length"] != 6.0 || w["scale"] != 2.0 ||
				w["position"] != 3.0 || w["defaultValueExpression"] != "1.25" || w["optional"] != true {
				t.Fatalf("table a after ALTER TABLE: %v", cols)
			}
			if evs[8].value["tableChanges"].([]any)[0].(map[string]any)["table"] != nil {
				t.Fatalf("DROP TABLE with a table: %v", evs[8].value)
			}
			if got := ops(e.read(t, "srv."+e.db.Name+".a")); !slices.Equal(got, []string{"r", "c"}) {
				t.Fatalf("changes of a: %v", got)
			}
		})
	}
}

// With include.schema.changes=false there are none, the changes are
// written as with it.
func TestSchemaChangeEventsOff(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.config[IncludeSchemaChangesConfig] = "false"
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY)`)
	e.db.Exec(t, `INSERT INTO a VALUES (1)`)
	e.mustRun(t)
	e.db.Exec(t, `ALTER TABLE a ADD COLUMN w int`)
	e.db.Exec(t, `INSERT INTO a VALUES (2, 2)`)
	e.db.Exec(t, `CREATE TABLE b (id int PRIMARY KEY)`)
	e.mustRun(t)
	if evs := e.schemaEvents(t); len(evs) != 0 {
		t.Fatalf("schema change events with include.schema.changes=false: %v", ddls(evs))
	}
	if got := ops(e.read(t, "srv."+e.db.Name+".a")); !slices.Equal(got, []string{"r", "c"}) {
		t.Fatalf("changes of a: %v", got)
	}
}

// Leases of one poll each (max.batch.size 1) end after every record: after
// each of the snapshot's schema change events, right before and right
// after each DDL statement's (and, with transaction metadata, between a
// DDL statement's BEGIN record and its event). No event is lost or
// written twice, and the row changes around them arrive once each;
// with and without a schema history, snapshot.mode initial and no_data.
func TestSchemaChangeEventsAcrossLeases(t *testing.T) {
	for _, c := range []struct {
		hist, tx bool
		mode     string
	}{{false, false, SnapshotInitial}, {true, true, SnapshotInitial}, {true, false, SnapshotNoData}, {false, true, SnapshotNoData}} {
		t.Run(fmt.Sprintf("history=%v,tx=%v,%s", c.hist, c.tx, c.mode), func(t *testing.T) {
			e := newEnv(t, MariaDBClass)
			e.config[IncludeSchemaChangesConfig] = "true"
			e.config[MaxBatchSizeConfig] = "1"
			e.config[SnapshotModeConfig] = c.mode
			e.maxRecords = 1
			if c.hist {
				withHistory(e)
			}
			if c.tx {
				e.config[TransactionMetadataConfig] = "true"
			}
			e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, v int)`)
			e.db.Exec(t, `INSERT INTO a VALUES (0, 0)`)
			leases := func() int {
				for n := 1; ; n++ {
					if n == 200 {
						t.Fatal("200 leases did not read everything")
					}
					if res := e.mustRun(t); !res.MorePending && res.Records == 0 {
						return n
					}
				}
			}
			n := leases()
			stmts := []string{
				`INSERT INTO a VALUES (1, 1)`,
				`CREATE TABLE c (id int PRIMARY KEY)`,
				`INSERT INTO a VALUES (2, 2)`,
				`ALTER TABLE a ADD COLUMN w int DEFAULT 7`,
				`ALTER TABLE a ADD COLUMN x int`,
				`INSERT INTO a VALUES (3, 3, 3, 3)`,
				`DROP TABLE c`,
				`INSERT INTO a VALUES (4, 4, 4, 4)`,
			}
			// Each statement is read before the next runs, as while
			// streaming: a table's definition is read when its statement
			// is (see history.go).
			for _, q := range stmts {
				e.db.Exec(t, q)
				n += leases()
			}
			evs := e.schemaEvents(t)
			checkDDLs(t, evs, append(snapshotDDLs(e.db.Name), "CREATE TABLE c", "ALTER TABLE a ADD COLUMN w", "ALTER TABLE a ADD COLUMN x", "DROP TABLE `c`"))
			for i, w := range []string{"CREATE c", "ALTER a", "ALTER a", "DROP c"} {
				if ev := evs[6+i]; len(ev.changes) != 1 || ev.changes[0] != w {
					t.Fatalf("%s: table changes %v, want %s", ev.ddl, ev.changes, w)
				}
			}
			if cols := evs[8].value["tableChanges"].([]any)[0].(map[string]any)["table"].(map[string]any)["columns"].([]any); len(cols) != 4 {
				t.Fatalf("a after its second ALTER TABLE: %v", cols)
			}
			want := []string{"r", "c", "c", "c", "c"}
			if c.mode == SnapshotNoData {
				want = want[1:]
			}
			vs := e.read(t, "srv."+e.db.Name+".a")
			if got := ops(vs); !slices.Equal(got, want) {
				t.Fatalf("changes of a: %v, want %v", got, want)
			}
			// The rows after the ALTER TABLE statements have their columns.
			if after := vs[len(vs)-1]["after"].(map[string]any); after["w"] != 4.0 || after["x"] != 4.0 {
				t.Fatalf("last change: %v", after)
			}
			t.Logf("%d leases", n)
		})
	}
}

// A statement changing two tables has an event for each; a lease resuming
// between them (its offset counts one) writes the second only, and the
// last event's offset is after the statement.
func TestSchemaChangeEventsOfOneStatementResume(t *testing.T) {
	s, err := parseSettings(map[string]string{HostnameConfig: "h", UserConfig: "u", ServerIDConfig: "1", TopicPrefixConfig: "srv"})
	if err != nil {
		t.Fatal(err)
	}
	p := binlogPos{file: "binlog.000003", pos: 365}
	drop := historyRecord{DatabaseName: "d", DDL: "DROP TABLE x, y",
		TableChanges: []tableChange{{Type: "DROP", ID: tableID("d", "x")}, {Type: "DROP", ID: tableID("d", "y")}}}
	run := func(skip int64) (ddls []string, tables []string, offsets []map[string]any) {
		tk := newTask(true)
		tk.connector = "mariadb"
		tk.sourceSchema()
		tk.s, tk.partition, tk.tables = s, map[string]any{serverKey: "srv"}, map[string]*table{}
		tk.schemas = debezium.NewSchemaChangeSchemas(tk.connector, tk.source)
		tk.hist = &history{ahead: map[binlogPos][]historyRecord{p: {drop}}}
		tk.skip, tk.skipFile, tk.skipPos = skip, "binlog.000003", 300
		evs := []*replication.BinlogEvent{
			{Header: &replication.EventHeader{LogPos: 0}, Event: &replication.RotateEvent{NextLogName: []byte("binlog.000003"), Position: 4}},
			{Header: &replication.EventHeader{LogPos: 365, EventSize: 65, ServerID: 1}, Event: &replication.MariadbGTIDEvent{}},
			{Header: &replication.EventHeader{LogPos: 480, EventSize: 115, ServerID: 1, Timestamp: 1700000000},
				Event: &replication.QueryEvent{Schema: []byte("d"), Query: []byte("DROP TABLE x, y")}},
		}
		for _, ev := range evs {
			recs, err := tk.handle(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				v := r.Value.(*data.Struct)
				ddls = append(ddls, v.Get("ddl").(string))
				tables = append(tables, fmt.Sprint(v.Get("source").(*data.Struct).Get("table")))
				offsets = append(offsets, r.SourceOffset)
			}
		}
		return
	}
	_, tables, offsets := run(0)
	if !slices.Equal(tables, []string{"x", "y"}) || offsets[0][posKey] != int64(300) || offsets[0][eventKey] != int64(1) ||
		offsets[1][posKey] != int64(480) || offsets[1][eventKey] != int64(0) {
		t.Fatalf("events of tables %v, offsets %v", tables, offsets)
	}
	if _, tables, _ := run(1); !slices.Equal(tables, []string{"y"}) {
		t.Fatalf("resumed after the first event: events of %v, want y", tables)
	}
}

// The tables a DDL statement's events name.
func TestNamedTables(t *testing.T) {
	for _, c := range []struct {
		ddl  string
		want string
	}{
		{"CREATE TABLE IF NOT EXISTS `d2`.`a``b` (id int)", "[{CREATE d2 a`b}]"},
		{"create table t(id int)", "[{CREATE cur t}]"},
		{"ALTER TABLE a ADD COLUMN w int DEFAULT 3", "[{ALTER cur a}]"},
		{"ALTER ONLINE TABLE d.ä ADD x int", "[{ALTER d ä}]"},
		{"DROP TABLE IF EXISTS `c`,d.e /* generated by server */", "[{DROP cur c} {DROP d e}]"},
		{"CREATE UNIQUE INDEX i ON t (v)", "[{ALTER cur t}]"},
		{"DROP INDEX i ON `x`.`t`", "[{ALTER x t}]"},
	} {
		got, ok := namedTables(c.ddl, "cur")
		if !ok || fmt.Sprint(got) != c.want {
			t.Errorf("%s: %v %v, want %s", c.ddl, got, ok, c.want)
		}
	}
	for _, ddl := range []string{"ALTER TABLE a RENAME TO b", "RENAME TABLE a TO b", "CREATE DATABASE x", "TRUNCATE t"} {
		if got, ok := namedTables(ddl, "cur"); ok {
			t.Errorf("%s: %v, want none", ddl, got)
		}
	}
}
