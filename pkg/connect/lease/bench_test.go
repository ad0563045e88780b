package lease_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// BenchmarkSourcePipeline measures datagen -> convert (JSON) -> produce ->
// offsets, through the lease executor, for b.N records of ~200 bytes
// (run with -benchtime 1000000x for the 1,000,000-record figure).
func BenchmarkSourcePipeline(b *testing.B) {
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	ctx, client, store := context.Background(), k.Client, k.Offsets
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	exec := lease.NewExecutor(benchkit.Registry(b), client, store, lease.Options{})
	cfg := map[string]string{
		"name": "bench", "connector.class": "Datagen", "topic": "orders", "shape": "orders",
		"count": strconv.Itoa(b.N), "batch.size": "2000",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), benchkit.CPU()
	var records, bytes int64
	for i := 0; records < int64(b.N); i++ {
		res := exec.Run(ctx, lease.Lease{ID: fmt.Sprint("bench-", i), Kind: lease.KindSource, Connector: "bench",
			Epoch: int64(i + 1), Deadline: time.Now().Add(10 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg,
			// A short idle limit: the lease ends soon after datagen's count
			// is reached, so the figure is the pipeline's, not the idle wait's.
			Budget: lease.Budget{MaxRecords: 1 << 40, MaxTime: lease.Duration(5 * time.Minute), MaxIdle: lease.Duration(50 * time.Millisecond)}})
		if res.Status != lease.Succeeded {
			b.Fatalf("lease: %+v", res)
		}
		if res.Records == 0 {
			b.Fatalf("no progress after %d records", records)
		}
		records += res.Records
		bytes += res.Bytes
	}
	elapsed := time.Since(start)
	b.StopTimer()
	benchkit.Report(b, records, bytes, elapsed, benchkit.CPU()-cpu0)
}

// BenchmarkRawProduce is the limit to compare BenchmarkSourcePipeline with:
// the same producer sending exactly the messages the pipeline sends (datagen
// orders, converted before the timer starts) to the same kind of broker.
func BenchmarkRawProduce(b *testing.B) {
	ctx, client := context.Background(), kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)}).Client
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	msgs := benchkit.Pregenerate(b, "orders", b.N)
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var bytes int64
	for _, m := range msgs {
		bytes += int64(len(m.Key) + len(m.Value))
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), benchkit.CPU()
	for _, m := range msgs {
		p.Send(context.Background(), m)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	benchkit.Report(b, int64(b.N), bytes, elapsed, benchkit.CPU()-cpu0)
}

// BenchmarkRawFetch is the fetch-side limit: reading back b.N pipeline
// messages with the exact-range fetcher from the same kind of broker.
func BenchmarkRawFetch(b *testing.B) {
	ctx, client := context.Background(), kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)}).Client
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range benchkit.Pregenerate(b, "orders", b.N) {
		p.Send(context.Background(), m)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	p.Close()
	tps := make([]kafka.TopicPartition, 4)
	for i := range tps {
		tps[i] = kafka.TopicPartition{Topic: "orders", Partition: int32(i)}
	}
	wms, err := client.Watermarks(ctx, tps)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), benchkit.CPU()
	var records, bytes int64
	for _, tp := range tps {
		err := client.FetchRange(ctx, tp, wms[tp].Low, wms[tp].High, 4<<20, func(ms []kafka.Message) error {
			for i := range ms {
				records++
				bytes += int64(len(ms[i].Key) + len(ms[i].Value))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if records != int64(b.N) {
		b.Fatalf("fetched %d records, want %d", records, b.N)
	}
	benchkit.Report(b, records, bytes, elapsed, benchkit.CPU()-cpu0)
}
