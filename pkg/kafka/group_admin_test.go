package kafka

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

func groupOffsets(t *testing.T, cl *Client, group string) map[TopicPartition]int64 {
	t.Helper()
	got, err := cl.GroupOffsets(testCtx(t), group)
	if err != nil {
		t.Fatalf("GroupOffsets(%s): %v", group, err)
	}
	return got
}

func commit(t *testing.T, cl *Client, group string, offsets map[TopicPartition]int64) {
	t.Helper()
	if _, err := cl.CommitOffsets(testCtx(t), group, offsets); err != nil {
		t.Fatalf("CommitOffsets(%s): %v", group, err)
	}
}

func TestGroupOffsets(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t", "u"))
	cl := dial(t, c)
	t0, t1, u0, u1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}, TopicPartition{Topic: "u", Partition: 0}, TopicPartition{Topic: "u", Partition: 1}

	commit(t, cl, "connect-a", map[TopicPartition]int64{t0: 10, t1: 0, u1: 3})
	commit(t, cl, "connect-a", map[TopicPartition]int64{u0: 7})
	commit(t, cl, "connect-b", map[TopicPartition]int64{t0: 99})

	tests := []struct {
		name  string
		group string
		want  map[TopicPartition]int64
	}{
		{name: "two topics over two commits", group: "connect-a", want: map[TopicPartition]int64{t0: 10, t1: 0, u0: 7, u1: 3}},
		{name: "other group isolated", group: "connect-b", want: map[TopicPartition]int64{t0: 99}},
		{name: "unknown group", group: "connect-none", want: map[TopicPartition]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := groupOffsets(t, cl, tt.group); !maps.Equal(got, tt.want) {
				t.Fatalf("GroupOffsets(%s) = %v, want %v", tt.group, got, tt.want)
			}
		})
	}

	if _, err := cl.GroupOffsets(testCtx(t), ""); err == nil {
		t.Fatal("empty group name accepted")
	}
}

func TestSetGroupOffsets(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t"))
	cl := dial(t, c)
	const group = "connect-sink"
	p0, p1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}
	commit(t, cl, group, map[TopicPartition]int64{p0: 100, p1: 50})

	steps := []struct {
		name    string
		set     map[TopicPartition]int64
		want    map[TopicPartition]int64
		wantErr bool
	}{
		{name: "backwards", set: map[TopicPartition]int64{p0: 3}, want: map[TopicPartition]int64{p0: 3, p1: 50}},
		{name: "to zero", set: map[TopicPartition]int64{p1: 0}, want: map[TopicPartition]int64{p0: 3, p1: 0}},
		{name: "forwards", set: map[TopicPartition]int64{p0: 7, p1: 8}, want: map[TopicPartition]int64{p0: 7, p1: 8}},
		{name: "empty is a no-op", set: nil, want: map[TopicPartition]int64{p0: 7, p1: 8}},
		{name: "negative rejected", set: map[TopicPartition]int64{p0: 1, p1: -1}, want: map[TopicPartition]int64{p0: 7, p1: 8}, wantErr: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := cl.SetGroupOffsets(testCtx(t), group, s.set)
			if (err != nil) != s.wantErr {
				t.Fatalf("SetGroupOffsets error = %v, want error %v", err, s.wantErr)
			}
			if got := groupOffsets(t, cl, group); !maps.Equal(got, s.want) {
				t.Fatalf("GroupOffsets = %v, want %v", got, s.want)
			}
		})
	}
}

func TestDeleteGroupOffsets(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t", "u"))
	cl := dial(t, c)
	const group = "connect-sink"
	t0, t1, u0, u1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}, TopicPartition{Topic: "u", Partition: 0}, TopicPartition{Topic: "u", Partition: 1}
	commit(t, cl, group, map[TopicPartition]int64{t0: 1, t1: 2, u0: 3, u1: 4})

	steps := []struct {
		name   string
		group  string
		delete []TopicPartition
		want   map[TopicPartition]int64 // of group
	}{
		{name: "one partition", group: group, delete: []TopicPartition{t1}, want: map[TopicPartition]int64{t0: 1, u0: 3, u1: 4}},
		{name: "a whole topic", group: group, delete: []TopicPartition{u0, u1}, want: map[TopicPartition]int64{t0: 1}},
		{name: "already deleted and never committed", group: group, delete: []TopicPartition{t1, {Topic: "v", Partition: 0}}, want: map[TopicPartition]int64{t0: 1}},
		{name: "nothing", group: group, delete: nil, want: map[TopicPartition]int64{t0: 1}},
		{name: "unknown group", group: "connect-none", delete: []TopicPartition{t0}, want: map[TopicPartition]int64{t0: 1}},
		{name: "last partition", group: group, delete: []TopicPartition{t0}, want: map[TopicPartition]int64{}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := cl.DeleteGroupOffsets(testCtx(t), s.group, s.delete); err != nil {
				t.Fatalf("DeleteGroupOffsets(%s, %v): %v", s.group, s.delete, err)
			}
			if got := groupOffsets(t, cl, group); !maps.Equal(got, s.want) {
				t.Fatalf("GroupOffsets = %v, want %v", got, s.want)
			}
		})
	}

	// A deleted offset reads as none, and a simple commit starts afresh.
	got, err := cl.CommittedOffsets(testCtx(t), group, []TopicPartition{t1})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "deleted offset", got[t1], -1)
	commit(t, cl, group, map[TopicPartition]int64{t1: 5})
	if got := groupOffsets(t, cl, group); !maps.Equal(got, map[TopicPartition]int64{t1: 5}) {
		t.Fatalf("GroupOffsets after recommit = %v", got)
	}
}

