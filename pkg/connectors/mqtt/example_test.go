package mqtt_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	pg "github.com/parquet-go/parquet-go"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mosquittotest"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/properties"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// The examples' pipeline MQTT -> Kafka -> S3 Parquet, with the example
// properties as they are in examples/ (only the broker's address and the
// bucket replaced): Mosquitto, the embedded Kafka broker, versitygw, and
// the Parquet objects read back with an independent reader.
func TestExampleMQTTToS3Parquet(t *testing.T) {
	load := func(name string) map[string]string {
		p, err := properties.LoadFile("../../../examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	source, sink := load("mqtt-sensors-source.properties"), load("sensors-s3-parquet-sink.properties")
	broker := mosquittotest.Start(t, mosquittotest.Options{})
	s3 := s3test.Start(t)
	source["mqtt.server.uri"] = broker.URI
	maps.Copy(sink, s3.Props())

	k := kafkatest.Start(t, 1)
	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), mqtt.Plugins(), s3sink.Plugins())...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 200 * time.Millisecond})
	runSource := func(id string) {
		res := exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSource, Connector: source["name"], Epoch: 1,
			Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: source, TaskConfig: taskConfig(t, source),
			Budget: lease.Budget{MaxIdle: lease.Duration(300 * time.Millisecond)}})
		if res.Status != lease.Succeeded {
			t.Fatalf("source lease: %s %s", res.Status, res.Error)
		}
	}
	runSource("session")
	var payloads []string
	for i := range 1000 {
		payloads = append(payloads, `{"device":"s`+string(rune('a'+i%3))+`","celsius":`+string(rune('0'+i%10))+`}`)
	}
	publish(t, broker.URI, "sensors/s1/temp", 1, payloads...)
	runSource("ingest")

	res := exec.Run(context.Background(), lease.Lease{ID: "export", Kind: lease.KindSink, Connector: sink["name"], Epoch: 1,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: sink, TaskConfig: sink,
		Ranges: []lease.Range{{Topic: "sensors", Partition: 0, Start: 0, End: 1000}}})
	if res.Status != lease.Succeeded {
		t.Fatalf("sink lease: %s %s\n%s", res.Status, res.Error, res.Trace)
	}
	ctx := context.Background()
	store, err := s3store.Open(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := store.List(ctx, "topics/sensors/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("objects %q, err %v; want one of flush.size 1000", keys, err)
	}
	rc, err := store.Open(ctx, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := pg.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != 1000 {
		t.Fatalf("%s has %d rows, want 1000", keys[0], pf.NumRows())
	}
	r := pg.NewReader(pf)
	row := map[string]any{}
	if err := r.Read(&row); err != nil {
		t.Fatal(err)
	}
	if row["device"] != "sa" {
		t.Fatalf("first row %v", row)
	}
}
