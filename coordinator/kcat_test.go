package coordinator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// kcat runs kcat (librdkafka, Debian's package) against brokers with args,
// stdin as its input, and returns its standard output.
func kcat(t *testing.T, brokers []string, stdin string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is required for the interoperability check: run `make tools` or apt-get install kcat")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", append([]string{"-b", strings.Join(brokers, ","), "-q"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// kcatRecord is one record as kcat's consumer prints it with
// -f '%p\t%o\t%T\t%k\t%h\t%s\n'.
type kcatRecord struct {
	partition, offset, timestamp int64
	key, headers, value          string
}

// kcatFormat is the consumer format kcatRecord parses: partition, offset,
// timestamp (ms), key, headers (k=v, comma-separated; a null value is
// printed k=NULL, an empty one k=) and value, tab-separated.
const kcatFormat = `%p\t%o\t%T\t%k\t%h\t%s\n`

// kcatConsume reads topic from the beginning to its end with kcat.
func kcatConsume(t *testing.T, brokers []string, topic string) []kcatRecord {
	t.Helper()
	out := kcat(t, brokers, "", "-C", "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	var recs []kcatRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 {
			t.Fatalf("kcat printed %q: want 6 tab-separated fields", sc.Text())
		}
		var r kcatRecord
		var err error
		for i, p := range []*int64{&r.partition, &r.offset, &r.timestamp} {
			if *p, err = strconv.ParseInt(f[i], 10, 64); err != nil {
				t.Fatalf("kcat printed %q: field %d: %v", sc.Text(), i, err)
			}
		}
		r.key, r.headers, r.value = f[3], f[4], f[5]
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b kcatRecord) int {
		if a.partition != b.partition {
			return int(a.partition - b.partition)
		}
		return int(a.offset - b.offset)
	})
	return recs
}

// kcat produces records with keys and headers to Apache Kafka; a Sluice
// sink (the local storage sink, JSON, with store.kafka.keys and
// store.kafka.headers, and InsertField adding each record's timestamp and
// offset to its value) writes them out; every key, header and timestamp
// arrives as kcat's consumer reads them from the broker.
//
// kcat 1.7's producer has no option for a record's timestamp: librdkafka
// stamps each record (CreateTime) when kcat sends it. The test takes the
// timestamps the broker holds (kcat -C, %T) as the expected ones; the
// records of the three kcat runs are sent at different times.
func TestKcatProducesSluiceSinkWritesKeysHeadersTimestamps(t *testing.T) {
	realkafka.Require(t)
	h := start(t)
	const topic = "kcat-in"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	value := func(n int, s string) string {
		return fmt.Sprintf(`{"schema":{"type":"struct","optional":false,"fields":[{"field":"n","type":"int32","optional":false},`+
			`{"field":"s","type":"string","optional":false}]},"payload":{"n":%d,"s":%q}}`, n, s)
	}
	// Three kcat runs: kcat's -H headers go on every record of a run.
	runs := []struct {
		headers []string // k=v, in order
		keys    []string
	}{
		{headers: []string{"trace=t-1", "tenant=acme"}, keys: []string{"k0", "k1"}},
		{headers: []string{"trace=t-2", "dup=first", "dup=second"}, keys: []string{"k2", "clé-ü"}},
		{headers: []string{"empty=", "utf8=żółw"}, keys: []string{"k4"}},
	}
	type want struct {
		key     string
		headers []string
		n       int
	}
	var wants []want
	for i, run := range runs {
		var in strings.Builder
		for _, k := range run.keys {
			n := len(wants)
			fmt.Fprintf(&in, "%s|%s\n", k, value(n, "v"+strconv.Itoa(n)))
			wants = append(wants, want{key: k, headers: run.headers, n: n})
		}
		args := []string{"-P", "-t", topic, "-p", "0", "-K", "|"}
		for _, hdr := range run.headers {
			args = append(args, "-H", hdr)
		}
		kcat(t, h.brokers, in.String(), args...)
		if i < len(runs)-1 {
			time.Sleep(20 * time.Millisecond) // distinct timestamps between runs
		}
	}
	fromKafka := kcatConsume(t, h.brokers, topic)
	if len(fromKafka) != len(wants) {
		t.Fatalf("kcat reads back %d records, produced %d", len(fromKafka), len(wants))
	}
	for i, r := range fromKafka {
		if r.key != wants[i].key || r.headers != strings.Join(wants[i].headers, ",") {
			t.Fatalf("record %d as kcat reads it: key %q headers %q; produced key %q headers %q",
				i, r.key, r.headers, wants[i].key, wants[i].headers)
		}
	}

	dir := t.TempDir()
	err := h.coord.Add(map[string]string{
		"name": "kcat-sink", "connector.class": "LocalSinkConnector", "topics": topic,
		"store.url": "file://" + dir, "flush.size": strconv.Itoa(len(wants)),
		"format.class":                    "io.confluent.connect.s3.format.json.JsonFormat",
		"store.kafka.keys":                "true",
		"store.kafka.headers":             "true",
		"key.converter":                   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                 "org.apache.kafka.connect.json.JsonConverter",
		"transforms":                      "meta",
		"transforms.meta.type":            "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.meta.timestamp.field": "kafka_ts",
		"transforms.meta.offset.field":    "kafka_offset",
	})
	if err != nil {
		t.Fatal(err)
	}
	// The files of partition 0, in offset order (one file unless a lease
	// ended before all the records were fetched).
	var values, keys, headers []string
	waitFor(t, 90*time.Second, fmt.Sprintf("%d records in the sink's files", len(wants)), func() bool {
		values, keys, headers = readSinkFiles(t, filepath.Join(dir, "topics", topic, "partition=0"))
		// Each file is committed on its own: values, keys, then headers.
		return len(values) >= len(wants) && len(keys) >= len(wants) && len(headers) >= len(wants)
	})
	if len(values) != len(wants) || len(keys) != len(wants) || len(headers) != len(wants) {
		t.Fatalf("the sink wrote %d values, %d keys, %d headers; want %d of each", len(values), len(keys), len(headers), len(wants))
	}
	for i, w := range wants {
		var v struct {
			N           int    `json:"n"`
			S           string `json:"s"`
			KafkaTS     int64  `json:"kafka_ts"`
			KafkaOffset int64  `json:"kafka_offset"`
		}
		if err := json.Unmarshal([]byte(values[i]), &v); err != nil {
			t.Fatalf("value %d: %q: %v", i, values[i], err)
		}
		if v.N != w.n || v.S != "v"+strconv.Itoa(w.n) || v.KafkaOffset != int64(i) {
			t.Errorf("value %d = %s; want n %d, s v%d, kafka_offset %d", i, values[i], w.n, w.n, i)
		}
		if v.KafkaTS != fromKafka[i].timestamp {
			t.Errorf("value %d: kafka_ts %d, the broker holds timestamp %d (kcat %%T)", i, v.KafkaTS, fromKafka[i].timestamp)
		}
		if wantKey, _ := json.Marshal(w.key); keys[i] != string(wantKey) {
			t.Errorf("key %d = %s, want %s", i, keys[i], wantKey)
		}
		var hs []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		}
		if err := json.Unmarshal([]byte(headers[i]), &hs); err != nil {
			t.Fatalf("headers %d: %q: %v", i, headers[i], err)
		}
		var got []string
		for _, hd := range hs {
			val := "<null>"
			if hd.Value != nil {
				val = *hd.Value
			}
			got = append(got, hd.Key+"="+val)
		}
		if !slices.Equal(got, w.headers) {
			t.Errorf("headers %d = %q, want %q (as kcat sent them, in order)", i, got, w.headers)
		}
	}
	// The timestamps are kcat's, and the runs' differ.
	if fromKafka[0].timestamp == fromKafka[len(fromKafka)-1].timestamp {
		t.Errorf("every record has timestamp %d: want the runs' own", fromKafka[0].timestamp)
	}
}

