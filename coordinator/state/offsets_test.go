package state

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

func newOffsetStore(t *testing.T, cl *kafka.Client, spec kafka.TopicSpec) *OffsetStore {
	t.Helper()
	s, err := NewOffsetStore(testCtx(t), cl, spec)
	if err != nil {
		t.Fatalf("NewOffsetStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func loadOffsets(t *testing.T, s offsets.Store, connector string) map[string]offsets.Entry {
	t.Helper()
	m, err := s.Load(testCtx(t), connector)
	if err != nil {
		t.Fatalf("Load(%s): %v", connector, err)
	}
	return m
}

func TestOffsetStore(t *testing.T) {
	c := newCluster(t)
	cl := dial(t, c)
	ctx := testCtx(t)
	s := newOffsetStore(t, cl, kafka.TopicSpec{})
	requireEqual(t, "topic", s.Topic(), DefaultOffsetTopic)

	ps, err := cl.Partitions(ctx, DefaultOffsetTopic)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "partitions", len(ps), DefaultOffsetPartitions)

	fileA := map[string]any{"filename": "/tmp/a.txt"}
	fileB := map[string]any{"filename": "/tmp/b.txt"}
	table := map[string]any{"table": "orders"}
	writes := []struct {
		connector string
		entries   []offsets.Entry
	}{
		{"file-source", []offsets.Entry{
			{Partition: fileA, Offset: map[string]any{"position": int64(10)}},
			{Partition: fileB, Offset: map[string]any{"position": int64(20)}},
		}},
		{"jdbc-source", []offsets.Entry{{Partition: table, Offset: map[string]any{"id": int64(7), "ts": 1.5}}}},
		// Same partition under another connector: isolated.
		{"other-source", []offsets.Entry{{Partition: fileA, Offset: map[string]any{"position": int64(999)}}}},
		{"file-source", []offsets.Entry{
			{Partition: fileA, Offset: map[string]any{"position": int64(11)}},
			{Partition: fileB, Offset: nil}, // tombstone
		}},
	}
	for _, w := range writes {
		if err := s.Write(ctx, w.connector, w.entries); err != nil {
			t.Fatalf("Write(%s): %v", w.connector, err)
		}
	}

	want := map[string]map[string]offsets.Entry{
		"file-source":  {offsets.PartitionID(fileA): {Partition: fileA, Offset: map[string]any{"position": int64(11)}}},
		"jdbc-source":  {offsets.PartitionID(table): {Partition: table, Offset: map[string]any{"id": int64(7), "ts": 1.5}}},
		"other-source": {offsets.PartitionID(fileA): {Partition: fileA, Offset: map[string]any{"position": int64(999)}}},
		"unknown":      {},
	}
	check := func(t *testing.T, s offsets.Store) {
		t.Helper()
		for connector, w := range want {
			if got := loadOffsets(t, s, connector); !reflect.DeepEqual(got, w) {
				t.Errorf("Load(%s) = %#v, want %#v", connector, got, w)
			}
		}
	}
	check(t, s)

	// A restarted process: a new client and store on the existing topic.
	cl2 := dial(t, c)
	check(t, newOffsetStore(t, cl2, kafka.TopicSpec{}))

	// The records are Connect's bytes, on the partitions Connect's producer
	// (murmur2) would choose.
	key, err := offsets.EncodeKey("jdbc-source", table)
	if err != nil {
		t.Fatal(err)
	}
	tp := kafka.TopicPartition{Topic: DefaultOffsetTopic, Partition: kafka.PartitionForKey(key, DefaultOffsetPartitions)}
	recs := readAll(t, cl, tp.Topic, tp.Partition)
	found := false
	for _, r := range recs {
		if string(r.Key) == `["jdbc-source",{"table":"orders"}]` {
			found = true
			requireEqual(t, "value", string(r.Value), `{"id":7,"ts":1.5}`)
		}
	}
	if !found {
		t.Fatalf("key %s not on partition %d (records there: %d)", key, tp.Partition, len(recs))
	}

	// The tombstone is a null value, not an empty one.
	keyB, _ := offsets.EncodeKey("file-source", fileB)
	tpB := kafka.TopicPartition{Topic: DefaultOffsetTopic, Partition: kafka.PartitionForKey(keyB, DefaultOffsetPartitions)}
	recs = readAll(t, cl, tpB.Topic, tpB.Partition)
	last := recs[len(recs)-1]
	for _, r := range recs {
		if string(r.Key) == string(keyB) {
			last = r
		}
	}
	if string(last.Key) != string(keyB) || last.Value != nil {
		t.Fatalf("last record for %s = %q -> %q, want a null value", keyB, last.Key, last.Value)
	}
}

func TestOffsetStoreSkipsForeignRecords(t *testing.T) {
	c := newCluster(t)
	cl := dial(t, c)
	ctx := testCtx(t)
	s := newOffsetStore(t, cl, kafka.TopicSpec{Name: "shared-offsets", Partitions: 3, ReplicationFactor: 1})

	// Records that are not Connect offset keys, as another tool might write.
	p := newProducer(t, cl, kafka.ProducerOptions{})
	p.Send(context.Background(), kafka.Message{Topic: "shared-offsets", Partition: -1, Key: []byte("not json"), Value: []byte("x")})
	p.Send(context.Background(), kafka.Message{Topic: "shared-offsets", Partition: -1, Value: []byte("no key")})
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	part := map[string]any{"k": "v"}
	if err := s.Write(ctx, "c", []offsets.Entry{{Partition: part, Offset: map[string]any{"n": int64(1)}}}); err != nil {
		t.Fatal(err)
	}
	got := loadOffsets(t, s, "c")
	if len(got) != 1 || got[offsets.PartitionID(part)].Offset["n"] != int64(1) {
		t.Fatalf("Load = %#v", got)
	}
}

// One store loads again and again as leases do: each Load sees what was
// written since the one before (updates, tombstones, new connectors, and
// writes by another process), returns maps of its own, and reads the topic
// again when the records it stopped at were deleted.
func TestOffsetStoreLoadsIncrementally(t *testing.T) {
	c := newCluster(t)
	cl := dial(t, c)
	ctx := testCtx(t)
	spec := kafka.TopicSpec{Name: "inc-offsets", Partitions: 1, ReplicationFactor: 1}
	s := newOffsetStore(t, cl, spec)
	other := newOffsetStore(t, dial(t, c), spec) // another process
	a, b := map[string]any{"f": "a"}, map[string]any{"f": "b"}
	write := func(st *OffsetStore, connector string, entries ...offsets.Entry) {
		t.Helper()
		if err := st.Write(ctx, connector, entries); err != nil {
			t.Fatal(err)
		}
	}
	pos := func(n int64) map[string]any { return map[string]any{"position": n} }

	write(s, "c", offsets.Entry{Partition: a, Offset: pos(1)}, offsets.Entry{Partition: b, Offset: pos(2)})
	requireEqual(t, "first load", len(loadOffsets(t, s, "c")), 2)

	write(other, "c", offsets.Entry{Partition: a, Offset: pos(3)}, offsets.Entry{Partition: b, Offset: nil})
	write(other, "d", offsets.Entry{Partition: a, Offset: pos(4)})
	want := map[string]offsets.Entry{offsets.PartitionID(a): {Partition: a, Offset: pos(3)}}
	if got := loadOffsets(t, s, "c"); !reflect.DeepEqual(got, want) {
		t.Fatalf("second load = %#v, want %#v", got, want)
	}
	all, err := s.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "connectors", len(all), 2)
	requireEqual(t, "d", all["d"][offsets.PartitionID(a)].Offset["position"], any(int64(4)))
	all["d"][offsets.PartitionID(a)].Offset["position"] = int64(99) // the caller's own copy
	requireEqual(t, "d again", loadOffsets(t, s, "d")[offsets.PartitionID(a)].Offset["position"], any(int64(4)))

	// Records deleted past where the store stopped: it reads the topic
	// again, and what was deleted is gone.
	wms, err := cl.Watermarks(ctx, []kafka.TopicPartition{{Topic: spec.Name, Partition: 0}})
	if err != nil {
		t.Fatal(err)
	}
	write(other, "e", offsets.Entry{Partition: a, Offset: pos(5)})
	write(other, "g", offsets.Entry{Partition: a, Offset: pos(6)})
	if err := c.DeleteRecords(spec.Name, 0, wms[kafka.TopicPartition{Topic: spec.Name, Partition: 0}].High+1); err != nil {
		t.Fatal(err)
	}
	all, err = s.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want2 := map[string]map[string]offsets.Entry{"g": {offsets.PartitionID(a): {Partition: a, Offset: pos(6)}}}
	if !reflect.DeepEqual(all, want2) {
		t.Fatalf("after deletion LoadAll = %#v, want %#v", all, want2)
	}
}
