package lease_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// eosBenchRun is one measured run of BenchmarkSourceExactlyOnce.
type eosBenchRun struct {
	round       int
	mode        string
	recordsPerS float64
	cpuS        float64
	peakRSSMB   float64
	load1       [2]float64 // the 1-minute load average before and after
}

// BenchmarkSourceExactlyOnce is BenchmarkSourcePipeline (datagen orders of
// ~200 bytes -> JSON -> produce -> offsets, leases of at most
// SLUICE_BENCH_LEASE_RECORDS records, default 100,000) with exactly-once
// support disabled, and enabled with transaction.boundary=poll (a
// transaction per Poll of 2,000 records) and interval (one a second, and
// one every 100 ms): the cost of the transactions (make bench-eos,
// -benchtime 1000000x).
//
// The modes are interleaved: SLUICE_BENCH_ROUNDS rounds (default 3), each
// running every mode once (sub-benchmarks r<round>-<mode>), in an order
// rotated by one each round, each run on a fresh broker process. A load
// that comes and goes then falls on every mode alike, and each round's
// exactly-once runs are compared with that round's disabled run. The
// summary printed at the end gives each run's records/s, CPU-s, peak RSS
// and the 1-minute load average around it, and each mode's cost against
// disabled per round and its median.
func BenchmarkSourceExactlyOnce(b *testing.B) {
	perLease := int64(100_000)
	if v, err := strconv.ParseInt(os.Getenv("SLUICE_BENCH_LEASE_RECORDS"), 10, 64); err == nil && v > 0 {
		perLease = v
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	modes := []struct {
		name string
		eos  *lease.ExactlyOnce
	}{
		{name: "disabled"},
		{name: "poll", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryPoll}},
		{name: "interval", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryInterval, Interval: lease.Duration(time.Second)}},
		{name: "interval-100ms", eos: &lease.ExactlyOnce{Boundary: lease.BoundaryInterval, Interval: lease.Duration(100 * time.Millisecond)}},
	}
	var runs []eosBenchRun
	for r := range rounds {
		for i := range modes {
			tc := modes[(i+r)%len(modes)]
			b.Run(fmt.Sprintf("r%d-%s", r+1, tc.name), func(b *testing.B) {
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
				benchkit.ResetPeakRSS()
				load0 := loadAverage1()
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
				elapsed, cpu := time.Since(start), benchkit.CPU()-cpu0
				b.StopTimer()
				load := loadAverage1()
				benchkit.Report(b, records, bytes, elapsed, cpu)
				b.ReportMetric(load, "load1")
				if b.N > 1 { // not Go's first run of one record
					runs = append(runs, eosBenchRun{round: r + 1, mode: tc.name, recordsPerS: float64(records) / elapsed.Seconds(),
						cpuS: cpu.Seconds(), peakRSSMB: benchkit.PeakRSSMB(), load1: [2]float64{load0, load}})
				}
			})
		}
	}
	if len(runs) > 0 {
		fmt.Print(eosBenchSummary(runs, modes[0].name))
	}
}

// eosBenchSummary is the table BenchmarkSourceExactlyOnce prints: every
// run, then each mode's records/s cost against the same round's baseline
// run (1 - mode/baseline), per round and the median.
func eosBenchSummary(runs []eosBenchRun, baseline string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "\nBenchmarkSourceExactlyOnce summary (%d runs, modes interleaved; load1 = 1-minute load average before -> after the run, %d cores)\n",
		len(runs), runtime.NumCPU())
	fmt.Fprintf(&s, "%-6s %-15s %12s %8s %10s %14s\n", "round", "mode", "records/s", "cpu-s", "rss-MB", "load1")
	for _, r := range runs {
		fmt.Fprintf(&s, "%-6d %-15s %12.0f %8.2f %10.1f %6.2f -> %5.2f\n", r.round, r.mode, r.recordsPerS, r.cpuS, r.peakRSSMB, r.load1[0], r.load1[1])
	}
	var order []string
	for _, r := range runs {
		if r.mode != baseline && !slices.Contains(order, r.mode) {
			order = append(order, r.mode)
		}
	}
	slices.Sort(order)
	costs := func(title string, cost func(r, base eosBenchRun) float64) {
		base := map[int]eosBenchRun{}
		for _, r := range runs {
			if r.mode == baseline {
				base[r.round] = r
			}
		}
		fmt.Fprintf(&s, "%s against %s in the same round:\n", title, baseline)
		for _, mode := range order {
			var cs []float64
			var per []string
			for _, r := range runs {
				if b, ok := base[r.round]; ok && r.mode == mode && b.recordsPerS > 0 && b.cpuS > 0 {
					c := cost(r, b)
					cs = append(cs, c)
					per = append(per, fmt.Sprintf("r%d %.1f%%", r.round, c))
				}
			}
			if len(cs) > 0 {
				fmt.Fprintf(&s, "  %-15s median %6.1f%%   (%s)\n", mode, median(cs), strings.Join(per, ", "))
			}
		}
	}
	costs("exactly-once cost in records/s (target: at most 15%)", func(r, b eosBenchRun) float64 {
		return 100 * (1 - r.recordsPerS/b.recordsPerS)
	})
	// CPU seconds for the same records vary less with the machine's load
	// than wall-clock throughput does.
	costs("exactly-once cost in CPU seconds of the benchmark process", func(r, b eosBenchRun) float64 {
		return 100 * (r.cpuS/b.cpuS - 1)
	})
	return s.String()
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// loadAverage1 is the machine's 1-minute load average (/proc/loadavg), or
// -1 where it cannot be read.
func loadAverage1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// The summary compares each exactly-once run with the disabled run of the
// same round, whatever order the round ran its modes in.
func TestEOSBenchSummaryPairsRounds(t *testing.T) {
	runs := []eosBenchRun{
		{round: 1, mode: "disabled", recordsPerS: 100, cpuS: 10},
		{round: 1, mode: "poll", recordsPerS: 90, cpuS: 11},
		{round: 2, mode: "poll", recordsPerS: 40, cpuS: 13}, // a loaded round: its baseline is slow too
		{round: 2, mode: "disabled", recordsPerS: 50, cpuS: 10},
		{round: 3, mode: "poll", recordsPerS: 95, cpuS: 12},
		{round: 3, mode: "disabled", recordsPerS: 100, cpuS: 10},
	}
	got := eosBenchSummary(runs, "disabled")
	for _, want := range []string{
		"poll            median   10.0%   (r1 10.0%, r2 20.0%, r3 5.0%)",
		"poll            median   20.0%   (r1 10.0%, r2 30.0%, r3 20.0%)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
