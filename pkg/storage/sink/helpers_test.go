package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// testStore is an in-memory Store that counts the writers open at once and
// can be told to fail commits.
type testStore struct {
	mu            sync.Mutex
	objects       map[string][]byte
	open, maxOpen int
	commits       int
	failCommit    func(key string) error
}

func newTestStore() *testStore { return &testStore{objects: map[string][]byte{}} }

func (s *testStore) Create(_ context.Context, key string) (storage.ObjectWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open++
	s.maxOpen = max(s.maxOpen, s.open)
	return &testObject{s: s, key: key}, nil
}

func (s *testStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return nil, fmt.Errorf("%s: not found", key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *testStore) List(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (s *testStore) Close() error { return nil }

// snapshot copies the committed objects.
func (s *testStore) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.objects))
	for k, v := range s.objects {
		out[k] = string(v)
	}
	return out
}

type testObject struct {
	s    *testStore
	key  string
	buf  bytes.Buffer
	done bool
}

func (o *testObject) Write(p []byte) (int, error) { return o.buf.Write(p) }

func (o *testObject) Commit(context.Context) error {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if o.done {
		return errors.New("committed twice")
	}
	o.done = true
	o.s.open--
	if o.s.failCommit != nil {
		if err := o.s.failCommit(o.key); err != nil {
			return err
		}
	}
	o.s.objects[o.key] = bytes.Clone(o.buf.Bytes())
	o.s.commits++
	return nil
}

func (o *testObject) Abort(context.Context) error {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if !o.done {
		o.done = true
		o.s.open--
	}
	return nil
}

// testFormat writes one line per record: the value as fmt renders it. A
// schemaless (nil schema) map value whose keys differ from the file's first
// record's gets errSchemaChanged, as a schemaless Parquet writer does; a
// value "poison" cannot be encoded.
type testFormat struct {
	ext        string
	structOnly bool // as Parquet: keys and headers are enveloped
}

var errSchemaChanged = errors.New("test: schema changed")

func (f testFormat) Extension() string { return f.ext }

func (f testFormat) StructOnly() bool { return f.structOnly }

func (f testFormat) NewWriter(w io.Writer, schema *data.Schema) (storage.RecordWriter, error) {
	return &testRecordWriter{w: w, schema: schema}, nil
}

type testRecordWriter struct {
	w      io.Writer
	schema *data.Schema
	keys   []string
}

func (w *testRecordWriter) Write(r *connect.SinkRecord) error {
	if r.Value == "poison" {
		return errors.New("test: cannot encode poison")
	}
	if m, ok := r.Value.(map[string]any); ok && w.schema == nil {
		keys := slices.Sorted(maps.Keys(m))
		if w.keys == nil {
			w.keys = keys
		} else if !slices.Equal(keys, w.keys) {
			return fmt.Errorf("%w: fields %v, file has %v", errSchemaChanged, keys, w.keys)
		}
	}
	_, err := fmt.Fprintf(w.w, "%d:%v\n", r.Offset, r.Value)
	return err
}

func (w *testRecordWriter) Close() error {
	_, err := io.WriteString(w.w, "END\n")
	return err
}

func testOptions(store storage.Store) sink.Options {
	return sink.Options{
		OpenStore: func(context.Context, map[string]string) (storage.Store, error) { return nopClose{store}, nil },
		NewFormat: func(class string, _ map[string]string) (storage.Format, error) {
			switch class {
			case "test.Lines":
				return testFormat{ext: ".txt"}, nil
			case "test.Parquetish":
				return testFormat{ext: ".snappy.parquet", structOnly: true}, nil
			}
			return nil, fmt.Errorf("unknown format %s", class)
		},
		IsSchemaChange: func(err error) bool { return errors.Is(err, errSchemaChanged) },
	}
}

// nopClose keeps a shared test store open when a task stops.
type nopClose struct{ storage.Store }

func (nopClose) Close() error { return nil }

// baseProps is a minimal configuration of the engine.
func baseProps(extra ...string) map[string]string {
	p := map[string]string{"name": "s3", "format.class": "test.Lines", "flush.size": "3"}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return p
}

// rec builds a record of partition p at offset off.
func rec(topic string, p int32, off int64, value any, schema *data.Schema, ts time.Time) connect.SinkRecord {
	return connect.SinkRecord{
		Record: connect.Record{Topic: topic, Partition: connect.PartitionOf(p), ValueSchema: schema, Value: value,
			KeySchema: data.StringSchema, Key: fmt.Sprintf("k%d", off), Timestamp: ts},
		Offset: off, OriginalTopic: topic, OriginalPartition: p, OriginalOffset: off,
	}
}

// runTask runs one lease's worth of the task over records, in batches of
// batch, and returns what PreCommit returned.
func runTask(t *testing.T, store storage.Store, props map[string]string, batch int, records []connect.SinkRecord) (map[connect.TopicPartition]int64, error) {
	t.Helper()
	ctx := context.Background()
	task := sink.NewTask(testOptions(store))
	if err := task.Start(ctx, nil, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := task.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	next := map[connect.TopicPartition]int64{}
	var tps []connect.TopicPartition
	for _, r := range records {
		tp := connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		if _, ok := next[tp]; !ok {
			tps = append(tps, tp)
		}
		next[tp] = r.OriginalOffset + 1
	}
	if err := task.Open(ctx, tps); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(records); i += batch {
		if err := task.Put(ctx, records[i:min(i+batch, len(records))]); err != nil {
			_ = task.Close(ctx, tps)
			return nil, err
		}
	}
	safe, err := task.PreCommit(ctx, next)
	if cerr := task.Close(ctx, tps); cerr != nil {
		t.Fatal(cerr)
	}
	return safe, err
}

func keysOf(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
