//go:build search

package elasticsearch_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/elasticsearchtest"
	"github.com/sluicehq/sluice/internal/opensearchtest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/properties"
)

// searchNode is a running search node: OpenSearch (opensearchtest) or
// Elasticsearch (elasticsearchtest).
type searchNode interface {
	Stop()
	Restart() error
	Close()
}

// node is the search node every test of this binary shares: OpenSearch,
// or Elasticsearch when SLUICE_SEARCH_NODE=elasticsearch (make
// test-search runs the tests against both).
var node struct {
	URL string
	searchNode
}

// onElasticsearch tells whether the node is Elasticsearch.
var onElasticsearch = os.Getenv("SLUICE_SEARCH_NODE") == "elasticsearch"

func TestMain(m *testing.M) {
	if onElasticsearch {
		n, err := elasticsearchtest.Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		node.URL, node.searchNode = n.URL, n
	} else {
		n, err := opensearchtest.Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		node.URL, node.searchNode = n.URL, n
	}
	code := m.Run()
	node.Close()
	os.Exit(code)
}

// es sends a request to the node and decodes the JSON answer.
func es(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, node.URL+path, strings.NewReader(body))
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
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func count(t testing.TB, index string) int {
	t.Helper()
	es(t, "POST", "/"+index+"/_refresh", "")
	status, m := es(t, "GET", "/"+index+"/_count", "")
	if status != 200 {
		t.Fatalf("count %s: %d %v", index, status, m)
	}
	return int(m["count"].(float64))
}

