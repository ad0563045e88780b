package lease_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/datagen"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// externalBroker runs the embedded broker in its own process (the
// coordinator binary in dev mode, with no connectors), so that the CPU time
// and peak RSS the benchmarks report are the pipeline's alone.
func externalBroker(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "coordinator")
	build := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/coordinator/cmd/coordinator")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the coordinator: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SLUICE_EMBEDDED_KAFKA_ADDR="+addr, "SLUICE_DATA_DIR="+filepath.Join(dir, "data"),
		"SLUICE_EMBEDDED_PARTITIONS=4", "SLUICE_LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("external broker did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type usage struct{ cpu time.Duration }

func cpuNow() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return usage{time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

func report(b *testing.B, records, bytes int64, elapsed time.Duration, cpu time.Duration) {
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(peakRSSMB(), "peak-rss-MB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSourcePipeline measures datagen -> convert (JSON) -> produce ->
// offsets, through the lease executor, for b.N records of ~200 bytes
// (run with -benchtime 1000000x for the 1,000,000-record figure).
func BenchmarkSourcePipeline(b *testing.B) {
	k := kafkatest.Connect(b, []string{externalBroker(b)})
	ctx, client, store := context.Background(), k.Client, k.Offsets
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	exec := lease.NewExecutor(benchRegistry(b), client, store, lease.Options{})
	cfg := map[string]string{
		"name": "bench", "connector.class": "Datagen", "topic": "orders", "shape": "orders",
		"count": strconv.Itoa(b.N), "batch.size": "2000",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
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
	report(b, records, bytes, elapsed, cpuNow().cpu-cpu0.cpu)
}

// BenchmarkRawProduce is the limit to compare BenchmarkSourcePipeline with:
// the same producer sending exactly the messages the pipeline sends (datagen
// orders, converted before the timer starts) to the same kind of broker.
func BenchmarkRawProduce(b *testing.B) {
	ctx, client := context.Background(), kafkatest.Connect(b, []string{externalBroker(b)}).Client
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	msgs := pregenerate(b, b.N)
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
	start, cpu0 := time.Now(), cpuNow()
	for _, m := range msgs {
		p.Send(m)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	report(b, int64(b.N), bytes, elapsed, cpuNow().cpu-cpu0.cpu)
}

// pregenerate returns the n messages the datagen pipeline produces.
func pregenerate(b *testing.B, n int) []kafka.Message {
	b.Helper()
	reg := benchRegistry(b)
	p, err := reg.Connector("Datagen")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := reg.Lookup(connect.KindConverter, "org.apache.kafka.connect.storage.StringConverter")
	val, _ := reg.Lookup(connect.KindConverter, "org.apache.kafka.connect.json.JsonConverter")
	kc, vc := key.NewConverter(), val.NewConverter()
	if err := kc.Configure(nil, true); err != nil {
		b.Fatal(err)
	}
	if err := vc.Configure(map[string]string{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	task := p.NewSourceTask()
	cfg := map[string]string{"topic": "orders", "shape": "orders", "count": strconv.Itoa(n), "batch.size": "2000"}
	if err := task.Start(ctx0, noOffsets{}, cfg); err != nil {
		b.Fatal(err)
	}
	defer task.Stop()
	msgs := make([]kafka.Message, 0, n)
	for len(msgs) < n {
		recs, err := task.Poll(ctx0)
		if err != nil || len(recs) == 0 {
			b.Fatalf("datagen: %d records, err %v", len(msgs), err)
		}
		for _, r := range recs {
			k, err := kc.FromConnectData(r.Topic, r.KeySchema, r.Key)
			if err != nil {
				b.Fatal(err)
			}
			v, err := vc.FromConnectData(r.Topic, r.ValueSchema, r.Value)
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Topic: r.Topic, Partition: -1, Key: k, Value: v, Timestamp: r.Timestamp})
		}
	}
	return msgs
}

var ctx0 = context.Background()

type noOffsets struct{}

func (noOffsets) Offsets() connect.OffsetReader        { return noOffsets{} }
func (noOffsets) Offset(map[string]any) map[string]any { return nil }

// BenchmarkRawFetch is the fetch-side limit: reading back b.N pipeline
// messages with the exact-range fetcher from the same kind of broker.
func BenchmarkRawFetch(b *testing.B) {
	ctx, client := context.Background(), kafkatest.Connect(b, []string{externalBroker(b)}).Client
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: "orders", Partitions: 4}); err != nil {
		b.Fatal(err)
	}
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range pregenerate(b, b.N) {
		p.Send(m)
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
	start, cpu0 := time.Now(), cpuNow()
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
	report(b, records, bytes, elapsed, cpuNow().cpu-cpu0.cpu)
}

// benchRegistry holds what the benchmarks use: converters and datagen.
func benchRegistry(b *testing.B) *connect.Registry {
	b.Helper()
	reg, err := connect.NewRegistry(append(converter.Plugins(), datagen.Plugins()...)...)
	if err != nil {
		b.Fatal(err)
	}
	return reg
}
