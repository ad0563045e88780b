package avro_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// Recursive Avro records end to end, in the real lease executor against
// the embedded Kafka broker and srfake: linked lists of growing length
// (the first written by Confluent's Python serializer, the golden
// vector; the others by the AvroConverter) go through ReplaceField into a
// sink, which gets each list whole; through Flatten, which cannot flatten
// a record that contains itself, every record is dead-lettered at the
// TRANSFORMATION stage and the range is committed.
func TestLeaseRecursiveRecords(t *testing.T) {
	k := kafkatest.Start(t, 1)
	reg := srfake.New()
	defer reg.Close()
	const node = `{"type": "record", "name": "Node", "namespace": "sluice.test", "fields": [{"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": null}]}`
	reg.SeedSchema("lists-value", 1, 8, sr.Schema{Schema: node})
	python := []byte{0, 0, 0, 0, 8, 0x02, 0x02, 0x04, 0x02, 0x06, 0x00} // [1, 2, 3], testdata/vectors.json's recursive_list

	writer := avro.New()
	if err := writer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL(), "auto.register.schemas": "false", "use.latest.version": "true"}, false); err != nil {
		t.Fatal(err)
	}
	const topic, n = "lists", 50
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list := recursivetest.List()
	for i := range n {
		b := python
		if i > 0 {
			vals := make([]int32, i+1)
			for j := range vals {
				vals[j] = int32(j + 1)
			}
			if b, err = writer.FromConnectData(topic, list, recursivetest.ListValue(list, vals...)); err != nil {
				t.Fatal(err)
			}
		}
		p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Key: []byte(strconv.Itoa(i)), Value: b, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	var mu sync.Mutex
	seen := map[int64]*data.Struct{}
	plugins := append(converter.Plugins(), avro.Plugins()...)
	plugins = append(plugins, transforms.Plugins()...)
	plugins = append(plugins, connect.Plugin{Class: "test.Collect", Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return passConnector{} },
		NewSinkTask:  func() connect.SinkTask { return collectSink{mu: &mu, seen: seen} }})
	r, err := connect.NewRegistry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(r, k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond})
	run := func(name string, extra ...string) lease.Result {
		cfg := map[string]string{
			"name": name, "connector.class": "test.Collect", "topics": topic,
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": avro.Class, "value.converter.schema.registry.url": reg.URL(),
		}
		for i := 0; i+1 < len(extra); i += 2 {
			cfg[extra[i]] = extra[i+1]
		}
		return exec.Run(context.Background(), lease.Lease{ID: name, Kind: lease.KindSink, Connector: name, Epoch: 1,
			Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: 0, End: n}}})
	}

	t.Run("ReplaceField into the sink", func(t *testing.T) {
		res := run("lists-sink", "transforms", "rename",
			"transforms.rename.type", "org.apache.kafka.connect.transforms.ReplaceField$Value",
			"transforms.rename.renames", "value:head")
		if res.Status != lease.Succeeded {
			t.Fatalf("result %+v", res)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != n {
			t.Fatalf("sink got %d records, want %d", len(seen), n)
		}
		for off, v := range seen {
			if !data.Recursive(v.Schema()) {
				t.Fatalf("offset %d: schema %s is not recursive", off, v.Schema())
			}
			length := 1
			if v.Get("head") != int32(1) {
				t.Fatalf("offset %d: head %v", off, v.Get("head"))
			}
			for next, _ := v.Get("next").(*data.Struct); next != nil; next, _ = next.Get("next").(*data.Struct) {
				length++
				if next.Get("value") != int32(length) {
					t.Fatalf("offset %d: element %d is %v", off, length, next.Get("value"))
				}
			}
			want := int(off) + 1
			if off == 0 {
				want = 3 // Python's [1, 2, 3]
			}
			if length != want {
				t.Fatalf("offset %d: a list of %d, want %d", off, length, want)
			}
			if err := v.Validate(); err != nil {
				t.Fatalf("offset %d: %v", off, err)
			}
		}
	})

	t.Run("Flatten dead-letters every record", func(t *testing.T) {
		res := run("lists-flat", "transforms", "flat",
			"transforms.flat.type", "org.apache.kafka.connect.transforms.Flatten$Value",
			"errors.tolerance", "all", "errors.deadletterqueue.topic.name", "lists-dlq",
			"errors.deadletterqueue.topic.replication.factor", "1", "errors.deadletterqueue.context.headers.enable", "true")
		if res.Status != lease.Succeeded || res.DeadLettered != n {
			t.Fatalf("result %+v, want %d dead-lettered", res, n)
		}
		dlq := kafkatest.ReadPartition(t, k.Client, "lists-dlq", 0)
		if len(dlq) != n {
			t.Fatalf("%d records in the DLQ, want %d", len(dlq), n)
		}
		for _, m := range dlq {
			if header(m, lease.HeaderStage) != "TRANSFORMATION" ||
				!strings.Contains(header(m, lease.HeaderExceptionMessage), "Flatten transformation does not support recursive schemas") {
				t.Fatalf("DLQ headers %v", m.Headers)
			}
		}
	})
}
