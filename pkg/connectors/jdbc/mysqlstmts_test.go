package jdbc

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// MariaDB's batches of a recurring size go through prepared statements
// (mysqlStmts): the same records written with batch.size=3 (prepared from
// the second batch of 3 rows on; the batches holding a float or bytes as
// text), the same split into statements of a row or two, and with
// batch.size=1 (one text statement a row) leave equal tables, byte for
// byte, and the rows MariaDB refuses (too long, out of
// range, NULL into NOT NULL) are reported one by one in both, with the
// rest of their batch written. A run of records whose schema has the
// same fields in another order has a statement of its own.
func TestSinkMySQLPreparedBatches(t *testing.T) {
	db := newMariaDB(t)
	for _, table := range []string{"prepared", "split", "text"} {
		db.exec(t, "CREATE TABLE "+table+` (id BIGINT PRIMARY KEY, s VARCHAR(20) NULL, i8 TINYINT NULL, i16 SMALLINT NULL,
			i32 INT NULL, small SMALLINT NULL, i64 BIGINT NULL, b TINYINT(1) NULL, dec3 DECIMAL(20,3) NULL, ts DATETIME(3) NULL,
			d DATE NULL, tm TIME(3) NULL, f DOUBLE NULL, bin VARBINARY(20) NULL, req VARCHAR(10) NOT NULL, txt LONGTEXT NULL)`)
	}
	vs := data.StructBuilder().Name("row").
		Field("id", data.Int64Schema).
		Field("s", data.OptionalStringSchema).
		Field("i8", data.OptionalInt8Schema).
		Field("i16", data.OptionalInt16Schema).
		Field("i32", data.OptionalInt32Schema).
		Field("small", data.OptionalInt32Schema). // out of a SMALLINT's range now and then
		Field("i64", data.OptionalInt64Schema).
		Field("b", data.OptionalBooleanSchema).
		Field("dec3", data.DecimalSchema(3).Optional().MustBuild()).
		Field("ts", data.TimestampSchema().Optional().MustBuild()).
		Field("d", data.DateSchema().Optional().MustBuild()).
		Field("tm", data.TimeSchema().Optional().MustBuild()).
		Field("f", data.OptionalFloat64Schema).
		Field("bin", data.OptionalBytesSchema).
		Field("req", data.OptionalStringSchema). // NULL into NOT NULL now and then
		Field("txt", data.OptionalStringSchema).
		MustBuild()
	// The same fields in another order, for a run of records in the
	// middle: another statement, whose columns bind in that order.
	b2 := data.StructBuilder().Name("row")
	for _, name := range []string{"id", "req", "i8", "i16", "i32", "small", "i64", "b", "dec3", "ts", "d", "tm", "f", "bin", "s", "txt"} {
		b2.Field(name, vs.Field(name).Schema)
	}
	vs2 := b2.MustBuild()
	texts := []string{"it's", `back\slash`, "tab\tnl\nCR\r", "NUL\x00x", "émoji 😀", "", `\N`, "'; DROP t; --", "? ?", "/* c */ #", `"dq"`, "\x1a"}
	var recs []connect.SinkRecord
	var wantBad []int64
	for off := range int64(150) {
		id := off%41 + 1 // keys recur across batches: upserts of existing rows
		v := data.NewStruct(vs).Set("id", id)
		if off%7 != 3 {
			v.Set("s", texts[off%int64(len(texts))])
		}
		if off%5 != 1 {
			v.Set("i8", int8(-128+off%256)).Set("i16", int16(-32768+off*331)).Set("i32", int32(math.MinInt32+off*7919))
		}
		v.Set("small", int32(off*7)) // fits
		v.Set("i64", []int64{math.MinInt64, math.MaxInt64, 0, -1, off}[off%5])
		if off%4 != 0 {
			v.Set("b", off%3 == 0)
		}
		if off%6 != 2 {
			dec, _ := data.ParseDecimal(fmt.Sprintf("%d.%03d", off*1000-70000, off%1000))
			v.Set("dec3", dec)
		}
		if off%8 != 5 {
			at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC).Add(time.Duration(off) * 37 * time.Minute).Add(time.Duration(off%1000) * time.Millisecond)
			v.Set("ts", at).Set("d", at.Truncate(24*time.Hour)).Set("tm", time.UnixMilli(off*1234567%86400000).UTC())
		}
		if off%9 == 4 { // floats and bytes in some batches only: those go as text
			v.Set("f", float64(off)/3).Set("bin", []byte{0, byte(off), '\'', '\\', 0xff})
		}
		v.Set("req", fmt.Sprint("r", off))
		if off%3 == 1 {
			v.Set("txt", strings.Repeat("long text ", 200)) // bound as long data when the batch is large
		}
		switch off % 31 {
		case 10:
			v.Set("s", strings.Repeat("z", 21)) // too long
			wantBad = append(wantBad, off)
		case 20:
			v.Set("small", int32(40000)) // out of range
			wantBad = append(wantBad, off)
		case 25:
			v.Put("req", nil) // NULL into NOT NULL
			wantBad = append(wantBad, off)
		}
		r := connect.SinkRecord{Offset: off, OriginalTopic: "rows", OriginalOffset: off}
		r.Topic, r.Partition = "rows", connect.PartitionOf(0)
		r.KeySchema, r.Key = keySchema, data.NewStruct(keySchema).Set("id", id)
		r.ValueSchema, r.Value = vs, v
		if off >= 60 && off < 90 {
			v2 := data.NewStruct(vs2)
			for _, f := range vs.Fields {
				v2.Put(f.Name, v.Get(f.Name))
			}
			r.ValueSchema, r.Value = vs2, v2
		}
		recs = append(recs, r)
	}
	run := func(table, batch string) (reported []int64, prepared int) {
		t.Helper()
		props := db.props(map[string]string{"name": "sink-" + table, TableNameFormatConfig: table,
			InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, BatchSizeConfig: batch})
		rep := &reporter{tolerate: true}
		prepared, err := sinkLeaseStmts(t, props, recs, rep)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.reported {
			reported = append(reported, r.offset)
		}
		return reported, prepared
	}
	badPrepared, prepared := run("prepared", "3")
	// Statements of packets of about 600 bytes: a batch of 3 rows in 1 to
	// 3 statements, of 1 or 2 rows, as its values' sizes come.
	defer func(n int) { stmtPacketBytes = n }(stmtPacketBytes)
	stmtPacketBytes = 600
	badSplit, split := run("split", "3")
	badText, asText := run("text", "1")
	if prepared == 0 || split == 0 || asText != 0 {
		t.Fatalf("batches written with prepared statements: %d with batch.size=3, %d split (want some), %d with batch.size=1 (want none)", prepared, split, asText)
	}
	for _, bad := range [][]int64{badPrepared, badSplit, badText} {
		if fmt.Sprint(bad) != fmt.Sprint(wantBad) {
			t.Fatalf("reported offsets: batches of 3 %v, split %v, one by one %v, want %v", badPrepared, badSplit, badText, wantBad)
		}
	}
	want := tableDump(t, db, "text")
	if len(want) != 41 {
		t.Fatalf("%d rows written one by one, want 41", len(want))
	}
	for _, table := range []string{"prepared", "split"} {
		got := tableDump(t, db, table)
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("row %d: %s\n  %q\none by one\n  %q", i, table, got[min(i, len(got)-1)], want[i])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows in %s, %d one by one", len(got), table, len(want))
		}
	}
}

