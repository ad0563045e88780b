// Package kafkatest starts what tests need from Kafka: the embedded broker
// on a free loopback port (or, with SLUICE_TEST_KAFKA=real, the test
// binary's Apache Kafka broker, emptied for the test), a client and a
// Connect-format offsets store, all closed when the test ends.
package kafkatest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Env is a running broker with a client and an offsets store.
type Env struct {
	Brokers []string
	Client  *kafka.Client
	Offsets *state.OffsetStore
	// Broker is the in-process broker (nil after Connect), for tests that
	// inject faults or delete topics.
	Broker *devkafka.Broker
}

// Start starts an in-process broker whose auto-created topics have the
// given number of partitions, and connects to it. With SLUICE_TEST_KAFKA=real
// it is the test binary's Apache Kafka instead (see Brokers).
func Start(tb testing.TB, partitions int) *Env {
	tb.Helper()
	if realkafka.Enabled() {
		return Connect(tb, Brokers(tb, partitions))
	}
	return StartWith(tb, devkafka.Options{Partitions: partitions})
}

// Brokers returns the addresses of a broker for one test whose
// auto-created topics have the given number of partitions: an in-process
// kfake broker closed when the test ends or, with SLUICE_TEST_KAFKA=real,
// the test binary's Apache Kafka KRaft broker with every topic and group of
// earlier tests deleted (the package's TestMain calls realkafka.Main).
func Brokers(tb testing.TB, partitions int) []string {
	tb.Helper()
	if realkafka.Enabled() {
		return realkafka.Fresh(tb, realkafka.Options{Partitions: partitions}).Addrs()
	}
	return StartWith(tb, devkafka.Options{Partitions: partitions}).Brokers
}

// StartWith starts an in-process broker with o (its Addr is ignored: a
// free loopback port) and connects to it. It is kfake even with
// SLUICE_TEST_KAFKA=real: its tests inject faults through Broker.
func StartWith(tb testing.TB, o devkafka.Options) *Env {
	tb.Helper()
	o.Addr = "127.0.0.1:0"
	b, err := devkafka.Start(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	env := Connect(tb, b.Addrs())
	env.Broker = b
	return env
}

// Connect dials brokers and opens the offsets store (topic
// "connect-offsets", 5 partitions), closing both when the test ends.
func Connect(tb testing.TB, brokers []string) *Env {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := kafka.Dial(ctx, kafka.Config{Brokers: brokers})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	store, err := state.NewOffsetStore(ctx, client, kafka.TopicSpec{Name: "connect-offsets", Partitions: 5})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() }) // runs before the client's close
	return &Env{Brokers: brokers, Client: client, Offsets: store}
}

// ReadPartition returns every message of one partition of topic, keys and
// values copied, within a bounded wait.
func ReadPartition(tb testing.TB, c *kafka.Client, topic string, partition int32) []kafka.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	wm, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		tb.Fatal(err)
	}
	var out []kafka.Message
	if err := c.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 4<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			m.Key, m.Value = bytes.Clone(m.Key), bytes.Clone(m.Value)
			out = append(out, m)
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}
