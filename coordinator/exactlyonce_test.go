package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/plugins"
)

func TestValidateExactlyOnceKeys(t *testing.T) {
	reg := plugins.Registry()
	props := func(class string, kv ...string) map[string]string {
		p := map[string]string{"name": "x", "connector.class": class, "topic": "t", "file": "/tmp/f", "count": "1"}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name    string
		enabled bool
		props   map[string]string
		wantKey string // the key with an error; "" for none
		wantErr string
	}{
		{name: "required without worker support", props: props("Datagen", "exactly.once.support", "required"),
			wantKey: "exactly.once.support", wantErr: "does not have exactly-once source support enabled"},
		{name: "requested without worker support", props: props("Datagen", "exactly.once.support", "requested")},
		{name: "required, connector supports it", enabled: true, props: props("Datagen", "exactly.once.support", "required")},
		{name: "required, connector does not say", enabled: true, props: props("FileStreamSource", "exactly.once.support", "required"),
			wantKey: "exactly.once.support", wantErr: "does not say whether it supports exactly-once"},
		{name: "connector boundary the connector cannot define", enabled: true, props: props("Datagen", "transaction.boundary", "connector"),
			wantKey: "transaction.boundary", wantErr: "does not support connector-defined transaction boundaries"},
		{name: "unknown boundary", enabled: true, props: props("Datagen", "transaction.boundary", "sometimes"),
			wantKey: "transaction.boundary", wantErr: "String must be one of"},
		{name: "negative interval", enabled: true, props: props("Datagen", "transaction.boundary", "interval", "transaction.boundary.interval.ms", "-1"),
			wantKey: "transaction.boundary.interval.ms", wantErr: "at least 0"},
		{name: "interval", enabled: true, props: props("Datagen", "transaction.boundary", "interval", "transaction.boundary.interval.ms", "500",
			"offsets.storage.topic", "x-offsets")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.enabled {
				cfg.ExactlyOnce = env.ExactlyOnce{ExactlyOnceSourceSupport: "enabled"}
			}
			c, err := coordinator.New(cfg, coordinator.Deps{Plugins: reg, Invoker: coordinator.InProcess{},
				Configs: coordinator.NewMemoryConfigStore(), Statuses: coordinator.NewMemoryStatusStore(), Leases: coordinator.NewMemoryLeaseLog()})
			if err != nil {
				t.Fatal(err)
			}
			infos, err := c.ValidateConnectorConfig(context.Background(), "", tt.props)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ci := range infos.Configs {
				for _, e := range ci.Value.Errors {
					got = append(got, ci.Definition.Name+": "+e)
				}
			}
			if tt.wantKey == "" {
				if len(got) > 0 {
					t.Fatalf("errors: %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.wantKey+": ") || !strings.Contains(got[0], tt.wantErr) {
				t.Fatalf("errors %v, want one on %s containing %q", got, tt.wantKey, tt.wantErr)
			}
		})
	}
}

// With exactly-once source support enabled, a datagen connector's records
// reach a read_committed consumer (Sluice's fetcher and librdkafka's kcat)
// exactly once, while PUT /connectors/{name}/fence fences its running
// leases again and again.
func TestExactlyOnceDatagenSurvivesFencing(t *testing.T) {
	k := kafkatest.Start(t, 2)
	cfg := testConfig()
	cfg.ExactlyOnce = env.ExactlyOnce{ExactlyOnceSourceSupport: "enabled"}
	cfg.GroupID = "connect-cluster"
	cfg.TaskRetries = 50
	var mu sync.Mutex
	var fenced, leases int
	coord := build(t, k, cfg, setup{wrap: func(inner coordinator.Invoker) coordinator.Invoker {
		return invokerFunc(func(ctx context.Context, l lease.Lease) (lease.Result, error) {
			if l.ExactlyOnce == nil || l.ExactlyOnce.TransactionalID != "connect-cluster-orders-datagen-0" || l.ExactlyOnce.Boundary != "interval" ||
				l.ExactlyOnce.Interval != lease.Duration(100*time.Millisecond) || l.ExactlyOnce.OffsetsTopic != "connect-offsets" {
				t.Errorf("lease without the connector's exactly-once settings: %+v", l.ExactlyOnce)
			}
			res, err := inner.Invoke(ctx, l)
			mu.Lock()
			defer mu.Unlock()
			leases++
			if strings.Contains(res.Error, lease.ErrFenced.Error()) {
				fenced++
			}
			return res, err
		})
	}})
	const n = 3000
	props := datagenProps(n)
	props["exactly.once.support"] = "required"
	props["transaction.boundary"] = "interval"
	props["transaction.boundary.interval.ms"] = "100"
	props["rate"] = "3000" // records/s, so that leases are running when fenced
	if err := coord.Add(props); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	polls := 0
	waitFor(t, 90*time.Second, "the source's offsets at seq "+fmt.Sprint(n), func() bool {
		if polls++; polls%5 == 0 && polls <= 200 {
			if err := coord.FenceZombies(ctx, "orders-datagen"); err != nil {
				t.Fatalf("fence: %v", err)
			}
		}
		stored, err := k.Offsets.Load(ctx, "orders-datagen")
		if err != nil || len(stored) != 1 {
			return false
		}
		for _, e := range stored {
			return e.Offset["seq"] == int64(n)
		}
		return false
	})
	ids := readCommittedOrderIDs(t, k.Client, "orders")
	if len(ids) != n {
		t.Fatalf("read_committed saw %d distinct orders, want %d", len(ids), n)
	}
	for id, c := range ids {
		if c != 1 {
			t.Fatalf("order %d seen %d times", id, c)
		}
	}
	if got := kcatCountCommitted(t, k.Brokers[0], "orders"); got != n {
		t.Fatalf("kcat (read_committed) counted %d records, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if fenced == 0 {
		t.Fatalf("none of the %d leases was fenced: the test proves nothing", leases)
	}
	t.Logf("%d leases, %d fenced", leases, fenced)
}

// readCommittedOrderIDs counts each order_id a read_committed consumer
// sees in topic, once no transaction is open.
func readCommittedOrderIDs(t *testing.T, c *kafka.Client, topic string) map[int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	parts, err := c.Partitions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]int{}
	for _, p := range parts {
		tp := kafka.TopicPartition{Topic: topic, Partition: p}
		var wm map[kafka.TopicPartition]kafka.Watermark
		for {
			st, err := c.StableWatermarks(ctx, []kafka.TopicPartition{tp})
			if err != nil {
				t.Fatal(err)
			}
			hw, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
			if err != nil {
				t.Fatal(err)
			}
			if st[tp].High >= hw[tp].High {
				wm = st
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: a transaction stays open", tp)
			}
			time.Sleep(20 * time.Millisecond)
		}
		err := c.ReadCommittedRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
			for _, m := range ms {
				var rec struct {
					OrderID *int64 `json:"order_id"`
				}
				if err := json.Unmarshal(m.Value, &rec); err != nil || rec.OrderID == nil {
					return fmt.Errorf("not an order: %q (%v)", m.Value, err)
				}
				ids[*rec.OrderID]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// kcatCountCommitted counts the records librdkafka's read_committed
// consumer reads from every partition of topic.
func kcatCountCommitted(t *testing.T, broker, topic string) int {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is required for the interoperability check: run `make tools` or apt-get install kcat")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kcat", "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
		"-X", "isolation.level=read_committed", "-f", "%o\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	return strings.Count(string(out), "\n")
}

// A source connector with its own offsets.storage.topic keeps its
// offsets there, with exactly-once support enabled or disabled (KIP-618):
// GET, PATCH and DELETE /connectors/{name}/offsets read and write that
// topic, with the worker's as Connect's secondary store. GET lists every
// partition either topic holds, with the connector's topic's offset (null
// for a partition only the worker's holds), as Kafka Connect 4.1 answers
// (conformance.TestConnectorOffsetsTopicMatchesConnect). Leases read the
// connector's topic and write it, then the worker's (Connect's secondary
// store; with exactly-once, the connector's in the transaction, the
// worker's after the commit).
func TestConnectorOwnOffsetsTopic(t *testing.T) {
	tests := []struct {
		name string
		eos  string
	}{
		{name: "exactly-once enabled", eos: "enabled"},
		{name: "exactly-once disabled", eos: "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testConnectorOwnOffsetsTopic(t, tt.eos == "enabled")
		})
	}
}

func testConnectorOwnOffsetsTopic(t *testing.T, eos bool) {
	k := kafkatest.Start(t, 1)
	cfg := testConfig()
	if eos {
		cfg.ExactlyOnce = env.ExactlyOnce{ExactlyOnceSourceSupport: "enabled"}
	}
	cfg.GroupID = "connect-cluster"
	coord := build(t, k, cfg, setup{opts: &lease.Options{SafetyMargin: cfg.SafetyMargin,
		OpenOffsets: state.OffsetStoreOpener(k.Client, -1)}})
	ctx := context.Background()
	const name, ownTopic, n = "orders-datagen", "orders-offsets", 500
	stale := offsets.Entry{Partition: map[string]any{"stale": "yes"}, Offset: map[string]any{"seq": int64(7)}}
	if err := k.Offsets.Write(ctx, name, []offsets.Entry{stale}); err != nil {
		t.Fatal(err)
	}
	props := datagenProps(n)
	props["offsets.storage.topic"] = ownTopic
	if err := coord.Add(props); err != nil {
		t.Fatal(err)
	}
	var got rest.ConnectorOffsets
	waitFor(t, 60*time.Second, "GET offsets at seq "+fmt.Sprint(n), func() bool {
		var err error
		if got, err = coord.ConnectorOffsets(ctx, name); err != nil {
			t.Fatal(err)
		}
		for _, o := range got.Offsets {
			if o.Partition["stale"] == nil && fmt.Sprint(o.Offset["seq"]) == fmt.Sprint(n) {
				return true
			}
		}
		return false
	})
	if len(got.Offsets) != 2 {
		t.Fatalf("GET offsets = %+v, want the stale partition and the task's", got.Offsets)
	}
	var task map[string]any
	for _, o := range got.Offsets {
		switch {
		case o.Partition["stale"] != nil && o.Offset != nil:
			t.Fatalf("the partition only the worker's topic holds has offset %v, want null (Connect's answer)", o.Offset)
		case o.Partition["stale"] == nil:
			task = o.Partition
		}
	}
	own, err := state.NewOffsetStore(ctx, k.Client, kafka.TopicSpec{Name: ownTopic})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	ownTask, err := own.Load(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(ownTask) != 1 || fmt.Sprint(ownTask[offsets.PartitionID(task)].Offset["seq"]) != fmt.Sprint(n) {
		t.Fatalf("the connector's topic holds %+v, want the task's partition at seq %d", ownTask, n)
	}
	worker, err := k.Offsets.Load(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	// Each lease wrote the connector's topic (in its transaction with
	// exactly-once), then the worker's.
	if len(worker) != 2 || fmt.Sprint(worker[offsets.PartitionID(task)].Offset["seq"]) != fmt.Sprint(n) {
		t.Fatalf("the worker's offsets topic holds %+v, want the stale partition and the task's at seq %d", worker, n)
	}

	// PATCH writes to both topics; DELETE removes from both.
	if err := coord.StopConnector(ctx, name); err != nil {
		t.Fatal(err)
	}
	patch := rest.ConnectorOffsets{Offsets: []rest.ConnectorOffset{{Partition: task, Offset: map[string]any{"seq": int64(42)}}}}
	waitFor(t, 30*time.Second, "PATCH accepted once stopped", func() bool {
		_, err := coord.AlterConnectorOffsets(ctx, name, patch)
		return err == nil
	})
	for _, s := range []*state.OffsetStore{own, k.Offsets} {
		e, err := s.Load(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if e[offsets.PartitionID(task)].Offset["seq"] != int64(42) {
			t.Fatalf("%s after PATCH: %+v, want seq 42", s.Topic(), e)
		}
	}
	if got, err = coord.ConnectorOffsets(ctx, name); err != nil {
		t.Fatal(err)
	}
	want := sortedOffsets([]rest.ConnectorOffset{{Partition: stale.Partition}, {Partition: task, Offset: map[string]any{"seq": int64(42)}}})
	if fmt.Sprint(got.Offsets) != fmt.Sprint(want) {
		t.Fatalf("GET after PATCH: %+v, want %+v", got.Offsets, want)
	}
	if _, err := coord.ResetConnectorOffsets(ctx, name); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*state.OffsetStore{own, k.Offsets} {
		if e, err := s.Load(ctx, name); err != nil || len(e) != 0 {
			t.Fatalf("%s after DELETE: %+v, %v; want nothing", s.Topic(), e, err)
		}
	}
	if got, err = coord.ConnectorOffsets(ctx, name); err != nil || len(got.Offsets) != 0 {
		t.Fatalf("GET after DELETE: %+v, %v", got.Offsets, err)
	}
}

// sortedOffsets sorts offsets by partition, as GET answers them.
func sortedOffsets(o []rest.ConnectorOffset) []rest.ConnectorOffset {
	o = slices.Clone(o)
	slices.SortFunc(o, func(a, b rest.ConnectorOffset) int {
		return strings.Compare(offsets.PartitionID(a.Partition), offsets.PartitionID(b.Partition))
	})
	return o
}

// A sink connector with consumer.override.isolation.level=read_committed
// gets no record of an aborted transaction and none of a transaction still
// open: its ranges end at the last stable offset. With the default
// (read_uncommitted, Connect's) it gets both.
func TestSinkReadCommitted(t *testing.T) {
	for _, tt := range []struct {
		name, isolation string
		want            []string
	}{
		{name: "read_committed", isolation: "read_committed", want: []string{"a1", "a2", "c1"}},
		{name: "read_uncommitted", isolation: "", want: []string{"a1", "a2", "b1", "b2", "c1", "d1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t)
			ctx := context.Background()
			p, err := h.client.NewProducer(kafka.ProducerOptions{TransactionalID: "txn-writer-" + tt.name})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			txn := func(commit bool, values ...string) {
				t.Helper()
				if err := p.BeginTxn(); err != nil {
					t.Fatal(err)
				}
				for _, v := range values {
					if err := p.Send(ctx, kafka.Message{Topic: "txns", Partition: 0, Value: []byte(v)}); err != nil {
						t.Fatal(err)
					}
				}
				if commit {
					err = p.CommitTxn(ctx)
				} else {
					err = p.AbortTxn(ctx)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			txn(true, "a1", "a2")
			txn(false, "b1", "b2")
			txn(true, "c1")
			// A transaction left open: the last stable offset stays before it.
			if err := p.BeginTxn(); err != nil {
				t.Fatal(err)
			}
			if err := p.Send(ctx, kafka.Message{Topic: "txns", Partition: 0, Value: []byte("d1")}); err != nil {
				t.Fatal(err)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "txns.txt")
			props := map[string]string{
				"name": "txn-sink", "connector.class": "FileStreamSink", "topics": "txns", "file": out,
				"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
				"value.converter": "org.apache.kafka.connect.storage.StringConverter",
			}
			if tt.isolation != "" {
				props["consumer.override.isolation.level"] = tt.isolation
			}
			if err := h.coord.Add(props); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, fmt.Sprintf("%v in %s", tt.want, out), func() bool { return len(readLines(out)) >= len(tt.want) })
			// A few more lag checks: nothing beyond want arrives.
			time.Sleep(time.Second)
			if got := readLines(out); !slices.Equal(got, tt.want) {
				t.Fatalf("the sink wrote %q, want %q", got, tt.want)
			}
		})
	}
}