// readSinkFiles returns the lines of the JSON value, keys and headers files
// under dir, each kind in the order of the files' start offsets.
func readSinkFiles(t *testing.T, dir string) (values, keys, headers []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names) // <topic>+<partition>+<start offset %010d>...
	for _, name := range names {
		var dst *[]string
		switch {
		case strings.HasSuffix(name, ".keys.json"):
			dst = &keys
		case strings.HasSuffix(name, ".headers.json"):
			dst = &headers
		case strings.HasSuffix(name, ".json"):
			dst = &values
		default:
			continue
		}
		*dst = append(*dst, readLines(filepath.Join(dir, name))...)
	}
	return values, keys, headers
}

// A Sluice source (Datagen orders, each with its event time as the record
// timestamp) writes to Apache Kafka with headers added by Kafka's
// transforms (HeaderFrom copies order_id and customer_id, InsertHeader adds
// a literal and an empty one); kcat reads every record back with its key, headers and
// timestamp, and each matches the record's own value.
func TestSluiceSourceReadByKcatWithHeadersTimestamps(t *testing.T) {
	realkafka.Require(t)
	h := start(t)
	const topic, n = "kcat-out", 200
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	err := h.coord.Add(map[string]string{
		"name": "kcat-datagen", "connector.class": "Datagen", "topic": topic, "shape": "orders",
		"count": strconv.Itoa(n), "seed": "11", "tasks.max": "1",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"transforms":                     "copy,lit,empty",
		"transforms.copy.type":           "org.apache.kafka.connect.transforms.HeaderFrom$Value",
		"transforms.copy.fields":         "order_id,customer_id",
		"transforms.copy.headers":        "order-id,customer",
		"transforms.copy.operation":      "copy",
		"transforms.lit.type":            "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.lit.header":          "source",
		"transforms.lit.value.literal":   "sluice-datagen",
		"transforms.empty.type":          "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.empty.header":        "empty",
		"transforms.empty.value.literal": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, fmt.Sprintf("%d records in %s", n, topic), func() bool {
		wm, err := h.client.Watermarks(ctx, []kafka.TopicPartition{{Topic: topic, Partition: 0}, {Topic: topic, Partition: 1}})
		if err != nil {
			return false
		}
		var total int64
		for _, w := range wm {
			total += w.High - w.Low
		}
		return total >= n
	})
	recs := kcatConsume(t, h.brokers, topic)
	if len(recs) != n {
		t.Fatalf("kcat read %d records, want %d", len(recs), n)
	}
	seen := map[int64]bool{}
	timestamps := map[int64]bool{}
	for _, r := range recs {
		var v struct {
			OrderID    int64  `json:"order_id"`
			CustomerID string `json:"customer_id"`
			OrderedAt  int64  `json:"ordered_at"` // Timestamp: epoch ms
		}
		if err := json.Unmarshal([]byte(r.value), &v); err != nil {
			t.Fatalf("partition %d offset %d: value %q: %v", r.partition, r.offset, r.value, err)
		}
		if seen[v.OrderID] {
			t.Fatalf("order %d read twice", v.OrderID)
		}
		seen[v.OrderID] = true
		if r.key != v.CustomerID {
			t.Errorf("order %d: kcat key %q, customer_id %q", v.OrderID, r.key, v.CustomerID)
		}
		if r.timestamp != v.OrderedAt {
			t.Errorf("order %d: kcat timestamp %d, ordered_at %d", v.OrderID, r.timestamp, v.OrderedAt)
		}
		// The empty literal is an empty header value, not a null one.
		wantHeaders := fmt.Sprintf("order-id=%d,customer=%s,source=sluice-datagen,empty=", v.OrderID, v.CustomerID)
		if r.headers != wantHeaders {
			t.Errorf("order %d: kcat headers %q, want %q", v.OrderID, r.headers, wantHeaders)
		}
		timestamps[r.timestamp] = true
	}
	// kcat -o s@<ms> starts each partition at the first record stamped at
	// or after that time (the broker's time index, built from Sluice's
	// timestamps): pick the median time.
	sorted := slices.Sorted(maps.Keys(timestamps))
	from := sorted[len(sorted)/2]
	want := map[int64]int64{} // partition -> first offset with timestamp >= from
	for _, r := range recs {
		if _, ok := want[r.partition]; !ok && r.timestamp >= from {
			want[r.partition] = r.offset
		}
	}
	got := map[int64]int64{}
	out := kcat(t, h.brokers, "", "-C", "-t", topic, "-o", fmt.Sprintf("s@%d", from), "-e", "-f", `%p\t%o\n`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p, o int64
		if _, err := fmt.Sscan(line, &p, &o); err != nil {
			t.Fatalf("kcat -o s@%d printed %q: %v", from, line, err)
		}
		if first, ok := got[p]; !ok || o < first {
			got[p] = o
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("kcat -o s@%d starts partitions at %v, want %v", from, got, want)
	}
	// The timestamps are Datagen's event times, not the time of sending:
	// all distinct, in the past.
	if len(timestamps) != n {
		t.Errorf("%d distinct timestamps among %d records", len(timestamps), n)
	}
	for ts := range timestamps {
		if time.UnixMilli(ts).After(time.Now().Add(-time.Hour)) {
			t.Errorf("timestamp %s is recent: want Datagen's event time", time.UnixMilli(ts).UTC())
			break
		}
	}
}
