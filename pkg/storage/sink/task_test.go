package sink_test

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func strRecords(topic string, p int32, from, to int64) []connect.SinkRecord {
	var out []connect.SinkRecord
	for off := from; off < to; off++ {
		out = append(out, rec(topic, p, off, fmt.Sprintf("v%d", off), data.StringSchema, t0.Add(time.Duration(off)*time.Minute)))
	}
	return out
}

func TestObjectNamesAndFlushSize(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		records []connect.SinkRecord
		want    []string
	}{
		{name: "flush.size cuts files, the last one at the end of the lease",
			props: baseProps(), records: strRecords("orders", 0, 5, 12),
			want: []string{
				"topics/orders/partition=0/orders+0+0000000005.txt",
				"topics/orders/partition=0/orders+0+0000000008.txt",
				"topics/orders/partition=0/orders+0+0000000011.txt",
			}},
		{name: "topics.dir, delimiters and zero padding",
			props:   baseProps("topics.dir", "exports/raw", "file.delim", "_", "filename.offset.zero.pad.width", "4", "flush.size", "100"),
			records: strRecords("orders", 3, 12345, 12347),
			want:    []string{"exports/raw/orders/partition=3/orders_3_12345.txt"}},
		{name: "empty topics.dir",
			props: baseProps("topics.dir", "", "flush.size", "100"), records: strRecords("t", 1, 0, 2),
			want: []string{"t/partition=1/t+1+0000000000.txt"}},
		{name: "keys and headers beside the values",
			props:   baseProps("store.kafka.keys", "true", "store.kafka.headers", "true", "flush.size", "100"),
			records: withHeaders(strRecords("t", 0, 7, 9)),
			want: []string{
				"topics/t/partition=0/t+0+0000000007.headers.txt",
				"topics/t/partition=0/t+0+0000000007.keys.txt",
				"topics/t/partition=0/t+0+0000000007.txt",
			}},
		{name: "hourly partitioner with record time",
			props: baseProps("partitioner.class", "io.confluent.connect.storage.partitioner.HourlyPartitioner",
				"locale", "en-US", "timezone", "UTC", "timestamp.extractor", "Record", "flush.size", "100"),
			records: strRecords("t", 0, 0, 130), // one record a minute from 10:00
			want: []string{
				"topics/t/year=2024/month=03/day=01/hour=10/t+0+0000000000.txt",
				"topics/t/year=2024/month=03/day=01/hour=11/t+0+0000000060.txt",
				"topics/t/year=2024/month=03/day=01/hour=12/t+0+0000000120.txt",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newTestStore()
			last := tc.records[len(tc.records)-1]
			safe, err := runTask(t, store, tc.props, 4, tc.records)
			if err != nil {
				t.Fatal(err)
			}
			tp := connect.TopicPartition{Topic: last.OriginalTopic, Partition: last.OriginalPartition}
			if safe[tp] != last.OriginalOffset+1 {
				t.Fatalf("PreCommit = %v, want %s at %d", safe, tp.Topic, last.OriginalOffset+1)
			}
			if got := keysOf(store.snapshot()); !slices.Equal(got, tc.want) {
				t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if store.open != 0 {
				t.Fatalf("%d writers left open", store.open)
			}
		})
	}
}

func withHeaders(rs []connect.SinkRecord) []connect.SinkRecord {
	for i := range rs {
		rs[i].Headers.AddString("h", fmt.Sprintf("x%d", i))
	}
	return rs
}

func TestKeysAndHeadersContent(t *testing.T) {
	store := newTestStore()
	rs := withHeaders(strRecords("t", 0, 0, 2))
	if _, err := runTask(t, store, baseProps("store.kafka.keys", "true", "store.kafka.headers", "true"), 10, rs); err != nil {
		t.Fatal(err)
	}
	got := store.snapshot()
	if keys := got["topics/t/partition=0/t+0+0000000000.keys.txt"]; keys != "0:k0\n1:k1\nEND\n" {
		t.Fatalf("keys object = %q", keys)
	}
	if hdrs := got["topics/t/partition=0/t+0+0000000000.headers.txt"]; !strings.Contains(hdrs, "key=h") || !strings.Contains(hdrs, "value=x1") {
		t.Fatalf("headers object = %q", hdrs)
	}
}

