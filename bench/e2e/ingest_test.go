package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// jsonLines writes n datagen orders as JSON lines (about 200 bytes each)
// to a file and returns its path and the lines.
func jsonLines(b *testing.B, n int) (string, [][]byte) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "orders.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	lines := make([][]byte, 0, n)
	benchkit.Orders(b, "orders", n, func(ms []kafka.Message) {
		for _, m := range ms {
			if len(lines) == n {
				return
			}
			lines = append(lines, m.Value)
			w.Write(m.Value)
			w.WriteByte('\n')
		}
	})
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, lines
}

// BenchmarkE2EIngest moves SLUICE_BENCH_RECORDS JSON lines from a file
// into a 4-partition topic with a FileStreamSource connector of a
// properties file, from the coordinator process's start until the topic
// holds every line.
func BenchmarkE2EIngest(b *testing.B) {
	bin := binaries(b)
	broker := benchkit.ExternalBroker(b)
	k := kafkatest.Connect(b, []string{broker})
	for _, n := range sizes(b) {
		file, _ := jsonLines(b, n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var rs runs
			for i := range b.N {
				r := ingest(b, bin, broker, k.Client, file, n, i)
				rs = append(rs, r)
				fmt.Printf("ingest, %d records: first in the topic %s, all %s (%.0f records/s); coordinator %.2f CPU-s, peak RSS %.0f MB\n%s",
					n, r.first.Round(time.Millisecond), r.all.Round(time.Millisecond), float64(n)/r.all.Seconds(),
					r.coordCPU.Seconds(), r.coordRSS, r.timeline)
			}
			rs.report(b, n)
		})
	}
}

func ingest(b *testing.B, bin, broker string, client *kafka.Client, file string, n, iter int) run {
	b.Helper()
	runSeq++
	id := fmt.Sprintf("ingest-%d-%d-%d", n, iter, runSeq)
	ctx := context.Background()
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: id, Partitions: partitions}); err != nil {
		b.Fatal(err)
	}
	tps := make([]kafka.TopicPartition, partitions)
	for i := range tps {
		tps[i] = kafka.TopicPartition{Topic: id, Partition: int32(i)}
	}
	dir := filepath.Dir(file)
	props := filepath.Join(b.TempDir(), "source.properties")
	writeFile(b, props, strings.Join([]string{
		"name=" + id,
		"connector.class=org.apache.kafka.connect.file.FileStreamSourceConnector",
		"tasks.max=1",
		"file=" + file,
		"topic=" + id,
		"key.converter=org.apache.kafka.connect.storage.StringConverter",
		"value.converter=org.apache.kafka.connect.storage.StringConverter",
	}, "\n")+"\n")
	addr := proctest.FreeAddr(b)
	coord := proctest.Start(b, "coordinator", filepath.Join(bin, "coordinator"), coordinatorEnv(broker, addr, id, dir), props)
	t0 := coord.Started
	var r run
	deadline := t0.Add(10 * time.Minute)
	for {
		wms, err := client.Watermarks(ctx, tps)
		now := time.Now()
		var in int64
		for _, wm := range wms {
			in += wm.High - wm.Low
		}
		if err == nil && in > 0 && r.first == 0 {
			r.first = now.Sub(t0)
		}
		if err == nil && in >= int64(n) {
			r.all = now.Sub(t0)
			break
		}
		if coord.Exited() || now.After(deadline) {
			b.Fatalf("%s: %d of %d lines in the topic after %s (%v)\n%s", id, in, n, now.Sub(t0).Round(time.Millisecond), err,
				proctest.LastLines(coord.Stderr.String(), 40))
		}
		time.Sleep(pollEvery)
	}
	pid := coord.Cmd.Process.Pid
	r.coordCPU, r.coordRSS = benchkit.ProcessCPU(b, pid), peakRSSMB(b, pid)
	coord.Kill()
	r.timeline = parseTimeline(t0, r.all, coord.Stderr.String())
	return r
}

