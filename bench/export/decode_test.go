package export_test

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// BenchmarkDecodeParquet is the CPU-bound middle of the export without
// Kafka, the store or the executor: SLUICE_BENCH_RECORDS datagen orders (as
// the export's topic holds them) read by the StringConverter and the
// schemaless JsonConverter and written by the Parquet format (snappy), a
// file every flush.size records, on one goroutine. It is the figure to
// profile the decoding and Parquet writing with:
//
//	SLUICE_BENCH_RECORDS=1000000 SLUICE_BENCH_CPUPROFILE=cpu.prof go test -run '^$' -bench DecodeParquet -benchtime 1x ./bench/export/
func BenchmarkDecodeParquet(b *testing.B) { benchmarkParquet(b, false) }

// BenchmarkDecodeParquetRaw is BenchmarkDecodeParquet as a sink lease runs
// it by default: the JsonConverter checks each value (CheckRaw) and the
// Parquet format writes it from its bytes (connect.RawValue), without
// decoding it into Connect data.
//
//	SLUICE_BENCH_RECORDS=1000000 SLUICE_BENCH_CPUPROFILE=cpu.prof go test -run '^$' -bench DecodeParquetRaw -benchtime 1x ./bench/export/
func BenchmarkDecodeParquetRaw(b *testing.B) { benchmarkParquet(b, true) }

func benchmarkParquet(b *testing.B, raw bool) {
	n := envInt(b, "SLUICE_BENCH_RECORDS", defaultRecords)
	// The messages are kept in one pointer-free arena, so that holding a
	// million of them does not add to the collector's work as a fetched
	// batch would not.
	var arena []byte
	var ends []int // key end, value end, per message
	benchkit.Orders(b, topic, n, func(ms []kafka.Message) {
		for _, m := range ms {
			if len(ends) == 2*n {
				return
			}
			arena = append(arena, m.Key...)
			ends = append(ends, len(arena))
			arena = append(arena, m.Value...)
			ends = append(ends, len(arena))
		}
	})
	kc := converter.NewStringConverter()
	vc := converter.NewJSONConverter()
	if err := kc.Configure(nil, true); err != nil {
		b.Fatal(err)
	}
	if err := vc.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		b.Fatal(err)
	}
	f, err := sink.NewParquetFormat(map[string]string{"parquet.codec": "snappy"})
	if err != nil {
		b.Fatal(err)
	}
	bytes := int64(len(arena))
	defer benchkit.StartCPUProfile(b, os.Getenv("SLUICE_BENCH_CPUPROFILE"))()
	benchkit.ResetPeakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), benchkit.CPU()
	var rv connect.RawValue
	for range b.N {
		var w interface {
			Write(*connect.SinkRecord) error
			Close() error
		}
		from := 0
		for i := range n {
			if i%50_000 == 0 {
				if w != nil {
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				if w, err = f.NewWriter(io.Discard, nil); err != nil {
					b.Fatal(err)
				}
			}
			key, value := arena[from:ends[2*i]], arena[ends[2*i]:ends[2*i+1]]
			from = ends[2*i+1]
			var r connect.SinkRecord
			if r.KeySchema, r.Key, err = kc.ToConnectData(topic, key); err != nil {
				b.Fatal(err)
			}
			if raw && vc.CheckRaw(topic, value) {
				rv = connect.RawValue{Topic: topic, Bytes: value, Converter: vc}
				r.Value = &rv
			} else if r.ValueSchema, r.Value, err = vc.ToConnectData(topic, value); err != nil {
				b.Fatal(err)
			}
			if err := w.Write(&r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed, cpu := time.Since(start), benchkit.CPU()-cpu0
	b.StopTimer()
	benchkit.Report(b, int64(n*b.N), bytes*int64(b.N), elapsed, cpu)
	b.ReportMetric(cpu.Seconds()/float64(b.N)*1e6/float64(n), "cpu-s/1M")
}
