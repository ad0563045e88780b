package lease_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// BenchmarkSourceExactlyOnce is BenchmarkSourcePipeline (datagen orders of
// ~200 bytes -> JSON -> produce -> offsets, leases of at most
// SLUICE_BENCH_LEASE_RECORDS records, default 100,000) with exactly-once
// support disabled, and enabled with transaction.boundary=poll (a
// transaction per Poll of 2,000 records) and interval (one a second, and
// one every 100 ms): the
// cost of the transactions (make bench-eos, -benchtime 1000000x).
func BenchmarkSourceExactlyOnce(b *testing.B) {
	perLease := int64(100_000)
	if v, err := strconv.ParseInt(os.Getenv("SLUICE_BENCH_LEASE_RECORDS"), 10, 64); err == nil && v > 0 {
		perLease = v
	}
	tests := []struct {
		name string
		eos  *lease.ExactlyOnce
	}{
		{name: "disabled"},
		{name: "poll", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryPoll}},
		{name: "interval", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryInterval, Interval: lease.Duration(time.Second)}},
		{name: "interval-100ms", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryInterval, Interval: lease.Duration(100 * time.Millisecond)}},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
			ctx, client := context.Background(), k.Client
			if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
				b.Fatal(err)
			}
			exec := lease.NewExecutor(benchkit.Registry(b), client, k.Offsets, lease.Options{})
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
				l := lease.Lease{ID: fmt.Sprint("bench-", i), Kind: lease.KindSource, Connector: "bench",
					Epoch: int64(i + 1), Deadline: time.Now().Add(10 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg,
					Budget: lease.Budget{MaxRecords: perLease, MaxTime: lease.Duration(5 * time.Minute), MaxIdle: lease.Duration(50 * time.Millisecond)}}
				if tc.eos != nil {
					x := *tc.eos
					x.TransactionalID, x.OffsetsTopic = lease.TransactionalID("connect-cluster", "bench", 0), k.Offsets.Topic()
					l.ExactlyOnce = &x
				}
				res := exec.Run(ctx, l)
				if res.Status != lease.Succeeded || res.Records == 0 {
					b.Fatalf("lease after %d records: %+v", records, res)
				}
				records += res.Records
				bytes += res.Bytes
			}
			elapsed := time.Since(start)
			b.StopTimer()
			benchkit.Report(b, records, bytes, elapsed, benchkit.CPU()-cpu0)
		})
	}
}
