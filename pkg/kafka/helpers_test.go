package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// newCluster starts an in-process Kafka (kfake) with one broker unless opts
// say otherwise, closed when the test ends.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake.NewCluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testCtx bounds a test's Kafka calls so that nothing can hang.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, c *kfake.Cluster) *Client {
	t.Helper()
	cl, err := Dial(testCtx(t), Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func newProducer(t testing.TB, cl *Client, opts ProducerOptions) *Producer {
	t.Helper()
	p, err := cl.NewProducer(opts)
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// produceBatches writes batches*perBatch records to one partition, flushing
// after each batch so that each lands in its own record batch. Record i has
// key "k<i>" and value "v<i>".
func produceBatches(t testing.TB, p *Producer, topic string, partition int32, batches, perBatch int) {
	t.Helper()
	ctx := testCtx(t)
	i := 0
	for range batches {
		for range perBatch {
			p.Send(context.Background(), Message{Topic: topic, Partition: partition, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
			i++
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
}

// fetchAll collects FetchRange's records and the number of fn calls.
func fetchAll(ctx context.Context, cl *Client, tp TopicPartition, start, end int64, maxBytes int32) ([]Message, int, error) {
	var got []Message
	calls := 0
	err := cl.FetchRange(ctx, tp, start, end, maxBytes, func(ms []Message) error {
		calls++
		got = append(got, ms...)
		return nil
	})
	return got, calls, err
}

func requireEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
