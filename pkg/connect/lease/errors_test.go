package lease_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// failOn is a test transformation failing for records whose value is in
// "values" (retriably when "retriable" is set, intolerably when
// "intolerable" is, for the first "times" calls).
var failOnPlugin = connect.Plugin{
	Class: "test.FailOn", Kind: connect.KindTransformation,
	NewTransformation: func() connect.Transformation { return &failOn{} },
}

type failOn struct {
	values      map[string]bool
	retriable   bool
	intolerable bool
	times       int64
	calls       atomic.Int64
}

func (f *failOn) Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "values", Type: config.List, Default: "", Doc: "values to fail on"}).
		Define(config.Key{Name: "retriable", Type: config.Boolean, Default: false, Doc: "fail retriably"}).
		Define(config.Key{Name: "intolerable", Type: config.Boolean, Default: false, Doc: "fail intolerably"}).
		Define(config.Key{Name: "times", Type: config.Long, Default: int64(-1), Doc: "fail this many times, -1 always"})
}

func (f *failOn) Configure(p map[string]string) error {
	v, err := f.Config().Parse(p)
	if err != nil {
		return err
	}
	f.values = map[string]bool{}
	for _, x := range v.List("values") {
		f.values[x] = true
	}
	f.retriable, f.intolerable, f.times = v.Bool("retriable"), v.Bool("intolerable"), v.Long("times")
	return nil
}

func (f *failOn) Apply(r *connect.TransformRecord) (bool, error) {
	if !f.values[fmt.Sprint(r.Value)] {
		return true, nil
	}
	if n := f.calls.Add(1); f.times >= 0 && n > f.times {
		return true, nil
	}
	err := fmt.Errorf("refusing %v", r.Value)
	if f.retriable {
		err = connect.Retriable(err)
	}
	if f.intolerable {
		err = connect.Intolerable(err)
	}
	return false, err
}

func (f *failOn) Close() error { return nil }

// The reporting sink reports every record whose value is in "report" to the
// errant record reporter and counts what it writes.
var reportingSinkPlugin = connect.Plugin{
	Class: "test.ReportingSinkConnector", Kind: connect.KindSink,
	NewConnector: func() connect.Connector { return &testConnector{} },
	NewSinkTask:  func() connect.SinkTask { return &reportingSink{} },
}

var sinkWritten atomic.Int64

type reportingSink struct {
	tc     connect.SinkTaskContext
	report map[string]bool
}

func (s *reportingSink) Start(_ context.Context, tc connect.SinkTaskContext, p map[string]string) error {
	s.tc, s.report = tc, map[string]bool{}
	for _, v := range strings.Split(p["report"], ",") {
		s.report[v] = true
	}
	return nil
}

func (s *reportingSink) Put(ctx context.Context, recs []connect.SinkRecord) error {
	for i := range recs {
		if s.report[fmt.Sprint(recs[i].Value)] {
			if err := s.tc.ErrantRecordReporter().Report(ctx, &recs[i], errors.New("destination rejected the row")); err != nil {
				return err
			}
			continue
		}
		sinkWritten.Add(1)
	}
	return nil
}

func (s *reportingSink) Stop() error { return nil }

func errorEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, nil)
	reg, err := connect.NewRegistry(append(converter.Plugins(), testSourcePlugin, testSinkPlugin, reportingSinkPlugin, failOnPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	e.exec = lease.NewExecutor(reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond})
	return e
}

