package state

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

func TestOffsetStoreLoadAll(t *testing.T) {
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
		{"jdbc-source", []offsets.Entry{{Partition: table, Offset: map[string]any{"id": int64(7)}}}},
		{"other-source", []offsets.Entry{{Partition: fileA, Offset: map[string]any{"position": int64(999)}}}},
		{"gone-source", []offsets.Entry{{Partition: table, Offset: map[string]any{"id": int64(1)}}}},
		{"file-source", []offsets.Entry{
			{Partition: fileA, Offset: map[string]any{"position": int64(11)}},
			{Partition: fileB, Offset: nil}, // tombstone
		}},
		{"jdbc-source", []offsets.Entry{{Partition: table, Offset: map[string]any{"id": int64(8)}}}},
		{"gone-source", []offsets.Entry{{Partition: table, Offset: nil}}}, // every partition deleted
	}
	want := map[string]map[string]offsets.Entry{
		"file-source":  {offsets.PartitionID(fileA): {Partition: fileA, Offset: map[string]any{"position": int64(11)}}},
		"jdbc-source":  {offsets.PartitionID(table): {Partition: table, Offset: map[string]any{"id": int64(8)}}},
		"other-source": {offsets.PartitionID(fileA): {Partition: fileA, Offset: map[string]any{"position": int64(999)}}},
	}

	tests := []struct {
		name string
		spec kafka.TopicSpec
	}{
		{name: "Connect's default topic", spec: kafka.TopicSpec{}},
		{name: "one partition", spec: kafka.TopicSpec{Name: "offsets-1", Partitions: 1}},
		{name: "three partitions", spec: kafka.TopicSpec{Name: "offsets-3", Partitions: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			cl := dial(t, c)
			ctx := testCtx(t)
			s := newOffsetStore(t, cl, tt.spec)

			empty, err := s.LoadAll(ctx)
			if err != nil {
				t.Fatalf("LoadAll of an empty topic: %v", err)
			}
			if len(empty) != 0 {
				t.Fatalf("LoadAll of an empty topic = %#v", empty)
			}

			// Records that are not Connect offset keys are skipped.
			p := newProducer(t, cl, kafka.ProducerOptions{})
			p.Send(context.Background(), kafka.Message{Topic: s.Topic(), Partition: -1, Key: []byte("not json"), Value: []byte("x")})
			p.Send(context.Background(), kafka.Message{Topic: s.Topic(), Partition: -1, Value: []byte("no key")})
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, w := range writes {
				if err := s.Write(ctx, w.connector, w.entries); err != nil {
					t.Fatalf("Write(%s): %v", w.connector, err)
				}
			}

			got, err := s.LoadAll(ctx)
			if err != nil {
				t.Fatalf("LoadAll: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("LoadAll = %#v, want %#v", got, want)
			}
			// Load agrees with LoadAll, connector by connector.
			for _, connector := range []string{"file-source", "jdbc-source", "other-source", "gone-source", "unknown"} {
				w := want[connector]
				if w == nil {
					w = map[string]offsets.Entry{}
				}
				if one := loadOffsets(t, s, connector); !reflect.DeepEqual(one, w) {
					t.Errorf("Load(%s) = %#v, want %#v", connector, one, w)
				}
			}
		})
	}
}
