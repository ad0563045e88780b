package e2e

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// The chaos pipeline's S3 check fails on what broken exactly-once output
// would leave: overlaps, gaps, duplicates, records a read_committed
// consumer does not see, a missing tail.
func TestTileObjects(t *testing.T) {
	// Partition 0's committed records: offsets 0-2, an aborted
	// transaction's records and its marker at 3-5, then 6-7.
	committed := map[int32][]committedRecord{0: {{0, 10}, {1, 11}, {2, 12}, {6, 13}, {7, 14}}}
	obj := func(start int64, ids ...int64) parquetObject {
		return parquetObject{key: "k" + strings.Repeat("+", int(start)), partition: 0, start: start, ids: ids}
	}
	tests := []struct {
		name    string
		objects []parquetObject
		want    string // a substring of the violations, "" for none
	}{
		{name: "tiled", objects: []parquetObject{obj(0, 10, 11), obj(2, 12, 13), obj(7, 14)}},
		{name: "one object", objects: []parquetObject{obj(0, 10, 11, 12, 13, 14)}},
		{name: "overlap", objects: []parquetObject{obj(0, 10, 11), obj(1, 11, 12, 13, 14)}, want: "overlaps"},
		{name: "duplicate object under another name", objects: []parquetObject{obj(0, 10, 11, 12), obj(0, 10, 11, 12), obj(6, 13, 14)}, want: "overlaps"},
		{name: "gap", objects: []parquetObject{obj(0, 10, 11), obj(6, 13, 14)}, want: "a gap"},
		{name: "aborted record in an object", objects: []parquetObject{obj(0, 10, 11, 12, 99, 13, 14)}, want: "row 3 is order 99"},
		{name: "partial object", objects: []parquetObject{obj(0, 10, 11), obj(2, 12), obj(7, 14)}, want: "a gap"},
		{name: "missing tail", objects: []parquetObject{obj(0, 10, 11, 12)}, want: "in no object"},
		{name: "nothing", want: "in no object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Join(tileObjects(tt.objects, committed), "\n")
			if (tt.want == "") != (bad == "") || !strings.Contains(bad, tt.want) {
				t.Fatalf("violations %q, want %q", bad, tt.want)
			}
		})
	}
}