func TestDeleteGroup(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t"))
	cl := dial(t, c)
	p0, p1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}
	commit(t, cl, "connect-a", map[TopicPartition]int64{p0: 10, p1: 20})
	commit(t, cl, "connect-b", map[TopicPartition]int64{p0: 30})

	steps := []struct {
		name   string
		delete string
		want   map[string]map[TopicPartition]int64
	}{
		{name: "delete a", delete: "connect-a", want: map[string]map[TopicPartition]int64{
			"connect-a": {}, "connect-b": {p0: 30},
		}},
		{name: "delete a again", delete: "connect-a", want: map[string]map[TopicPartition]int64{
			"connect-a": {}, "connect-b": {p0: 30},
		}},
		{name: "never existed", delete: "connect-none", want: map[string]map[TopicPartition]int64{
			"connect-none": {}, "connect-b": {p0: 30},
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := cl.DeleteGroup(testCtx(t), s.delete); err != nil {
				t.Fatalf("DeleteGroup(%s): %v", s.delete, err)
			}
			for group, want := range s.want {
				if got := groupOffsets(t, cl, group); !maps.Equal(got, want) {
					t.Fatalf("GroupOffsets(%s) = %v, want %v", group, got, want)
				}
			}
		})
	}

	// A deleted group can be committed to again, from scratch.
	commit(t, cl, "connect-a", map[TopicPartition]int64{p1: 1})
	if got := groupOffsets(t, cl, "connect-a"); !maps.Equal(got, map[TopicPartition]int64{p1: 1}) {
		t.Fatalf("GroupOffsets after recreate = %v", got)
	}
}

// TestGroupAdminActiveGroup checks that the admin calls refuse, with
// ErrGroupActive, to change a group that has a running member, as Connect's
// offsets API refuses unless the connector is stopped.
func TestGroupAdminActiveGroup(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	cl := dial(t, c)
	const group = "connect-running"
	p0 := TopicPartition{Topic: "t", Partition: 0}
	commit(t, cl, group, map[TopicPartition]int64{p0: 5})
	joinGroup(t, c, group, "t")

	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{name: "SetGroupOffsets", call: func(ctx context.Context) error {
			return cl.SetGroupOffsets(ctx, group, map[TopicPartition]int64{p0: 1})
		}},
		{name: "DeleteGroupOffsets", call: func(ctx context.Context) error {
			return cl.DeleteGroupOffsets(ctx, group, []TopicPartition{p0})
		}},
		{name: "DeleteGroup", call: func(ctx context.Context) error { return cl.DeleteGroup(ctx, group) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(testCtx(t))
			if !errors.Is(err, ErrGroupActive) {
				t.Fatalf("error = %v, want ErrGroupActive", err)
			}
			// The running member's offsets are untouched.
			if got := groupOffsets(t, cl, group); !maps.Equal(got, map[TopicPartition]int64{p0: 5}) {
				t.Fatalf("GroupOffsets = %v", got)
			}
		})
	}
}

// joinGroup runs a sarama consumer group member on topic until the test
// ends, returning once it holds its assignment.
func joinGroup(t *testing.T, c *kfake.Cluster, group, topic string) {
	t.Helper()
	conf := sarama.NewConfig()
	conf.Version = kafkaVersion
	conf.Consumer.Offsets.Initial = sarama.OffsetOldest
	conf.Consumer.Group.Rebalance.Timeout = 5 * time.Second
	cg, err := sarama.NewConsumerGroup(c.ListenAddrs(), group, conf)
	if err != nil {
		t.Fatalf("NewConsumerGroup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &holdHandler{ready: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				t.Errorf("Consume: %v", err)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = cg.Close()
	})
	select {
	case <-h.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("consumer group member never got its assignment")
	}
}

// holdHandler holds its claims without consuming until the session ends.
type holdHandler struct {
	once  sync.Once
	ready chan struct{}
}

func (h *holdHandler) Setup(sarama.ConsumerGroupSession) error {
	h.once.Do(func() { close(h.ready) })
	return nil
}

func (h *holdHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *holdHandler) ConsumeClaim(s sarama.ConsumerGroupSession, _ sarama.ConsumerGroupClaim) error {
	<-s.Context().Done()
	return nil
}
