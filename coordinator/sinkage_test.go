package coordinator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// produceAt produces n records to a 1-partition topic, all with timestamp
// ts.
func produceAt(t *testing.T, c *kafka.Client, topic string, n int, ts time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range n {
		p.Send(context.Background(), kafka.Message{Topic: topic, Partition: 0, Value: []byte(fmt.Sprint("v", i)), Timestamp: ts})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// Pending records whose timestamps are already older than the rotation
// interval when the coordinator first sees them are due at once (rule 4
// counts from the oldest pending record), not one rotation interval after
// the first lag check: a lag below flush.size gets its lease, and a lag
// above it gets one lease for all of it, tail included.
func TestOldPendingRecordsAreDueAtOnce(t *testing.T) {
	k := kafkatest.Start(t, 1)
	// The sinks' folders are made before the coordinator, so that they are
	// removed after it stopped (cleanups run last first): a lease may still
	// be writing when the test ends.
	dirs := map[string]string{"small-sink": t.TempDir(), "big-sink": t.TempDir()}
	rec := &recorder{}
	coord := build(t, k, testConfig(), setup{wrap: func(inv coordinator.Invoker) coordinator.Invoker { rec.Invoker = inv; return rec }})
	old := time.Now().Add(-time.Hour)
	produceAt(t, k.Client, "old-small", 10, old)
	produceAt(t, k.Client, "old-big", 250, old)
	for _, c := range []struct{ name, topic string }{{"small-sink", "old-small"}, {"big-sink", "old-big"}} {
		// A rotation interval far longer than the test's waits: a lease
		// counted from the first lag check could not come in time.
		err := coord.Add(map[string]string{"name": c.name, "connector.class": "io.sluice.connect.storage.LocalSinkConnector",
			"topics": c.topic, "local.dir": dirs[c.name], "flush.size": "100", "rotate.interval.ms": "600000",
			"format.class":    "io.confluent.connect.s3.format.json.JsonFormat",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter", "key.converter": "org.apache.kafka.connect.storage.StringConverter"})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "a lease for each sink", func() bool {
		var small, big bool
		ls, _ := rec.sink()
		for _, l := range ls {
			small = small || l.Connector == "small-sink"
			big = big || l.Connector == "big-sink"
		}
		return small && big
	})
	ls, _ := rec.sink()
	for _, l := range ls {
		want := map[string]string{"small-sink": "[old-small-0[0,10)]", "big-sink": "[old-big-0[0,250)]"}[l.Connector]
		if got := fmt.Sprint(l.Ranges); got != want {
			t.Errorf("%s: lease covers %s, want %s (all that is pending)", l.Connector, got, want)
		}
	}
}
