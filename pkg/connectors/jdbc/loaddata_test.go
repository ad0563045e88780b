package jdbc

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// mysql.load.data.local: upserts (duplicate keys in the table and in one
// batch), deletes, inserts, and rows MariaDB rejects behave as with
// statements; text with tabs, newlines, backslashes, NUL and "\N", bytes
// and NULLs arrive unchanged.
func TestSinkMySQLLoadData(t *testing.T) {
	db := newMariaDB(t)
	props := db.props(map[string]string{
		InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, AutoCreateConfig: "true", DeleteEnabledConfig: "true",
		MySQLLoadDataConfig: "true",
	})
	var recs []connect.SinkRecord
	for i := range int64(5) {
		recs = append(recs, order(i, i+1, fmt.Sprintf("n%d", i+1), "1.50"))
	}
	if err := sinkLease(t, props, recs, nil); err != nil {
		t.Fatal(err)
	}
	recs = []connect.SinkRecord{
		order(5, 2, "two", "2.00"), order(6, 2, "TWO", ""), order(7, 4, "four", "4.00"), tombstone(8, 3), order(9, 6, "n6", "0.01"), order(10, 7, "n7", "0.02"),
	}
	if err := sinkLease(t, props, recs, nil); err != nil {
		t.Fatal(err)
	}
	want := "1:n1:1.50 2:TWO: 4:four:4.00 5:n5:1.50 6:n6:0.01 7:n7:0.02"
	if got := strings.Join(rows(t, db, "orders"), " "); got != want {
		t.Fatalf("after upserts and deletes: %s, want %s", got, want)
	}

	// The staging table's DROP and CREATE (TEMPORARY) commit nothing: a
	// lease failing in its second batch leaves no row of its first.
	db.exec(t, "CREATE TABLE atomic (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NOT NULL)")
	failing := db.props(map[string]string{"name": "atomic-sink", "topics": "orders", TableNameFormatConfig: "atomic",
		InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, BatchSizeConfig: "2", MySQLLoadDataConfig: "true"})
	err := sinkLease(t, failing, []connect.SinkRecord{order(0, 1, "a", "1.00"), order(1, 2, "b", "2.00"), order(2, 3, "c", ""), order(3, 4, "d", "4.00")}, &reporter{})
	if err == nil || !strings.Contains(err.Error(), "tolerance exceeded") {
		t.Fatalf("a NOT NULL violation without tolerance: %v", err)
	}
	if n := db.count(t, "SELECT count(*) FROM atomic"); n != 0 {
		t.Fatalf("the failed lease left %d rows", n)
	}

	// An upsert of key columns only keeps the rows.
	db.exec(t, "CREATE TABLE keysonly (id BIGINT PRIMARY KEY)")
	keyOnly := data.StructBuilder().Field("id", data.Int64Schema).MustBuild()
	recs = nil
	for i, id := range []int64{1, 2, 1, 3} {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "keysonly", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "keysonly", connect.PartitionOf(0)
		r.KeySchema, r.Key = keyOnly, data.NewStruct(keyOnly).Set("id", id)
		r.ValueSchema, r.Value = keyOnly, data.NewStruct(keyOnly).Set("id", id)
		recs = append(recs, r)
	}
	db.exec(t, "INSERT INTO keysonly VALUES (2)")
	if err := sinkLease(t, db.props(map[string]string{"topics": "keysonly", InsertModeConfig: InsertModeUpsert,
		PKModeConfig: PKModeRecordKey, MySQLLoadDataConfig: "true"}), recs, nil); err != nil {
		t.Fatal(err)
	}
	if n := db.count(t, "SELECT count(*) FROM keysonly"); n != 3 {
		t.Fatalf("keysonly has %d rows, want 3", n)
	}

	// Escapes, bytes and NULLs (insert mode, a table without a key).
	db.exec(t, "CREATE TABLE blobs (id BIGINT NOT NULL, s LONGTEXT NULL, b LONGBLOB NULL)")
	schema := data.StructBuilder().Field("id", data.Int64Schema).Field("s", data.OptionalStringSchema).
		Field("b", data.OptionalBytesSchema).MustBuild()
	values := []struct {
		s any
		b any
	}{
		{"tab\there\nnew\\line\r\x00end", []byte{0, '\t', '\n', '\\', 'N', 0xff}},
		{`\N`, []byte{}},
		{nil, nil},
		{"héllo ✓", []byte("x")},
	}
	recs = nil
	for i, v := range values {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "blobs", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "blobs", connect.PartitionOf(0)
		st := data.NewStruct(schema).Set("id", int64(i))
		if v.s != nil {
			st.Set("s", v.s)
		}
		if v.b != nil {
			st.Set("b", v.b)
		}
		r.ValueSchema, r.Value = schema, st
		recs = append(recs, r)
	}
	if err := sinkLease(t, db.props(map[string]string{"topics": "blobs", MySQLLoadDataConfig: "true"}), recs, nil); err != nil {
		t.Fatal(err)
	}
	rs, err := db.sql.Query("SELECT id, s, b FROM blobs ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	for rs.Next() {
		var id int64
		var s, b []byte
		if err := rs.Scan(&id, &s, &b); err != nil {
			t.Fatal(err)
		}
		v := values[id]
		if (v.s == nil) != (s == nil) || v.s != nil && string(s) != v.s.(string) {
			t.Errorf("row %d: s = %q, want %q", id, s, v.s)
		}
		if (v.b == nil) != (b == nil) || v.b != nil && string(b) != string(v.b.([]byte)) {
			t.Errorf("row %d: b = %q, want %q", id, b, v.b)
		}
		n++
	}
	if n != len(values) {
		t.Fatalf("%d rows, want %d", n, len(values))
	}

	// Rows the table rejects (NOT NULL, too long, a duplicate key in
	// insert mode) are reported, the others written.
	db.exec(t, "CREATE TABLE strict (id BIGINT PRIMARY KEY, name VARCHAR(5) NOT NULL, amount DECIMAL(10,2) NOT NULL)")
	strict := db.props(map[string]string{"name": "strict-sink", "topics": "orders", TableNameFormatConfig: "strict", MySQLLoadDataConfig: "true"})
	rep := &reporter{tolerate: true}
	recs = []connect.SinkRecord{order(0, 1, "a", "1.00"), order(1, 2, "b", ""), order(2, 3, "toolong", "3.00"), order(3, 1, "dup", "4.00"), order(4, 5, "e", "5.00")}
	if err := sinkLease(t, strict, recs, rep); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows(t, db, "strict"), " "); got != "1:a:1.00 5:e:5.00" {
		t.Fatalf("strict rows = %s", got)
	}
	var offs []int64
	for _, r := range rep.reported {
		offs = append(offs, r.offset)
	}
	if fmt.Sprint(offs) != "[1 2 3]" {
		t.Fatalf("reported offsets %v, want [1 2 3]", offs)
	}
}
