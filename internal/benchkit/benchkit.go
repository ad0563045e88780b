// Package benchkit holds what Sluice's end-to-end benchmarks share: a Kafka
// broker in its own process, the datagen messages they move, and the
// figures they report (records/s, MB/s, CPU seconds, peak RSS), measured
// for the benchmark's process alone.
package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connectors/datagen"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// ExternalBroker runs the embedded broker in its own process (the broker
// command next to this package, in memory; auto-created topics have 4
// partitions), so that the CPU time and peak RSS a benchmark reports are
// its own alone. The broker stops when the benchmark ends.
//
// With SLUICE_TEST_KAFKA=real (make bench-pipeline-real, bench-export-real)
// it is the test binary's Apache Kafka KRaft broker instead (also its own
// process, a JVM), emptied of earlier topics and groups; the package's
// TestMain stops it (realkafka.Main).
func ExternalBroker(tb testing.TB) string {
	tb.Helper()
	if realkafka.Enabled() {
		return realkafka.Fresh(tb, realkafka.Options{Partitions: 4}).Addrs()[0]
	}
	dir := tb.TempDir()
	bin := filepath.Join(dir, "broker")
	build := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/internal/benchkit/broker")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building the broker: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, addr, "4")
	cmd.Stderr = os.Stderr
	// A benchmark killed before its cleanup must not leave the broker
	// running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("external broker did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CPU returns the user plus system CPU time the process has used so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ResetPeakRSS returns what the Go runtime holds but no longer uses to the
// operating system and resets the process's peak RSS to its current RSS
// (Linux's /proc/self/clear_refs), so that PeakRSSMB reports the peak of
// what runs next rather than of what ran before (generating data, an
// earlier benchmark). Without clear_refs the peak stays the process's
// lifetime peak.
func ResetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSSMB returns the process's peak resident set size in MiB since
// ResetPeakRSS (VmHWM), or since it started where /proc is not available.
func PeakRSSMB() float64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// Report reports records/s, MB/s (of keys and values), the CPU seconds
// used and the peak RSS, and no ns/op (one op is the whole run).
func Report(b *testing.B, records, bytes int64, elapsed, cpu time.Duration) {
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(PeakRSSMB(), "peak-rss-MB")
	b.ReportMetric(0, "ns/op")
}

// Registry holds the converters and datagen.
func Registry(tb testing.TB) *connect.Registry {
	tb.Helper()
	reg, err := connect.NewRegistry(append(converter.Plugins(), datagen.Plugins()...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// Orders calls fn with batches of the n messages the datagen pipeline
// produces to topic: the orders shape, keyed, converted by the
// StringConverter and the schemaless JsonConverter (values of about 200
// bytes). fn may keep the batches.
func Orders(tb testing.TB, topic string, n int, fn func([]kafka.Message)) {
	tb.Helper()
	OrdersWith(tb, topic, n, nil, fn)
}

// OrdersWith is Orders with the values converted by vc (a configured
// value converter; nil is the schemaless JsonConverter).
func OrdersWith(tb testing.TB, topic string, n int, vc connect.Converter, fn func([]kafka.Message)) {
	tb.Helper()
	ctx := context.Background()
	reg := Registry(tb)
	p, err := reg.Connector("Datagen")
	if err != nil {
		tb.Fatal(err)
	}
	key, _ := reg.Lookup(connect.KindConverter, "org.apache.kafka.connect.storage.StringConverter")
	kc := key.NewConverter()
	if err := kc.Configure(nil, true); err != nil {
		tb.Fatal(err)
	}
	if vc == nil {
		val, _ := reg.Lookup(connect.KindConverter, "org.apache.kafka.connect.json.JsonConverter")
		vc = val.NewConverter()
		if err := vc.Configure(map[string]string{"schemas.enable": "false"}, false); err != nil {
			tb.Fatal(err)
		}
	}
	task := p.NewSourceTask()
	cfg := map[string]string{"topic": topic, "shape": "orders", "count": strconv.Itoa(n), "batch.size": "2000"}
	if err := task.Start(ctx, noOffsets{}, cfg); err != nil {
		tb.Fatal(err)
	}
	defer task.Stop()
	for done := 0; done < n; {
		recs, err := task.Poll(ctx)
		if err != nil || len(recs) == 0 {
			tb.Fatalf("datagen: %d records, err %v", done, err)
		}
		msgs := make([]kafka.Message, 0, len(recs))
		for _, r := range recs {
			k, err := kc.FromConnectData(r.Topic, r.KeySchema, r.Key)
			if err != nil {
				tb.Fatal(err)
			}
			v, err := vc.FromConnectData(r.Topic, r.ValueSchema, r.Value)
			if err != nil {
				tb.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Topic: r.Topic, Partition: -1, Key: k, Value: v, Timestamp: r.Timestamp})
		}
		done += len(msgs)
		fn(msgs)
	}
}

// Pregenerate returns the n messages Orders produces, all in memory.
func Pregenerate(tb testing.TB, topic string, n int) []kafka.Message {
	tb.Helper()
	msgs := make([]kafka.Message, 0, n)
	Orders(tb, topic, n, func(ms []kafka.Message) { msgs = append(msgs, ms...) })
	return msgs[:n]
}

// ProduceOrders produces the n messages of Orders to topic with the
// default producer, a batch at a time (memory stays small), and returns
// their key and value bytes.
func ProduceOrders(tb testing.TB, client *kafka.Client, topic string, n int) (bytes int64) {
	tb.Helper()
	return ProduceOrdersWith(tb, client, topic, n, nil)
}

// ProduceOrdersWith is ProduceOrders with the values converted by vc (nil:
// the schemaless JsonConverter).
func ProduceOrdersWith(tb testing.TB, client *kafka.Client, topic string, n int, vc connect.Converter) (bytes int64) {
	tb.Helper()
	ctx := context.Background()
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	sent := 0
	OrdersWith(tb, topic, n, vc, func(ms []kafka.Message) {
		for _, m := range ms {
			if sent == n {
				break
			}
			if err := p.Send(ctx, m); err != nil {
				tb.Fatal(err)
			}
			bytes += int64(len(m.Key) + len(m.Value))
			sent++
		}
		// Flushing now and then bounds what the producer holds.
		if sent%50_000 < len(ms) || sent == n {
			if err := p.Flush(ctx); err != nil {
				tb.Fatal(err)
			}
		}
	})
	return bytes
}

type noOffsets struct{}

func (noOffsets) Offsets() connect.OffsetReader        { return noOffsets{} }
func (noOffsets) Offset(map[string]any) map[string]any { return nil }

// StartCPUProfile starts a CPU profile of this process into the file path
// (nothing when path is empty: benchmarks pass $SLUICE_BENCH_CPUPROFILE),
// so that a benchmark can profile its timed part alone, not the set-up of
// its data; the returned function stops it.
func StartCPUProfile(tb testing.TB, path string) (stop func()) {
	tb.Helper()
	if path == "" {
		return func() {}
	}
	out, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		tb.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			tb.Error(err)
		}
	}
}

// ProcessCPU returns the user plus system CPU time process pid has used so
// far (/proc/<pid>/stat), for a benchmark timing a process of its own (the
// coordinator, a function, a JVM).
func ProcessCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th, in clock ticks (USER_HZ, 100).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100
}

// ProcessPeakRSSMiB returns process pid's peak resident set size (VmHWM)
// in MiB, as PeakRSSMB does for this process; 0 for a process that has
// exited and not been waited for (a zombie has no VmHWM).
func ProcessPeakRSSMiB(tb testing.TB, pid int) float64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