func TestRotation(t *testing.T) {
	s1 := data.StructBuilder().Field("a", data.Int32Schema).MustBuild()
	s2 := data.StructBuilder().Field("a", data.Int32Schema).Field("b", data.OptionalStringSchema).MustBuild()
	schemaRecords := func() []connect.SinkRecord {
		var rs []connect.SinkRecord
		for off, s := range []*data.Schema{s1, s1, s2, s2, s1} {
			rs = append(rs, rec("t", 0, int64(off), data.NewStruct(s).Set("a", int32(off)), s, t0))
		}
		return rs
	}
	schemaless := func() []connect.SinkRecord {
		var rs []connect.SinkRecord
		for off, v := range []map[string]any{{"a": 1}, {"a": 2}, {"a": 3, "b": "x"}, {"a": 4, "b": "y"}} {
			rs = append(rs, rec("t", 0, int64(off), v, nil, t0))
		}
		return rs
	}
	timed := func(minutes ...int) []connect.SinkRecord {
		var rs []connect.SinkRecord
		for off, m := range minutes {
			rs = append(rs, rec("t", 0, int64(off), "v", data.StringSchema, t0.Add(time.Duration(m)*time.Minute)))
		}
		return rs
	}
	tests := []struct {
		name    string
		props   map[string]string
		records []connect.SinkRecord
		starts  []int64
	}{
		{name: "value schema change", props: baseProps("flush.size", "100"), records: schemaRecords(), starts: []int64{0, 2, 4}},
		{name: "schemaless format signal", props: baseProps("flush.size", "100"), records: schemaless(), starts: []int64{0, 2}},
		{name: "rotate.interval.ms in record time", props: baseProps("flush.size", "100", "rotate.interval.ms", "600000"),
			// 10 minutes: 0,5,9 | 10,12 | 25 | 24 (late, same file as 25) ...
			records: timed(0, 5, 9, 10, 12, 25, 24, 34, 35), starts: []int64{0, 3, 5, 8}},
		{name: "rotate.interval.ms with a time-based partitioner", props: baseProps("flush.size", "100", "rotate.interval.ms", "600000",
			"partitioner.class", "TimeBasedPartitioner", "partition.duration.ms", "86400000", "path.format", "'d'=dd",
			"locale", "en", "timezone", "UTC", "timestamp.extractor", "Record"),
			records: timed(0, 5, 9, 10, 12), starts: []int64{0, 3}},
		{name: "flush.size and time together", props: baseProps("flush.size", "2", "rotate.interval.ms", "600000"),
			records: timed(0, 1, 2, 11, 30), starts: []int64{0, 2, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newTestStore()
			if _, err := runTask(t, store, tc.props, 2, tc.records); err != nil {
				t.Fatal(err)
			}
			var starts []int64
			for _, k := range keysOf(store.snapshot()) {
				var off int64
				name := k[strings.LastIndexByte(k, '/')+1:]
				if _, err := fmt.Sscanf(name[strings.LastIndexByte(name, '+')+1:], "%d.txt", &off); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				starts = append(starts, off)
			}
			slices.Sort(starts)
			if !slices.Equal(starts, tc.starts) {
				t.Fatalf("files start at %v, want %v", starts, tc.starts)
			}
		})
	}
}

