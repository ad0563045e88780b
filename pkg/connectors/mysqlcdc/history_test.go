package mysqlcdc

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/debezium"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// withHistory turns the schema history on, in topic "history" of the
// test's broker.
func withHistory(e *env) {
	e.config[SchemaHistoryTopicConfig] = "history"
	e.config[SchemaHistoryServersConfig] = strings.Join(e.kafka.Brokers, ",")
}

// historyRecords returns the history topic's records.
func (e *env) historyRecords(t *testing.T) []historyRecord {
	t.Helper()
	tp := kafka.TopicPartition{Topic: "history", Partition: 0}
	wm, err := e.kafka.Client.Watermarks(t.Context(), []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []historyRecord
	err = e.kafka.Client.FetchRange(t.Context(), tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			var r historyRecord
			if err := json.Unmarshal(m.Value, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fields(v map[string]any) []string {
	after, _ := v["after"].(map[string]any)
	var out []string
	for k := range after {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A lease replays binlog rows written before two later ALTER TABLEs: with
// the schema history, each row is decoded with the columns it was written
// with (information_schema has the last shape only), and the replayed
// statement's definitions come from its record, not a second one.
func TestSchemaHistoryReplayAcrossAlterTable(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	withHistory(e)
	e.db.Exec(t, `CREATE TABLE items (id int PRIMARY KEY, a varchar(10) NOT NULL)`)
	e.db.Exec(t, `INSERT INTO items VALUES (1, 'one')`)
	e.mustRun(t) // the snapshot, and the table's CREATE record

	e.db.Exec(t, `INSERT INTO items VALUES (2, 'two')`)
	e.db.Exec(t, `ALTER TABLE items ADD COLUMN b int NOT NULL DEFAULT 7`)
	e.db.Exec(t, `INSERT INTO items VALUES (3, 'three', 33)`)
	e.store.set(true) // produced, but its offsets are never written
	if res := e.run(t); res.Status != lease.Failed {
		t.Fatalf("crashed lease: %s", res.Status)
	}
	e.store.set(false)
	e.db.Exec(t, `ALTER TABLE items ADD COLUMN c int`)
	e.db.Exec(t, `INSERT INTO items VALUES (4, 'four', 44, 444)`)
	e.mustRun(t) // replays rows 2 and 3, then reads on

	vs := e.read(t, "srv."+e.db.Name+".items")
	var got []string
	for _, v := range vs {
		got = append(got, strings.Join(fields(v), ","))
	}
	// The snapshot, the crashed lease's two rows, their replay, row 4.
	want := []string{"a,id", "a,id", "a,b,id", "a,id", "a,b,id", "a,b,c,id"}
	if !slices.Equal(got, want) {
		t.Fatalf("row fields %v, want %v", got, want)
	}

	rs := e.historyRecords(t)
	var kinds []string
	for _, r := range rs {
		for _, c := range r.TableChanges {
			kinds = append(kinds, c.Type+":"+strings.Join(columnNames(c.Table), ","))
		}
	}
	if want := []string{"CREATE:id,a", "ALTER:id,a,b", "ALTER:id,a,b,c"}; !slices.Equal(kinds, want) {
		t.Fatalf("history %v, want %v", kinds, want)
	}
	first := rs[0]
	if first.Source["server"] != "srv" || first.Position[snapshotKey] != true || !strings.HasPrefix(first.DDL, "CREATE TABLE `items`") ||
		first.DatabaseName != e.db.Name || first.TableChanges[0].ID != `"`+e.db.Name+`"."items"` ||
		!slices.Equal(first.TableChanges[0].Table.PrimaryKeyColumnNames, []string{"id"}) {
		t.Fatalf("first record %+v", first)
	}
	if rs[1].DDL != "ALTER TABLE items ADD COLUMN b int NOT NULL DEFAULT 7" || rs[1].Position[fileKey] == "" {
		t.Fatalf("ALTER record %+v", rs[1])
	}
	// The default is kept in the record, and a table rebuilt from the
	// record has it in its schema.
	b := rs[1].TableChanges[0].Table.Columns[2]
	if !b.HasDefaultValue || b.DefaultValueExpression == nil || *b.DefaultValueExpression != "7" {
		t.Fatalf("column b in the history %+v", b)
	}
	cols := rs[1].TableChanges[0].Table.columns()
	if tb := (&settings{prefix: "srv"}).newTable(debezium.MariaDBSourceSchema, e.db.Name, "items", cols); tb.cols[2].schema.Default != int32(7) || tb.cols[1].schema.Default != nil {
		t.Fatalf("columns from the history: b's default %v, a's %v", tb.cols[2].schema.Default, tb.cols[1].schema.Default)
	}
}

func columnNames(h *historyTable) []string {
	if h == nil {
		return nil
	}
	var out []string
	for _, c := range h.Columns {
		out = append(out, c.Name)
	}
	return out
}

// A table dropped and another created while streaming are recorded.
func TestSchemaHistoryCreateAndDrop(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	withHistory(e)
	e.config[SnapshotModeConfig] = SnapshotNoData
	e.db.Exec(t, `CREATE TABLE gone (id int PRIMARY KEY)`)
	e.mustRun(t)
	e.db.Exec(t, `CREATE TABLE fresh (id int PRIMARY KEY, v text)`)
	e.db.Exec(t, `DROP TABLE gone`)
	e.db.Exec(t, `INSERT INTO fresh VALUES (1, 'x')`)
	e.mustRun(t)
	var kinds []string
	for _, r := range e.historyRecords(t) {
		for _, c := range r.TableChanges {
			_, name, _ := splitTableID(c.ID)
			kinds = append(kinds, c.Type+":"+name)
		}
	}
	if want := []string{"CREATE:gone", "CREATE:fresh", "DROP:gone"}; !slices.Equal(kinds, want) {
		t.Fatalf("history %v, want %v", kinds, want)
	}
	if vs := e.read(t, "srv."+e.db.Name+".fresh"); len(vs) != 1 || vs[0]["op"] != "c" {
		t.Fatalf("fresh: %v", vs)
	}
}

// The history topic needs its brokers.
func TestSchemaHistoryNeedsServers(t *testing.T) {
	_, err := parseSettings(map[string]string{HostnameConfig: "h", UserConfig: "u", ServerIDConfig: "1", TopicPrefixConfig: "p",
		SchemaHistoryTopicConfig: "history"})
	if err == nil || !strings.Contains(err.Error(), SchemaHistoryServersConfig) {
		t.Fatalf("err = %v", err)
	}
}

// provide.transaction.metadata is a boolean, off by default.
func TestTransactionMetadataSetting(t *testing.T) {
	base := map[string]string{HostnameConfig: "h", UserConfig: "u", ServerIDConfig: "1", TopicPrefixConfig: "p"}
	for v, want := range map[string]bool{"": false, "true": true, "false": false} {
		props := maps.Clone(base)
		if v != "" {
			props[TransactionMetadataConfig] = v
		}
		s, err := parseSettings(props)
		if err != nil || s.txMetadata != want {
			t.Fatalf("%s=%q: txMetadata %v, err %v; want %v", TransactionMetadataConfig, v, s != nil && s.txMetadata, err, want)
		}
	}
	props := maps.Clone(base)
	props[TransactionMetadataConfig] = "yes"
	if _, err := parseSettings(props); err == nil {
		t.Fatalf("%s=yes accepted", TransactionMetadataConfig)
	}
}
