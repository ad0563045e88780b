package export_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

const (
	topic      = "orders"
	partitions = 4
	flushSize  = 100_000
	// defaultRecords keeps make bench-smoke fast; make bench-export sets
	// SLUICE_BENCH_RECORDS=1000000.
	defaultRecords = 20_000
)

// envInt reads a positive integer from the environment.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// topicData is the exported topic: its partitions' ranges and the bytes of
// their keys and values.
type topicData struct {
	client  *kafka.Client
	offsets *state.OffsetStore
	ranges  []lease.Range
	records int64
}

// produce starts a broker in its own process and produces n datagen orders
// to a 4-partition topic.
func produce(b *testing.B, n int) *topicData {
	b.Helper()
	return produceWith(b, n, nil)
}

// produceWith is produce with the values converted by vc (nil: schemaless
// JSON).
func produceWith(b *testing.B, n int, vc connect.Converter) *topicData {
	b.Helper()
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	ctx := context.Background()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: partitions}); err != nil {
		b.Fatal(err)
	}
	benchkit.ProduceOrdersWith(b, k.Client, topic, n, vc)
	tps := make([]kafka.TopicPartition, partitions)
	for i := range tps {
		tps[i] = kafka.TopicPartition{Topic: topic, Partition: int32(i)}
	}
	wms, err := k.Client.Watermarks(ctx, tps)
	if err != nil {
		b.Fatal(err)
	}
	d := &topicData{client: k.Client, offsets: k.Offsets}
	for _, tp := range tps {
		wm := wms[tp]
		d.ranges = append(d.ranges, lease.Range{Topic: topic, Partition: tp.Partition, Start: wm.Low, End: wm.High})
		d.records += wm.High - wm.Low
	}
	if d.records != int64(n) {
		b.Fatalf("the topic holds %d records, want %d", d.records, n)
	}
	return d
}

// sinkConfig is the connector configuration common to both sinks.
func sinkConfig(name, class string) map[string]string {
	return map[string]string{
		"name": name, "connector.class": class, "topics": topic,
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"format.class":                   "io.confluent.connect.s3.format.parquet.ParquetFormat",
		"parquet.codec":                  "snappy",
		"flush.size":                     strconv.Itoa(flushSize),
	}
}

// export runs the sink leases over every partition of d with cfg, tasks of
// them at once (partitions dealt round-robin), and returns the key and
// value bytes they read.
func export(b *testing.B, exec *lease.Executor, d *topicData, cfg map[string]string, tasks, iter int) int64 {
	b.Helper()
	ranges := make([][]lease.Range, tasks)
	for i, rg := range d.ranges {
		ranges[i%tasks] = append(ranges[i%tasks], rg)
	}
	results := make([]lease.Result, tasks)
	var wg sync.WaitGroup
	for t := range tasks {
		wg.Go(func() {
			results[t] = exec.Run(context.Background(), lease.Lease{
				ID: fmt.Sprintf("export-%d-%d", iter, t), Kind: lease.KindSink, Connector: cfg["name"], Task: t,
				Epoch: int64(iter + 1), Deadline: time.Now().Add(30 * time.Minute),
				ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges[t],
				Budget: lease.Budget{MaxTime: lease.Duration(25 * time.Minute)},
			})
		})
	}
	wg.Wait()
	var records, bytes int64
	for _, res := range results {
		if res.Status != lease.Succeeded {
			b.Fatalf("lease %s: %s %s\n%s", res.LeaseID, res.Status, res.Error, res.Trace)
		}
		records += res.Records
		bytes += res.Bytes
	}
	if records != d.records {
		b.Fatalf("the leases put %d records, want %d", records, d.records)
	}
	return bytes
}

// expectedFiles is how many files flush.size cuts the topic into.
func expectedFiles(d *topicData) int {
	n := 0
	for _, rg := range d.ranges {
		n += int((rg.End - rg.Start + flushSize - 1) / flushSize)
	}
	return n
}

