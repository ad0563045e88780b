package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// converterCases are the converter and transform settings whose bytes are
// compared: Connect's JsonConverter with and without schemas, its
// StringConverter, and a chain of built-in transforms.
var converterCases = []struct {
	name  string
	props map[string]string
	sink  bool // also compared through FileStreamSink
}{
	{name: "json-schemas", sink: true, props: map[string]string{
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "true",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true"}},
	{name: "json-plain", sink: true, props: map[string]string{
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "false",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"}},
	{name: "string", sink: true, props: map[string]string{
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}},
	{name: "transforms", props: map[string]string{
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "true",
		"transforms":                     "hoist,insert,tokey,route",
		"transforms.hoist.type":          "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":         "line",
		"transforms.insert.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.insert.static.field": "origin",
		"transforms.insert.static.value": "file",
		"transforms.tokey.type":          "org.apache.kafka.connect.transforms.ValueToKey",
		"transforms.tokey.fields":        "line",
		"transforms.route.type":          "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":         "(.*)",
		"transforms.route.replacement":   "$1-routed",
		"header.converter":               "org.apache.kafka.connect.storage.SimpleHeaderConverter",
	}},
}

// converterInput is the file both runtimes' FileStreamSource read.
var converterInput = []string{"hello", `{"a":1,"b":[true,null]}`, `ünïcödé "quoted" \ back\slash`, "  spaces  ", "42"}

// TestConvertersMatchConnect runs a FileStreamSource per converter case in
// Apache Kafka Connect and in Sluice over the same file, each to its own
// topic, and compares the records' key, value and header bytes; then each
// runtime's FileStreamSink reads the other's topic with the same converter,
// and the two files must be equal: records produced by one are read by
// the other.
func TestConvertersMatchConnect(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Fresh(t, realkafka.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte(strings.Join(converterInput, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	connect := realkafka.StartConnectT(t, c, realkafka.ConnectOptions{GroupID: "converters-connect"})
	sluice := startSluice(t, c, "converters-sluice", "sluice")
	runtimes := []struct{ name, url string }{{"connect", connect.URL}, {"sluice", sluice}}

	topicOf := func(rt, cs string) string {
		if cs == "transforms" {
			return rt + "-" + cs + "-routed"
		}
		return rt + "-" + cs
	}
	for _, cs := range converterCases {
		for _, rt := range runtimes {
			cfg := map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
				"tasks.max": "1", "file": in, "topic": rt.name + "-" + cs.name}
			maps.Copy(cfg, cs.props)
			create(t, rt.url, rt.name+"-src-"+cs.name, cfg)
		}
	}
	for _, cs := range converterCases {
		ct := readRecords(t, c, topicOf("connect", cs.name), len(converterInput))
		st := readRecords(t, c, topicOf("sluice", cs.name), len(converterInput))
		for i := range ct {
			if msg := sameRecord(ct[i], st[i]); msg != "" {
				t.Errorf("%s, record %d: %s", cs.name, i, msg)
			}
		}
	}

	// Each runtime's sink reads the other's records.
	for _, cs := range converterCases {
		if !cs.sink {
			continue
		}
		for i, rt := range runtimes {
			other := runtimes[1-i].name
			cfg := map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
				"tasks.max": "1", "file": filepath.Join(dir, rt.name+"-reads-"+other+"-"+cs.name+".txt"), "topics": topicOf(other, cs.name)}
			maps.Copy(cfg, cs.props)
			// Its own name, so its own consumer group connect-<name>.
			create(t, rt.url, rt.name+"-sink-"+cs.name, cfg)
		}
	}
	for _, cs := range converterCases {
		if !cs.sink {
			continue
		}
		var files [2][]byte
		for i, rt := range runtimes {
			path := filepath.Join(dir, rt.name+"-reads-"+runtimes[1-i].name+"-"+cs.name+".txt")
			proctest.CheckFor(t, 90*time.Second, 200*time.Millisecond, func() error {
				b, _ := os.ReadFile(path)
				if n := bytes.Count(b, []byte("\n")); n < len(converterInput) {
					return fmt.Errorf("%s: %d lines, want %d", path, n, len(converterInput))
				}
				files[i] = b
				return nil
			})
		}
		if !bytes.Equal(files[0], files[1]) {
			t.Errorf("%s: Connect's FileStreamSink wrote\n%q\nreading Sluice's records; Sluice's wrote\n%q\nreading Connect's", cs.name, files[0], files[1])
		}
	}
}

// sameRecord compares what a consumer sees of two records, but their
// topics, offsets and timestamps.
func sameRecord(c, s *kgo.Record) string {
	if !bytes.Equal(c.Key, s.Key) || (c.Key == nil) != (s.Key == nil) {
		return fmt.Sprintf("key %q (nil %v), Connect's %q (nil %v)", s.Key, s.Key == nil, c.Key, c.Key == nil)
	}
	if !bytes.Equal(c.Value, s.Value) {
		return fmt.Sprintf("value\n got: %q\nwant: %q (Connect)", s.Value, c.Value)
	}
	if len(c.Headers) != len(s.Headers) {
		return fmt.Sprintf("headers %v, Connect's %v", s.Headers, c.Headers)
	}
	for i := range c.Headers {
		if c.Headers[i].Key != s.Headers[i].Key || !bytes.Equal(c.Headers[i].Value, s.Headers[i].Value) {
			return fmt.Sprintf("headers %v, Connect's %v", s.Headers, c.Headers)
		}
	}
	return ""
}

// create creates a connector over REST, retrying while the cluster
// answers 409 (a rebalance or leader change), as Connect's clients do.
func create(t testing.TB, baseURL, name string, cfg map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	proctest.CheckFor(t, 90*time.Second, 500*time.Millisecond, func() error {
		st, resp, err := request(&target{url: baseURL}, "POST", "/connectors", string(b))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		switch st {
		case http.StatusCreated:
			return nil
		case http.StatusConflict:
			return fmt.Errorf("create %s at %s: %d %s", name, baseURL, st, body)
		}
		t.Fatalf("create %s at %s: %d %s", name, baseURL, st, body)
		return nil
	})
}

// readRecords reads the first n records of topic's partition 0.
func readRecords(t *testing.T, c *realkafka.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d of %d records after 90s", topic, len(recs), n)
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs[:n]
}
