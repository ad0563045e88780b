package localsink_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// mixedValue is the i-th value of a topic of schemaless JSON of varied
// shapes: nulls, missing and unknown keys, reordered keys, integral
// numbers in a double column, types that change (new files), malformed
// JSON (converter errors) and tombstones.
func mixedValue(rng *rand.Rand, i int) []byte {
	members := []string{
		fmt.Sprintf(`"id":%d`, i),
		fmt.Sprintf(`"name":"n%d \u00e9"`, rng.IntN(30)),
		fmt.Sprintf(`"price":%.2f`, rng.Float64()*10),
		fmt.Sprintf(`"nested":{"a":%d,"b":"x"}`, rng.IntN(5)),
	}
	switch rng.IntN(30) {
	case 0:
		return nil // a tombstone
	case 1:
		return []byte(`{"id":` + fmt.Sprint(i) + `,"name":`) // malformed
	case 2:
		members[1] = `"name":null`
	case 3:
		members = members[:3]
	case 4:
		members[2] = fmt.Sprintf(`"price":%d`, rng.IntN(100))
	case 5:
		members = append(members, `"extra":null`)
	case 6:
		members[0] = `"id":"text"` // a schema change
	case 7:
		members = append(members, `"tags":["a"]`) // a schema change, then the general path
	case 8:
		members[3] = `"nested":{}`
	}
	rng.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
	return []byte("{" + strings.Join(members, ",") + "}")
}

// TestRawValuesWriteTheSameFiles exports the same topic twice through the
// real lease executor and the local sink: once as it runs by default (the
// values written from their bytes) and once with a transform that
// changes nothing, which makes the lease decode every value (the general
// path). The files, the committed offsets and the dead letter queue must
// be the same.
func TestRawValuesWriteTheSameFiles(t *testing.T) {
	k := kafkatest.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topic, perPartition = "mixed", 1500
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for part := range int32(2) {
		for i := range perPartition {
			p.Send(ctx, kafka.Message{Topic: topic, Partition: part, Key: []byte(fmt.Sprintf("k%d", i)),
				Value: mixedValue(rng, i), Timestamp: t0.Add(time.Duration(i) * time.Second)})
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), transforms.Plugins(), localsink.Plugins())...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})
	noop := map[string]string{"transforms": "noop", "transforms.noop.type": "org.apache.kafka.connect.transforms.DropHeaders",
		"transforms.noop.headers": "not-there"}
	tests := []struct {
		name  string
		props map[string]string
	}{
		{name: "defaults, tolerance all", props: map[string]string{"flush.size": "400"}},
		{name: "keys files, hourly, rotate interval", props: map[string]string{"flush.size": "1000", "store.kafka.keys": "true",
			"keys.format.class": "io.confluent.connect.s3.format.json.JsonFormat",
			"partitioner.class": "io.confluent.connect.storage.partitioner.HourlyPartitioner", "locale": "en-US",
			"timezone": "UTC", "timestamp.extractor": "Record", "rotate.interval.ms": "120000"}},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type output struct {
				files map[string][]byte
				dlq   []string
				res   lease.Result
			}
			export := func(mode string, extra map[string]string) output {
				dir := t.TempDir()
				name := fmt.Sprintf("raw-%d-%s", ti, mode)
				cfg := map[string]string{
					"name": name, "connector.class": "LocalSinkConnector", "topics": topic,
					"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
					"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
					"store.url": "file://" + dir, "behavior.on.null.values": "ignore",
					"errors.tolerance": "all", "errors.deadletterqueue.topic.name": name + "-dlq",
					"errors.deadletterqueue.topic.replication.factor": "1",
				}
				maps.Copy(cfg, tt.props)
				maps.Copy(cfg, extra)
				res := exec.Run(context.Background(), lease.Lease{ID: name, Kind: lease.KindSink, Connector: name, Epoch: 1,
					Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
					Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: 0, End: perPartition}, {Topic: topic, Partition: 1, Start: 0, End: perPartition}}})
				if res.Status != lease.Succeeded {
					t.Fatalf("%s: %s %s\n%s", mode, res.Status, res.Error, res.Trace)
				}
				var dlq []string
				for _, m := range kafkatest.ReadPartition(t, k.Client, name+"-dlq", 0) {
					dlq = append(dlq, fmt.Sprintf("%d %s %q", m.Partition, m.Key, m.Value))
				}
				slices.Sort(dlq)
				return output{files: files(t, dir), dlq: dlq, res: res}
			}
			raw := export("raw", nil)
			general := export("general", noop)
			if len(raw.files) < 4 || len(raw.dlq) == 0 {
				t.Fatalf("%d files, %d dead letters: the topic does not exercise rotation and the DLQ", len(raw.files), len(raw.dlq))
			}
			if !slices.Equal(keys(raw.files), keys(general.files)) {
				t.Fatalf("files %v, the general path wrote %v", keys(raw.files), keys(general.files))
			}
			for name, b := range raw.files {
				if !bytes.Equal(b, general.files[name]) {
					t.Fatalf("%s differs from the general path's (%d bytes, want %d)", name, len(b), len(general.files[name]))
				}
			}
			if !slices.Equal(raw.dlq, general.dlq) {
				t.Fatalf("dead letters\n%v\nthe general path's\n%v", raw.dlq, general.dlq)
			}
			if raw.res.Records != general.res.Records || raw.res.Errors != general.res.Errors ||
				fmt.Sprint(raw.res.Committed) != fmt.Sprint(general.res.Committed) {
				t.Fatalf("result %+v, the general path's %+v", raw.res, general.res)
			}
		})
	}
}
