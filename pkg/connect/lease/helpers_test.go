package lease_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// env is one test's broker, client, offsets store and executor.
type env struct {
	brokers []string
	client  *kafka.Client
	store   offsets.Store
	exec    *lease.Executor
	reg     *connect.Registry
}

func newEnv(t *testing.T, store func(offsets.Store) offsets.Store) *env {
	t.Helper()
	return envOn(t, kafkatest.Start(t, 1), store)
}

// envOn is newEnv on the broker of k.
func envOn(t *testing.T, k *kafkatest.Env, store func(offsets.Store) offsets.Store) *env {
	t.Helper()
	var s offsets.Store = k.Offsets
	if store != nil {
		s = store(k.Offsets)
	}
	reg := newEnvRegistry(t)
	return &env{brokers: k.Brokers, client: k.Client, store: s, reg: reg,
		exec: lease.NewExecutor(reg, k.Client, s, lease.Options{SafetyMargin: 500 * time.Millisecond})}
}

func newEnvRegistry(t *testing.T) *connect.Registry {
	t.Helper()
	reg, err := connect.NewRegistry(append(converter.Plugins(), testSourcePlugin, testSinkPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// sourceLease returns a lease for the test source writing count records to topic.
func sourceLease(id string, epoch int64, topic string, count int, extra map[string]string) lease.Lease {
	cfg := map[string]string{
		"name": "src", "connector.class": testSourcePlugin.Class, "topic": topic, "count": strconv.Itoa(count),
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return lease.Lease{ID: id, Kind: lease.KindSource, Connector: "src", Epoch: epoch,
		Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
		Budget: lease.Budget{MaxIdle: lease.Duration(200 * time.Millisecond)}}
}

// sinkLease returns a lease for the test sink over ranges, writing into dir.
func sinkLease(id string, epoch int64, dir string, ranges ...lease.Range) lease.Lease {
	cfg := map[string]string{
		"name": "snk", "connector.class": testSinkPlugin.Class, "topics": ranges[0].Topic, "dir": dir,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
	}
	return lease.Lease{ID: id, Kind: lease.KindSink, Connector: "snk", Epoch: epoch,
		Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges}
}

// readTopic returns every value in partition 0 of topic.
func readTopic(t *testing.T, c *kafka.Client, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = c.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			out = append(out, string(m.Value))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func produce(t *testing.T, c *kafka.Client, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range n {
		p.Send(context.Background(), kafka.Message{Topic: topic, Partition: 0, Key: []byte("k"), Value: []byte(fmt.Sprintf("v%03d", i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func committed(t *testing.T, c *kafka.Client, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	m, err := c.CommittedOffsets(ctx, group, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	return m[tp]
}

// The test source emits records "r<i>" for i from its committed offset up to
// "count", in batches of 10. "poll.delay" makes each Poll sleep, ignoring ctx,
// to play a task that overruns its lease.
var testSourcePlugin = connect.Plugin{
	Class: "test.TestSourceConnector", Kind: connect.KindSource,
	NewConnector:  func() connect.Connector { return &testConnector{} },
	NewSourceTask: func() connect.SourceTask { return &testSource{} },
}

type testConnector struct{ props map[string]string }

func (c *testConnector) Start(_ context.Context, _ connect.ConnectorContext, p map[string]string) error {
	c.props = p
	return nil
}
func (c *testConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.props}, nil
}
func (c *testConnector) Stop() error { return nil }
func (c *testConnector) Config() *config.Def {
	return config.NewDef().Define(config.Key{Name: "count", Type: config.Int, Default: 0, Doc: "records"})
}

type testSource struct {
	topic     string
	next, end int
	delay     time.Duration
	failAt    int // "poll.fail.at": Poll fails once this many records are polled (0: never)
	panicAt   int // "poll.panic.at": Poll panics once this many records are polled (0: never)
	// gate (config "gate"): Start closes gate.started, and Poll waits for
	// gate.open once "gate.after" records (default 0) were polled. blockAfter (config "block.after"): Poll returns
	// nothing more once that many records were polled in the lease.
	gate       *testGate
	blockAfter int
	gateAfter  int
	// bigAt (config "big.at"): record bigAt's value is 2 MB, more than a
	// produce request may carry.
	bigAt  int
	polled int
	// Under transaction.boundary=connector: "commit.every" asks for a
	// commit every that many polls, "abort.poll" for an abort at that poll
	// (1-based).
	txn                    connect.TransactionContext
	commitEvery, abortPoll int
	polls                  int
	// offsetsAs "position" gives each record's offset as
	// connect.SourceRecord.PositionKey and Position instead of a map;
	// "mixed" does so for two records out of three.
	offsetsAs string
}

// testGate lets a test hold a source lease between its start (its
// producer initialised, its offsets loaded) and its first Poll.
type testGate struct{ started, open chan struct{} }

var testGates sync.Map // name -> *testGate

func newTestGate(name string) *testGate {
	g := &testGate{started: make(chan struct{}), open: make(chan struct{})}
	testGates.Store(name, g)
	return g
}

func (s *testSource) Start(_ context.Context, tc connect.SourceTaskContext, p map[string]string) error {
	if g, ok := testGates.Load(p["gate"]); ok {
		s.gate = g.(*testGate)
		close(s.gate.started)
	}
	s.blockAfter, _ = strconv.Atoi(p["block.after"])
	s.bigAt = -1
	if v, err := strconv.Atoi(p["big.at"]); err == nil {
		s.bigAt = v
	}
	s.gateAfter, _ = strconv.Atoi(p["gate.after"])
	s.commitEvery, _ = strconv.Atoi(p["commit.every"])
	s.abortPoll, _ = strconv.Atoi(p["abort.poll"])
	s.txn = connect.Transactions(tc)
	s.topic = p["topic"]
	s.end, _ = strconv.Atoi(p["count"])
	if d, err := time.ParseDuration(p["poll.delay"]); err == nil {
		s.delay = d
	}
	s.offsetsAs = p["offsets.as"]
	s.failAt, _ = strconv.Atoi(p["poll.fail.at"])
	s.panicAt, _ = strconv.Atoi(p["poll.panic.at"])
	if off := tc.Offsets().Offset(map[string]any{"p": int64(0)}); off != nil {
		s.next = int(off["i"].(int64))
	}
	return nil
}

func (s *testSource) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	time.Sleep(s.delay)
	if s.failAt > 0 && s.next >= s.failAt {
		return nil, fmt.Errorf("the source is gone after %d records", s.next)
	}
	if s.panicAt > 0 && s.next >= s.panicAt {
		panic(fmt.Sprintf("the source broke after %d records", s.next))
	}
	if s.gate != nil && s.polled >= s.gateAfter {
		select {
		case <-s.gate.open:
		case <-ctx.Done():
			return nil, nil
		}
	}
	if s.blockAfter > 0 && s.polled >= s.blockAfter {
		return nil, nil
	}
	s.polls++
	if s.txn != nil {
		if s.commitEvery > 0 && s.polls%s.commitEvery == 0 {
			s.txn.CommitTransaction()
		}
		if s.polls == s.abortPoll {
			s.txn.AbortTransaction()
		}
	}
	var out []connect.SourceRecord
	for ; s.next < s.end && len(out) < 10; s.next++ {
		r := connect.SourceRecord{
			Record: connect.Record{Topic: s.topic, Partition: connect.PartitionOf(0),
				KeySchema: data.StringSchema, Key: "k", ValueSchema: data.StringSchema, Value: s.value(s.next)},
			SourcePartition: map[string]any{"p": int64(0)},
			SourceOffset:    map[string]any{"i": int64(s.next + 1)},
		}
		if s.offsetsAs == "position" || s.offsetsAs == "mixed" && s.next%3 != 0 {
			r.SourceOffset, r.PositionKey, r.Position = nil, "i", int64(s.next+1)
		}
		out = append(out, r)
	}
	s.polled += len(out)
	return out, nil
}

func (s *testSource) value(i int) string {
	if i == s.bigAt {
		return strings.Repeat("x", 2<<20)
	}
	return fmt.Sprintf("r%03d", i)
}

func (s *testSource) Stop() error { return nil }

// The test sink writes each partition's records of a lease to
// <dir>/<topic>+<partition>+<start>.txt when PreCommit is called: the
// object name and bytes are a pure function of the range, as for the
// storage sinks. "put.delay" makes Put sleep, ignoring ctx.
var testSinkPlugin = connect.Plugin{
	Class: "test.TestSinkConnector", Kind: connect.KindSink,
	NewConnector: func() connect.Connector { return &testConnector{} },
	NewSinkTask:  func() connect.SinkTask { return &testSink{} },
}

type testSink struct {
	dir   string
	delay time.Duration
	mu    sync.Mutex
	buf   map[connect.TopicPartition][]string
	first map[connect.TopicPartition]int64
}

func (s *testSink) Start(_ context.Context, _ connect.SinkTaskContext, p map[string]string) error {
	s.dir = p["dir"]
	if d, err := time.ParseDuration(p["put.delay"]); err == nil {
		s.delay = d
	}
	s.buf, s.first = map[connect.TopicPartition][]string{}, map[connect.TopicPartition]int64{}
	return nil
}

func (s *testSink) Put(_ context.Context, recs []connect.SinkRecord) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		tp := connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		if _, ok := s.first[tp]; !ok {
			s.first[tp] = r.OriginalOffset
		}
		s.buf[tp] = append(s.buf[tp], fmt.Sprintf("%d:%v", r.OriginalOffset, r.Value))
	}
	return nil
}

func (s *testSink) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tp, lines := range s.buf {
		name := filepath.Join(s.dir, fmt.Sprintf("%s+%d+%010d.txt", tp.Topic, tp.Partition, s.first[tp]))
		var body []byte
		for _, l := range lines {
			body = append(body, l...)
			body = append(body, '\n')
		}
		if err := os.WriteFile(name, body, 0o644); err != nil {
			return nil, err
		}
	}
	return current, nil
}

func (s *testSink) Stop() error { return nil }

// failingStore fails Write while fail is set, playing a crash between
// produce and offset write.
type failingStore struct {
	offsets.Store
	mu   sync.Mutex
	fail bool
}

func (f *failingStore) Write(ctx context.Context, c string, e []offsets.Entry) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("simulated crash before the offset write")
	}
	return f.Store.Write(ctx, c, e)
}

func (f *failingStore) set(fail bool) { f.mu.Lock(); f.fail = fail; f.mu.Unlock() }

func listDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
