// Package kafkatest starts what tests need from Kafka: the embedded broker
// on a free loopback port, a client and a Connect-format offsets store, all
// closed when the test ends.
package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/coordinator/state"
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
// given number of partitions, and connects to it.
func Start(tb testing.TB, partitions int) *Env {
	tb.Helper()
	return StartWith(tb, devkafka.Options{Partitions: partitions})
}

// StartWith starts an in-process broker with o (its Addr is ignored: a
// free loopback port) and connects to it.
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
