package avro_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/srtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// These tests run the converter inside the real lease executor against the
// embedded Kafka broker and franz-go's in-process registry (srfake).

var orderSchema = data.StructBuilder().Name("sluice.bench.Order").
	Field("id", data.Int64Schema).Field("customer", data.StringSchema).
	Field("amount", data.DecimalSchema(2).MustBuild()).Field("note", data.OptionalStringSchema).MustBuild()

// collected counts the records the test sink receives, by offset.
type collectSink struct {
	mu   *sync.Mutex
	seen map[int64]*data.Struct
}

func (s collectSink) Start(context.Context, connect.SinkTaskContext, map[string]string) error {
	return nil
}

func (s collectSink) Put(_ context.Context, recs []connect.SinkRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.seen[r.Offset] = r.Value.(*data.Struct)
	}
	return nil
}
func (s collectSink) Stop() error { return nil }

// collectingExecutor is a lease executor on k whose sink "test.Collect"
// keeps each record's value by offset in seen (guarded by mu), with the
// converters and the AvroConverter registered.
func collectingExecutor(t *testing.T, k *kafkatest.Env) (*lease.Executor, *sync.Mutex, map[int64]*data.Struct) {
	t.Helper()
	mu := new(sync.Mutex)
	seen := map[int64]*data.Struct{}
	plugins := append(converter.Plugins(), avro.Plugins()...)
	plugins = append(plugins, connect.Plugin{Class: "test.Collect", Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return passConnector{} },
		NewSinkTask:  func() connect.SinkTask { return collectSink{mu: mu, seen: seen} }})
	r, err := connect.NewRegistry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	return lease.NewExecutor(r, k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond}), mu, seen
}

type passConnector struct{}

func (passConnector) Start(context.Context, connect.ConnectorContext, map[string]string) error {
	return nil
}
func (passConnector) TaskConfigs(int) ([]map[string]string, error) { return nil, nil }
func (passConnector) Stop() error                                  { return nil }
func (passConnector) Config() *config.Def                          { return config.NewDef() }

// produceOrders writes n orders in Avro through the converter, every
// 100th value damaged: a wrong magic byte (offsets 37, 237, ...) or an
// unknown schema id (137, 337, ...). It returns the damaged offsets.
func produceOrders(t *testing.T, c *kafka.Client, conv *avro.Converter, topic string, n int) map[int64]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bad := map[int64]bool{}
	for i := range n {
		v := data.NewStruct(orderSchema).Set("id", int64(i)).Set("customer", fmt.Sprintf("c%d", i%17)).
			Set("amount", data.NewDecimal(int64(i*7), 2))
		b, err := conv.FromConnectData(topic, orderSchema, v)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 200 {
		case 37:
			b[0], bad[int64(i)] = 1, true
		case 137:
			b[1], b[2], bad[int64(i)] = 0x7f, 0x7f, true
		}
		p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Key: []byte(strconv.Itoa(i)), Value: b, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return bad
}

