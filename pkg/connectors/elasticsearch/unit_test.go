package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/elasticsearch"
)

// The unit tests replay answers recorded from a real OpenSearch node by
// testdata/record.sh; answers a security-less single node cannot give
// (429, 503, 401, 413) are written here in the same shapes and say so.

func recorded(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// server is an httptest server answering each request with the next
// answer of the script, recording the requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	answers  []answer
	requests []string // "METHOD path\nbody"
}

type answer struct {
	status int
	body   []byte
}

func newServer(t testing.TB, answers ...answer) *server {
	s := &server{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path+"\n"+string(b))
		var a answer
		if len(s.answers) > 0 {
			a, s.answers = s.answers[0], s.answers[1:]
		} else {
			a = answer{500, []byte(`{"error":"script exhausted"}`)}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) reqs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// taskContext collects reported records.
type taskContext struct {
	mu       sync.Mutex
	reported []string // "<key>: <error>"
	fail     bool     // Report returns the error, as errors.tolerance=none
}

func (c *taskContext) Assignment() []connect.TopicPartition               { return nil }
func (c *taskContext) ErrantRecordReporter() connect.ErrantRecordReporter { return c }
func (c *taskContext) Report(_ context.Context, r *connect.SinkRecord, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reported = append(c.reported, r.Key.(string)+": "+err.Error())
	if c.fail {
		return err
	}
	return nil
}

func sinkRecord(key string, offset int64, value any) connect.SinkRecord {
	return connect.SinkRecord{Record: connect.Record{Topic: "orders", Partition: connect.PartitionOf(0), Key: key, Value: value},
		Offset: offset, OriginalTopic: "orders", OriginalOffset: offset}
}

func startTask(t testing.TB, url string, tc connect.SinkTaskContext, extra ...string) *elasticsearch.Task {
	t.Helper()
	props := map[string]string{"connection.url": url, "schema.ignore": "true", "retry.backoff.ms": "1", "max.retries": "3"}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i]] = extra[i+1]
	}
	task := elasticsearch.NewTask()
	if err := task.Start(context.Background(), tc, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	return task
}

func putAndFlush(task *elasticsearch.Task, recs ...connect.SinkRecord) error {
	if err := task.Put(context.Background(), recs); err != nil {
		return err
	}
	return task.Flush(context.Background(), nil)
}