// checkParquet reads every file with an independent Parquet reader
// (github.com/parquet-go/parquet-go) and checks the row counts and the
// columns: a fast wrong export does not pass. It returns the files' bytes.
func checkParquet(b *testing.B, d *topicData, files map[string][]byte) (size int64) {
	b.Helper()
	if len(files) != expectedFiles(d) {
		b.Fatalf("%d files, want %d", len(files), expectedFiles(d))
	}
	var rows int64
	for name, content := range files {
		if !strings.HasSuffix(name, ".snappy.parquet") {
			b.Fatalf("unexpected file %s", name)
		}
		f, err := pgo.OpenFile(bytes.NewReader(content), int64(len(content)))
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		for _, want := range []string{"order_id", "customer_id", "item", "quantity", "price", "ordered_at"} {
			if _, ok := f.Schema().Lookup(want); !ok {
				b.Fatalf("%s: no column %s in %s", name, want, f.Schema())
			}
		}
		for _, rg := range f.RowGroups() {
			for _, cc := range rg.ColumnChunks() {
				if k := cc.Type().Kind(); k != pgo.ByteArray && k != pgo.Int64 && k != pgo.Double && k != pgo.Int32 {
					b.Fatalf("%s: column %d has type %s", name, cc.Column(), cc.Type())
				}
			}
		}
		rows += f.NumRows()
		size += int64(len(content))
	}
	if rows != d.records {
		b.Fatalf("the files hold %d rows, want %d", rows, d.records)
	}
	return size
}