// parquetOrderIDs reads back what the storage sink's ParquetFormat writes
// for schemaless orders, and refuses a truncated object.
func TestParquetOrderIDs(t *testing.T) {
	f, err := sink.NewParquetFormat(map[string]string{"parquet.codec": "snappy"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{5, 3, 4} {
		var r connect.SinkRecord
		r.Value = map[string]any{"order_id": id, "item": "x"}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ids, err := parquetOrderIDs(buf.Bytes())
	if err != nil || !slices.Equal(ids, []int64{5, 3, 4}) {
		t.Fatalf("parquetOrderIDs = %v, %v; want [5 3 4]", ids, err)
	}
	if ids, err := parquetOrderIDs(buf.Bytes()[:buf.Len()-10]); err == nil {
		t.Fatalf("a truncated object read as %v", ids)
	}
}

// The chaos pipeline's checker on 1,000,000 records without the servers:
// the ids counted three times (topic, S3, file), the committed records
// kept per partition, 2,000 Parquet objects of 500 orders read back and
// tiled. go test -run '^$' -bench ChaosChecker -benchmem ./functions/e2e/
func BenchmarkChaosChecker(b *testing.B) {
	const n, perObject = 1_000_000, 500
	f, err := sink.NewParquetFormat(map[string]string{"parquet.codec": "snappy"})
	if err != nil {
		b.Fatal(err)
	}
	files := make([][]byte, n/perObject)
	for i := range files {
		var buf bytes.Buffer
		w, err := f.NewWriter(&buf, nil)
		if err != nil {
			b.Fatal(err)
		}
		for j := range perObject {
			var r connect.SinkRecord
			r.Value = map[string]any{"order_id": int64(i*perObject + j), "customer_id": "customer-0042", "item": "widget",
				"quantity": int64(3), "price": 12.5, "ordered_at": int64(1700000000000)}
			if err := w.Write(&r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		files[i] = buf.Bytes()
	}
	b.ResetTimer()
	for range b.N {
		kafkaIDs, s3ids, fileIDs := newIDCounts(n), newIDCounts(n), newIDCounts(n)
		committed := map[int32][]committedRecord{}
		for id := range int64(n) {
			kafkaIDs.add(id)
			fileIDs.add(id)
			committed[0] = append(committed[0], committedRecord{id, id})
		}
		var objects []parquetObject
		for i, file := range files {
			ids, err := parquetOrderIDs(file)
			if err != nil {
				b.Fatal(err)
			}
			for _, id := range ids {
				s3ids.add(id)
			}
			objects = append(objects, parquetObject{key: strconv.Itoa(i), start: int64(i * perObject), ids: ids})
		}
		if bad := tileObjects(objects, committed); len(bad) > 0 {
			b.Fatal(bad[0])
		}
		for _, c := range []*idCounts{kafkaIDs, s3ids, fileIDs} {
			if d, lost, dups := c.tally(); d != n || lost != 0 || dups != 0 {
				b.Fatalf("tally %d %d %d", d, lost, dups)
			}
		}
	}
}

// The chaos pipeline's lease log check finds a lease recorded before its
// task's outstanding lease's deadline, and a sink lease re-issued with
// other ranges; it skips a deposed leader's late writes, which never made
// a lease act: a record of an earlier leader generation landing after a
// later one's, and the tombstone of a lease already replaced.
func TestCheckLeaseRecords(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rg := func(start, end int64) []lease.Range {
		return []lease.Range{{Topic: "orders", Partition: 0, Start: start, End: end}}
	}
	begin := func(at time.Duration, id string, leader int32, rs []lease.Range) leaseLogRecord {
		return leaseLogRecord{key: "lease-s3-0", timestamp: t0.Add(at),
			entry: &leaseEntry{ID: id, Kind: "sink", Deadline: t0.Add(at + 30*time.Second), Ranges: rs, Leader: leader}}
	}
	end := func(at time.Duration, id string) leaseLogRecord {
		return leaseLogRecord{key: "lease-s3-0", timestamp: t0.Add(at), ends: id}
	}
	tests := []struct {
		name                  string
		recs                  []leaseLogRecord
		stale, lateEnds, want int // want: violations
	}{
		{name: "leases one after another", recs: []leaseLogRecord{begin(0, "a", 4, rg(0, 100)), end(time.Second, "a"), begin(2*time.Second, "b", 4, rg(100, 200))}},
		{name: "an outstanding lease waited out, same ranges", recs: []leaseLogRecord{begin(0, "a", 4, rg(0, 100)), begin(31*time.Second, "b", 6, rg(0, 100))}},
		{name: "recorded before the outstanding lease's deadline", recs: []leaseLogRecord{begin(0, "a", 4, rg(0, 100)), begin(time.Second, "b", 6, rg(0, 100))}, want: 1},
		{name: "re-issued with other ranges", recs: []leaseLogRecord{begin(0, "a", 4, rg(0, 100)), begin(31*time.Second, "b", 6, rg(0, 200))}, want: 1},
		{
			name:  "a deposed leader's late Begin after its successor's",
			recs:  []leaseLogRecord{begin(0, "a0", 4, rg(0, 100)), end(time.Second, "a0"), begin(10*time.Second, "b", 6, rg(100, 300)), begin(2*time.Second, "a1", 4, rg(100, 200))},
			stale: 1,
		},
		{
			name: "the same late Begin without leader generations (an older coordinator) is an overlap",
			recs: []leaseLogRecord{begin(0, "a0", 0, rg(0, 100)), end(time.Second, "a0"), begin(10*time.Second, "b", 0, rg(100, 300)), begin(2*time.Second, "a1", 0, rg(100, 200))},
			want: 2, // before b's deadline, and other ranges
		},
		{
			name:     "a deposed leader's late End after its successor's Begin",
			recs:     []leaseLogRecord{begin(0, "a", 4, rg(0, 100)), begin(31*time.Second, "b", 6, rg(0, 100)), end(32*time.Second, "a"), begin(33*time.Second, "c", 6, rg(0, 100))},
			lateEnds: 1, want: 1, // c before b's deadline: b is still outstanding
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkLeaseRecords(tt.recs)
			if len(got.violations) != tt.want || got.stale != tt.stale || got.lateEnds != tt.lateEnds {
				t.Errorf("violations %q, %d stale records, %d late ends; want %d violations, %d stale, %d late ends",
					got.violations, got.stale, got.lateEnds, tt.want, tt.stale, tt.lateEnds)
			}
		})
	}
}
