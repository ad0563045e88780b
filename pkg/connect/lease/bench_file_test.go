package lease_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/filestream"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// BenchmarkFileSourcePipeline is bench/e2e's ingest without the
// coordinator: b.N JSON lines of about 200 bytes (datagen orders' values)
// read from a file by a FileStreamSource task with StringConverter keys
// and values, produced to a 4-partition topic through the lease executor,
// in leases of 500,000 records as the coordinator issues them. Run with
// -benchtime 1000000x -cpuprofile to see where the ingest's CPU goes
// (the profile includes writing the file first). Besides CPU-s it reports
// the bytes and allocations per record of the whole process (the
// producer's included).
func BenchmarkFileSourcePipeline(b *testing.B) {
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	ctx, client, store := context.Background(), k.Client, k.Offsets
	topic := fmt.Sprint("lines-", b.N)
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "orders.jsonl")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var bytes int64
	benchkit.Orders(b, "orders", b.N, func(ms []kafka.Message) {
		for _, m := range ms {
			w.Write(m.Value)
			w.WriteByte('\n')
			bytes += int64(len(m.Value))
		}
	})
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	reg, err := connect.NewRegistry(append(converter.Plugins(), filestream.Plugins()...)...)
	if err != nil {
		b.Fatal(err)
	}
	exec := lease.NewExecutor(reg, client, store, lease.Options{})
	cfg := map[string]string{
		"name": topic, "connector.class": filestream.SourceClass, "file": file, "topic": topic,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	b.ResetTimer()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start, cpu0 := time.Now(), benchkit.CPU()
	var records int64
	for i := 0; records < int64(b.N); i++ {
		res := exec.Run(ctx, lease.Lease{ID: fmt.Sprint(topic, "-", i), Kind: lease.KindSource, Connector: topic,
			Epoch: int64(i + 1), Deadline: time.Now().Add(10 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg,
			Budget: lease.Budget{MaxRecords: 500_000, MaxTime: lease.Duration(5 * time.Minute), MaxIdle: lease.Duration(50 * time.Millisecond)}})
		if res.Status != lease.Succeeded {
			b.Fatalf("lease: %+v", res)
		}
		if res.Records == 0 {
			b.Fatalf("no progress after %d records", records)
		}
		records += res.Records
	}
	elapsed, cpu := time.Since(start), benchkit.CPU()-cpu0
	runtime.ReadMemStats(&m1)
	b.StopTimer()
	benchkit.Report(b, records, bytes, elapsed, cpu)
	// The allocations per record, which the machine's load does not
	// change: the garbage collector's share of the CPU follows them.
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(records), "B/record")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(records), "allocs/record")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC), "gcs")
}
