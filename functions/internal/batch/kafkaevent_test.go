package batch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/functions/internal/batch"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// kafkaEvent is an MSK event shaped like AWS's documented example: records
// keyed by "<topic>-<partition>", base64 keys and values, headers as
// arrays of byte values. Partition 0 holds offsets 15-19, with 17 not JSON;
// partition 1 holds offsets 3 and 4.
func kafkaEvent(topic string) string {
	rec := func(p, off int, value string) string {
		return fmt.Sprintf(`{"topic": %q, "partition": %d, "offset": %d, "timestamp": %d, "timestampType": "CREATE_TIME",
			"key": %q, "value": %q, "headers": [{"headerKey": [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101]}]}`,
			topic, p, off, time.Date(2024, 5, 1, 12, 0, off, 0, time.UTC).UnixMilli(),
			base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("k%d", off))), base64.StdEncoding.EncodeToString([]byte(value)))
	}
	var p0 []string
	for off := 15; off < 20; off++ {
		v := fmt.Sprintf(`{"p":0,"i":%d}`, off)
		if off == 17 {
			v = `{"p":0,"i":` // malformed
		}
		p0 = append(p0, rec(0, off, v))
	}
	return fmt.Sprintf(`{
		"eventSource": "aws:kafka",
		"eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
		"bootstrapServers": "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092",
		"records": {%q: [%s], %q: [%s, %s]}}`,
		topic+"-0", strings.Join(p0, ","), topic+"-1", rec(1, 3, `{"p":1,"i":3}`), rec(1, 4, `{"p":1,"i":4}`))
}

// written returns the "i" of every record in dir's value files, by
// partition, and the header files' contents.
func written(t *testing.T, dir, topic string) (map[int][]int, string) {
	t.Helper()
	got := map[int][]int{}
	var headers strings.Builder
	for name, b := range files(t, dir) {
		if strings.Contains(name, ".headers.") {
			headers.Write(b)
			continue
		}
		for _, r := range lines(t, b) {
			if r["tag"] != "lambda" {
				t.Fatalf("%s: record %v was not transformed", name, r)
			}
			got[int(r["p"].(float64))] = append(got[int(r["p"].(float64))], int(r["i"].(float64)))
		}
	}
	return got, headers.String()
}