// BenchmarkE2ERawProduce produces the lines BenchmarkE2EIngest moves, as
// the values of keyless messages, with the same Kafka client (pkg/kafka's
// producer) from memory: the ceiling of the ingest. CPU and RSS are the
// benchmark process's.
func BenchmarkE2ERawProduce(b *testing.B) {
	broker := benchkit.ExternalBroker(b)
	client := kafkatest.Connect(b, []string{broker}).Client
	for _, n := range sizes(b) {
		_, lines := jsonLines(b, n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var elapsed, cpu time.Duration
			var bytes int64
			benchkit.ResetPeakRSS()
			for i := range b.N {
				e, c, by := rawProduce(b, client, fmt.Sprintf("raw-%d-%d", n, i), lines)
				elapsed, cpu, bytes = elapsed+e, cpu+c, bytes+by
			}
			benchkit.Report(b, int64(n*b.N), bytes, elapsed, cpu)
			fmt.Printf("raw produce, %d records: %s (%.0f records/s), %.2f CPU-s\n", n, (elapsed / time.Duration(b.N)).Round(time.Millisecond),
				float64(n*b.N)/elapsed.Seconds(), cpu.Seconds()/float64(b.N))
		})
	}
}

// rawProduce produces lines to a new 4-partition topic as the values of
// keyless messages with pkg/kafka's producer and returns the time from the
// first send to the flush's end, the CPU the process used meanwhile and
// the bytes sent.
func rawProduce(b *testing.B, client *kafka.Client, topic string, lines [][]byte) (elapsed, cpu time.Duration, bytes int64) {
	b.Helper()
	ctx := context.Background()
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: partitions}); err != nil {
		b.Fatal(err)
	}
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	start, cpu0 := time.Now(), benchkit.CPU()
	for _, l := range lines {
		if err := p.Send(ctx, kafka.Message{Topic: topic, Partition: -1, Value: l}); err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(l))
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start), benchkit.CPU() - cpu0, bytes
}

// BenchmarkE2EIngestVsRaw is the ingest figure as one number: for
// the same SLUICE_BENCH_RECORDS JSON lines on the same broker, runs of
// BenchmarkE2ERawProduce's raw produce and of BenchmarkE2EIngest's
// end-to-end ingest in turn (so that both see the same load), and the
// ingest's throughput as a share of raw produce's: "ratio" end to end (from
// the coordinator's start until the topic holds every line, as the target
// is stated), and "ratio-from-first" from the first line in the topic
// (start-up left out).
func BenchmarkE2EIngestVsRaw(b *testing.B) {
	bin := binaries(b)
	broker := benchkit.ExternalBroker(b)
	client := kafkatest.Connect(b, []string{broker}).Client
	for _, n := range sizes(b) {
		file, lines := jsonLines(b, n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var raw, all, steady, rawCPU, ingestCPU time.Duration
			for i := range b.N {
				e, c, _ := rawProduce(b, client, fmt.Sprintf("rawvs-%d-%d", n, i), lines)
				r := ingest(b, bin, broker, client, file, n, i)
				raw, rawCPU = raw+e, rawCPU+c
				all, steady, ingestCPU = all+r.all, steady+(r.all-r.first), ingestCPU+r.coordCPU
				fmt.Printf("ingest vs raw produce, %d records: raw %s (%.0f records/s, %.2f CPU-s), ingest %s from start (%.0f records/s, %.0f%% of raw), %s from the first line (%.0f%% of raw); coordinator %.2f CPU-s, peak RSS %.0f MB\n",
					n, e.Round(time.Millisecond), float64(n)/e.Seconds(), c.Seconds(),
					r.all.Round(time.Millisecond), float64(n)/r.all.Seconds(), 100*e.Seconds()/r.all.Seconds(),
					(r.all - r.first).Round(time.Millisecond), 100*e.Seconds()/(r.all-r.first).Seconds(), r.coordCPU.Seconds(), r.coordRSS)
			}
			k := float64(b.N)
			b.ReportMetric(float64(n)*k/raw.Seconds(), "raw-records/s")
			b.ReportMetric(float64(n)*k/all.Seconds(), "ingest-records/s")
			b.ReportMetric(raw.Seconds()/all.Seconds(), "ratio")
			b.ReportMetric(raw.Seconds()/steady.Seconds(), "ratio-from-first")
			b.ReportMetric(rawCPU.Seconds()/k, "raw-cpu-s")
			b.ReportMetric(ingestCPU.Seconds()/k, "coord-cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