// The bulk body: one action line per record with the key as ID and the
// offset as external version; upserts as updates; tombstones as deletes.
func TestBulkBody(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		recs  []connect.SinkRecord
		want  string
	}{
		{"index with versions", nil,
			[]connect.SinkRecord{sinkRecord("o1", 7, map[string]any{"n": int64(1)}), sinkRecord("o2", 8, `{"n":2}`)},
			`{"index":{"_index":"orders","_id":"o1","version":7,"version_type":"external"}}` + "\n" + `{"n":1}` + "\n" +
				`{"index":{"_index":"orders","_id":"o2","version":8,"version_type":"external"}}` + "\n" + `{"n":2}` + "\n"},
		{"key.ignore", []string{"key.ignore", "true"},
			[]connect.SinkRecord{sinkRecord("o1", 7, `{"n":1}`)},
			`{"index":{"_index":"orders","_id":"orders+0+7"}}` + "\n" + `{"n":1}` + "\n"},
		{"upsert", []string{"write.method", "upsert"},
			[]connect.SinkRecord{sinkRecord("o1", 7, `{"n":1}`)},
			`{"update":{"_index":"orders","_id":"o1"}}` + "\n" + `{"doc":{"n":1},"doc_as_upsert":true}` + "\n"},
		{"IDs escaped", []string{"key.ignore", "false"},
			[]connect.SinkRecord{sinkRecord(`o"1\é`+"\t", 7, `{"n":1}`)},
			`{"index":{"_index":"orders","_id":"o\"1\\é\t","version":7,"version_type":"external"}}` + "\n" + `{"n":1}` + "\n"},
		{"tombstone deletes", []string{"behavior.on.null.values", "delete"},
			[]connect.SinkRecord{sinkRecord("o1", 9, nil)},
			`{"delete":{"_index":"orders","_id":"o1","version":9,"version_type":"external"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, answer{200, recorded(t, "opensearch-bulk-ok.json")})
			task := startTask(t, s.URL, &taskContext{}, tt.extra...)
			if err := putAndFlush(task, tt.recs...); err != nil {
				t.Fatal(err)
			}
			if got := s.reqs(); len(got) != 1 || got[0] != "POST /_bulk\n"+tt.want {
				t.Fatalf("requests:\n%q\nwant:\n%q", got, "POST /_bulk\n"+tt.want)
			}
		})
	}
}

// Each item of the recorded mixed answer: written, an older version (409,
// done), a mapping conflict (400, reported with the server's reason), a
// delete, a delete of a missing document, an upsert.
func TestBulkItemOutcomes(t *testing.T) {
	s := newServer(t, answer{200, recorded(t, "opensearch-bulk-mixed.json")})
	tc := &taskContext{}
	task := startTask(t, s.URL, tc, "behavior.on.null.values", "delete")
	err := putAndFlush(task, sinkRecord("o3", 3, `{"n":3}`), sinkRecord("o1", 0, `{"n":0}`), sinkRecord("o4", 4, `{"n":"four"}`),
		sinkRecord("o2", 5, nil), sinkRecord("nope", 6, nil), sinkRecord("o7", 7, `{"n":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.reported) != 1 || !strings.HasPrefix(tc.reported[0], "o4: ") ||
		!strings.Contains(tc.reported[0], "status 400: mapper_parsing_exception: failed to parse field [n] of type [long]") {
		t.Fatalf("reported %q", tc.reported)
	}
	if n := len(s.reqs()); n != 1 {
		t.Fatalf("%d requests, want 1 (nothing retried)", n)
	}

	// behavior.on.malformed.documents=ignore and warn skip it.
	for _, b := range []string{"ignore", "warn"} {
		s := newServer(t, answer{200, recorded(t, "opensearch-bulk-mixed.json")})
		tc := &taskContext{}
		task := startTask(t, s.URL, tc, "behavior.on.null.values", "delete", "behavior.on.malformed.documents", b)
		if err := putAndFlush(task, sinkRecord("o3", 3, `{}`), sinkRecord("o1", 0, `{}`), sinkRecord("o4", 4, `{}`),
			sinkRecord("o2", 5, nil), sinkRecord("nope", 6, nil), sinkRecord("o7", 7, `{}`)); err != nil || len(tc.reported) != 0 {
			t.Fatalf("%s: err %v reported %q", b, err, tc.reported)
		}
	}
}

// A 429 or 503 answer to the request is retried with backoff; documents
// that got 429 in the items are sent again alone; when the retries run out
// the error is retriable.
func TestRetries(t *testing.T) {
	rejected := []byte(`{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution"}],"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}`) // constructed
	unavailable := []byte(`{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}`)                                                                                                         // constructed
	itemRejected := []byte(`{"took":1,"errors":true,"items":[` +
		`{"index":{"_index":"orders","_id":"o1","_version":1,"result":"created","status":201}},` +
		`{"index":{"_index":"orders","_id":"o2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}]}`) // constructed, in the recorded item shape

	t.Run("request", func(t *testing.T) {
		s := newServer(t, answer{429, rejected}, answer{503, unavailable}, answer{200, recorded(t, "opensearch-bulk-ok.json")})
		task := startTask(t, s.URL, &taskContext{})
		if err := putAndFlush(task, sinkRecord("o1", 1, `{}`), sinkRecord("o2", 2, `{}`)); err != nil {
			t.Fatal(err)
		}
		if n := len(s.reqs()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
	})
	t.Run("item", func(t *testing.T) {
		s := newServer(t, answer{200, itemRejected}, answer{200, recorded(t, "opensearch-bulk-ok.json")})
		task := startTask(t, s.URL, &taskContext{})
		if err := putAndFlush(task, sinkRecord("o1", 1, `{"a":1}`), sinkRecord("o2", 2, `{"b":2}`)); err != nil {
			t.Fatal(err)
		}
		reqs := s.reqs()
		if len(reqs) != 2 || strings.Contains(reqs[1], `"o1"`) || !strings.Contains(reqs[1], `"o2"`) {
			t.Fatalf("requests %q, want the second with o2 alone", reqs)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		s := newServer(t, answer{429, rejected}, answer{429, rejected}, answer{429, rejected}, answer{429, rejected})
		task := startTask(t, s.URL, &taskContext{})
		err := putAndFlush(task, sinkRecord("o1", 1, `{}`))
		if !connect.IsRetriable(err) || !errors.Is(err, elasticsearch.ErrRetriesExhausted) || !strings.Contains(err.Error(), "es_rejected_execution_exception") {
			t.Fatalf("error %v", err)
		}
		if n := len(s.reqs()); n != 4 {
			t.Fatalf("%d requests, want 1 + max.retries", n)
		}
	})
}

// 401 fails at once, not retriable, with the server's reason.
func TestAuthenticationFailure(t *testing.T) {
	s := newServer(t, answer{401, []byte(`{"error":{"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"},"status":401}`)}) // constructed
	task := startTask(t, s.URL, &taskContext{}, "connection.username", "elastic", "connection.password", "wrong")
	err := putAndFlush(task, sinkRecord("o1", 1, `{}`))
	if err == nil || connect.IsRetriable(err) || !strings.Contains(err.Error(), "authentication") || !strings.Contains(err.Error(), "security_exception") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatal("the password appears in the error")
	}
}

// A request too large (413) is split in halves; a single document too
// large is reported as an errant record.
func TestTooLarge(t *testing.T) {
	tooLarge := answer{413, nil} // constructed: OpenSearch answers 413 with an empty body
	s := newServer(t, tooLarge, answer{200, recorded(t, "opensearch-bulk-ok.json")}, tooLarge)
	tc := &taskContext{}
	task := startTask(t, s.URL, tc)
	if err := putAndFlush(task, sinkRecord("o1", 1, `{}`), sinkRecord("o2", 2, `{"big":"`+strings.Repeat("x", 1000)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if len(s.reqs()) != 3 || len(tc.reported) != 1 || !strings.HasPrefix(tc.reported[0], "o2: ") || !strings.Contains(tc.reported[0], "larger than the server accepts") {
		t.Fatalf("%d requests, reported %q", len(s.reqs()), tc.reported)
	}
}

// Records that cannot become documents are errant records (or dropped with
// drop.invalid.message): invalid JSON, a null key, a struct key.
func TestInvalidRecords(t *testing.T) {
	s := newServer(t, answer{200, recorded(t, "opensearch-bulk-ok.json")})
	tc := &taskContext{}
	task := startTask(t, s.URL, tc)
	nullKey := sinkRecord("", 3, `{}`)
	nullKey.Key = nil
	err := task.Put(context.Background(), []connect.SinkRecord{sinkRecord("bad", 1, `not json`), sinkRecord("arr", 2, `[1]`),
		sinkRecord("half", 3, `{"n":`), sinkRecord("list", 4, []any{int64(1)}), sinkRecord("num", 5, int64(5))})
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.reported) != 5 || !strings.Contains(tc.reported[0], "not a JSON object") || !strings.Contains(tc.reported[2], "not a JSON object") ||
		!strings.Contains(tc.reported[3], "not a JSON object") || !strings.Contains(tc.reported[4], "not a JSON object") {
		t.Fatalf("reported %q", tc.reported)
	}
	// Report is what a null key goes to; Report needs a string key in this
	// fake, so check the error itself under tolerance none.
	task2 := startTask(t, s.URL, nil)
	if err := task2.Put(context.Background(), []connect.SinkRecord{nullKey}); err == nil || !strings.Contains(err.Error(), "cannot be null") {
		t.Fatalf("null key: %v", err)
	}
	task3 := startTask(t, s.URL, &taskContext{}, "drop.invalid.message", "true")
	if err := task3.Put(context.Background(), []connect.SinkRecord{sinkRecord("bad", 1, `not json`)}); err != nil {
		t.Fatalf("drop.invalid.message: %v", err)
	}
}

// Creating an index that exists is fine (recorded answer); a data stream
// without a template gets one, then is created.
func TestPrepareIndexAndDataStream(t *testing.T) {
	s := newServer(t,
		answer{404, []byte(`{"error":{"type":"index_not_found_exception"},"status":404}`)}, // GET _data_stream (constructed)
		answer{400, recorded(t, "opensearch-data-stream-no-template.json")},
		answer{200, []byte(`{"acknowledged":true}`)}, // PUT _index_template
		answer{200, []byte(`{"acknowledged":true}`)}, // PUT _data_stream
		answer{200, recorded(t, "opensearch-bulk-ok.json")})
	task := startTask(t, s.URL, &taskContext{}, "data.stream.type", "logs", "data.stream.dataset", "web", "key.ignore", "true")
	r := sinkRecord("k", 1, `{"a":1}`)
	r.Topic = "access"
	if err := putAndFlush(task, r); err != nil {
		t.Fatal(err)
	}
	reqs := s.reqs()
	wantPrefixes := []string{"GET /_data_stream/logs-web-access", "PUT /_data_stream/logs-web-access", "PUT /_index_template/sluice-logs-web-access",
		"PUT /_data_stream/logs-web-access", "POST /_bulk\n{\"create\":{\"_index\":\"logs-web-access\",\"_id\":\"access+0+1\"}}"}
	if len(reqs) != len(wantPrefixes) {
		t.Fatalf("requests %q", reqs)
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(reqs[i], p) {
			t.Fatalf("request %d = %q, want %q…", i, reqs[i], p)
		}
	}
	if !strings.Contains(reqs[4], `"@timestamp"`) {
		t.Fatalf("data stream document without @timestamp: %q", reqs[4])
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string // "" for valid
	}{
		{"minimal", map[string]string{"connection.url": "http://h:9200"}, ""},
		{"several urls", map[string]string{"connection.url": "http://a:9200,https://b:9200"}, ""},
		{"no url", map[string]string{}, "connection.url"},
		{"bad url", map[string]string{"connection.url": "h:9200"}, "connection.url"},
		{"bad null behavior", map[string]string{"connection.url": "http://h", "behavior.on.null.values": "drop"}, "behavior.on.null.values"},
		{"lower case values", map[string]string{"connection.url": "http://h", "behavior.on.null.values": "delete", "write.method": "upsert"}, ""},
		{"data stream without dataset", map[string]string{"connection.url": "http://h", "data.stream.type": "logs"}, "data.stream.dataset"},
		{"ssl with http", map[string]string{"connection.url": "http://h", "elastic.security.protocol": "SSL"}, "https"},
		{"compact map entries false", map[string]string{"connection.url": "http://h", "compact.map.entries": "false"}, "compact.map.entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := elasticsearch.NewConnector().Start(context.Background(), nil, tt.props)
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
	for _, k := range elasticsearch.Config().Keys() {
		if k.Doc == "" {
			t.Errorf("key %s has no documentation", k.Name)
		}
	}
}

// The executor reuses a batch once Put returns; documents still pending
// are sent by Flush, and a rejected one is reported with its record intact.
func TestPendingSurvivesBatchReuse(t *testing.T) {
	s := newServer(t, answer{200, recorded(t, "opensearch-bulk-mixed.json")})
	tc := &taskContext{}
	task := startTask(t, s.URL, tc, "behavior.on.null.values", "delete")
	batch := []connect.SinkRecord{sinkRecord("o3", 3, []byte(`{"n":3}`)), sinkRecord("o1", 0, `{"n":0}`), sinkRecord("o4", 4, []byte(`{"n":"four"}`)),
		sinkRecord("o2", 5, nil), sinkRecord("nope", 6, nil), sinkRecord("o7", 7, `{"n":7}`)}
	if err := task.Put(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		if v, ok := batch[i].Value.([]byte); ok {
			clear(v)
		}
	}
	clear(batch)
	if err := task.Flush(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(tc.reported) != 1 || !strings.HasPrefix(tc.reported[0], "o4: ") {
		t.Fatalf("reported %q", tc.reported)
	}
	if body := s.reqs()[0]; !strings.Contains(body, `{"n":"four"}`) || !strings.Contains(body, `{"n":3}`) {
		t.Fatalf("bulk body %q", body)
	}
}

// A request that fails with a retriable error fails the next Put or Flush
// and keeps its documents: the Put or Flush after that sends them again,
// before anything newer.
func TestRetriableFailureKeepsPending(t *testing.T) {
	unavailable := []byte(`{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}`) // constructed
	ok := []byte(`{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}`)
	ctx := context.Background()
	put := func(task *elasticsearch.Task, keys ...string) error {
		var recs []connect.SinkRecord
		for i, k := range keys {
			recs = append(recs, sinkRecord(k, int64(i), `{"n":1}`))
		}
		return task.Put(ctx, recs)
	}
	tests := []struct {
		name string
		// run drives the task; the server answers 503 to the first request
		// and 200 to the others.
		run func(t *testing.T, task *elasticsearch.Task)
		// written: the index is written to first (documents w and x)
		written bool
		want    []string // the documents of each request
	}{
		{"first request to the index, seen by its Put", func(t *testing.T, task *elasticsearch.Task) {
			if err := put(task, "a", "b"); !connect.IsRetriable(err) { // the first request to an index is waited for
				t.Fatalf("first put: %v, want a retriable error", err)
			}
			if err := put(task, "a", "b"); err != nil { // the executor offers the batch again
				t.Fatal(err)
			}
			if err := task.Flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, false, []string{"a b", "a b"}},
		{"failure seen by Flush", func(t *testing.T, task *elasticsearch.Task) {
			if err := put(task, "a"); err != nil {
				t.Fatal(err)
			}
			if err := put(task, "b"); err != nil { // a and b in flight
				t.Fatal(err)
			}
			if err := task.Flush(ctx, nil); !connect.IsRetriable(err) {
				t.Fatalf("first flush: %v, want a retriable error", err)
			}
			if err := task.Flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, true, []string{"w x", "a b", "a b"}},
		{"failure seen by the next Put", func(t *testing.T, task *elasticsearch.Task) {
			if err := put(task, "a", "b"); err != nil {
				t.Fatal(err)
			}
			if err := put(task, "c", "d"); !connect.IsRetriable(err) { // waits for a and b: one request in flight
				t.Fatalf("second put: %v, want a retriable error", err)
			}
			if err := put(task, "c", "d"); err != nil { // the executor offers the batch again
				t.Fatal(err)
			}
			if err := task.Flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, true, []string{"w x", "a b", "a b", "c d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := []answer{{503, unavailable}, {200, ok}, {200, ok}}
			if tt.written {
				answers = append([]answer{{200, ok}}, answers...)
			}
			s := newServer(t, answers...)
			task := startTask(t, s.URL, &taskContext{}, "batch.size", "2", "max.retries", "0", "max.in.flight.requests", "1")
			if tt.written {
				if err := put(task, "w", "x"); err != nil {
					t.Fatal(err)
				}
			}
			tt.run(t, task)
			reqs := s.reqs()
			if len(reqs) != len(tt.want) {
				t.Fatalf("requests %q, want %d", reqs, len(tt.want))
			}
			for i, want := range tt.want {
				var ids []string
				for _, line := range strings.Split(reqs[i], "\n") {
					if _, rest, ok := strings.Cut(line, `"_id":"`); ok {
						ids = append(ids, rest[:strings.IndexByte(rest, '"')])
					}
				}
				if got := strings.Join(ids, " "); got != want {
					t.Errorf("request %d has documents %q, want %q", i, got, want)
				}
			}
		})
	}
}

// Requests in flight together: with max.in.flight.requests=3 the sink
// sends the next batches while the first is unanswered (once the index
// was written to), and Flush waits for every answer; a refused document
// of any of them is reported.
func TestRequestsInFlight(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var n int // requests received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		first := strings.Contains(string(body), `"_id":"a"`)
		mu.Lock()
		n++
		mu.Unlock()
		if first {
			<-release // the first answer comes only when three requests were sent
		}
		if first {
			_, _ = w.Write([]byte(`{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}`)) // constructed, in the recorded item shape
			return
		}
		_, _ = w.Write([]byte(`{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}`))
	}))
	t.Cleanup(srv.Close)
	tc := &taskContext{}
	task := startTask(t, srv.URL, tc, "batch.size", "2", "max.in.flight.requests", "3")
	ctx := context.Background()
	// The first request to an index goes alone.
	if err := putAndFlush(task, sinkRecord("w", 0, `{}`), sinkRecord("x", 0, `{}`)); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, []connect.SinkRecord{sinkRecord("a", 1, `{}`), sinkRecord("b", 2, `{}`), sinkRecord("c", 3, `{}`),
		sinkRecord("d", 4, `{}`), sinkRecord("e", 5, `{}`), sinkRecord("f", 6, `{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		sent := n
		mu.Unlock()
		if sent == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests sent, want the first and 3 in flight", sent)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := task.Flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if len(tc.reported) != 1 || !strings.HasPrefix(tc.reported[0], "b: ") {
		t.Fatalf("reported %q", tc.reported)
	}
}

// write.method=UPSERT has one request in flight at a time whatever
// max.in.flight.requests says, so that a document's updates apply in
// offset order.
func TestUpsertOneRequestInFlight(t *testing.T) {
	var mu sync.Mutex
	var inflight, most, n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		n++
		inflight++
		most = max(most, inflight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // time for a second request to arrive, were it sent
		mu.Lock()
		inflight--
		mu.Unlock()
		_, _ = w.Write([]byte(`{"errors":false,"items":[{"update":{"status":200}},{"update":{"status":200}}]}`))
	}))
	t.Cleanup(srv.Close)
	task := startTask(t, srv.URL, &taskContext{}, "batch.size", "2", "max.in.flight.requests", "5", "write.method", "upsert")
	var recs []connect.SinkRecord
	for i := range 8 {
		recs = append(recs, sinkRecord("same", int64(i), fmt.Sprintf(`{"n":%d}`, i)))
	}
	if err := putAndFlush(task, recs...); err != nil {
		t.Fatal(err)
	}
	if n != 4 || most != 1 { // the first request to an index goes alone anyway: the others prove it
		t.Fatalf("%d requests, at most %d in flight; want 4, one at a time", n, most)
	}
}