func TestKafkaEvent(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "events", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	insert := map[string]string{
		"transforms": "tag", "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.tag.static.field": "tag", "transforms.tag.static.value": "lambda",
		"store.kafka.headers": "true", "flush.size": "100",
	}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range insert {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}

	t.Run("tolerance none reports the failed record", func(t *testing.T) {
		dir := t.TempDir()
		e.putConnector(t, "lam-none", "events", dir, with(nil))
		d := e.deps()
		d.Connector, d.ReportBatchItemFailures = "lam-none", true
		out, err := handle(t, ctx, d, kafkaEvent("events"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(out)
		requireEqual(t, "response", string(b), `{"batchItemFailures":[{"itemIdentifier":{"partition":"events-0","offset":17}}]}`)
		got, headers := written(t, dir, "events")
		// Records after the failed one are left for Lambda's retry, which
		// resumes partition 0 at offset 17.
		requireEqual(t, "written", fmt.Sprint(got), fmt.Sprint(map[int][]int{0: {15, 16}, 1: {3, 4}}))
		if !strings.Contains(headers, "headerValue") {
			t.Fatalf("headers not written: %q", headers)
		}
		if _, ok := files(t, dir)["topics/events/partition=0/events+0+0000000015.json"]; !ok {
			t.Fatalf("objects %v", keys(files(t, dir)))
		}
		// The event source mapping owns the offsets: nothing is committed.
		requireEqual(t, "committed", e.committed(t, "lam-none", "events"), [2]int64{-1, -1})
	})

	t.Run("tolerance all skips it and dead-letters it", func(t *testing.T) {
		dir := t.TempDir()
		e.putConnector(t, "lam-all", "events", dir, with(map[string]string{
			"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "lam-dlq",
			"errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true",
		}))
		d := e.deps()
		d.Connector, d.ReportBatchItemFailures = "lam-all", true
		out, err := handle(t, ctx, d, kafkaEvent("events"))
		if err != nil {
			t.Fatal(err)
		}
		requireEqual(t, "failures", len(out.(*batch.KafkaResponse).BatchItemFailures), 0)
		got, _ := written(t, dir, "events")
		requireEqual(t, "written", fmt.Sprint(got), fmt.Sprint(map[int][]int{0: {15, 16, 18, 19}, 1: {3, 4}}))
		var dead []kafka.Message
		err = e.k.Client.FetchRange(ctx, kafka.TopicPartition{Topic: "lam-dlq"}, 0, 1, 0, func(m []kafka.Message) error {
			dead = append(dead, m...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		requireEqual(t, "dead letter", string(dead[0].Value), `{"p":0,"i":`)
		hs := map[string]string{}
		for _, h := range dead[0].Headers {
			hs[h.Key] = string(h.Value)
		}
		requireEqual(t, "dead letter stage", hs["__connect.errors.stage"], "VALUE_CONVERTER")
		requireEqual(t, "dead letter offset", hs["__connect.errors.offset"], "17")
		requireEqual(t, "dead letter original header", hs["headerKey"], "headerValue")
	})

	// Lambda then retries the whole batch: the records before the failure,
	// already written, are written again (at least once).
	t.Run("without partial batch responses the batch fails whole", func(t *testing.T) {
		dir := t.TempDir()
		e.putConnector(t, "lam-whole", "events", dir, with(nil))
		d := e.deps()
		d.Connector = "lam-whole"
		_, err := handle(t, ctx, d, kafkaEvent("events"))
		var be *batch.KafkaEventError
		if !errors.As(err, &be) || fmt.Sprint(be.Failed) != fmt.Sprint([]batch.ItemIdentifier{{Partition: "events-0", Offset: 17}}) {
			t.Fatalf("error %v, want a KafkaEventError naming events-0 offset 17", err)
		}
		if !strings.Contains(err.Error(), "Tolerance exceeded") {
			t.Fatalf("error %v does not say why", err)
		}
		if len(files(t, dir)) == 0 {
			t.Fatal("the records before the failure were not written")
		}
	})

	t.Run("a topic the connector does not consume", func(t *testing.T) {
		e.putConnector(t, "lam-other", "elsewhere", t.TempDir(), with(nil))
		d := e.deps()
		d.Connector, d.ReportBatchItemFailures = "lam-other", true
		if _, err := handle(t, ctx, d, kafkaEvent("events")); !errors.Is(err, batch.ErrBadRequest) {
			t.Fatalf("error %v, want ErrBadRequest", err)
		}
	})

	t.Run("no connector configured", func(t *testing.T) {
		if _, err := handle(t, ctx, e.deps(), kafkaEvent("events")); !errors.Is(err, batch.ErrBadRequest) || !strings.Contains(err.Error(), "SLUICE_CONNECTOR") {
			t.Fatalf("error %v, want ErrBadRequest naming SLUICE_CONNECTOR", err)
		}
	})
}

func TestHandleUnknownEvent(t *testing.T) {
	tests := []struct{ name, payload string }{
		{name: "empty object", payload: `{}`},
		{name: "array", payload: `[]`},
		{name: "string", payload: `"now"`},
		{name: "not JSON", payload: `{`},
		{name: "lease", payload: `{"id": "c-0-1", "kind": "sink", "connector": "c"}`},
		{name: "SQS event", payload: `{"Records": [{"eventSource": "aws:sqs"}]}`},
		{name: "Kafka source without records", payload: `{"eventSource": "aws:kafka"}`},
		{name: "other event source", payload: `{"eventSource": "aws:kinesis", "records": {}}`},
		{name: "until without connector", payload: `{"until": "now"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handle(t, context.Background(), batch.Deps{}, tt.payload)
			if !errors.Is(err, batch.ErrUnknownEvent) {
				t.Fatalf("error %v, want ErrUnknownEvent", err)
			}
		})
	}
}

func TestUntilJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     batch.Until
		bad      bool
	}{
		{name: "now", in: `"now"`, want: batch.Until{Now: true}},
		{name: "NOW", in: `"NOW"`, want: batch.Until{Now: true}},
		{name: "offsets", in: `{"my-topic-0": 10, "my-topic-11": 0}`, want: batch.Until{Offsets: map[string]int64{"my-topic-0": 10, "my-topic-11": 0}}},
		{name: "time", in: `"2024-05-01T00:00:00Z"`, bad: true},
		{name: "empty object", in: `{}`, bad: true},
		{name: "number", in: `5`, bad: true},
		{name: "key without partition", in: `{"topic": 1}`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u batch.Until
			err := json.Unmarshal([]byte(tt.in), &u)
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted %s as %+v", tt.in, u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			requireEqual(t, "until", fmt.Sprint(u), fmt.Sprint(tt.want))
			b, _ := json.Marshal(u)
			var again batch.Until
			if err := json.Unmarshal(b, &again); err != nil || fmt.Sprint(again) != fmt.Sprint(u) {
				t.Fatalf("round trip %s: %+v, %v", b, again, err)
			}
		})
	}
}
