package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// call sends a REST request and returns status, content type and body.
func call(t *testing.T, base, method, path, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// The Kafka Connect REST API end to end against a real coordinator: every
// connector endpoint's status code and body shape, in the order a user
// goes through them.
func TestRESTAgainstTheCoordinator(t *testing.T) {
	h := start(t)
	produceN(t, h.client, "t", 10)
	srv := httptest.NewServer(rest.NewHandler(h.coord, rest.Options{Version: "test"}))
	defer srv.Close()
	out := t.TempDir() + "/out.txt"
	create := `{"name":"snk","config":{"connector.class":"FileStreamSink","topics":"t","file":"` + out + `",` +
		`"value.converter":"org.apache.kafka.connect.storage.StringConverter","key.converter":"org.apache.kafka.connect.storage.StringConverter"}}`
	steps := []struct {
		name, method, path, body string
		code                     int
		contains                 []string
		noJSON                   bool
	}{
		{"root", "GET", "/", "", 200, []string{`"version":"test"`, `"kafka_cluster_id"`}, false},
		{"no connectors", "GET", "/connectors", "", 200, []string{`[]`}, false},
		{"create", "POST", "/connectors", create, 201, []string{`"name":"snk"`, `"type":"sink"`}, false},
		{"create again", "POST", "/connectors", create, 409, []string{`"error_code":409`, "already exists"}, false},
		{"invalid config", "POST", "/connectors", `{"name":"bad","config":{"connector.class":"FileStreamSink"}}`, 400,
			[]string{"Connector configuration is invalid and contains the following", "Must configure one of topics or topics.regex"}, false},
		{"unknown class", "POST", "/connectors", `{"name":"bad","config":{"connector.class":"com.example.Nope"}}`, 400, []string{"com.example.Nope"}, false},
		{"malformed JSON", "POST", "/connectors", `{"name":`, 400, []string{`"error_code":400`}, false},
		{"list", "GET", "/connectors", "", 200, []string{`["snk"]`}, false},
		{"info", "GET", "/connectors/snk", "", 200, []string{`"tasks":[{"connector":"snk","task":0}]`}, false},
		{"config has name", "GET", "/connectors/snk/config", "", 200, []string{`"name":"snk"`, `"topics":"t"`}, false},
		{"tasks", "GET", "/connectors/snk/tasks", "", 200, []string{`"id":{"connector":"snk","task":0}`}, false},
		{"status", "GET", "/connectors/snk/status", "", 200, []string{`"connector":{"state":"RUNNING"`, `"type":"sink"`}, false},
		{"expand", "GET", "/connectors?expand=status&expand=info", "", 200, []string{`"snk":{"info":`, `"status":`}, false},
		{"patch removes with null", "PATCH", "/connectors/snk/config", `{"tasks.max":"1","errors.log.enable":null}`, 200, []string{`"tasks.max":"1"`}, false},
		{"put existing", "PUT", "/connectors/snk/config", strings.TrimSuffix(strings.TrimPrefix(create, `{"name":"snk","config":`), "}"), 200, []string{`"name":"snk"`}, false},
		{"pause", "PUT", "/connectors/snk/pause", "", 202, nil, true},
		{"paused", "GET", "/connectors/snk/status", "", 200, []string{`"state":"PAUSED"`}, false},
		{"resume", "PUT", "/connectors/snk/resume", "", 202, nil, true},
		{"restart", "POST", "/connectors/snk/restart", "", 204, nil, true},
		{"restart with tasks", "POST", "/connectors/snk/restart?includeTasks=true", "", 202, []string{`"state":"RESTARTING"`}, false},
		{"task restart", "POST", "/connectors/snk/tasks/0/restart", "", 204, nil, true},
		{"unknown task", "POST", "/connectors/snk/tasks/7/restart", "", 404, []string{`"error_code":404`}, false},
		{"offsets while running", "DELETE", "/connectors/snk/offsets", "", 400, []string{"STOPPED state"}, false},
		{"topics", "GET", "/connectors/snk/topics", "", 200, []string{`{"snk":{"topics":["t"]}}`}, false},
		{"topics reset", "PUT", "/connectors/snk/topics/reset", "", 202, nil, true},
		{"topics after reset", "GET", "/connectors/snk/topics", "", 200, []string{`{"snk":{"topics":[]}}`}, false},
		// Connect 4.1 answers an empty list for an unknown connector.
		{"topics of unknown", "GET", "/connectors/nope/topics", "", 200, []string{`{"nope":{"topics":[]}}`}, false},
		{"stop", "PUT", "/connectors/snk/stop", "", 204, nil, true},
		{"stopped", "GET", "/connectors/snk/status", "", 200, []string{`"state":"STOPPED"`}, false},
		{"alter sink offsets", "PATCH", "/connectors/snk/offsets",
			`{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":5}}]}`, 200, []string{"altered successfully"}, false},
		{"read them", "GET", "/connectors/snk/offsets", "", 200, []string{`{"partition":{"kafka_partition":0,"kafka_topic":"t"},"offset":{"kafka_offset":5}}`}, false},
		{"reset", "DELETE", "/connectors/snk/offsets", "", 200, []string{"reset successfully"}, false},
		{"after reset", "GET", "/connectors/snk/offsets", "", 200, []string{`{"offsets":[]}`}, false},
		{"plugins", "GET", "/connector-plugins", "", 200, []string{`"class":"org.apache.kafka.connect.file.FileStreamSinkConnector"`}, false},
		{"all plugins", "GET", "/connector-plugins?connectorsOnly=false", "", 200, []string{`"type":"transformation"`, `"type":"converter"`}, false},
		{"plugin config", "GET", "/connector-plugins/FileStreamSink/config", "", 200, []string{`"name":"file"`}, false},
		{"validate", "PUT", "/connector-plugins/FileStreamSinkConnector/config/validate",
			`{"connector.class":"FileStreamSinkConnector","tasks.max":"x"}`, 200, []string{`"error_count":`, `Not a number of type INT`}, false},
		{"delete", "DELETE", "/connectors/snk", "", 204, nil, true},
		{"gone", "GET", "/connectors/snk", "", 404, []string{`"message":"Connector snk not found"`}, false},
	}
	for _, s := range steps {
		var code int
		var ct, body string
		// A write takes effect through the reconcile loop: statuses may lag.
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, ct, body = call(t, srv.URL, s.method, s.path, s.body)
			ok := code == s.code
			for _, c := range s.contains {
				ok = ok && strings.Contains(body, c)
			}
			if ok || time.Now().After(deadline) || s.method != "GET" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code != s.code {
			t.Fatalf("%s: %s %s = %d %s, want %d", s.name, s.method, s.path, code, body, s.code)
		}
		for _, c := range s.contains {
			if !strings.Contains(body, c) {
				t.Fatalf("%s: body %s lacks %s", s.name, body, c)
			}
		}
		if s.noJSON && (ct != "" || body != "") {
			t.Fatalf("%s: empty %d carries content type %q / body %q", s.name, code, ct, body)
		}
		if code >= 400 && !json.Valid([]byte(body)) {
			t.Fatalf("%s: error body is not JSON: %s", s.name, body)
		}
	}
}

// recorder wraps an invoker, recording every lease and failing the first
// fail invocations as if the function had crashed (outcome unknown).
type recorder struct {
	coordinator.Invoker
	mu     sync.Mutex
	fail   int
	leases []lease.Lease
	issued []time.Time
}

func (r *recorder) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	r.mu.Lock()
	r.leases = append(r.leases, l)
	r.issued = append(r.issued, time.Now())
	failing := r.fail > 0
	r.fail--
	r.mu.Unlock()
	if failing {
		return lease.Result{}, errors.New("simulated crash of the function")
	}
	return r.Invoker.Invoke(ctx, l)
}

