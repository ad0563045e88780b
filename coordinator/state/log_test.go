package state

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// TestLogReadToEnd: each read hands over exactly the records written
// before it, in offset order per partition, and resumes where it stopped.
func TestLogReadToEnd(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	var got []kafka.Message
	l, err := NewLog(ctx, env.Client, kafka.TopicSpec{Name: "log", Partitions: 3}, func(m kafka.Message) { got = append(got, m) }, quiet)
	mustNil(t, err)
	t.Cleanup(func() { _ = l.Close() })
	if l.Partitions() != 3 {
		t.Fatalf("%d partitions, want 3", l.Partitions())
	}

	batches := []struct {
		name string
		keys []string
	}{
		{name: "empty topic"},
		{name: "first writes", keys: []string{"a", "b", "c", "d", "a"}},
		{name: "nothing new"},
		{name: "more writes", keys: []string{"e", "a", "tomb"}},
	}
	seq := 0
	for _, b := range batches {
		t.Run(b.name, func(t *testing.T) {
			got = nil
			for _, k := range b.keys {
				var v []byte
				if k != "tomb" {
					v = fmt.Appendf(nil, "%s-%d", k, seq)
				}
				seq++
				mustNil(t, l.Send(ctx, []byte(k), v))
			}
			mustNil(t, l.ReadToEnd(ctx))
			if len(got) != len(b.keys) {
				t.Fatalf("read %d records, want %d", len(got), len(b.keys))
			}
			last := map[int32]int64{}
			for _, m := range got {
				if want := kafka.PartitionForKey(m.Key, 3); m.Partition != want {
					t.Errorf("%s on partition %d, want %d", m.Key, m.Partition, want)
				}
				if prev, ok := last[m.Partition]; ok && m.Offset <= prev {
					t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, prev)
				}
				last[m.Partition] = m.Offset
				if (string(m.Key) == "tomb") != (m.Value == nil) {
					t.Errorf("%s: value %q", m.Key, m.Value)
				}
			}
		})
	}
}

func TestLogFollowStops(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	var mu sync.Mutex
	n := 0
	l, err := NewLog(ctx, env.Client, kafka.TopicSpec{Name: "log", Partitions: 1}, func(kafka.Message) { mu.Lock(); n++; mu.Unlock() }, quiet)
	mustNil(t, err)
	tests := []struct {
		name     string
		interval time.Duration
		wantErr  error
	}{
		{name: "zero interval", interval: 0, wantErr: ErrInvalid},
		{name: "ends with its context", interval: 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fctx, cancel := context.WithCancel(ctx)
			err := l.Follow(fctx, tt.interval)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Follow: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				cancel()
				return
			}
			mustNil(t, l.Send(ctx, []byte("k"), []byte("v")))
			checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
				mu.Lock()
				defer mu.Unlock()
				if n != 1 {
					return fmt.Errorf("followed %d records, want 1", n)
				}
				return nil
			})
			cancel()
		})
	}
	mustNil(t, l.Follow(ctx, 10*time.Millisecond)) // stopped by Close
	mustNil(t, l.Close())
	if err := l.Send(ctx, []byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	cs := open(t, env).Configs
	mustNil(t, cs.PutConnectorConfig(ctx, "c", map[string]string{"a": "1"}, ""))
	mustNil(t, cs.PutTaskConfigs(ctx, "c", []map[string]string{{"t": "0"}}))
	snap := cs.Snapshot()
	want := snap.Clone()
	snap.Connectors["c"].Config["a"] = "changed"
	snap.Connectors["c"].Tasks[0]["t"] = "changed"
	delete(snap.Connectors, "c")
	if got := cs.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("store changed through a snapshot: %+v", got)
	}
}
