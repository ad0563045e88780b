package coordinator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
)

type harness struct {
	brokers []string
	client  *kafka.Client
	store   *state.OffsetStore
	coord   *coordinator.Coordinator
}

func testConfig() coordinator.Config {
	return coordinator.Config{
		LeaseTimeout: 10 * time.Second, LeaseMaxTime: time.Second, Executor: env.Executor{SafetyMargin: 500 * time.Millisecond},
		SinkPollInterval: 100 * time.Millisecond, SinkMaxRecords: 1000, DefaultFlushSize: 1,
		DefaultRotateInterval: 200 * time.Millisecond, IdleBackoffMax: 300 * time.Millisecond,
		TaskRetries: 1, RetryBackoffMax: 200 * time.Millisecond, OffsetStorage: env.OffsetStorage{OffsetStoragePartitions: 5},
		ReconcileInterval: 100 * time.Millisecond, Invoker: "inprocess", RestAdvertisedURL: "http://127.0.0.1:18083",
		TopicTrackingEnable: true, TopicTrackingAllowReset: true,
	}
}

func start(t *testing.T) *harness {
	t.Helper()
	k := kafkatest.Start(t, 2)
	return &harness{brokers: k.Brokers, client: k.Client, store: k.Offsets, coord: newCoordinator(t, k, testConfig(), nil)}
}

// newCoordinator starts a coordinator on k's broker with its state in the
// configs, status and lease topics, as in distributed mode, leading alone
// unless an elector is given.
func newCoordinator(t *testing.T, k *kafkatest.Env, cfg coordinator.Config, elector coordinator.Elector) *coordinator.Coordinator {
	t.Helper()
	return build(t, k, cfg, setup{elector: elector})
}

// newCoordinatorWith is newCoordinator with the executor's options.
func newCoordinatorWith(t *testing.T, k *kafkatest.Env, cfg coordinator.Config, opts lease.Options) *coordinator.Coordinator {
	t.Helper()
	return build(t, k, cfg, setup{opts: &opts})
}

// setup varies how build wires a coordinator.
type setup struct {
	elector coordinator.Elector
	opts    *lease.Options
	// wrap wraps the in-process invoker (to record or fail invocations).
	wrap func(coordinator.Invoker) coordinator.Invoker
	// plugins are registered next to the built-in ones.
	plugins []connect.Plugin
	// wrapLeases wraps the lease log (to fail or panic on a record).
	wrapLeases func(coordinator.LeaseLog) coordinator.LeaseLog
}

func build(t *testing.T, k *kafkatest.Env, cfg coordinator.Config, s setup) *coordinator.Coordinator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, k.Client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Follow(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	leases, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, "sluice-leases", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leases.Close() })
	reg := plugins.Registry()
	if s.plugins != nil {
		if reg, err = connect.NewRegistry(append(plugins.All(), s.plugins...)...); err != nil {
			t.Fatal(err)
		}
	}
	var leaseLog coordinator.LeaseLog = leases
	if s.wrapLeases != nil {
		leaseLog = s.wrapLeases(leases)
	}
	opts := lease.Options{SafetyMargin: cfg.SafetyMargin}
	if s.opts != nil {
		opts = *s.opts
	}
	var inv coordinator.Invoker = coordinator.InProcess{Executor: lease.NewExecutor(reg, k.Client, k.Offsets, opts)}
	if s.wrap != nil {
		inv = s.wrap(inv)
	}
	coord, err := coordinator.New(cfg, coordinator.Deps{Plugins: reg, Kafka: k.Client, Invoker: inv,
		Configs: st.Configs, Statuses: st.Statuses, Leases: leaseLog, Offsets: k.Offsets, Election: s.elector})
	if err != nil {
		t.Fatal(err)
	}
	coord.Start()
	t.Cleanup(coord.Close)
	return coord
}