func TestNullValues(t *testing.T) {
	records := func() []connect.SinkRecord {
		rs := strRecords("t", 0, 0, 4)
		rs[1].Value, rs[1].ValueSchema = nil, nil
		return rs
	}
	tests := []struct {
		name    string
		props   map[string]string
		want    map[string]string
		wantErr error
	}{
		{name: "fail (the default)", props: baseProps("flush.size", "10"), wantErr: sink.ErrNullValue},
		{name: "ignore", props: baseProps("flush.size", "10", "behavior.on.null.values", "ignore"),
			want: map[string]string{"topics/t/partition=0/t+0+0000000000.txt": "0:v0\n2:v2\n3:v3\nEND\n"}},
		{name: "write puts tombstones' keys under the tombstone partition",
			props: baseProps("flush.size", "10", "behavior.on.null.values", "WRITE", "store.kafka.keys", "true"),
			want: map[string]string{
				"topics/t/partition=0/t+0+0000000000.txt":      "0:v0\n2:v2\n3:v3\nEND\n",
				"topics/t/partition=0/t+0+0000000000.keys.txt": "0:k0\n2:k2\n3:k3\nEND\n",
				"topics/t/tombstone/t+0+0000000001.keys.txt":   "1:k1\nEND\n",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newTestStore()
			_, err := runTask(t, store, tc.props, 10, records())
			if tc.wantErr != nil {
				var re *sink.RecordError
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &re) || re.Offset != 1 || connect.IsRetriable(err) {
					t.Fatalf("error = %v, want a non-retriable RecordError at offset 1 wrapping %v", err, tc.wantErr)
				}
				if len(store.snapshot()) != 0 || store.open != 0 {
					t.Fatalf("objects %v, %d open after a failure", store.snapshot(), store.open)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := store.snapshot(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("objects = %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestRecordErrors(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		mutate  func(r *connect.SinkRecord)
		wantErr string
	}{
		{name: "value the format cannot encode", props: baseProps(), mutate: func(r *connect.SinkRecord) { r.Value = "poison" },
			wantErr: "cannot encode poison"},
		{name: "null key with store.kafka.keys", props: baseProps("store.kafka.keys", "true"), mutate: func(r *connect.SinkRecord) { r.Key = nil },
			wantErr: sink.ErrNullKey.Error()},
		{name: "no headers with store.kafka.headers", props: baseProps("store.kafka.headers", "true"), mutate: func(*connect.SinkRecord) {},
			wantErr: sink.ErrNoHeaders.Error()},
		{name: "partitioner cannot place the record", props: baseProps("partitioner.class", "FieldPartitioner", "partition.field.name", "x"),
			mutate: func(*connect.SinkRecord) {}, wantErr: "Error encoding partition."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := strRecords("t", 0, 0, 3)
			tc.mutate(&rs[1])
			_, err := runTask(t, newTestStore(), tc.props, 10, rs)
			var re *sink.RecordError
			if !errors.As(err, &re) || connect.IsRetriable(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want a non-retriable RecordError containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestFailedCommitFailsRetriablyWithoutOffsets(t *testing.T) {
	tests := []struct {
		name   string
		failOn string
	}{
		{name: "a file rotated by flush.size", failOn: "0000000003"},
		{name: "a file committed at PreCommit", failOn: "0000000009"},
		{name: "a keys object", failOn: ".keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newTestStore()
			store.failCommit = func(key string) error {
				if strings.Contains(key, tc.failOn) {
					return errors.New("injected commit failure")
				}
				return nil
			}
			safe, err := runTask(t, store, baseProps("store.kafka.keys", "true"), 2, strRecords("t", 0, 0, 10))
			if !connect.IsRetriable(err) || !errors.Is(err, sink.ErrFailed) && !strings.Contains(err.Error(), "injected") {
				t.Fatalf("error = %v, want a retriable store failure", err)
			}
			if len(safe) != 0 {
				t.Fatalf("PreCommit returned offsets %v after a failure", safe)
			}
			if store.open != 0 {
				t.Fatalf("%d writers left open", store.open)
			}
		})
	}
}

func TestPutOfferedAgainIsIgnored(t *testing.T) {
	store := newTestStore()
	rs := strRecords("t", 0, 0, 5)
	// The second batch repeats the first's records, as the executor does
	// after a retriable Put error.
	records := append(append(append([]connect.SinkRecord{}, rs[:3]...), rs[:3]...), rs[3:]...)
	if _, err := runTask(t, store, baseProps("flush.size", "100"), 3, records); err != nil {
		t.Fatal(err)
	}
	if got := store.snapshot()["topics/t/partition=0/t+0+0000000000.txt"]; got != "0:v0\n1:v1\n2:v2\n3:v3\n4:v4\nEND\n" {
		t.Fatalf("object = %q", got)
	}
}

// A time-partitioned backlog: 200,000 records spread over 500 hours, with
// one record in 50 up to 11 hours late, and at most 8 open files.
func TestBoundedOpenFiles(t *testing.T) {
	const n, hours, maxOpen = 200_000, 500, 8
	records := make([]connect.SinkRecord, n)
	for i := range records {
		hour := i * hours / n
		if i%50 == 0 {
			hour -= (i / 50) % 12
		}
		ts := t0.Add(time.Duration(max(hour, 0))*time.Hour + time.Duration(i%3600)*time.Second)
		records[i] = rec("t", 0, int64(i), "v", data.StringSchema, ts)
	}
	props := baseProps("flush.size", "1000", "sluice.max.open.files", fmt.Sprint(maxOpen),
		"partitioner.class", "HourlyPartitioner", "locale", "en", "timezone", "UTC", "timestamp.extractor", "Record")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	first := newTestStore()
	if _, err := runTask(t, first, props, 500, records); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if first.maxOpen > maxOpen {
		t.Fatalf("%d files open at once, cap %d", first.maxOpen, maxOpen)
	}
	objects := first.snapshot()
	if len(objects) < hours || len(objects) > n/20 {
		t.Fatalf("%d objects for %d hours", len(objects), hours)
	}
	total := 0
	for _, v := range objects {
		total += strings.Count(v, "\n") - 1 // less the END line
	}
	if total != n {
		t.Fatalf("objects hold %d records, want %d", total, n)
	}
	// The records themselves and the committed objects are most of the
	// heap; open files add little.
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 256<<20 {
		t.Fatalf("heap grew by %d MiB", grown>>20)
	}

	// The same records cut the same files: eviction depends only on them.
	second := newTestStore()
	if _, err := runTask(t, second, props, 777, records); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(second.snapshot()) != fmt.Sprint(objects) {
		t.Fatal("a second run with other batch sizes wrote different objects")
	}
	t.Logf("%d objects, at most %d open", len(objects), first.maxOpen)
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{name: "flush.size required", props: map[string]string{"format.class": "test.Lines"}, want: "flush.size"},
		{name: "format.class required", props: map[string]string{"flush.size": "1"}, want: "format.class"},
		{name: "write needs keys", props: baseProps("behavior.on.null.values", "write"), want: "store.kafka.keys=true"},
		{name: "schedule needs timezone", props: baseProps("rotate.schedule.interval.ms", "60000"), want: "Timezone cannot be empty"},
		{name: "bad null behavior", props: baseProps("behavior.on.null.values", "explode"), want: "behavior.on.null.values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sink.NewTask(testOptions(newTestStore())).Start(t.Context(), nil, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  int
	}{
		{name: "default partitioner", props: baseProps(), want: 0},
		{name: "hourly with the default Wallclock", props: baseProps("partitioner.class", "HourlyPartitioner"), want: 1},
		{name: "hourly with Record", props: baseProps("partitioner.class", "HourlyPartitioner", "timestamp.extractor", "Record"), want: 0},
		{name: "scheduled rotation and Wallclock", props: baseProps("partitioner.class", "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
			"rotate.schedule.interval.ms", "3600000"), want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sink.Warnings(tc.props); len(got) != tc.want {
				t.Fatalf("Warnings = %q, want %d", got, tc.want)
			}
		})
	}
}

// A format that writes only structs gets keys and headers enveloped in
// RecordKey and RecordHeaders structs.
func TestStructOnlyFormatEnvelopesKeysAndHeaders(t *testing.T) {
	store := newTestStore()
	rs := withHeaders(strRecords("t", 0, 0, 2))
	props := baseProps("format.class", "test.Parquetish", "store.kafka.keys", "true", "store.kafka.headers", "true")
	if _, err := runTask(t, store, props, 10, rs); err != nil {
		t.Fatal(err)
	}
	got := store.snapshot()
	want := map[string]string{
		"topics/t/partition=0/t+0+0000000000.snappy.parquet":      "0:v0\n1:v1\nEND\n",
		"topics/t/partition=0/t+0+0000000000.keys.snappy.parquet": "0:Struct{key=k0}\n1:Struct{key=k1}\nEND\n",
		"topics/t/partition=0/t+0+0000000000.headers.snappy.parquet": "0:Struct{headers=[Struct{key=h,value=x0}]}\n" +
			"1:Struct{headers=[Struct{key=h,value=x1}]}\nEND\n",
	}
	if !maps.Equal(got, want) {
		t.Fatalf("objects = %q, want %q", got, want)
	}
}