// doc returns a document's source and version, or nil when missing.
func doc(t testing.TB, index, id string) (map[string]any, int64) {
	t.Helper()
	status, m := es(t, "GET", "/"+index+"/_doc/"+id, "")
	if status == 404 {
		return nil, 0
	}
	if status != 200 {
		t.Fatalf("get %s/%s: %d %v", index, id, status, m)
	}
	return m["_source"].(map[string]any), int64(m["_version"].(float64))
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Records with a schema create the index (named like the topic, lower
// case) with a mapping from the Connect schema; keys are the IDs and
// offsets the versions; a replay of the same range changes nothing.
func TestIndexWithSchemaMapping(t *testing.T) {
	e := newEnv(t)
	const topic = "Orders"
	schema := `{"type":"struct","fields":[{"field":"id","type":"int32"},{"field":"name","type":"string"},{"field":"amount","type":"double"},` +
		`{"field":"at","type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},{"field":"tags","type":"array","items":{"type":"string"}}]}`
	var recs []kv
	for i := range 30 {
		recs = append(recs, rec(fmt.Sprintf("o%d", i%20),
			fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"name":"n%d","amount":%d.5,"at":1714564800000,"tags":["a"]}}`, schema, i, i, i)))
	}
	end := e.produce(t, topic, recs...)
	cfg := sinkConfig(node.URL, topic, "value.converter.schemas.enable", "true")
	res := e.mustRun(t, cfg, topic, 0, end)
	if res.Records != 30 {
		t.Fatalf("lease put %d records", res.Records)
	}
	if n := count(t, "orders"); n != 20 {
		t.Fatalf("index orders has %d documents, want 20 (keys)", n)
	}
	_, m := es(t, "GET", "/orders/_mapping", "")
	props := m["orders"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
	want := map[string]string{"id": "integer", "name": "text", "amount": "double", "at": "date", "tags": "text"}
	for f, typ := range want {
		if got := props[f].(map[string]any)["type"]; got != typ {
			t.Errorf("field %s mapped as %v, want %s (mapping %s)", f, got, typ, jsonString(props))
		}
	}
	src, version := doc(t, "orders", "o5")
	if src["id"] != float64(25) || version != 25 {
		t.Fatalf("o5 = %v version %d, want id 25 at version 25 (its offset)", src, version)
	}
	e.mustRun(t, cfg, topic, 0, end) // replay
	if src, version := doc(t, "orders", "o5"); src["id"] != float64(25) || version != 25 {
		t.Fatalf("after replay o5 = %v version %d", src, version)
	}
}

// A replayed (older) range never overwrites a newer document: the offset is
// the external version. Tombstones delete, with the same protection.
func TestReplayAndTombstones(t *testing.T) {
	e := newEnv(t)
	const topic = "users"
	end := e.produce(t, topic,
		rec("u1", `{"name":"old"}`), rec("u2", `{"name":"two"}`), rec("u3", `{"name":"three"}`),
		rec("u1", `{"name":"new"}`), tombstone("u2"))
	cfg := sinkConfig(node.URL, topic, "behavior.on.null.values", "delete")
	e.mustRun(t, cfg, topic, 0, end)
	if src, v := doc(t, topic, "u1"); src["name"] != "new" || v != 3 {
		t.Fatalf("u1 = %v version %d, want new at 3", src, v)
	}
	if src, _ := doc(t, topic, "u2"); src != nil {
		t.Fatalf("u2 = %v, want deleted by its tombstone", src)
	}
	// A zombie or retried lease over the old range: nothing goes back.
	e.mustRun(t, cfg, topic, 0, 2)
	if src, v := doc(t, topic, "u1"); src["name"] != "new" || v != 3 {
		t.Fatalf("after replay u1 = %v version %d, want new at 3", src, v)
	}
	if src, _ := doc(t, topic, "u2"); src != nil {
		t.Fatalf("after replay u2 = %v, want still deleted", src)
	}
	if n := count(t, topic); n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}

	// behavior.on.null.values=ignore skips tombstones; fail fails the lease.
	end2 := e.produce(t, topic, tombstone("u3"))
	e.mustRun(t, sinkConfig(node.URL, topic, "behavior.on.null.values", "ignore"), topic, end, end2)
	if src, _ := doc(t, topic, "u3"); src == nil {
		t.Fatal("u3 deleted under behavior.on.null.values=ignore")
	}
	res := e.run(sinkConfig(node.URL, topic), topic, end, end2)
	if res.Status != lease.Failed || !strings.Contains(res.Error+res.Trace, "null value") {
		t.Fatalf("tombstone under the default (fail): %s %s", res.Status, res.Error)
	}
}

// write.method=upsert merges fields into the document.
func TestUpsert(t *testing.T) {
	e := newEnv(t)
	const topic = "profiles"
	end := e.produce(t, topic, rec("p1", `{"a":1}`), rec("p1", `{"b":2}`), rec("p2", `{"c":3}`))
	e.mustRun(t, sinkConfig(node.URL, topic, "write.method", "upsert"), topic, 0, end)
	if src, _ := doc(t, topic, "p1"); src["a"] != float64(1) || src["b"] != float64(2) {
		t.Fatalf("p1 = %v, want a and b merged", src)
	}
	if src, _ := doc(t, topic, "p2"); src["c"] != float64(3) {
		t.Fatalf("p2 = %v", src)
	}
}

// Documents the server rejects go to the dead letter queue with the
// server's reason in the headers (errors.tolerance=all), or fail the lease
// (errors.tolerance=none); invalid JSON with schema.ignore likewise.
func TestRejectedDocumentsToDLQ(t *testing.T) {
	e := newEnv(t)
	const topic = "metrics"
	end := e.produce(t, topic,
		rec("m1", `{"n":1}`), rec("m2", `{"n":"not a number"}`), rec("m3", `{"n":3}`), rec("m4", `not json`), rec("m5", `{"n":5}`))
	cfg := sinkConfig(node.URL, topic, "value.converter", "org.apache.kafka.connect.storage.StringConverter",
		"schema.ignore", "true", "batch.size", "1")
	res := e.run(cfg, topic, 0, end)
	if res.Status != lease.Failed || !strings.Contains(res.Error+res.Trace, "mapper_parsing_exception") {
		t.Fatalf("under errors.tolerance=none: %s %q", res.Status, res.Error)
	}

	for k, v := range map[string]string{"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "es-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true"} {
		cfg[k] = v
	}
	res = e.mustRun(t, cfg, topic, 0, end)
	if res.DeadLettered != 2 {
		t.Fatalf("dead-lettered %d, want 2", res.DeadLettered)
	}
	if n := count(t, topic); n != 3 {
		t.Fatalf("%d documents, want 3", n)
	}
	dlq := e.read(t, "es-dlq")
	if len(dlq) != 2 || string(dlq[0].Key) != "m2" || string(dlq[1].Key) != "m4" {
		t.Fatalf("dead letter queue: %d records", len(dlq))
	}
	if msg := header(dlq[0], "__connect.errors.exception.message"); !strings.Contains(msg, "mapper_parsing_exception") || !strings.Contains(msg, "failed to parse field [n]") {
		t.Errorf("m2's reason header %q lacks the server's reason", msg)
	}
	if msg := header(dlq[1], "__connect.errors.exception.message"); !strings.Contains(msg, "not a JSON object") {
		t.Errorf("m4's reason header %q", msg)
	}
}

// Data streams: records are appended to logs-<dataset>-<topic>, created
// with an index template when OpenSearch has none, each with @timestamp;
// a replay appends nothing twice. Elasticsearch's OSS distribution (the
// one on Maven Central) has no data stream API: there the lease fails at
// once, not retriable, saying so.
func TestDataStream(t *testing.T) {
	e := newEnv(t)
	if onElasticsearch {
		end := e.produce(t, "access", rec("", `{"path":"/p"}`))
		cfg := sinkConfig(node.URL, "access", "data.stream.type", "logs", "data.stream.dataset", "web")
		res := e.run(cfg, "access", 0, end)
		if res.Status != lease.Failed || res.Retriable || !strings.Contains(res.Error, "no data stream API") || !strings.Contains(res.Error, "HTTP 405") {
			t.Fatalf("lease: %s retriable=%t %s", res.Status, res.Retriable, res.Error)
		}
		return
	}
	const topic = "access"
	var recs []kv
	for i := range 25 {
		recs = append(recs, rec("", fmt.Sprintf(`{"path":"/p%d","status":200}`, i)))
	}
	recs = append(recs, rec("", `{"path":"/x","@timestamp":"2020-01-01T00:00:00Z"}`))
	end := e.produce(t, topic, recs...)
	cfg := sinkConfig(node.URL, topic, "data.stream.type", "logs", "data.stream.dataset", "web")
	e.mustRun(t, cfg, topic, 0, end)
	const stream = "logs-web-access"
	status, m := es(t, "GET", "/_data_stream/"+stream, "")
	if status != 200 {
		t.Fatalf("data stream %s: %d %v", stream, status, m)
	}
	if n := count(t, stream); n != 26 {
		t.Fatalf("%d documents, want 26", n)
	}
	e.mustRun(t, cfg, topic, 0, end)
	if n := count(t, stream); n != 26 {
		t.Fatalf("after a replay %d documents, want 26", n)
	}
	_, m = es(t, "POST", "/"+stream+"/_search", `{"query":{"term":{"path.keyword":"/p3"}}}`)
	hit := m["hits"].(map[string]any)["hits"].([]any)[0].(map[string]any)["_source"].(map[string]any)
	if hit["@timestamp"] != "2024-05-01T12:00:00Z" {
		t.Errorf("@timestamp %v, want the record's timestamp", hit["@timestamp"])
	}
	_, m = es(t, "POST", "/"+stream+"/_search", `{"query":{"term":{"path.keyword":"/x"}}}`)
	hit = m["hits"].(map[string]any)["hits"].([]any)[0].(map[string]any)["_source"].(map[string]any)
	if hit["@timestamp"] != "2020-01-01T00:00:00Z" {
		t.Errorf("@timestamp %v, want the document's own", hit["@timestamp"])
	}
}

// A node stopped in the middle of a lease: the sink retries with backoff
// until it is back, and the lease succeeds with every document written.
func TestNodeRestartMidLease(t *testing.T) {
	e := newEnv(t)
	const topic = "restart"
	var recs []kv
	for i := range 200 {
		recs = append(recs, rec(fmt.Sprintf("r%d", i), fmt.Sprintf(`{"i":%d}`, i)))
	}
	end := e.produce(t, topic, recs...)
	e.mustRun(t, sinkConfig(node.URL, topic), topic, 0, 100)

	node.Stop()
	done := make(chan lease.Result, 1)
	cfg := sinkConfig(node.URL, topic, "max.retries", "12", "retry.backoff.ms", "250", "batch.size", "50")
	go func() { done <- e.run(cfg, topic, 0, end) }() // re-covers the written half too
	time.Sleep(2 * time.Second)
	if err := node.Restart(); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.Status != lease.Succeeded {
		t.Fatalf("lease across the restart: %s %s", res.Status, res.Error)
	}
	if n := count(t, topic); n != 200 {
		t.Fatalf("%d documents, want 200", n)
	}
	if src, v := doc(t, topic, "r150"); src["i"] != float64(150) || v != 150 {
		t.Fatalf("r150 = %v version %d", src, v)
	}
}

// An unreachable node fails the lease as retriable once the retries are
// spent.
func TestUnreachable(t *testing.T) {
	e := newEnv(t)
	end := e.produce(t, "lost", rec("a", `{"a":1}`))
	res := e.run(sinkConfig("http://"+proctest.FreeAddr(t), "lost", "max.retries", "1"), "lost", 0, end)
	if res.Status != lease.Failed || !res.Retriable || !strings.Contains(res.Error, "retries exhausted") {
		t.Fatalf("unreachable node: %s retriable %t %q", res.Status, res.Retriable, res.Error)
	}
}

// The examples' search sink as it is in examples/ (only the node's URL
// replaced), fed records shaped as the example's JDBC source makes them:
// the row's id as the JSON key, the row as a JSON value with its schema.
// The index is named by RegexRouter, mapped from the schema, and a tombstone
// deletes.
func TestExampleProductsSearchSink(t *testing.T) {
	cfg, err := properties.LoadFile("../../../examples/products-search-sink.properties")
	if err != nil {
		t.Fatal(err)
	}
	cfg["connection.url"] = node.URL
	e := newEnv(t)
	const topic = "shop-products"
	schema := `{"type":"struct","name":"products","fields":[{"field":"id","type":"int32"},{"field":"name","type":"string","optional":true},` +
		`{"field":"price","type":"double","optional":true},{"field":"updated_at","type":"int64","name":"org.apache.kafka.connect.data.Timestamp"}]}`
	row := func(id int, name string, price float64) kv {
		return rec(fmt.Sprint(id), fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"name":%q,"price":%g,"updated_at":1714564800000}}`, schema, id, name, price))
	}
	end := e.produce(t, topic, row(1, "kettle", 25), row(2, "teapot", 40), row(1, "kettle", 22.5), row(3, "cup", 5), tombstone("3"))
	res := e.mustRun(t, cfg, topic, 0, end)
	if res.Records != 5 {
		t.Fatalf("lease put %d records", res.Records)
	}
	if n := count(t, "products"); n != 2 {
		t.Fatalf("index products has %d documents, want 2", n)
	}
	if src, v := doc(t, "products", "1"); src["price"] != 22.5 || v != 2 {
		t.Fatalf("product 1 = %v at version %d", src, v)
	}
	_, m := es(t, "GET", "/products/_mapping", "")
	props := m["products"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
	if props["updated_at"].(map[string]any)["type"] != "date" || props["price"].(map[string]any)["type"] != "double" {
		t.Fatalf("mapping %s", jsonString(props))
	}
}