func TestLeaseDeadLettersBadAvroRecords(t *testing.T) {
	k := kafkatest.Start(t, 1)
	reg := srfake.New()
	defer reg.Close()
	// A registry that can be switched off: every request answers 503.
	var down atomic.Bool
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"error_code":50302,"message":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		reg.Handler().ServeHTTP(w, r)
	}))
	defer flaky.Close()

	writer := avro.New()
	if err := writer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	bad := produceOrders(t, k.Client, writer, "orders", n)

	exec, mu, seen := collectingExecutor(t, k)
	run := func(id, url string, extra ...string) lease.Result {
		cfg := map[string]string{
			"name": "avro-sink", "connector.class": "test.Collect", "topics": "orders",
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": avro.Class, "value.converter.schema.registry.url": url,
			"value.converter.max.retries": "1", "value.converter.retries.wait.ms": "10",
		}
		for i := 0; i+1 < len(extra); i += 2 {
			cfg[extra[i]] = extra[i+1]
		}
		return exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSink, Connector: "avro-sink", Epoch: 1,
			Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
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

	t.Run("registry down: the lease fails retriably and commits nothing", func(t *testing.T) {
		down.Store(true)
		defer down.Store(false)
		res := run("down", flaky.URL, "errors.tolerance", "all", "errors.deadletterqueue.topic.name", "orders-dlq",
			"errors.deadletterqueue.topic.replication.factor", "1")
		if res.Status != lease.Failed || !res.Retriable {
			t.Fatalf("result %+v, want a retriable failure", res)
		}
		if got := committed(); got != -1 {
			t.Fatalf("committed %d with the registry down", got)
		}
		if res.DeadLettered != 0 {
			t.Fatalf("%d records dead-lettered while the registry was down", res.DeadLettered)
		}
	})

	t.Run("tolerance none fails at the first bad record", func(t *testing.T) {
		res := run("none", flaky.URL)
		if res.Status != lease.Failed || res.Retriable {
			t.Fatalf("result %+v", res)
		}
		if got := committed(); got != -1 {
			t.Fatalf("committed %d", got)
		}
	})

	t.Run("tolerance all: exactly the bad records in the DLQ", func(t *testing.T) {
		res := run("all", flaky.URL, "errors.tolerance", "all", "errors.deadletterqueue.topic.name", "orders-dlq",
			"errors.deadletterqueue.topic.replication.factor", "1", "errors.deadletterqueue.context.headers.enable", "true")
		if res.Status != lease.Succeeded || res.DeadLettered != int64(len(bad)) {
			t.Fatalf("result %+v, want %d dead-lettered", res, len(bad))
		}
		if got := committed(); got != n {
			t.Fatalf("committed %d, want %d", got, n)
		}
		mu.Lock()
		if len(seen) != n-len(bad) {
			t.Fatalf("sink got %d records, want %d", len(seen), n-len(bad))
		}
		for off, v := range seen {
			if bad[off] || v.Get("id").(int64) != off {
				t.Fatalf("offset %d: %v", off, v)
			}
		}
		mu.Unlock()
		dlq := kafkatest.ReadPartition(t, k.Client, "orders-dlq", 0)
		if len(dlq) != len(bad) {
			t.Fatalf("%d records in the DLQ, want %d", len(dlq), len(bad))
		}
		for _, m := range dlq {
			off, _ := strconv.ParseInt(header(m, lease.HeaderOffset), 10, 64)
			if !bad[off] || string(m.Key) != strconv.FormatInt(off, 10) {
				t.Fatalf("DLQ record at offset %d is not a bad one", off)
			}
			if header(m, lease.HeaderStage) != "VALUE_CONVERTER" || header(m, lease.HeaderClassName) != avro.Class ||
				header(m, lease.HeaderExceptionMessage) == "" {
				t.Fatalf("DLQ headers %v", m.Headers)
			}
		}
	})
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// A lease that reads a topic whose schema evolved asks the registry once
// for the topic's subject (GET /schemas?subjectPrefix=), not twice per
// schema, counted on the registry's side.
func TestLeaseAsksTheRegistryOncePerSubject(t *testing.T) {
	k := kafkatest.Start(t, 1)
	reg := srtest.Start(t)

	writer := avro.New()
	if err := writer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		t.Fatal(err)
	}
	evolved := data.StructBuilder().Name("sluice.bench.Order").
		Field("id", data.Int64Schema).Field("customer", data.StringSchema).
		Field("amount", data.DecimalSchema(2).MustBuild()).Field("note", data.OptionalStringSchema).
		Field("qty", data.OptionalInt32Schema).MustBuild()
	const topic, n = "orders-evolving", 1000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s, v := orderSchema, data.NewStruct(orderSchema)
		if i >= n/2 {
			s, v = evolved, data.NewStruct(evolved).Set("qty", int32(i))
		}
		v.Set("id", int64(i)).Set("customer", "c").Set("amount", data.NewDecimal(int64(i), 2))
		b, err := writer.FromConnectData(topic, s, v)
		if err != nil {
			t.Fatal(err)
		}
		p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Value: b, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	var smu sync.Mutex
	seen := map[int64]*data.Struct{}
	plugins := append(converter.Plugins(), avro.Plugins()...)
	plugins = append(plugins, connect.Plugin{Class: "test.Collect", Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return passConnector{} },
		NewSinkTask:  func() connect.SinkTask { return collectSink{mu: &smu, seen: seen} }})
	r, err := connect.NewRegistry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(r, k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond})
	cfg := map[string]string{
		"name": "evolving-sink", "connector.class": "test.Collect", "topics": topic,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": avro.Class, "value.converter.schema.registry.url": reg.CountingURL,
	}
	res := exec.Run(context.Background(), lease.Lease{ID: "evolving", Kind: lease.KindSink, Connector: "evolving-sink", Epoch: 1,
		Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
		Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: 0, End: n}}})
	if res.Status != lease.Succeeded {
		t.Fatalf("result %+v", res)
	}
	smu.Lock()
	defer smu.Unlock()
	if len(seen) != n {
		t.Fatalf("sink got %d records, want %d", len(seen), n)
	}
	versions := map[int32]int{}
	for _, v := range seen {
		versions[*v.Schema().Version]++
	}
	if versions[1] != n/2 || versions[2] != n/2 {
		t.Fatalf("records by schema version %v, want %d of versions 1 and 2", versions, n/2)
	}
	if asked := reg.Requests(); len(asked) != 1 || asked[0] != "GET /schemas x1" {
		t.Fatalf("the lease asked the registry %v, want GET /schemas once", asked)
	}
}