func newExecutor(b *testing.B, d *topicData) *lease.Executor {
	b.Helper()
	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), avro.Plugins(), localsink.Plugins(), s3sink.Plugins(), hdfssink.Plugins())...)
	if err != nil {
		b.Fatal(err)
	}
	return lease.NewExecutor(reg, d.client, d.offsets, lease.Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

// run measures exports of d, one per iteration, then checks the output of
// each with check, which returns its size.
func run(b *testing.B, d *topicData, cfgFor func(iter int) map[string]string, check func(iter int) int64) {
	runWith(b, d, cfgFor, check, nil)
}

// runWith is run with after called after each export (outside the timed
// part's accounting of the output checks, inside its elapsed time).
func runWith(b *testing.B, d *topicData, cfgFor func(iter int) map[string]string, check func(iter int) int64, after func(iter int)) {
	exec := newExecutor(b, d)
	tasks := envInt(b, "SLUICE_BENCH_TASKS", partitions)
	benchkit.ResetPeakRSS()
	stopProfile := benchkit.StartCPUProfile(b, os.Getenv("SLUICE_BENCH_CPUPROFILE"))
	b.ResetTimer()
	start, cpu0 := time.Now(), benchkit.CPU()
	var bytes int64
	for i := range b.N {
		bytes += export(b, exec, d, cfgFor(i), tasks, i)
		if after != nil {
			after(i)
		}
	}
	elapsed, cpu := time.Since(start), benchkit.CPU()-cpu0
	b.StopTimer()
	stopProfile()
	benchkit.Report(b, d.records*int64(b.N), bytes, elapsed, cpu)
	var out int64
	for i := range b.N {
		out += check(i)
	}
	b.ReportMetric(float64(out)/float64(b.N)/(1<<20), "out-MiB")
}

// BenchmarkExportParquetLocal exports the topic to snappy Parquet files in
// a local directory with the local sink connector.
func BenchmarkExportParquetLocal(b *testing.B) {
	d := produce(b, envInt(b, "SLUICE_BENCH_RECORDS", defaultRecords))
	root := b.TempDir()
	dir := func(iter int) string { return filepath.Join(root, strconv.Itoa(iter)) }
	run(b, d, func(iter int) map[string]string {
		cfg := sinkConfig("export-local", localsink.Class)
		cfg["local.dir"] = dir(iter)
		return cfg
	}, func(iter int) int64 {
		files := map[string][]byte{}
		err := filepath.WalkDir(dir(iter), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			files[path], err = os.ReadFile(path)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		size := checkParquet(b, d, files)
		if err := os.RemoveAll(dir(iter)); err != nil {
			b.Fatal(err)
		}
		return size
	})
}

// BenchmarkExportParquetS3 exports the topic to snappy Parquet objects in
// versitygw (a real S3 server, in its own process) with the S3 sink
// connector.
func BenchmarkExportParquetS3(b *testing.B) {
	d := produce(b, envInt(b, "SLUICE_BENCH_RECORDS", defaultRecords))
	srv := s3test.Start(b)
	prefix := func(iter int) string { return "run" + strconv.Itoa(iter) }
	run(b, d, func(iter int) map[string]string {
		cfg := maps.Clone(srv.Props())
		maps.Copy(cfg, sinkConfig("export-s3", s3sink.Class))
		cfg["topics.dir"] = prefix(iter)
		return cfg
	}, func(iter int) int64 {
		ctx := context.Background()
		store, err := s3store.Open(ctx, srv.Props())
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		keys, err := store.List(ctx, prefix(iter)+"/")
		if err != nil {
			b.Fatal(err)
		}
		files := map[string][]byte{}
		for _, key := range keys {
			rc, err := store.Open(ctx, key)
			if err != nil {
				b.Fatal(err)
			}
			files[key], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		return checkParquet(b, d, files)
	})
}

// BenchmarkExportAvroParquetLocal is BenchmarkExportParquetLocal for a
// topic of Avro values in Confluent's wire format (the same orders, written
// by the AvroConverter) read by the AvroConverter with its schema from a
// Schema Registry: franz-go's in-process registry (srfake), reached over
// HTTP on loopback. It reports the registry requests the sink's converters
// made per export: a cold process fetches the schema by id and looks up its
// version once, whatever the number of leases and records.
func BenchmarkExportAvroParquetLocal(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	producer := avro.New()
	// Its own configuration, so that the producer's client (and cache) is
	// not the sink's.
	if err := producer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL(), schemaregistry.AutoRegisterConfig: "true"}, false); err != nil {
		b.Fatal(err)
	}
	d := produceWith(b, envInt(b, "SLUICE_BENCH_RECORDS", defaultRecords), producer)
	sinkProps := map[string]string{schemaregistry.URLConfig: reg.URL(), schemaregistry.MaxRetriesConfig: "5"}
	cc, err := schemaregistry.ParseSettings(sinkProps)
	if err != nil {
		b.Fatal(err)
	}
	client, err := schemaregistry.Shared(cc)
	if err != nil {
		b.Fatal(err)
	}
	before := client.Requests()
	var firstExport int64
	root := b.TempDir()
	dir := func(iter int) string { return filepath.Join(root, strconv.Itoa(iter)) }
	runWith(b, d, func(iter int) map[string]string {
		cfg := sinkConfig("export-avro-local", localsink.Class)
		cfg["local.dir"] = dir(iter)
		cfg["value.converter"] = avro.Class
		delete(cfg, "value.converter.schemas.enable")
		for k, v := range sinkProps {
			cfg["value.converter."+k] = v
		}
		return cfg
	}, func(iter int) int64 {
		files := map[string][]byte{}
		err := filepath.WalkDir(dir(iter), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			files[path], err = os.ReadFile(path)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		size := checkParquet(b, d, files)
		if err := os.RemoveAll(dir(iter)); err != nil {
			b.Fatal(err)
		}
		return size
	}, func(iter int) {
		if iter == 0 {
			firstExport = client.Requests() - before
		}
	})
	b.ReportMetric(float64(firstExport), "registry-req-cold")
	b.ReportMetric(float64(client.Requests()-before)/float64(b.N), "registry-req/op")
}
