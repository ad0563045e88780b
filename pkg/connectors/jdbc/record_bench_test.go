package jdbc

import (
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSourceRecord is the source's own work per row of
// BenchmarkJDBCSource's table (incrementing mode), without the database
// and Kafka: the scanned values to a record with its key and offset. make
// bench-jdbc does not run it; go test -run '^$' -bench SourceRecord does.
func BenchmarkSourceRecord(b *testing.B) {
	t := &SourceTask{s: sourceSettings{mode: ModeIncrementing, incColumn: "id", numericMapping: NumericMappingNone,
		granularity: GranularityConnectLogical, conn: connection{settings: connSettings{TimeZone: time.UTC}}}}
	q := &tableQuery{table: TableID{Name: "bench_rows"}, from: "bench_rows", topic: "bench-bench_rows",
		partition: map[string]any{partitionTable: "bench_rows"}}
	cols := []Column{{Name: "id", Type: "bigint", PrimaryKey: 1}, {Name: "name", Type: "varchar"}, {Name: "note", Type: "varchar"},
		{Name: "amount", Type: "numeric", Precision: 12, Scale: 2}, {Name: "created_at", Type: "timestamp without time zone"}}
	if err := t.setColumns(q, cols, "bench_rows"); err != nil {
		b.Fatal(err)
	}
	dests := make([]any, len(q.cols))
	for i := range q.cols {
		dests[i] = q.cols[i].dest()
	}
	vals := make([]any, len(q.cols))
	note := strings.Repeat("x", 100)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := int64(i + 1)
		*dests[0].(*sql.NullInt64) = sql.NullInt64{Int64: id, Valid: true}
		*dests[1].(*sql.NullString) = sql.NullString{String: "customer-" + strconv.FormatInt(id, 10), Valid: true}
		*dests[2].(*sql.NullString) = sql.NullString{String: note, Valid: true}
		*dests[3].(*sql.NullString) = sql.NullString{String: "1234.56", Valid: true}
		*dests[4].(*sql.NullTime) = sql.NullTime{Time: base.Add(time.Duration(id) * time.Millisecond), Valid: true}
		if _, err := t.record(q, "bench_rows", dests, vals, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}
