//go:build hdfs

package hdfssink_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	pg "github.com/parquet-go/parquet-go"

	"github.com/sluicehq/sluice/internal/hdfstest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/kafka"
)

func TestMain(m *testing.M) { os.Exit(hdfstest.Main(m)) }

// An export to a real HDFS through the lease executor with Confluent's
// HDFS connector configuration; the Parquet files are read back through
// Hadoop's own FileSystem API and an independent Parquet reader; a replay
// of the same range rewrites the same files with the same bytes; a
// datanode stopped mid-lease fails the lease, commits nothing, and the
// re-issued lease completes the output without duplicates.
func TestExportToMiniCluster(t *testing.T) {
	c := hdfstest.Shared(t, hdfstest.Mode{})
	k := kafkatest.Start(t, 1)
	ctx := context.Background()
	const topic, n = "hdfs_orders", 30
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Key: []byte(fmt.Sprint(i)),
			Value: []byte(fmt.Sprintf(`{"id":%d,"item":"i%d"}`, i, i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	reg, err := connect.NewRegistry(append(converter.Plugins(), hdfssink.Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})
	t.Setenv("HADOOP_USER_NAME", "sluice")
	cfg := map[string]string{
		"name": "hdfs-export", "connector.class": hdfssink.ConfluentClass, "topics": topic,
		"hdfs.url": c.URL(), "topics.dir": "/exports", "flush.size": "10",
		"format.class":    hdfssink.ParquetFormatClass,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
	}
	run := func(id string, epoch int64) lease.Result {
		t.Helper()
		return exec.Run(ctx, lease.Lease{ID: id, Kind: lease.KindSink, Connector: "hdfs-export", Epoch: epoch,
			Deadline: time.Now().Add(90 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: 0, End: n}}})
	}
	names := []string{
		"/exports/" + topic + "/partition=0/" + topic + "+0+0000000000.snappy.parquet",
		"/exports/" + topic + "/partition=0/" + topic + "+0+0000000010.snappy.parquet",
		"/exports/" + topic + "/partition=0/" + topic + "+0+0000000020.snappy.parquet",
	}
	read := func() map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		for _, name := range names {
			if c.Exists(t, name) {
				out[name] = c.ReadFile(t, name)
			}
		}
		return out
	}
	committed := func() int64 {
		t.Helper()
		offs, err := k.Client.CommittedOffsets(ctx, "connect-hdfs-export", []kafka.TopicPartition{{Topic: topic, Partition: 0}})
		if err != nil {
			t.Fatal(err)
		}
		return offs[kafka.TopicPartition{Topic: topic, Partition: 0}]
	}

	// A lease that loses the only datanode fails and commits nothing.
	c.MustDo(t, "stop-datanode")
	if res := run("d1", 1); res.Status == lease.Succeeded || !strings.Contains(res.Error, "connection refused") {
		t.Fatalf("a lease with the datanode stopped: %s %q, want it failed on the datanode's connection", res.Status, res.Error)
	}
	if got := committed(); got > 0 {
		t.Fatalf("a failed lease committed offset %d", got)
	}
	c.MustDo(t, "restart-datanode")

	if res := run("d2", 2); res.Status != lease.Succeeded {
		t.Fatalf("re-issued lease: %s %s\n%s", res.Status, res.Error, res.Trace)
	}
	if got := committed(); got != n {
		t.Fatalf("committed offset %d, want %d", got, n)
	}
	first := read()
	if len(first) != len(names) {
		t.Fatalf("%d files, want %d", len(first), len(names))
	}
	next := 0
	for _, name := range names {
		b := first[name]
		pf, err := pg.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := pg.NewReader(pf)
		for range pf.NumRows() {
			row := map[string]any{}
			if err := r.Read(&row); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(row["id"]) != fmt.Sprint(next) || row["item"] != fmt.Sprintf("i%d", next) {
				t.Fatalf("%s: row %v, want id %d", name, row, next)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("read back %d rows, want %d", next, n)
	}
	// Confluent's layout keeps the +tmp folder; the failed lease's
	// temporary files must be gone once the replay committed.
	if tmp := c.MustDo(t, "count /exports/"+topic+"/partition=0/+tmp"); tmp != "0" {
		t.Fatalf("%s temporary files left after the replay committed", tmp)
	}

	if res := run("d3", 3); res.Status != lease.Succeeded {
		t.Fatalf("replay: %s %s", res.Status, res.Error)
	}
	for name, b := range read() {
		if !bytes.Equal(b, first[name]) {
			t.Fatalf("the replay rewrote %s with other bytes", name)
		}
	}
}
