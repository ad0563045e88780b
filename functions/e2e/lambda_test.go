package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// margin is the functions' SLUICE_SAFETY_MARGIN in these tests.
const margin = 500 * time.Millisecond

// functionEnv is what a function process needs besides its mode.
func functionEnv(brokers []string) []string {
	return []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + strings.Join(brokers, ","),
		"SLUICE_SAFETY_MARGIN=" + margin.String(),
		"SLUICE_OFFSET_STORAGE_PARTITIONS=5",
		"SLUICE_ALLOWED_PATHS=" + os.TempDir(), // the tests' files are under it
	}
}

// datagenLease is a source lease of connector name writing count records
// (-1: no limit) at rate per second (0: as fast as possible) to topic.
func datagenLease(id, name, topic string, epoch int64, count, rate int, budget lease.Budget, deadline time.Time) lease.Lease {
	cfg := map[string]string{
		"name": name, "connector.class": "Datagen", "topic": topic,
		"count": strconv.Itoa(count), "rate": strconv.Itoa(rate),
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	return lease.Lease{ID: id, Kind: lease.KindSource, Connector: name, Epoch: epoch, Generation: 1,
		Deadline: deadline, ConnectorConfig: cfg, TaskConfig: cfg, Budget: budget}
}

// fileSinkLease is a sink lease of connector name writing ranges to file.
func fileSinkLease(id, name, topic, file string, epoch int64, ranges []lease.Range, deadline time.Time) lease.Lease {
	cfg := map[string]string{
		"name": name, "connector.class": "FileStreamSink", "topics": topic, "file": file,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	return lease.Lease{ID: id, Kind: lease.KindSink, Connector: name, Epoch: epoch, Generation: 1,
		Deadline: deadline, ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invokeLease invokes l with the given invocation timeout and returns the
// lease's result, failing the test on a function error.
func invokeLease(t *testing.T, rt *lambdatest.Runtime, l lease.Lease, timeout time.Duration) (lease.Result, lambdatest.Outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	o, err := rt.Invoke(ctx, mustJSON(t, l), timeout)
	if err != nil {
		t.Fatal(err)
	}
	if o.Failed {
		t.Fatalf("lease %s: function error %s", l.ID, o.Body)
	}
	var res lease.Result
	if err := json.Unmarshal(o.Body, &res); err != nil {
		t.Fatalf("lease %s: response %s: %v", l.ID, o.Body, err)
	}
	return res, o
}

// state is what a source connector has left in Kafka: the topic's records
// and the connector's committed datagen seq.
type state struct{ records, seq int64 }

func kafkaState(t *testing.T, k *kafkatest.Env, topic, connector string) state {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var s state
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic}); err != nil {
		t.Fatal(err)
	}
	parts, err := k.Client.Partitions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	tps := make([]kafka.TopicPartition, len(parts))
	for i, p := range parts {
		tps[i] = kafka.TopicPartition{Topic: topic, Partition: p}
	}
	wms, err := k.Client.Watermarks(ctx, tps)
	if err != nil {
		t.Fatal(err)
	}
	for _, wm := range wms {
		s.records += wm.High - wm.Low
	}
	entries, err := k.Offsets.Load(ctx, connector)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n, ok := e.Offset["seq"].(int64) // integral numbers decode as int64
		if !ok {
			t.Fatalf("connector %s: offset %v has no integral seq", connector, e.Offset)
		}
		s.seq += n
	}
	return s
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// median returns the median of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// The built source-poll and sink-batch binaries under the Lambda Runtime
// API: leases run against the in-process broker and come back as results;
// bad invocations come back in Lambda's error shape and write nothing; the
// invocation's deadline bounds the lease.
func TestLambdaInvocations(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	srcRT, sinkRT := lambdatest.NewRuntime(t, "source-poll"), lambdatest.NewRuntime(t, "sink-batch")
	src := startFunction(t, srcRT, b.sourcePoll, functionEnv(k.Brokers)...)
	snk := startFunction(t, sinkRT, b.sinkBatch, functionEnv(k.Brokers)...)
	srcInit := srcRT.WaitReady(t, 20*time.Second).Sub(src.Started)
	sinkInit := sinkRT.WaitReady(t, 20*time.Second).Sub(snk.Started)
	t.Logf("init (process start to first invocation/next): source-poll %s, sink-batch %s",
		srcInit.Round(time.Millisecond), sinkInit.Round(time.Millisecond))

	const fnTimeout = 30 * time.Second
	later := func() time.Time { return time.Now().Add(fnTimeout) }
	budget := lease.Budget{MaxIdle: lease.Duration(200 * time.Millisecond)}

	// A source lease produces its records and commits their offsets.
	res, _ := invokeLease(t, srcRT, datagenLease("gen-1", "gen", "orders", 1, 100, 0, budget, later()), fnTimeout)
	if res.Status != lease.Succeeded || res.Records != 100 || res.LeaseID != "gen-1" {
		t.Fatalf("source lease: %+v", res)
	}
	if s := kafkaState(t, k, "orders", "gen"); s != (state{100, 100}) {
		t.Fatalf("after the source lease: %+v, want 100 records and seq 100", s)
	}

	// Per-lease overhead: 0-record leases (datagen's count is reached),
	// invocation/next to response, less the executor's own time.
	var total, overhead []time.Duration
	zero := lease.Budget{MaxIdle: lease.Duration(20 * time.Millisecond)}
	for i := range 7 {
		res, o := invokeLease(t, srcRT, datagenLease(fmt.Sprint("gen-z", i), "gen", "orders", int64(2+i), 100, 0, zero, later()), fnTimeout)
		if res.Status != lease.Succeeded || res.Records != 0 {
			t.Fatalf("0-record lease: %+v", res)
		}
		total = append(total, o.Answered.Sub(o.Taken))
		overhead = append(overhead, o.Answered.Sub(o.Taken)-res.Finished.Sub(res.Started))
	}
	t.Logf("0-record source lease: next->response median %s; overhead outside the executor median %s (min %s, max %s)",
		median(total), median(overhead), slices.Min(overhead), slices.Max(overhead))

	// The invocation's deadline, earlier than the lease's, bounds the lease:
	// it stops polling 2×margin before it and commits what it produced.
	const short = 2500 * time.Millisecond
	res, o := invokeLease(t, srcRT, datagenLease("slow-1", "slow", "slow", 1, -1, 40,
		lease.Budget{MaxTime: lease.Duration(time.Minute), MaxIdle: lease.Duration(time.Minute)}, later()), short)
	deadline := o.Taken.Add(short)
	if res.Status != lease.Succeeded || res.Records == 0 || res.Finished.After(deadline.Add(-margin)) {
		t.Fatalf("lease bounded by a %s invocation: %+v (invocation deadline %s)", short, res, deadline.Format(time.RFC3339Nano))
	}
	if s := kafkaState(t, k, "slow", "slow"); s != (state{res.Records, res.Records}) {
		t.Fatalf("after the bounded lease (%d records): %+v", res.Records, s)
	}
	t.Logf("a %s invocation of an unbounded source lease: %d records, ended %s before the invocation deadline",
		short, res.Records, deadline.Sub(res.Finished).Round(time.Millisecond))

	// Bad invocations: Lambda's error shape, nothing written or committed.
	dir := t.TempDir()
	sinkLease := fileSinkLease("files-x", "files", "orders", filepath.Join(dir, "x.txt"), 1,
		[]lease.Range{{Topic: "orders", Partition: 0, Start: 0, End: 100}}, later())
	unknownClass := datagenLease("nope-1", "nope", "nope", 1, 10, 0, budget, later())
	unknownClass.ConnectorConfig["connector.class"] = "com.example.NoSuchConnector"
	bad := []struct {
		name     string
		rt       *lambdatest.Runtime
		payload  []byte
		timeout  time.Duration
		wantType string
	}{
		{name: "malformed JSON", rt: srcRT, payload: []byte(`{"id": "x", "kind": `), timeout: fnTimeout, wantType: "Sluice.MalformedPayload"},
		{name: "sink lease sent to source-poll", rt: srcRT, payload: mustJSON(t, sinkLease), timeout: fnTimeout, wantType: "Sluice.BadLease"},
		{name: "source lease sent to sink-batch", rt: sinkRT, payload: mustJSON(t, datagenLease("gen-s", "gen", "orders", 50, 200, 0, budget, later())),
			timeout: fnTimeout, wantType: "Sluice.BadLease"},
		{name: "unknown connector class", rt: srcRT, payload: mustJSON(t, unknownClass), timeout: fnTimeout, wantType: "Sluice.BadLease"},
		{name: "unknown event shape", rt: srcRT, payload: []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`),
			timeout: fnTimeout, wantType: "Sluice.UnknownEvent"},
		{name: "unknown event shape (sink-batch)", rt: sinkRT, payload: []byte(`{"hello":"world"}`), timeout: fnTimeout, wantType: "Sluice.UnknownEvent"},
		{name: "expired lease", rt: srcRT, payload: mustJSON(t, datagenLease("gen-old", "gen", "orders", 60, 200, 0, budget, time.Now().Add(-time.Second))),
			timeout: fnTimeout, wantType: "Sluice.LeaseExpired"},
		{name: "invocation deadline too short", rt: srcRT, payload: mustJSON(t, datagenLease("gen-short", "gen", "orders", 61, 200, 0, budget, later())),
			timeout: 2*margin - 100*time.Millisecond, wantType: "Sluice.LeaseExpired"},
	}
	for _, tt := range bad {
		ctx, cancel := context.WithTimeout(context.Background(), tt.timeout+10*time.Second)
		o, err := tt.rt.Invoke(ctx, tt.payload, tt.timeout)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var e lambdatest.Error
		if !o.Failed || json.Unmarshal(o.Body, &e) != nil || e.ErrorType != tt.wantType || e.ErrorMessage == "" {
			t.Errorf("%s: failed=%v body %s, want a Lambda error of type %s", tt.name, o.Failed, o.Body, tt.wantType)
			continue
		}
		if o.ErrorTypeHeader != "" && o.ErrorTypeHeader != e.ErrorType {
			t.Errorf("%s: Lambda-Runtime-Function-Error-Type %q, body errorType %q", tt.name, o.ErrorTypeHeader, e.ErrorType)
		}
		t.Logf("%s: %s: %s (Lambda-Runtime-Function-Error-Type header: %q)", tt.name, e.ErrorType, e.ErrorMessage, o.ErrorTypeHeader)
	}
	if s := kafkaState(t, k, "orders", "gen"); s != (state{100, 100}) {
		t.Fatalf("bad invocations wrote or committed: %+v, want 100 records and seq 100", s)
	}
	if s := kafkaState(t, k, "nope", "nope"); s != (state{}) {
		t.Fatalf("the unknown class wrote or committed: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.txt")); !os.IsNotExist(err) {
		t.Fatalf("a rejected sink lease wrote its file: %v", err)
	}

	// A sink lease writes its range to the file and commits the range's end
	// to connect-<connector>.
	out := filepath.Join(dir, "orders.txt")
	res, _ = invokeLease(t, sinkRT, fileSinkLease("files-1", "files", "orders", out, 1,
		[]lease.Range{{Topic: "orders", Partition: 0, Start: 0, End: 100}}, later()), fnTimeout)
	if res.Status != lease.Succeeded || res.Records != 100 {
		t.Fatalf("sink lease: %+v", res)
	}
	if n := len(lines(t, out)); n != 100 {
		t.Fatalf("%d lines in %s, want 100", n, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: "orders", Partition: 0}
	committed, err := k.Client.CommittedOffsets(ctx, "connect-files", []kafka.TopicPartition{tp})
	if err != nil || committed[tp] != 100 {
		t.Fatalf("connect-files committed %v (%v), want 100", committed, err)
	}
	if errs := srcRT.InitErrors(); len(errs) > 0 {
		t.Fatalf("init errors: %+v", errs)
	}

	// SIGTERM (which Lambda sends before shutting an environment down,
	// once lambda.WithEnableSIGTERM registered its extension) makes the
	// lease in hand wrap up and commit; its result is still posted.
	if exts := srcRT.Extensions(); len(exts) != 1 {
		t.Fatalf("extensions registered: %q, want aws-lambda-go's SIGTERM extension", exts)
	}
	answers := make(chan lambdatest.Outcome, 1)
	go func() {
		o, _ := srcRT.Invoke(context.Background(), mustJSON(t, datagenLease("term-1", "term", "term", 1, -1, 50,
			lease.Budget{MaxTime: lease.Duration(time.Minute), MaxIdle: lease.Duration(time.Minute)}, later())), fnTimeout)
		answers <- o
	}()
	time.Sleep(time.Second)
	signalled := time.Now()
	if err := src.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case o = <-answers:
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10 s of SIGTERM")
	}
	if err := json.Unmarshal(o.Body, &res); err != nil || o.Failed || res.Status != lease.Succeeded || res.Records == 0 ||
		res.Finished.Sub(signalled) > 3*time.Second {
		t.Fatalf("lease in hand at SIGTERM: %s (%v)", o.Body, err)
	}
	if s := kafkaState(t, k, "term", "term"); s != (state{res.Records, res.Records}) {
		t.Fatalf("lease in hand at SIGTERM reported %d records; Kafka holds %+v", res.Records, s)
	}
}