func (r *recorder) sink() ([]lease.Lease, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ls []lease.Lease
	var ts []time.Time
	for i, l := range r.leases {
		if l.Kind == lease.KindSink {
			ls, ts = append(ls, l), append(ts, r.issued[i])
		}
	}
	return ls, ts
}

func produceN(t *testing.T, c *kafka.Client, topic string, n int) {
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
		p.Send(context.Background(), kafka.Message{Topic: topic, Partition: 0, Value: []byte(fmt.Sprint("v", i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// A sink lease whose invocation fails with an unknown outcome is re-issued
// with the same range, and only after the first lease's deadline.
func TestLostLeaseReissuedWithSameRangeAfterDeadline(t *testing.T) {
	k := kafkatest.Start(t, 1)
	produceN(t, k.Client, "in", 30)
	rec := &recorder{fail: 1}
	cfg := testConfig()
	cfg.LeaseTimeout = 3 * time.Second
	coord := build(t, k, cfg, setup{wrap: func(inv coordinator.Invoker) coordinator.Invoker { rec.Invoker = inv; return rec }})
	err := coord.Add(map[string]string{"name": "snk", "connector.class": "FileStreamSink", "topics": "in", "file": t.TempDir() + "/o.txt",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a second sink lease", func() bool { ls, _ := rec.sink(); return len(ls) >= 2 })
	ls, issued := rec.sink()
	if fmt.Sprint(ls[0].Ranges) != fmt.Sprint(ls[1].Ranges) {
		t.Fatalf("re-issued with ranges %v, first had %v", ls[1].Ranges, ls[0].Ranges)
	}
	if issued[1].Before(ls[0].Deadline) {
		t.Fatalf("re-issued at %v, before the first lease's deadline %v", issued[1], ls[0].Deadline)
	}
	if ls[1].Epoch <= ls[0].Epoch {
		t.Fatalf("epoch %d does not increase on %d", ls[1].Epoch, ls[0].Epoch)
	}
}

// A sink with lag below flush.size waits for the rotation interval; one
// whose lag reaches it gets a lease covering whole flush.size multiples.
func TestSinkSchedulingBySizeAndAge(t *testing.T) {
	k := kafkatest.Start(t, 1)
	// Made before the coordinator, so removed after it stopped.
	dirs := map[string]string{"small-sink": t.TempDir(), "big-sink": t.TempDir()}
	rec := &recorder{}
	coord := build(t, k, testConfig(), setup{wrap: func(inv coordinator.Invoker) coordinator.Invoker { rec.Invoker = inv; return rec }})
	produceN(t, k.Client, "small", 10)
	produceN(t, k.Client, "big", 250)
	for _, c := range []struct{ name, topic string }{{"small-sink", "small"}, {"big-sink", "big"}} {
		err := coord.Add(map[string]string{"name": c.name, "connector.class": "io.sluice.connect.storage.LocalSinkConnector",
			"topics": c.topic, "local.dir": dirs[c.name], "flush.size": "100", "rotate.interval.ms": "2000",
			"format.class":    "io.confluent.connect.s3.format.json.JsonFormat",
			"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
			"value.converter.replace.null.with.default": "true", "key.converter": "org.apache.kafka.connect.storage.StringConverter"})
		if err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	waitFor(t, 30*time.Second, "a lease for each sink", func() bool {
		var small, big bool
		ls, _ := rec.sink()
		for _, l := range ls {
			small = small || l.Connector == "small-sink"
			big = big || l.Connector == "big-sink"
		}
		return small && big
	})
	ls, issued := rec.sink()
	for i, l := range ls {
		switch l.Connector {
		case "big-sink":
			if r := l.Ranges[0]; r.Start == 0 && r.End != 200 {
				t.Fatalf("size-due lease covers %v, want [0,200): whole flush.size multiples", r)
			}
		case "small-sink":
			if wait := issued[i].Sub(start); wait < 1500*time.Millisecond {
				t.Fatalf("lag below flush.size got a lease after %s, before the 2s rotation interval", wait)
			}
		}
	}
}

// GET /health asks the coordinator's main loop: healthy while it runs,
// unhealthy once it has stopped.
func TestHealthFollowsTheMainLoop(t *testing.T) {
	h := start(t)
	srv := httptest.NewServer(rest.NewHandler(h.coord, rest.Options{Version: "test"}))
	defer srv.Close()
	if code, _, body := call(t, srv.URL, "GET", "/health", ""); code != 200 || !strings.Contains(body, `"status":"healthy"`) {
		t.Fatalf("running: %d %s", code, body)
	}
	h.coord.Close()
	code, _, body := call(t, srv.URL, "GET", "/health", "")
	if code != 500 || !strings.Contains(body, `"status":"unhealthy"`) || !strings.Contains(body, "the coordinator has stopped") {
		t.Fatalf("stopped: %d %s", code, body)
	}
}

// Active topics live in the status topic (KIP-558): a coordinator started
// on the same topics reads them back, and topic.tracking.enable /
// topic.tracking.allow.reset switched off answer 403 with Connect's messages.
func TestActiveTopicsSurviveRestart(t *testing.T) {
	k := kafkatest.Start(t, 1)
	produceN(t, k.Client, "in", 5)
	first := build(t, k, testConfig(), setup{})
	err := first.Add(map[string]string{"name": "snk", "connector.class": "FileStreamSink", "topics": "in", "file": t.TempDir() + "/o.txt",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the sink's active topic", func() bool {
		info, err := first.ConnectorActiveTopics(context.Background(), "snk")
		return err == nil && slices.Equal(info.Topics, []string{"in"})
	})
	first.Close()

	cfg := testConfig()
	cfg.TopicTrackingAllowReset = false
	second := build(t, k, cfg, setup{})
	info, err := second.ConnectorActiveTopics(context.Background(), "snk")
	if err != nil || !slices.Equal(info.Topics, []string{"in"}) {
		t.Fatalf("after a restart: %+v %v", info, err)
	}
	var se *rest.StatusError
	if err := second.ResetConnectorActiveTopics(context.Background(), "snk"); !errors.As(err, &se) || se.StatusCode != 403 ||
		se.Message != "Topic tracking reset is disabled." {
		t.Fatalf("reset with topic.tracking.allow.reset=false: %v", err)
	}
	cfg.TopicTrackingEnable = false
	third := build(t, k, cfg, setup{})
	if _, err := third.ConnectorActiveTopics(context.Background(), "snk"); !errors.As(err, &se) || se.StatusCode != 403 ||
		se.Message != "Topic tracking is disabled." {
		t.Fatalf("GET with topic.tracking.enable=false: %v", err)
	}
}

// POST /connectors with initial_state (KIP-980) creates the connector in
// that state, reported as Connect reports it: by this worker, with tasks
// for RUNNING and PAUSED and none for STOPPED. A stopped connector stays
// STOPPED on a repeated stop and runs on resume.
func TestInitialState(t *testing.T) {
	h := start(t)
	srv := httptest.NewServer(rest.NewHandler(h.coord, rest.Options{Version: "test"}))
	defer srv.Close()
	const worker = "127.0.0.1:18083" // testConfig's RestAdvertisedURL
	type want struct {
		connector string
		tasks     []string
	}
	await := func(t *testing.T, name string, w want) {
		t.Helper()
		var st rest.ConnectorStateInfo
		waitFor(t, 10*time.Second, name+" "+w.connector, func() bool {
			_, _, body := call(t, srv.URL, "GET", "/connectors/"+name+"/status", "")
			st = rest.ConnectorStateInfo{}
			if json.Unmarshal([]byte(body), &st) != nil || st.Connector.State != w.connector || st.Connector.WorkerID != worker ||
				len(st.Tasks) != len(w.tasks) {
				return false
			}
			for i, task := range st.Tasks {
				if task.State != w.tasks[i] || task.WorkerID != worker {
					return false
				}
			}
			return true
		})
	}
	tests := []struct {
		name, initial string
		want          want
	}{
		{name: "running", initial: "RUNNING", want: want{"RUNNING", []string{"RUNNING"}}},
		{name: "default", initial: "", want: want{"RUNNING", []string{"RUNNING"}}},
		{name: "paused", initial: "PAUSED", want: want{"PAUSED", []string{"PAUSED"}}},
		{name: "stopped", initial: "STOPPED", want: want{"STOPPED", nil}},
		{name: "stopped lower case", initial: "stopped", want: want{"STOPPED", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := datagenProps(1_000_000)
			props["topic"], props["rate"] = "initial-"+tt.name, "10"
			delete(props, "name")
			body, _ := json.Marshal(map[string]any{"name": tt.name, "config": props, "initial_state": tt.initial})
			if code, _, b := call(t, srv.URL, "POST", "/connectors", string(body)); code != 201 {
				t.Fatalf("create: %d %s", code, b)
			}
			await(t, tt.name, tt.want)
			if tt.want.connector != "STOPPED" {
				return
			}
			if code, _, b := call(t, srv.URL, "GET", "/connectors/"+tt.name, ""); code != 200 || !strings.Contains(b, `"tasks":[]`) {
				t.Fatalf("info of a stopped connector: %d %s, want no tasks", code, b)
			}
			if code, _, b := call(t, srv.URL, "PUT", "/connectors/"+tt.name+"/stop", ""); code != 204 {
				t.Fatalf("stop: %d %s", code, b)
			}
			await(t, tt.name, tt.want)
			if code, _, b := call(t, srv.URL, "PUT", "/connectors/"+tt.name+"/resume", ""); code != 202 {
				t.Fatalf("resume: %d %s", code, b)
			}
			await(t, tt.name, want{"RUNNING", []string{"RUNNING"}})
		})
	}
}

// Connectors answers the names sorted, and a new list as soon as the
// configurations change (calls share one list until then).
func TestConnectorsFollowsChanges(t *testing.T) {
	ctx := context.Background()
	configs := coordinator.NewMemoryConfigStore()
	coord, err := coordinator.New(testConfig(), coordinator.Deps{Plugins: plugins.Registry(), Invoker: &countingInvoker{},
		Configs: configs, Statuses: coordinator.NewMemoryStatusStore(), Leases: coordinator.NewMemoryLeaseLog()})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func() error
		want   []string
	}{
		{"empty", func() error { return nil }, nil},
		{"two", func() error {
			if err := configs.PutConnectorConfig(ctx, "b", map[string]string{}, ""); err != nil {
				return err
			}
			return configs.PutConnectorConfig(ctx, "a", map[string]string{}, "")
		}, []string{"a", "b"}},
		{"unchanged", func() error { return nil }, []string{"a", "b"}},
		{"added", func() error { return configs.PutConnectorConfig(ctx, "c", map[string]string{}, "") }, []string{"a", "b", "c"}},
		{"deleted", func() error { return configs.DeleteConnector(ctx, "a") }, []string{"b", "c"}},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		got, err := coord.Connectors(ctx)
		if err != nil || !slices.Equal(got, s.want) {
			t.Fatalf("%s: Connectors = %q, %v; want %q", s.name, got, err, s.want)
		}
	}
}
