package elasticsearch_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/elasticsearch"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// kv is a record to produce: key (nil for none) and value (nil for a
// tombstone).
type kv struct{ key, value []byte }

func rec(key, value string) kv {
	r := kv{value: []byte(value)}
	if key != "" {
		r.key = []byte(key)
	}
	return r
}

func tombstone(key string) kv { return kv{key: []byte(key)} }

type env struct {
	kafka *kafkatest.Env
	exec  *lease.Executor
}

func newEnv(t testing.TB) *env {
	t.Helper()
	k := kafkatest.Start(t, 1)
	all := append(converter.Plugins(), transforms.Plugins()...)
	reg, err := connect.NewRegistry(append(all, elasticsearch.Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{kafka: k, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})}
}

// produce appends records to partition 0 of topic and returns the next
// offset.
func (e *env) produce(t testing.TB, topic string, recs ...kv) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.kafka.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := e.kafka.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, r := range recs {
		if err := p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Key: r.key, Value: r.value, Timestamp: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	return wm[tp].High
}

// sinkConfig is a connector configuration for url writing topic with
// string keys and schemaless JSON values, plus extra.
func sinkConfig(url, topic string, extra ...string) map[string]string {
	cfg := map[string]string{
		"name": "es-" + topic, "connector.class": elasticsearch.Class, "topics": topic,
		"connection.url":  url,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"max.retries": "2", "retry.backoff.ms": "50",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

var epoch int64

// run runs one sink lease over [start, end) of partition 0.
func (e *env) run(cfg map[string]string, topic string, start, end int64) lease.Result {
	epoch++
	return e.exec.Run(context.Background(), lease.Lease{ID: fmt.Sprintf("es-%d", epoch), Kind: lease.KindSink,
		Connector: cfg["name"], Epoch: epoch, Deadline: time.Now().Add(90 * time.Second),
		ConnectorConfig: maps.Clone(cfg), TaskConfig: maps.Clone(cfg),
		Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: start, End: end}}})
}

func (e *env) mustRun(t testing.TB, cfg map[string]string, topic string, start, end int64) lease.Result {
	t.Helper()
	res := e.run(cfg, topic, start, end)
	if res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s %s\n%s", res.LeaseID, res.Status, res.Error, res.Trace)
	}
	return res
}

// headers returns the headers of every record of partition 0 of topic.
func (e *env) read(t testing.TB, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	if err := e.kafka.Client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 4<<20, func(ms []kafka.Message) error {
		out = append(out, ms...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