// produceMixed writes n values to topic "in", every 100th of them malformed
// JSON, with a header on each record, and returns the malformed offsets.
func produceMixed(t *testing.T, c *kafka.Client, n int) map[int64]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: "in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bad := map[int64]string{}
	for i := range n {
		v := fmt.Sprintf(`{"id":%d,"name":"n%d"}`, i, i)
		if i%100 == 37 {
			v = fmt.Sprintf(`{"id":%d,"name":`, i)
			bad[int64(i)] = v
		}
		p.Send(context.Background(), kafka.Message{Topic: "in", Partition: 0, Key: []byte(strconv.Itoa(i)), Value: []byte(v),
			Headers: []kafka.Header{{Key: "origin", Value: []byte("test")}}, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return bad
}

func readAll(t *testing.T, c *kafka.Client, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	err = c.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 4<<20, func(ms []kafka.Message) error {
		out = append(out, ms...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func header(m kafka.Message, key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func sinkErrLease(id string, n int64, extra map[string]string) lease.Lease {
	cfg := map[string]string{
		"name": "snk", "connector.class": reportingSinkPlugin.Class, "topics": "in",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return lease.Lease{ID: id, Kind: lease.KindSink, Connector: "snk", Epoch: 1, Deadline: time.Now().Add(60 * time.Second),
		ConnectorConfig: cfg, TaskConfig: cfg, Ranges: []lease.Range{{Topic: "in", Partition: 0, Start: 0, End: n}}}
}

// The end-to-end case: 1% of 100,000 records are malformed.
func TestSinkDeadLetterQueueOnePercentMalformed(t *testing.T) {
	e := errorEnv(t)
	const n = 100_000
	bad := produceMixed(t, e.client, n)

	t.Run("tolerance none fails and commits nothing", func(t *testing.T) {
		sinkWritten.Store(0)
		res := e.exec.Run(context.Background(), sinkErrLease("none", n, nil))
		if res.Status != lease.Failed || !strings.Contains(res.Trace, "Tolerance exceeded in error handler") ||
			!strings.Contains(res.Trace, "offset 37") || !strings.Contains(res.Trace, "VALUE_CONVERTER") {
			t.Fatalf("result %+v", res)
		}
		if got := committed(t, e.client, "connect-snk", "in"); got != -1 {
			t.Fatalf("offset committed past the bad record: %d", got)
		}
	})

	t.Run("tolerance all with a DLQ", func(t *testing.T) {
		sinkWritten.Store(0)
		res := e.exec.Run(context.Background(), sinkErrLease("all", n, map[string]string{
			"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq",
			"errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true",
		}))
		if res.Status != lease.Succeeded || res.Errors != int64(len(bad)) || res.DeadLettered != int64(len(bad)) {
			t.Fatalf("result %+v, want %d tolerated errors", res, len(bad))
		}
		if got := sinkWritten.Load(); got != n-int64(len(bad)) {
			t.Fatalf("sink wrote %d records, want %d", got, n-len(bad))
		}
		if got := committed(t, e.client, "connect-snk", "in"); got != n {
			t.Fatalf("committed %d, want %d", got, n)
		}
		dlq := readAll(t, e.client, "dlq")
		if len(dlq) != len(bad) {
			t.Fatalf("%d records in the DLQ, want %d", len(dlq), len(bad))
		}
		for _, m := range dlq {
			off, _ := header(m, lease.HeaderOffset)
			o, err := strconv.ParseInt(off, 10, 64)
			if err != nil || bad[o] != string(m.Value) || string(m.Key) != off {
				t.Fatalf("DLQ record %q (key %q) at offset header %q is not the original bad record", m.Value, m.Key, off)
			}
			want := map[string]string{
				lease.HeaderTopic: "in", lease.HeaderPartition: "0", lease.HeaderConnectorName: "snk", lease.HeaderTaskID: "0",
				lease.HeaderStage: "VALUE_CONVERTER", lease.HeaderClassName: "org.apache.kafka.connect.json.JsonConverter",
				"origin": "test",
			}
			for k, v := range want {
				if got, ok := header(m, k); !ok || got != v {
					t.Fatalf("DLQ header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range []string{lease.HeaderExceptionClassName, lease.HeaderExceptionMessage, lease.HeaderExceptionStacktrace} {
				if v, ok := header(m, k); !ok || v == "" {
					t.Fatalf("DLQ header %s missing", k)
				}
			}
			if m.Timestamp.UnixMilli() != 1_700_000_000_000+o {
				t.Fatalf("DLQ record timestamp %v, want the original's", m.Timestamp)
			}
		}
	})
}

func TestTransformationFailures(t *testing.T) {
	e := errorEnv(t)
	produce(t, e.client, "in", 20)
	base := map[string]string{
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"transforms":      "f", "transforms.f.type": failOnPlugin.Class, "transforms.f.values": "v005,v013",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name        string
		extra       map[string]string
		wantStatus  lease.Status
		wantWritten int64
		wantDLQ     int
	}{
		{"none fails", with(), lease.Failed, 0, 0},
		{"all skips and dead-letters", with("errors.tolerance", "all", "errors.deadletterqueue.topic.name", "dlq-t", "errors.deadletterqueue.topic.replication.factor", "1",
			"errors.deadletterqueue.context.headers.enable", "true"), lease.Succeeded, 18, 2},
		{"retriable errors retried within the timeout", with("transforms.f.retriable", "true", "transforms.f.times", "2",
			"errors.retry.timeout", "5000"), lease.Succeeded, 20, 0},
		{"retriable errors not retried without a timeout", with("transforms.f.retriable", "true", "transforms.f.times", "2"),
			lease.Failed, 0, 0},
		// A misconfiguration (a registry refusing the credentials) would
		// fail every record alike: no tolerance skips or dead-letters it.
		{"intolerable errors fail whatever the tolerance", with("transforms.f.intolerable", "true", "errors.tolerance", "all",
			"errors.deadletterqueue.topic.name", "dlq-i", "errors.deadletterqueue.topic.replication.factor", "1"), lease.Failed, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sinkWritten.Store(0)
			l := sinkErrLease(tt.name, 20, tt.extra)
			res := e.exec.Run(context.Background(), l)
			if res.Status != tt.wantStatus || sinkWritten.Load() != tt.wantWritten {
				t.Fatalf("status %s, wrote %d; want %s, %d (%+v)", res.Status, sinkWritten.Load(), tt.wantStatus, tt.wantWritten, res)
			}
			if tt.wantStatus == lease.Failed && !strings.Contains(res.Trace, "TRANSFORMATION") {
				t.Fatalf("trace does not name the stage: %s", res.Trace)
			}
			if tt.wantStatus == lease.Failed && tt.extra["transforms.f.retriable"] != "true" && (res.Retriable || res.Errors != 0 || res.DeadLettered != 0 || len(res.Committed) != 0) {
				t.Fatalf("failed lease: retriable %v, %d errors, %d dead-lettered, committed %v", res.Retriable, res.Errors, res.DeadLettered, res.Committed)
			}
			if tt.wantDLQ > 0 {
				dlq := readAll(t, e.client, "dlq-t")
				if len(dlq) != tt.wantDLQ {
					t.Fatalf("%d DLQ records, want %d", len(dlq), tt.wantDLQ)
				}
				for _, m := range dlq {
					if st, _ := header(m, lease.HeaderStage); st != "TRANSFORMATION" {
						t.Fatalf("stage header %q", st)
					}
					if cl, _ := header(m, lease.HeaderClassName); cl != failOnPlugin.Class {
						t.Fatalf("class header %q", cl)
					}
				}
			}
		})
	}
}

func TestErrantRecordReporter(t *testing.T) {
	e := errorEnv(t)
	produce(t, e.client, "in", 10)
	cfg := map[string]string{"value.converter": "org.apache.kafka.connect.storage.StringConverter", "report": "v003,v007"}

	sinkWritten.Store(0)
	res := e.exec.Run(context.Background(), sinkErrLease("none", 10, cfg))
	if res.Status != lease.Failed || !strings.Contains(res.Trace, "destination rejected the row") {
		t.Fatalf("tolerance none: %+v", res)
	}

	cfg["errors.tolerance"], cfg["errors.deadletterqueue.topic.name"] = "all", "dlq-r"
	cfg["errors.deadletterqueue.context.headers.enable"] = "true"
	cfg["errors.deadletterqueue.topic.replication.factor"] = "1"
	sinkWritten.Store(0)
	res = e.exec.Run(context.Background(), sinkErrLease("all", 10, cfg))
	if res.Status != lease.Succeeded || sinkWritten.Load() != 8 || res.DeadLettered != 2 {
		t.Fatalf("tolerance all: %+v, wrote %d", res, sinkWritten.Load())
	}
	dlq := readAll(t, e.client, "dlq-r")
	if len(dlq) != 2 || string(dlq[0].Value) != "v003" || string(dlq[1].Value) != "v007" {
		t.Fatalf("DLQ = %v", dlq)
	}
	if st, _ := header(dlq[0], lease.HeaderStage); st != "TASK_PUT" {
		t.Fatalf("stage %q", st)
	}
	if off, _ := header(dlq[1], lease.HeaderOffset); off != "7" {
		t.Fatalf("offset header %q", off)
	}
	if got := committed(t, e.client, "connect-snk", "in"); got != 10 {
		t.Fatalf("committed %d, want 10", got)
	}
}

// Beyond Connect: a source record that cannot be transformed goes to the
// DLQ with its source partition and offset, and the source moves on.
// The offset is the same whether the source gives it as a map or as a
// position (SourceRecord.PositionKey).
func TestSourceDeadLetterQueue(t *testing.T) {
	for _, as := range []string{"map", "position"} {
		t.Run(as, func(t *testing.T) {
			e := errorEnv(t)
			l := sourceLease("l1", 1, "out", 30, map[string]string{
				"transforms": "f", "transforms.f.type": failOnPlugin.Class, "transforms.f.values": "r004,r017",
				"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "src-dlq", "errors.deadletterqueue.context.headers.enable": "true",
				"errors.deadletterqueue.topic.replication.factor": "1", "offsets.as": as,
			})
			res := e.exec.Run(context.Background(), l)
			if res.Status != lease.Succeeded || res.Records != 28 || res.Errors != 2 {
				t.Fatalf("result %+v", res)
			}
			if got := readTopic(t, e.client, "out"); len(got) != 28 {
				t.Fatalf("%d records in the topic, want 28", len(got))
			}
			dlq := readAll(t, e.client, "src-dlq")
			if len(dlq) != 2 || string(dlq[0].Value) != `"r004"` {
				t.Fatalf("DLQ = %v", dlq)
			}
			if p, _ := header(dlq[0], lease.HeaderSourcePartition); p != `{"p":0}` {
				t.Fatalf("source partition header %q", p)
			}
			if o, _ := header(dlq[0], lease.HeaderSourceOffset); o != `{"i":5}` {
				t.Fatalf("source offset header %q", o)
			}
			if st, _ := header(dlq[0], lease.HeaderStage); st != "TRANSFORMATION" {
				t.Fatalf("stage header %q", st)
			}
			stored, _ := e.store.Load(context.Background(), "src")
			for _, en := range stored {
				if en.Offset["i"] != int64(30) {
					t.Fatalf("source offset %v, want past the failed records", en.Offset)
				}
			}
		})
	}
}

// fakeResolver replaces "${test:secret}" with a value.
type fakeResolver struct{}

func (fakeResolver) ResolveAll(_ context.Context, configs ...map[string]string) ([]map[string]string, error) {
	var out []map[string]string
	for _, p := range configs {
		m := map[string]string{}
		for k, v := range p {
			m[k] = strings.ReplaceAll(v, "${test:topic}", "resolved-topic")
		}
		out = append(out, m)
	}
	return out, nil
}

func TestConfigProvidersResolvedWhereTheTaskRuns(t *testing.T) {
	e := errorEnv(t)
	exec := lease.NewExecutor(e.reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond, Resolver: fakeResolver{}})
	l := sourceLease("l1", 1, "${test:topic}", 5, nil)
	if res := exec.Run(context.Background(), l); res.Status != lease.Succeeded || res.Records != 5 {
		t.Fatalf("result %+v", res)
	}
	if got := readTopic(t, e.client, "resolved-topic"); len(got) != 5 {
		t.Fatalf("%d records in the resolved topic", len(got))
	}
	if l.TaskConfig["topic"] != "${test:topic}" {
		t.Fatal("the caller's lease was modified")
	}
}
