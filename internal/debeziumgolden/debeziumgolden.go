// Package debeziumgolden holds what the CDC connectors' golden tests share:
// the records Debezium emitted (testdata/debezium/<variant>.jsonl), read
// back and fetched from Sluice's topics, compared field by field, and the
// run of Debezium's embedded engine (DebeziumRecorder.java) that records
// them.
package debeziumgolden

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// Record is one line of a golden file: a record's topic, key and value.
type Record struct {
	Topic string          `json:"topic"`
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Read reads testdata/debezium/<name>, by topic.
func Read(t testing.TB, name string) map[string][]Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "debezium", name))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]Record{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out[r.Topic] = append(out[r.Topic], r)
	}
	return out
}

// Fetch reads every record of partition 0 of kafkaTopic as a Record of
// topic, key and value passed through anon (nil: as they are).
func Fetch(t testing.TB, client *kafka.Client, topic, kafkaTopic string, anon func([]byte) json.RawMessage) []Record {
	t.Helper()
	if anon == nil {
		anon = func(b []byte) json.RawMessage { return b }
	}
	var got []Record
	ctx := t.Context()
	tp := kafka.TopicPartition{Topic: kafkaTopic, Partition: 0}
	wm, err := client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	err = client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			got = append(got, Record{Topic: topic, Key: anon(m.Key), Value: anon(m.Value)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Compare fails t if got (Sluice's) and want (Debezium's), a topic's
// records, differ in number, and reports every key or value that differs
// once both are normalised (debezium says which side raw is from), with
// the paths where they differ (see Diff; wholeArrays as there).
func Compare(t testing.TB, topic string, got, want []Record, normalise func(raw json.RawMessage, debezium bool) any, wholeArrays int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, Debezium emitted %d", topic, len(got), len(want))
	}
	for i := range want {
		for _, part := range []struct {
			name      string
			got, want json.RawMessage
		}{{"key", got[i].Key, want[i].Key}, {"value", got[i].Value, want[i].Value}} {
			g, w := normalise(part.got, false), normalise(part.want, true)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s record %d %s differs from Debezium's:\n%s", topic, i, part.name, Diff(g, w, wholeArrays))
			}
		}
	}
}

// Diff names the paths where two decoded JSON documents differ. An array
// whose path ($ included) is shorter than wholeArrays characters and that
// is not empty in want is shown whole rather than element by element (0:
// never), which keeps a schema's field list readable.
func Diff(got, want any, wholeArrays int) string {
	var out bytes.Buffer
	var walk func(path string, g, w any)
	walk = func(path string, g, w any) {
		switch wv := w.(type) {
		case map[string]any:
			gv, ok := g.(map[string]any)
			if !ok {
				fmt.Fprintf(&out, "  %s: got %v, want %v\n", path, g, w)
				return
			}
			for k := range wv {
				walk(path+"."+k, gv[k], wv[k])
			}
			for k := range gv {
				if _, ok := wv[k]; !ok {
					fmt.Fprintf(&out, "  %s.%s: got %v, Debezium has no such field\n", path, k, gv[k])
				}
			}
		case []any:
			gv, ok := g.([]any)
			if !ok || len(gv) != len(wv) || len(path) < wholeArrays && len(wv) > 0 {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				fmt.Fprintf(&out, "  %s: got %s\n  %s: want %s\n", path, gj, path, wj)
				return
			}
			for i := range wv {
				walk(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i])
			}
		default:
			if !reflect.DeepEqual(g, w) {
				fmt.Fprintf(&out, "  %s: got %v, want %v\n", path, g, w)
			}
		}
	}
	walk("$", got, want)
	return out.String()
}

// Variant is the golden scenario with some transforms: the file
// Debezium's records are in, the records of the snapshot and in all
// (tombstones included), and the topics they go to.
type Variant struct {
	File            string
	Transforms      map[string]string
	Snapshot, Total int
	Topics          []string
}
