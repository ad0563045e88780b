package kafka

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestCommitOffsets(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t", "u"))
	cl := dial(t, c)
	ctx := testCtx(t)
	const group = "connect-s3-sink"
	p0, p1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}

	got, err := cl.CommittedOffsets(ctx, group, []TopicPartition{p0, p1})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, map[TopicPartition]int64{p0: -1, p1: -1}) {
		t.Fatalf("initial CommittedOffsets = %v", got)
	}

	steps := []struct {
		name         string
		commit       map[TopicPartition]int64
		wantAdvanced map[TopicPartition]int64
		wantAfter    map[TopicPartition]int64
	}{
		{
			name:         "first commit",
			commit:       map[TopicPartition]int64{p0: 10, p1: 5},
			wantAdvanced: map[TopicPartition]int64{p0: 10, p1: 5},
			wantAfter:    map[TopicPartition]int64{p0: 10, p1: 5},
		},
		{
			name:         "never backwards",
			commit:       map[TopicPartition]int64{p0: 8, p1: 7},
			wantAdvanced: map[TopicPartition]int64{p1: 7},
			wantAfter:    map[TopicPartition]int64{p0: 10, p1: 7},
		},
		{
			name:         "replayed lease commits the same range",
			commit:       map[TopicPartition]int64{p0: 10, p1: 7},
			wantAdvanced: map[TopicPartition]int64{},
			wantAfter:    map[TopicPartition]int64{p0: 10, p1: 7},
		},
		{
			name:         "zero offset on a fresh partition advances from none",
			commit:       map[TopicPartition]int64{{Topic: "t", Partition: 1}: 7, {Topic: "u", Partition: 0}: 0},
			wantAdvanced: map[TopicPartition]int64{{Topic: "u", Partition: 0}: 0},
			wantAfter:    map[TopicPartition]int64{p0: 10, p1: 7},
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			adv, err := cl.CommitOffsets(ctx, group, s.commit)
			if err != nil {
				t.Fatalf("CommitOffsets: %v", err)
			}
			if !maps.Equal(adv, s.wantAdvanced) {
				t.Fatalf("advanced = %v, want %v", adv, s.wantAdvanced)
			}
			got, err := cl.CommittedOffsets(ctx, group, []TopicPartition{p0, p1})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, s.wantAfter) {
				t.Fatalf("CommittedOffsets = %v, want %v", got, s.wantAfter)
			}
		})
	}

	// Another group is independent.
	other, err := cl.CommittedOffsets(ctx, "connect-other", []TopicPartition{p0})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "other group offset", other[p0], -1)

	if _, err := cl.CommitOffsets(ctx, group, map[TopicPartition]int64{p0: -3}); err == nil {
		t.Fatal("negative offset accepted")
	}
}

// Concurrent committers of one group (the sink leases of a coordinator
// and a zombie, say) never move an offset backwards: a watcher never sees
// a committed offset decrease, and the last committed is the largest.
func TestCommitOffsetsConcurrentNeverBackwards(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	cl := dial(t, c)
	ctx := testCtx(t)
	const group = "connect-race"
	tp := TopicPartition{Topic: "t", Partition: 0}
	stop := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		last := int64(-1)
		for {
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
			got, err := cl.CommittedOffsets(ctx, group, []TopicPartition{tp})
			if err != nil {
				watched <- err
				return
			}
			if got[tp] < last {
				watched <- fmt.Errorf("committed offset went backwards from %d to %d", last, got[tp])
				return
			}
			last = got[tp]
		}
	}()
	var wg sync.WaitGroup
	var high atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 40 {
				off := int64(rng.IntN(10_000))
				for cur := high.Load(); off > cur && !high.CompareAndSwap(cur, off); cur = high.Load() {
				}
				if _, err := cl.CommitOffsets(ctx, group, map[TopicPartition]int64{tp: off}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
	got, err := cl.CommittedOffsets(ctx, group, []TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	if got[tp] != high.Load() {
		t.Fatalf("committed %d, want the largest offset committed, %d", got[tp], high.Load())
	}
}