// status returns a connector's status as GET /connectors/{name}/status.
func status(t *testing.T, c *coordinator.Coordinator, name string) rest.ConnectorStateInfo {
	t.Helper()
	st, err := c.ConnectorStatus(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond every 50ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func datagenProps(count int) map[string]string {
	return map[string]string{
		"name": "orders-datagen", "connector.class": "Datagen", "topic": "orders", "shape": "orders",
		"count": fmt.Sprint(count), "seed": "7", "tasks.max": "1",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
}

// The first pipeline end to end: datagen -> Kafka -> FileStreamSink, every
// record exactly once in the file, offsets committed on both sides.
func TestPipelineDatagenToFile(t *testing.T) {
	h := start(t)
	out := filepath.Join(t.TempDir(), "orders.jsonl")
	const n = 300
	if err := h.coord.Add(datagenProps(n)); err != nil {
		t.Fatal(err)
	}
	err := h.coord.Add(map[string]string{
		"name": "orders-file-sink", "connector.class": "FileStreamSink", "topics": "orders", "file": out,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d lines in %s", n, out), func() bool { return len(readLines(out)) >= n })

	ids := map[int64]int{}
	for _, line := range readLines(out) {
		var rec struct {
			OrderID *int64 `json:"order_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.OrderID == nil {
			t.Fatalf("line is not an order JSON document: %q (%v)", line, err)
		}
		ids[*rec.OrderID]++
	}
	if len(ids) != n {
		t.Fatalf("%d distinct orders in the file, want %d", len(ids), n)
	}
	for id, c := range ids {
		if c != 1 {
			t.Fatalf("order %d written %d times", id, c)
		}
	}
	waitFor(t, 10*time.Second, "the sink RUNNING", func() bool {
		st := status(t, h.coord, "orders-file-sink")
		return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
	// The source's offsets reach the offsets topic (Connect's format) when
	// its lease ends.
	waitFor(t, 30*time.Second, "source offsets", func() bool {
		stored, err := h.store.Load(context.Background(), "orders-datagen")
		if err != nil || len(stored) != 1 {
			return false
		}
		for _, e := range stored {
			return e.Offset["seq"] == int64(n)
		}
		return false
	})
	assertKcatReadsSameBytes(t, h, "orders")
}

// assertKcatReadsSameBytes reads the topic with kcat (librdkafka) and
// compares keys and values with what our fetcher reads.
func assertKcatReadsSameBytes(t *testing.T, h *harness, topic string) {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is required for the interoperability check: run `make tools` or apt-get install kcat")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parts, err := h.client.Partitions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, p := range parts {
		tp := kafka.TopicPartition{Topic: topic, Partition: p}
		wm, err := h.client.Watermarks(ctx, []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		err = h.client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
			for _, m := range ms {
				ours = append(ours, fmt.Sprintf("%d|%s|%s", m.Offset, m.Key, m.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ours) == 0 {
			continue
		}
		cmd := exec.CommandContext(ctx, "kcat", "-b", h.brokers[0], "-C", "-t", topic, "-p", fmt.Sprint(p),
			"-o", "beginning", "-e", "-q", "-f", `%o|%k|%s\n`)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat: %v", err)
		}
		theirs := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if !slices.Equal(ours, theirs) {
			t.Fatalf("partition %d: kcat read %d records, we read %d; first differing:\nkcat: %q\nours: %q",
				p, len(theirs), len(ours), first(theirs), first(ours))
		}
		compared += len(ours)
	}
	if compared == 0 {
		t.Fatalf("topic %s is empty: nothing to compare with kcat", topic)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestAddRejectsBadConfigNamingEveryKey(t *testing.T) {
	h := start(t)
	tests := []struct {
		name  string
		props map[string]string
		want  []string
	}{
		{"unknown class", map[string]string{"name": "x", "connector.class": "com.example.NopeConnector"},
			[]string{"com.example.NopeConnector"}},
		{"missing and wrong-typed keys", map[string]string{"name": "x", "connector.class": "FileStreamSource", "tasks.max": "many"},
			[]string{"tasks.max", `"file"`, `"topic"`, "error(s)"}},
		{"sink without topics", map[string]string{"name": "x", "connector.class": "FileStreamSink", "file": "/tmp/x"},
			[]string{"Must configure one of topics or topics.regex"}},
		{"no class", map[string]string{"name": "x"}, []string{`"connector.class"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.coord.Add(tt.props)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if err := h.coord.Add(datagenProps(1)); err != nil {
		t.Fatal(err)
	}
	// POST /connectors for an existing name: 409.
	_, _, err := h.coord.PutConnectorConfig(context.Background(), "orders-datagen", datagenProps(1), false, "")
	var exists *rest.AlreadyExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("creating an existing connector: %v, want AlreadyExistsError", err)
	}
}

// An unreadable source file fails the task with a trace and commits nothing.
func TestUnreadableSourceFileFailsTask(t *testing.T) {
	h := start(t)
	missing := filepath.Join(t.TempDir(), "does-not-exist.txt")
	err := h.coord.Add(map[string]string{"name": "fs", "connector.class": "FileStreamSource", "file": missing, "topic": "lines"})
	if err != nil {
		t.Fatal(err)
	}
	var st rest.ConnectorStateInfo
	waitFor(t, 30*time.Second, "task FAILED", func() bool {
		st = status(t, h.coord, "fs")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	if !strings.Contains(st.Tasks[0].Trace, missing) {
		t.Fatalf("trace does not name the file: %q", st.Tasks[0].Trace)
	}
	stored, err := h.store.Load(context.Background(), "fs")
	if err != nil || len(stored) != 0 {
		t.Fatalf("offsets committed for a failed source: %v %v", stored, err)
	}
}

// A sink connector with no data issues no leases (rule 4 of
// docs/architecture.md: idle connectors cost no invocations), and its task
// is RUNNING all the same, as an idle sink task is in Connect.
func TestIdleSinkIssuesNoLeases(t *testing.T) {
	k := kafkatest.Start(t, 1)
	rec := &recorder{}
	coord := build(t, k, testConfig(), setup{wrap: func(inv coordinator.Invoker) coordinator.Invoker { rec.Invoker = inv; return rec }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "quiet", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "quiet.txt")
	err := coord.Add(map[string]string{"name": "quiet-sink", "connector.class": "FileStreamSink", "topics": "quiet", "file": out,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the sink task RUNNING", func() bool {
		st := status(t, coord, "quiet-sink")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
	// Several lag polls (SinkPollInterval) with nothing to do.
	time.Sleep(time.Second)
	if ls, _ := rec.sink(); len(ls) != 0 {
		t.Fatalf("idle sink issued %d leases: %+v", len(ls), ls)
	}
}

// slowPausedStatuses delays each write of a PAUSED connector status, so
// that one is still being written when the coordinator closes.
type slowPausedStatuses struct {
	*coordinator.MemoryStatusStore
	delay   time.Duration
	once    sync.Once
	started chan struct{} // closed when the first PAUSED write begins
	written atomic.Bool   // set when a PAUSED write ends
}

func (s *slowPausedStatuses) PutConnectorStatus(ctx context.Context, name string, st state.Status) error {
	if st.State != state.StatePaused {
		return s.MemoryStatusStore.PutConnectorStatus(ctx, name, st)
	}
	s.once.Do(func() { close(s.started) })
	time.Sleep(s.delay)
	defer s.written.Store(true)
	return s.MemoryStatusStore.PutConnectorStatus(ctx, name, st)
}

// The status a pause writes is a goroutine of the coordinator's: Close
// waits for it.
func TestCloseWaitsForThePausedStatusWrite(t *testing.T) {
	statuses := &slowPausedStatuses{MemoryStatusStore: coordinator.NewMemoryStatusStore(), delay: 2 * time.Second, started: make(chan struct{})}
	coord, err := coordinator.New(testConfig(), coordinator.Deps{Plugins: plugins.Registry(), Invoker: &countingInvoker{},
		Configs: coordinator.NewMemoryConfigStore(), Statuses: statuses, Leases: coordinator.NewMemoryLeaseLog()})
	if err != nil {
		t.Fatal(err)
	}
	coord.Start()
	defer coord.Close()
	if err := coord.Add(datagenProps(10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the connector RUNNING", func() bool {
		st, err := coord.ConnectorStatus(context.Background(), "orders-datagen")
		return err == nil && st.Connector.State == "RUNNING"
	})
	if err := coord.PauseConnector(context.Background(), "orders-datagen"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-statuses.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no PAUSED status written within 10s of the pause")
	}
	coord.Close()
	if !statuses.written.Load() {
		t.Fatal("Close returned while the PAUSED status was still being written")
	}
}
