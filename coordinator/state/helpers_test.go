package state

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// kafkaEnv is a test's broker and client. (internal/kafkatest, which the
// other packages use, imports this package for its offsets store.)
type kafkaEnv struct {
	Client *kafka.Client
}

// startKafka starts the embedded broker, whose auto-created topics have
// the given number of partitions, and connects to it; both close when the
// test ends.
func startKafka(tb testing.TB, partitions int) *kafkaEnv {
	tb.Helper()
	b, err := devkafka.Start(devkafka.Options{Addr: "127.0.0.1:0", Partitions: partitions})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	client, err := kafka.Dial(testCtx(tb), kafka.Config{Brokers: b.Addrs()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	return &kafkaEnv{Client: client}
}

// newCluster starts an in-process Kafka (kfake) with one broker, for tests
// that delete records; closed when the test ends.
func newCluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("kfake.NewCluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func dial(t testing.TB, c *kfake.Cluster) *kafka.Client {
	t.Helper()
	cl, err := kafka.Dial(testCtx(t), kafka.Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func newProducer(t testing.TB, cl *kafka.Client, opts kafka.ProducerOptions) *kafka.Producer {
	t.Helper()
	p, err := cl.NewProducer(opts)
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func requireEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// testCtx bounds a test's Kafka calls so that nothing can hang.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open opens a Store on env's broker, closed when the test ends.
func open(t testing.TB, env *kafkaEnv) *Store {
	t.Helper()
	s, err := Open(testCtx(t), env.Client, Config{Logger: quiet})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawLog opens a Log on topic that records nothing, to write records as
// another writer (Connect, or a crashed leader) would.
func rawLog(t testing.TB, env *kafkaEnv, topic string) *Log {
	t.Helper()
	l, err := NewLog(testCtx(t), env.Client, kafka.TopicSpec{Name: topic, Partitions: 1}, func(kafka.Message) {}, quiet)
	if err != nil {
		t.Fatalf("NewLog: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// readAll returns every record of the topic's partition, in offset order.
func readAll(t testing.TB, c *kafka.Client, topic string, partition int32) []kafka.Message {
	t.Helper()
	ctx := testCtx(t)
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	wms, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatalf("Watermarks: %v", err)
	}
	var out []kafka.Message
	err = c.FetchRange(ctx, tp, wms[tp].Low, wms[tp].High, 0, func(ms []kafka.Message) error {
		out = append(out, ms...)
		return nil
	})
	if err != nil {
		t.Fatalf("FetchRange: %v", err)
	}
	return out
}

// checkFor calls f every tick until it returns nil or wait has passed, and
// fails the test with f's last error.
func checkFor(t testing.TB, wait, tick time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", wait, err)
		}
		time.Sleep(tick)
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
