package batch_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/functions/internal/batch"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// A Lambda Kafka event whose values are Avro in Confluent's wire format
// goes through the connector's AvroConverter, as a lease's records do: the
// good records are written, the one with a wrong magic byte is
// dead-lettered. The registry is franz-go's in-process srfake.
func TestKafkaEventAvro(t *testing.T) {
	e := newEnv(t)
	reg := srfake.New()
	defer reg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "avro-events", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	schema := data.StructBuilder().Name("sluice.test.Event").Field("p", data.Int32Schema).Field("i", data.Int32Schema).MustBuild()
	conv := avro.New()
	if err := conv.Configure(map[string]string{schemaregistry.URLConfig: reg.URL(), schemaregistry.AutoRegisterConfig: "true"}, false); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for off := 1; off <= 3; off++ {
		v, err := conv.FromConnectData("avro-events", schema, data.NewStruct(schema).Set("p", int32(0)).Set("i", int32(off)))
		if err != nil {
			t.Fatal(err)
		}
		if off == 2 {
			v[0] = 7 // not Confluent's wire format
		}
		recs = append(recs, fmt.Sprintf(`{"topic": "avro-events", "partition": 0, "offset": %d, "timestamp": %d,
			"timestampType": "CREATE_TIME", "key": %q, "value": %q, "headers": []}`, off,
			time.Date(2024, 5, 1, 12, 0, off, 0, time.UTC).UnixMilli(),
			base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("k", off))), base64.StdEncoding.EncodeToString(v)))
	}
	event := fmt.Sprintf(`{"eventSource": "aws:kafka", "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/c/1",
		"bootstrapServers": "b-1:9092", "records": {"avro-events-0": [%s]}}`, strings.Join(recs, ","))

	dir := t.TempDir()
	e.putConnector(t, "lam-avro", "avro-events", dir, map[string]string{
		"value.converter": avro.Class, "value.converter.schema.registry.url": reg.URL(),
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "lam-avro-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true",
	})
	d := e.deps()
	d.Connector, d.ReportBatchItemFailures = "lam-avro", true
	out, err := handle(t, ctx, d, event)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "failures", len(out.(*batch.KafkaResponse).BatchItemFailures), 0)
	var got []string
	for _, b := range files(t, dir) {
		for _, r := range lines(t, b) {
			got = append(got, fmt.Sprint(r["p"], "/", r["i"]))
		}
	}
	sort.Strings(got)
	requireEqual(t, "written", strings.Join(got, " "), "0/1 0/3")
	var dead []kafka.Message
	if err := e.k.Client.FetchRange(ctx, kafka.TopicPartition{Topic: "lam-avro-dlq"}, 0, 1, 0, func(m []kafka.Message) error {
		dead = append(dead, m...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Value[0] != 7 {
		t.Fatalf("dead letters %v", dead)
	}
	for _, h := range dead[0].Headers {
		if h.Key == "__connect.errors.stage" && string(h.Value) != "VALUE_CONVERTER" {
			t.Fatalf("stage %s", h.Value)
		}
	}
}
