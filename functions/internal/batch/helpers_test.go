package batch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/sluicehq/sluice/pkg/storage/sink"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/functions/internal/batch"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// hookedClass is the local sink connector with test hooks around its
// task's Put and Stop, found by the connector's name.
const hookedClass = "test.HookedLocalSink"

type hooks struct {
	put  func() // before each Put
	stop func() // after Stop
}

// env is a broker, the configs topic, the local sink and an executor.
type env struct {
	k       *kafkatest.Env
	configs *state.ConfigStore
	plugins *connect.Registry
	exec    *lease.Executor
	// clock is added to the wall clock in Deps.Now.
	clock atomic.Int64

	mu    sync.Mutex
	hooks map[string]hooks
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{k: kafkatest.Start(t, 2), hooks: map[string]hooks{}}
	hooked := connect.Plugin{Class: hookedClass, Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return localsink.NewConnector() },
		NewSinkTask:  func() connect.SinkTask { return &hookTask{Task: localsink.NewTask(), e: e} },
	}
	var all []connect.Plugin
	all = append(all, converter.Plugins()...)
	all = append(all, avro.Plugins()...)
	all = append(all, localsink.Plugins()...)
	all = append(all, transforms.Plugins()...)
	all = append(all, hooked)
	reg, err := connect.NewRegistry(all...)
	if err != nil {
		t.Fatal(err)
	}
	e.plugins = reg
	e.exec = lease.NewExecutor(reg, e.k.Client, e.k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, e.k.Client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.configs = st.Configs
	return e
}

func (e *env) deps() batch.Deps {
	return batch.Deps{
		Executor: e.exec, Kafka: e.k.Client, Configs: batch.StoreConfigs{Store: e.configs}, Plugins: e.plugins,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.clock.Load())) },
	}
}

func (e *env) setHooks(connector string, h hooks) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks[connector] = h
}

func (e *env) hooksOf(connector string) hooks {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hooks[connector]
}

// putConnector writes a local sink connector's configuration to the
// configs topic; it writes JSON lines to dir.
func (e *env) putConnector(t *testing.T, name, topic, dir string, extra map[string]string) {
	t.Helper()
	cfg := map[string]string{
		"name": name, "connector.class": hookedClass, "topics": topic, "tasks.max": "1",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"format.class": sink.JSONClass, "flush.size": "5", "local.dir": dir,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.configs.PutConnectorConfig(ctx, name, cfg, ""); err != nil {
		t.Fatal(err)
	}
}

// produce writes n records to each of the topic's partitions (creating it
// with two), each value {"p": partition, "i": its index in the partition},
// which is its offset in a fresh topic.
func (e *env) produce(t *testing.T, topic string, from int, n ...int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	p, err := e.k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for part, count := range n {
		for i := from; i < from+count; i++ {
			p.Send(context.Background(), kafka.Message{Topic: topic, Partition: int32(part), Key: []byte(fmt.Sprintf("k%d", i)),
				Value: []byte(fmt.Sprintf(`{"p":%d,"i":%d}`, part, i)), Timestamp: time.Date(2024, 5, 1, 12, 0, i, 0, time.UTC)})
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) committed(t *testing.T, connector, topic string) [2]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tps := []kafka.TopicPartition{{Topic: topic, Partition: 0}, {Topic: topic, Partition: 1}}
	m, err := e.k.Client.CommittedOffsets(ctx, lease.GroupID(connector), tps)
	if err != nil {
		t.Fatal(err)
	}
	return [2]int64{m[tps[0]], m[tps[1]]}
}

// hookTask is the local sink task with the test's hooks.
type hookTask struct {
	localsink.Task
	e    *env
	name string
}

func (h *hookTask) Start(ctx context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	h.name = props["name"]
	return h.Task.Start(ctx, tc, props)
}

func (h *hookTask) Put(ctx context.Context, recs []connect.SinkRecord) error {
	if f := h.e.hooksOf(h.name).put; f != nil {
		f()
	}
	return h.Task.Put(ctx, recs)
}

func (h *hookTask) Stop() error {
	err := h.Task.Stop()
	if f := h.e.hooksOf(h.name).stop; f != nil {
		f()
	}
	return err
}

// files returns every file under dir, by slash-separated relative path.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// lines decodes a JSON lines file.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func handle(t *testing.T, ctx context.Context, d batch.Deps, payload string) (any, error) {
	t.Helper()
	return batch.Handle(ctx, d, json.RawMessage(payload))
}

func requireEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func sameFiles(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d files %v, want %d %v", what, len(got), keys(got), len(want), keys(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, w) {
			t.Fatalf("%s: file %s differs or is missing", what, k)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