// sinkLeaseStmts is sinkLease, returning how many batches the task wrote
// with a prepared statement.
func sinkLeaseStmts(t *testing.T, props map[string]string, recs []connect.SinkRecord, rep *reporter) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tps := []connect.TopicPartition{{Topic: recs[0].OriginalTopic, Partition: recs[0].OriginalPartition}}
	task := NewSinkTask()
	if err := task.Start(ctx, sinkCtx{tps, rep}, props); err != nil {
		task.Stop()
		return 0, err
	}
	defer task.Stop()
	if err := task.Open(ctx, tps); err != nil {
		return 0, err
	}
	if err := task.Put(ctx, append([]connect.SinkRecord(nil), recs...)); err != nil {
		return 0, err
	}
	if _, err := task.PreCommit(ctx, map[connect.TopicPartition]int64{tps[0]: recs[len(recs)-1].OriginalOffset + 1}); err != nil {
		return 0, err
	}
	return task.s.conn.dialect.(mysqlDialect).stmts.executed, nil
}

// tableDump is every row of table, by id, each column as the database
// renders it, in hex (NULL as N), so that no conversion on the way hides
// a difference.
func tableDump(t *testing.T, db testDB, table string) []string {
	t.Helper()
	rs, err := db.sql.Query("SELECT * FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if v == nil {
				fmt.Fprintf(&b, "%s=N ", cols[i])
			} else {
				fmt.Fprintf(&b, "%s=%x ", cols[i], []byte(v))
			}
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
