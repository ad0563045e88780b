package kafka

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestDialNoBroker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := Dial(ctx, Config{Brokers: []string{"127.0.0.1:1"}})
	if err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Dial error %q does not name the brokers", err)
	}
}

func TestDialConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no brokers", Config{}},
		{"empty broker", Config{Brokers: []string{""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Dial(testCtx(t), tt.cfg); err == nil {
				t.Fatal("Dial succeeded")
			}
		})
	}
}

func TestTopicsAndPartitions(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "seeded"))
	cl := dial(t, c)
	ctx := testCtx(t)

	spec := TopicSpec{Name: "created", Partitions: 3, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}
	if err := cl.EnsureTopic(ctx, spec); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if err := cl.EnsureTopic(ctx, spec); err != nil {
		t.Fatalf("EnsureTopic on an existing topic: %v", err)
	}
	ps, err := cl.Partitions(ctx, "created")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ps, []int32{0, 1, 2}) {
		t.Fatalf("Partitions = %v", ps)
	}
	ts, err := cl.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ts, "created") || !slices.Contains(ts, "seeded") {
		t.Fatalf("Topics = %v", ts)
	}
	if !slices.IsSorted(ts) {
		t.Fatalf("Topics not sorted: %v", ts)
	}
	all, err := cl.TopicPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all["created"], []int32{0, 1, 2}) || len(all["seeded"]) == 0 || len(all) != len(ts) {
		t.Fatalf("TopicPartitions = %v (topics %v)", all, ts)
	}
	if _, err := cl.Partitions(ctx, "missing"); err == nil {
		t.Fatal("Partitions of a missing topic succeeded")
	}
}

func TestWatermarks(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "t"))
	cl := dial(t, c)
	ctx := testCtx(t)
	p := newProducer(t, cl, ProducerOptions{})
	produceBatches(t, p, "t", 0, 2, 10)

	tp0, tp1 := TopicPartition{Topic: "t", Partition: 0}, TopicPartition{Topic: "t", Partition: 1}
	wms, err := cl.Watermarks(ctx, []TopicPartition{tp0, tp1})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "t[0]", wms[tp0], Watermark{Low: 0, High: 20})
	requireEqual(t, "t[1]", wms[tp1], Watermark{Low: 0, High: 0})

	// Fresh from the broker, not cached.
	if err := c.DeleteRecords("t", 0, 5); err != nil {
		t.Fatal(err)
	}
	produceBatches(t, p, "t", 0, 1, 3)
	wms, err = cl.Watermarks(ctx, []TopicPartition{tp0})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "t[0] after delete", wms[tp0], Watermark{Low: 5, High: 23})

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := cl.Watermarks(short, []TopicPartition{{Topic: "t", Partition: 9}}); err == nil {
		t.Fatal("Watermarks of a missing partition succeeded")
	}
}
