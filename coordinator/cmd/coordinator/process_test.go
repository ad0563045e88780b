package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The process tests run the coordinator binary, built once per test binary,
// against a Kafka-protocol broker (kfake) in the test process or, with
// SLUICE_TEST_KAFKA=real (make test-kafka), against Apache Kafka started
// once per test binary.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := realkafka.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// coordinatorBinary builds the coordinator once and returns its path.
func coordinatorBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts coordinator processes; skipped with -short")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "sluice-coordinator-test-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "coordinator")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// startBroker runs a one-broker Kafka cluster that allows the election's
// short session timeout; with SLUICE_TEST_KAFKA=real, it is the test
// binary's Apache Kafka broker, emptied for the test.
func startBroker(t *testing.T) string {
	t.Helper()
	if realkafka.Enabled() {
		return strings.Join(kafkatest.Brokers(t, 2), ",")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(2), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// process is a coordinator process started by a test.
type process struct {
	*proctest.Process
	addr string // REST listener, 127.0.0.1:port
}

// startProcess starts the coordinator with env added to the base
// environment; addr is its REST listener.
func startProcess(t *testing.T, name, addr string, env []string, args ...string) *process {
	t.Helper()
	p := &process{Process: proctest.Start(t, name, coordinatorBinary(t), env, args...), addr: addr}
	p.LogFilter = withoutAccessLog
	return p
}

func (p *process) url() string { return "http://" + p.addr }

// leading reports whether the process's election last said it leads and
// its REST API answers (the election may be won before the REST listener
// is up).
func (p *process) leading() bool {
	if !leads(p) {
		return false
	}
	status, _, err := request(http.MethodGet, p.url()+"/connectors", nil)
	return err == nil && status == http.StatusOK
}

// leads reports whether the process's election last said it leads.
func leads(p *process) bool {
	if p.Exited() {
		return false
	}
	last := ""
	for line := range strings.Lines(p.Stderr.String()) {
		if strings.Contains(line, `msg="election: leadership changed"`) {
			last = line
		}
	}
	return strings.Contains(last, "leader=true")
}

// withoutAccessLog drops the REST access log lines.
func withoutAccessLog(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.Contains(line, `msg="REST request"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// request sends a REST request with body (marshalled to JSON unless nil)
// and returns the status and the response body.
func request(method, url string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// mustRequest is request that fails the test unless the status is want.
func mustRequest(t *testing.T, method, url string, body any, want int) []byte {
	t.Helper()
	status, b, err := request(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, b)
	}
	return b
}

// getJSON decodes a 200 answer into v.
func getJSON(url string, v any) error {
	status, b, err := request(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", url, status, b)
	}
	return json.Unmarshal(b, v)
}

// checkSteady calls f every 100 ms until it has returned nil for hold
// without interruption, failing the test with f's last error after wait.
func checkSteady(t *testing.T, wait, hold time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var since time.Time
	for {
		err := f()
		switch {
		case err != nil:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= hold:
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not steady for %s within %s: %v", hold, wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// orderCounts reads a FileStreamSink's output of datagen orders (one JSON
// object a line) and counts each order_id.
func orderCounts(path string) (counts map[int64]int, lines int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[int64]int{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	counts = map[int64]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var o struct {
			OrderID *int64 `json:"order_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil || o.OrderID == nil {
			// The sink may be appending the last line right now.
			continue
		}
		counts[*o.OrderID]++
		lines++
	}
	return counts, lines, sc.Err()
}

// topicOrderCounts reads every record of topic (datagen orders as JSON)
// and counts each order_id: replays by the source show here as repeats.
func topicOrderCounts(t *testing.T, broker, topic string, want int64) map[int64]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(broker, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	counts := map[int64]int{}
	deadline := time.Now().Add(15 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) && (int64(len(counts)) < want || quiet < 2) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			var o struct {
				OrderID int64 `json:"order_id"`
			}
			if json.Unmarshal(r.Value, &o) == nil {
				counts[o.OrderID]++
				n++
			}
		})
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return counts
}

// checkOrders reports the orders in [0, n) missing from counts, the
// duplicate lines, and any unexpected order id.
func checkOrders(counts map[int64]int, n int64) (missing []int64, duplicates int, unexpected []int64) {
	for id := range n {
		switch c := counts[id]; {
		case c == 0:
			missing = append(missing, id)
		case c > 1:
			duplicates += c - 1
		}
	}
	for id := range counts {
		if id < 0 || id >= n {
			unexpected = append(unexpected, id)
		}
	}
	return missing, duplicates, unexpected
}

// awaitAllOrders waits until every order in [0, n) is in the sink's file,
// fails the test on an unexpected id or an order missing from the orders
// topic, and returns the duplicate lines in the file (at-least-once
// replays by the source and the sink).
func awaitAllOrders(t *testing.T, broker, file string, n int64) (fileDups int) {
	t.Helper()
	var counts map[int64]int
	proctest.CheckFor(t, 40*time.Second, 200*time.Millisecond, func() error {
		var err error
		if counts, _, err = orderCounts(file); err != nil {
			return err
		}
		if missing, _, _ := checkOrders(counts, n); len(missing) > 0 {
			return fmt.Errorf("%d orders missing, first %d", len(missing), missing[0])
		}
		return nil
	})
	_, fileDups, unexpected := checkOrders(counts, n)
	if len(unexpected) > 0 {
		t.Errorf("unexpected order ids: %v", unexpected)
	}
	missing, topicDups, _ := checkOrders(topicOrderCounts(t, broker, "orders", n), n)
	if len(missing) > 0 {
		t.Errorf("%d orders missing from the topic", len(missing))
	}
	t.Logf("duplicates: %d in the topic (source replays), %d in the file (source and sink replays)", topicDups, fileDups)
	return fileDups
}

// ordersPipeline returns the configurations of a datagen source writing n
// orders at rate per second to topic orders, and of a FileStreamSink
// writing them to file.
func ordersPipeline(n, rate int, file string) (source, sink map[string]string) {
	source = map[string]string{
		"connector.class":                "Datagen",
		"topic":                          "orders",
		"count":                          fmt.Sprint(n),
		"rate":                           fmt.Sprint(rate),
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	sink = map[string]string{
		"connector.class": "FileStreamSink",
		"topics":          "orders",
		"file":            file,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	return source, sink
}

// connectorStatus is the body of GET /connectors/{name}/status.
type connectorStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"tasks"`
}

// running returns nil when the connector and all its (at least one) tasks
// are RUNNING.
func running(baseURL, name string) error {
	var st connectorStatus
	if err := getJSON(baseURL+"/connectors/"+name+"/status", &st); err != nil {
		return err
	}
	if st.Connector.State != "RUNNING" || len(st.Tasks) == 0 {
		return fmt.Errorf("%s: %+v", name, st)
	}
	for _, task := range st.Tasks {
		if task.State != "RUNNING" {
			return fmt.Errorf("%s: %+v", name, st)
		}
	}
	return nil
}

// coordinatorEnv is the environment of a distributed-mode coordinator with
// short timeouts, so that takeovers happen within seconds.
func coordinatorEnv(broker, addr string) []string {
	return []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + broker,
		"SLUICE_REST_LISTENER=" + addr,
		"SLUICE_ALLOWED_PATHS=" + os.TempDir(), // the tests' files are under it
		"SLUICE_GROUP_ID=sluice-test",
		"SLUICE_ELECTION_SESSION_TIMEOUT=2s",
		"SLUICE_LEASE_TIMEOUT=6s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN=500ms",
		"SLUICE_RECONCILE_INTERVAL=200ms",
	}
}
