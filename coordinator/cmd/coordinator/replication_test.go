package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
)

// On a three-broker Apache Kafka cluster (min.insync.replicas=2), the
// coordinator creates its internal topics with the configured replication
// factor, and the cluster's min.insync.replicas applies to them; a broker killed mid-pipeline (the first of the coordinator's
// bootstrap servers, so its connections to it drop) and restarted loses no
// order, and the coordinator goes on through the other brokers and
// reconnects.
func TestReplicatedClusterBrokerFailure(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Shared(t, realkafka.Options{Brokers: 3, MinISR: 2, Partitions: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	broker := c.Bootstrap()
	out := filepath.Join(t.TempDir(), "orders.jsonl")
	const orders = 8000
	addr := proctest.FreeAddr(t)
	p := startProcess(t, "coordinator", addr, append(coordinatorEnv(broker, addr), "SLUICE_REPLICATION_FACTOR=3"))
	proctest.CheckFor(t, time.Minute, 100*time.Millisecond, func() error {
		if !p.leading() {
			return fmt.Errorf("%s does not lead", p.Name)
		}
		return nil
	})
	source, sink := ordersPipeline(orders, 250, out)
	mustRequest(t, http.MethodPost, p.url()+"/connectors", map[string]any{"name": "orders-source", "config": source}, http.StatusCreated)
	mustRequest(t, http.MethodPost, p.url()+"/connectors", map[string]any{"name": "orders-sink", "config": sink}, http.StatusCreated)

	// Mid-pipeline: some orders are through.
	proctest.CheckFor(t, time.Minute, 100*time.Millisecond, func() error {
		if _, lines, err := orderCounts(out); err != nil || lines < 300 {
			return fmt.Errorf("%d orders in the file (%v)", lines, err)
		}
		return nil
	})
	c.Kill(0)
	t.Logf("killed broker %s", c.Nodes()[0].Addr)
	// Writes go on with two of three replicas in sync.
	var before int
	proctest.CheckFor(t, time.Minute, 100*time.Millisecond, func() error {
		_, lines, err := orderCounts(out)
		if err != nil {
			return err
		}
		if before == 0 {
			before = lines
		}
		if lines < before+200 {
			return fmt.Errorf("%d orders in the file, %d when the broker died", lines, before)
		}
		return nil
	})
	if err := c.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted broker %s", c.Nodes()[0].Addr)
	awaitAllOrders(t, broker, out, orders)
	for _, topic := range []string{"connect-configs", "connect-status", "connect-offsets", "sluice-leases"} {
		out, err := realkafka.Tool(ctx, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", broker, "--describe", "--topic", topic)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "ReplicationFactor: 3") {
			t.Errorf("kafka-topics --describe --topic %s:\n%s\nwant ReplicationFactor: 3", topic, out)
		}
		// The cluster's min.insync.replicas applies to them (the producer
		// sends with acks=all): a write needs two of the three replicas.
		out, err = realkafka.Tool(ctx, "kafka.admin.ConfigCommand", "--bootstrap-server", broker, "--describe", "--all",
			"--entity-type", "topics", "--entity-name", topic)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "min.insync.replicas=2") {
			t.Errorf("kafka-configs --describe --all --entity-type topics --entity-name %s:\n%s\nwant min.insync.replicas=2", topic, out)
		}
	}
	if err := running(p.url(), "orders-source"); err != nil {
		t.Error(err)
	}
	if p.Exited() {
		t.Fatalf("coordinator exited: %v", p.Err())
	}
}
