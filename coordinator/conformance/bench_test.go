package conformance

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkFileStreamConnectVsSluice (make bench-connect) moves
// SLUICE_BENCH_RECORDS lines of ~200 bytes (1,000,000 by default) through
// FileStreamSource -> Kafka and Kafka -> FileStreamSink, in Apache Kafka
// Connect and in Sluice, each phase in a fresh process on the same broker,
// and reports records/s, the process's CPU seconds and its peak RSS (the
// JVM's whole process for Connect). Reported, never asserted.
func BenchmarkFileStreamConnectVsSluice(b *testing.B) {
	realkafka.Require(b)
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	c := realkafka.Fresh(b, realkafka.Options{})
	dir := b.TempDir()
	in := filepath.Join(dir, "in.txt")
	f, err := os.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := strings.Repeat("x", 180)
	for i := range n {
		fmt.Fprintf(w, "%09d %s %09d\n", i, pad, i) // 200 bytes with the newline
	}
	w.Flush()
	f.Close()
	stringConv := map[string]string{
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	for range b.N {
		for _, rt := range []string{"connect", "sluice"} {
			topic := rt + "-bench"
			src := map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
				"tasks.max": "1", "file": in, "topic": topic}
			for k, v := range stringConv {
				src[k] = v
			}
			phase(b, c, rt, "source", src, n, func() (int, error) { return highWatermark(c, topic) })
			out := filepath.Join(dir, rt+"-out.txt")
			sink := map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
				"tasks.max": "1", "file": out, "topics": topic}
			for k, v := range stringConv {
				sink[k] = v
			}
			phase(b, c, rt, "sink", sink, n, func() (int, error) { return countLines(out) })
		}
	}
}

// phase starts the runtime, creates the connector, waits until done
// reports n, and reports the figures of that process.
func phase(b *testing.B, c *realkafka.Cluster, rt, kind string, cfg map[string]string, n int, done func() (int, error)) {
	b.Helper()
	var url string
	var pid int
	var stop func()
	group := fmt.Sprintf("bench-%s-%s-%d", rt, kind, time.Now().UnixNano())
	if rt == "connect" {
		w := realkafka.StartConnectT(b, c, realkafka.ConnectOptions{GroupID: group,
			ConfigTopic: group + "-configs", StatusTopic: group + "-status", OffsetsTopic: group + "-offsets"})
		url, pid, stop = w.URL, w.Pid(), w.Close
	} else {
		u, p := startSluiceOn(b, c, group, group)
		url, pid, stop = u, p.Cmd.Process.Pid, p.Kill
	}
	defer stop()
	cpu0 := benchkit.ProcessCPU(b, pid)
	start := time.Now()
	create(b, url, rt+"-"+kind, cfg)
	deadline := time.Now().Add(20 * time.Minute)
	for {
		got, err := done()
		if err == nil && got >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s %s: %d of %d after 20 minutes (%v)", rt, kind, got, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := benchkit.ProcessCPU(b, pid) - cpu0
	rss := benchkit.ProcessPeakRSSMiB(b, pid)
	b.ReportMetric(float64(n)/elapsed.Seconds(), rt+"-"+kind+"-records/s")
	b.ReportMetric(cpu.Seconds(), rt+"-"+kind+"-CPU-s")
	b.ReportMetric(rss, rt+"-"+kind+"-peak-RSS-MB")
	b.Logf("%-7s %-6s %d records in %s: %.0f records/s, %.1f CPU-s, peak RSS %.0f MB",
		rt, kind, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), cpu.Seconds(), rss)
}

func highWatermark(c *realkafka.Cluster, topic string) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = topic
	p := kmsg.NewListOffsetsRequestTopicPartition()
	p.Timestamp = -1
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	if len(resp.Topics) == 0 || len(resp.Topics[0].Partitions) == 0 {
		return 0, fmt.Errorf("no offsets for %s", topic)
	}
	return int(resp.Topics[0].Partitions[0].Offset), nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += strings.Count(string(buf[:k]), "\n")
		if err != nil {
			return n, nil
		}
	}
}
