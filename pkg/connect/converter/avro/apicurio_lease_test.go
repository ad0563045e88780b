//go:build apicurio

package avro_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/apicuriotest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// TestApicurioLeaseRegistryDownAndBack runs a sink lease over Avro records
// whose schema is in a real registry (Apicurio 2.4.2, make test-registry):
// with the registry stopped the lease fails retriably, commits nothing and
// dead-letters nothing, although errors.tolerance is all; once the
// registry is back (same storage) the same lease succeeds, with exactly
// the damaged records in the dead letter queue.
func TestApicurioLeaseRegistryDownAndBack(t *testing.T) {
	k := kafkatest.Start(t, 1)
	reg := apicuriotest.Start(t)

	writer := avro.New()
	if err := writer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL}, false); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	bad := produceOrders(t, k.Client, writer, "orders", n)

	exec, mu, seen := collectingExecutor(t, k)
	// The lease's converter has its own client (other properties than the
	// writer's), so nothing is cached for it.
	cfg := map[string]string{
		"name": "avro-sink", "connector.class": "test.Collect", "topics": "orders",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": avro.Class, "value.converter.schema.registry.url": reg.URL,
		"value.converter.max.retries": "1", "value.converter.retries.wait.ms": "10",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "orders-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
	}
	run := func(id string) lease.Result {
		return exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSink, Connector: "avro-sink", Epoch: 1,
			Deadline: time.Now().Add(90 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: "orders", Partition: 0, Start: 0, End: n}}})
	}
	committed := func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tp := kafka.TopicPartition{Topic: "orders", Partition: 0}
		m, err := k.Client.CommittedOffsets(ctx, lease.GroupID("avro-sink"), []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		return m[tp]
	}

	reg.Stop()
	res := run("down")
	if res.Status != lease.Failed || !res.Retriable {
		t.Fatalf("registry down: result %+v, want a retriable failure", res)
	}
	if got := committed(); got != -1 {
		t.Fatalf("committed %d with the registry down", got)
	}
	if res.DeadLettered != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", res.DeadLettered)
	}

	reg.Restart(t)
	res = run("back")
	if res.Status != lease.Succeeded || res.DeadLettered != int64(len(bad)) {
		t.Fatalf("registry back: result %+v, want success with %d dead-lettered", res, len(bad))
	}
	if got := committed(); got != n {
		t.Fatalf("committed %d, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n-len(bad) {
		t.Fatalf("sink got %d records, want %d", len(seen), n-len(bad))
	}
	for off, v := range seen {
		if bad[off] || v.Get("id").(int64) != off {
			t.Fatalf("offset %d: %v", off, v)
		}
	}
	if dlq := kafkatest.ReadPartition(t, k.Client, "orders-dlq", 0); len(dlq) != len(bad) {
		t.Fatalf("%d records in the DLQ, want %d", len(dlq), len(bad))
	}
}
