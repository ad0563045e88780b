package s3sink_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// confluentExample is the configuration of Confluent's S3 sink quick start.
func confluentExample() map[string]string {
	return map[string]string{
		"name": "s3-sink", "connector.class": "io.confluent.connect.s3.S3SinkConnector", "tasks.max": "1", "topics": "s3_topic",
		"s3.region": "us-west-2", "s3.bucket.name": "confluent-kafka-connect-s3-testing", "s3.part.size": "5242880",
		"flush.size": "3", "storage.class": "io.confluent.connect.s3.storage.S3Storage",
		"format.class":         "io.confluent.connect.s3.format.parquet.ParquetFormat",
		"partitioner.class":    "io.confluent.connect.storage.partitioner.DefaultPartitioner",
		"schema.compatibility": "NONE",
	}
}

func TestConfig(t *testing.T) {
	with := func(kv ...string) map[string]string {
		p := confluentExample()
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	without := func(key string) map[string]string {
		p := confluentExample()
		delete(p, key)
		return p
	}
	tests := []struct {
		name    string
		props   map[string]string
		wantKey string
	}{
		{name: "Confluent's quick start", props: confluentExample()},
		{name: "hourly partitioner", props: with("partitioner.class", "io.confluent.connect.storage.partitioner.HourlyPartitioner",
			"locale", "en-US", "timezone", "UTC", "timestamp.extractor", "Record", "rotate.interval.ms", "600000")},
		{name: "flush.size is required", props: without("flush.size"), wantKey: "flush.size"},
		{name: "format.class is required", props: without("format.class"), wantKey: "format.class"},
		{name: "unknown format", props: with("format.class", "io.confluent.connect.s3.format.orc.OrcFormat"), wantKey: "format.class"},
		{name: "bucket is required", props: without("s3.bucket.name"), wantKey: "s3.bucket.name"},
		{name: "other storage", props: with("storage.class", "com.example.Storage"), wantKey: "storage.class"},
		{name: "tombstones need keys", props: with("behavior.on.null.values", "write"), wantKey: "behavior.on.null.values"},
		{name: "bad partitioner", props: with("partitioner.class", "com.example.P"), wantKey: "partitioner.class"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s3sink.NewConnector().Start(context.Background(), nil, tc.props)
			if tc.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("Start error = %v, want one about %s", err, tc.wantKey)
			}
		})
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	keys := s3sink.Config().Keys()
	names := map[string]bool{}
	for _, k := range keys {
		names[k.Name] = true
		if k.Doc == "" {
			t.Errorf("key %s has no doc", k.Name)
		}
	}
	for _, want := range []string{"s3.bucket.name", "s3.region", "s3.part.size", "store.url", "format.class", "flush.size",
		"rotate.interval.ms", "rotate.schedule.interval.ms", "partitioner.class", "partition.field.name", "path.format",
		"partition.duration.ms", "locale", "timezone", "timestamp.extractor", "timestamp.field", "topics.dir",
		"directory.delim", "file.delim", "filename.offset.zero.pad.width", "behavior.on.null.values",
		"store.kafka.keys", "store.kafka.headers", "keys.format.class", "headers.format.class", "storage.class",
		"sluice.max.open.files"} {
		if !names[want] {
			t.Errorf("key %s is not declared", want)
		}
	}
}

func TestRegistryFindsConfluentName(t *testing.T) {
	reg, err := connect.NewRegistry(s3sink.Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		class string
	}{
		{name: "Sluice class", class: s3sink.Class},
		{name: "Confluent class", class: "io.confluent.connect.s3.S3SinkConnector"},
		{name: "simple name", class: "S3SinkConnector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := reg.Connector(tc.class)
			if err != nil || p.Class != s3sink.Class {
				t.Fatalf("Connector(%s) = %v, %v", tc.class, p.Class, err)
			}
		})
	}
}

// An export to a real S3 server (versitygw) through the lease executor,
// time-partitioned by record time into JSON files; a replay of the same
// range rewrites the same objects with the same bytes.
func TestExportToVersitygw(t *testing.T) {
	srv := s3test.Start(t)
	k := kafkatest.Start(t, 1)
	ctx := context.Background()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "clicks", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 11, 40, 0, 0, time.UTC)
	for i := range 40 {
		p.Send(context.Background(), kafka.Message{Topic: "clicks", Partition: 0, Key: []byte(fmt.Sprintf("u%d", i%5)),
			Value: []byte(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: t0.Add(time.Duration(i) * time.Minute)})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	reg, err := connect.NewRegistry(append(converter.Plugins(), s3sink.Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})
	cfg := maps.Clone(srv.Props())
	maps.Copy(cfg, map[string]string{
		"name": "clicks-s3", "connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": "clicks",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"format.class": "io.confluent.connect.s3.format.json.JsonFormat", "flush.size": "15", "store.kafka.keys": "true",
		"partitioner.class": "io.confluent.connect.storage.partitioner.HourlyPartitioner",
		"locale":            "en-US", "timezone": "UTC", "timestamp.extractor": "Record",
	})
	run := func(id string, epoch int64) {
		t.Helper()
		res := exec.Run(ctx, lease.Lease{ID: id, Kind: lease.KindSink, Connector: "clicks-s3", Epoch: epoch,
			Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: "clicks", Partition: 0, Start: 0, End: 40}}})
		if res.Status != lease.Succeeded {
			t.Fatalf("lease %s: %s %s\n%s", id, res.Status, res.Error, res.Trace)
		}
	}
	store, err := s3store.Open(ctx, srv.Props())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	read := func() map[string]string {
		t.Helper()
		keys, err := store.List(ctx, "topics/")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, key := range keys {
			rc, err := store.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[key] = string(b)
		}
		return out
	}

	run("s1", 1)
	first := read()
	want := []string{
		"topics/clicks/year=2024/month=05/day=01/hour=11/clicks+0+0000000000.json",
		"topics/clicks/year=2024/month=05/day=01/hour=11/clicks+0+0000000000.keys.json",
		"topics/clicks/year=2024/month=05/day=01/hour=11/clicks+0+0000000015.json",
		"topics/clicks/year=2024/month=05/day=01/hour=11/clicks+0+0000000015.keys.json",
		"topics/clicks/year=2024/month=05/day=01/hour=12/clicks+0+0000000020.json",
		"topics/clicks/year=2024/month=05/day=01/hour=12/clicks+0+0000000020.keys.json",
		"topics/clicks/year=2024/month=05/day=01/hour=12/clicks+0+0000000035.json",
		"topics/clicks/year=2024/month=05/day=01/hour=12/clicks+0+0000000035.keys.json",
	}
	if got := slices.Sorted(maps.Keys(first)); !slices.Equal(got, want) {
		t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := first[want[0]]; !strings.HasPrefix(v, `{"n":0}`+"\n") || strings.Count(v, "\n") != 15 {
		t.Fatalf("first object = %q", v)
	}
	run("s2", 2)
	if again := read(); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatal("the replay wrote different objects")
	}
}
