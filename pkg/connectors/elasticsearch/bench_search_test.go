//go:build search

package elasticsearch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/elasticsearch"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

func benchRecords(b *testing.B) int {
	if v := os.Getenv("SLUICE_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 10000
}

// BenchmarkSearchSink writes SLUICE_BENCH_RECORDS orders (JSON, about 200
// bytes; 4 partitions on the embedded broker in its own process) into the
// OpenSearch node with one sink lease: bulk requests of batch.size 2000,
// IDs topic+partition+offset. Reported: records/s, CPU seconds and peak RSS
// of this process (the lease; the node's JVM is another process).
func BenchmarkSearchSink(b *testing.B) {
	n := benchRecords(b)
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	topic := "bench-orders"
	bytesIn := benchkit.ProduceOrders(b, k.Client, topic, n)
	warmUp(b, benchkit.Pregenerate(b, topic, min(n, warmRound)))
	ctx := context.Background()
	parts, err := k.Client.Partitions(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}
	var tps []kafka.TopicPartition
	for _, p := range parts {
		tps = append(tps, kafka.TopicPartition{Topic: topic, Partition: p})
	}
	wms, err := k.Client.Watermarks(ctx, tps)
	if err != nil {
		b.Fatal(err)
	}
	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), transforms.Plugins(), elasticsearch.Plugins())...)
	if err != nil {
		b.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: time.Second})
	for iter := 0; iter < b.N; iter++ {
		index := fmt.Sprintf("sink-%d", iter)
		cfg := sinkConfig(node.URL, topic, "key.ignore", "true", "batch.size", "2000", "read.timeout.ms", "60000")
		cfg["transforms"], cfg["transforms.route.type"] = "route", "org.apache.kafka.connect.transforms.RegexRouter"
		cfg["transforms.route.regex"], cfg["transforms.route.replacement"] = ".*", index
		var ranges []lease.Range
		for _, tp := range tps {
			ranges = append(ranges, lease.Range{Topic: topic, Partition: tp.Partition, Start: wms[tp].Low, End: wms[tp].High})
		}
		benchkit.ResetPeakRSS()
		node0 := nodeCPU(b)
		cpu0, t0 := benchkit.CPU(), time.Now()
		res := exec.Run(ctx, lease.Lease{ID: index, Kind: lease.KindSink, Connector: cfg["name"], Epoch: int64(iter + 1),
			Deadline: time.Now().Add(30 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges,
			Budget: lease.Budget{MaxTime: lease.Duration(29 * time.Minute)}})
		elapsed, cpu, nodeCPUs := time.Since(t0), benchkit.CPU()-cpu0, nodeCPU(b).sub(node0)
		if res.Status != lease.Succeeded || res.Records != int64(n) {
			b.Fatalf("lease: %s, %d records: %s", res.Status, res.Records, res.Error)
		}
		if got := count(b, index); got != n {
			b.Fatalf("index %s has %d documents, want %d", index, got, n)
		}
		deleteIndex(b, index)
		benchkit.Report(b, int64(n), bytesIn, elapsed, cpu)
		nodeCPUs.report(b)
		b.Logf("load average after the run: %s", loadAverage())
	}
}

// BenchmarkSearchBareBulk is the anchor: the same documents (generated
// beforehand, in memory) sent by a bare net/http client as bulk requests
// of 2,000 with up to bareInFlight requests in flight, as the sink sends
// them (max.in.flight.requests, default 5). Until this anchor sent one
// request at a time while the sink kept five in flight, which measured
// less than the node's own rate.
func BenchmarkSearchBareBulk(b *testing.B) {
	n := benchRecords(b)
	msgs := benchkit.Pregenerate(b, "bench-orders", n)
	var bytesIn int64
	for _, m := range msgs {
		bytesIn += int64(len(m.Key) + len(m.Value))
	}
	warmUp(b, msgs)
	for iter := 0; iter < b.N; iter++ {
		index := fmt.Sprintf("bare-%d", iter)
		benchkit.ResetPeakRSS()
		node0 := nodeCPU(b)
		cpu0, t0 := benchkit.CPU(), time.Now()
		bareBulk(b, index, msgs)
		elapsed, cpu, nodeCPUs := time.Since(t0), benchkit.CPU()-cpu0, nodeCPU(b).sub(node0)
		if got := count(b, index); got != n {
			b.Fatalf("index %s has %d documents, want %d", index, got, n)
		}
		deleteIndex(b, index)
		benchkit.Report(b, int64(n), bytesIn, elapsed, cpu)
		nodeCPUs.report(b)
		b.Logf("load average after the run: %s", loadAverage())
	}
}

// bareInFlight is how many bulk requests the anchor keeps in flight: the
// sink's default max.in.flight.requests.
const bareInFlight = 5

// bulkShape is how a bulk request is sent: with the sink's filter_path
// on the answer or not, and accepting a gzip answer or not (net/http asks
// for one unless told not to, and the node compresses when asked).
type bulkShape struct{ filter, gzip bool }

// anchorShape is the anchor's requests' shape.
var anchorShape = bulkShape{filter: false, gzip: true}

// bareBulk indexes msgs' values into index with bulk requests of 2,000,
// bareInFlight at a time, shaped as the anchor's.
func bareBulk(b *testing.B, index string, msgs []kafka.Message) {
	bareBulkFrom(b, index, msgs, 0, anchorShape)
}

// bareBulkFrom is bareBulk with the IDs numbered from first and request k
// shaped as shapes[k % len(shapes)].
func bareBulkFrom(b *testing.B, index string, msgs []kafka.Message, first int, shapes ...bulkShape) {
	clients := map[bool]*http.Client{}
	for _, gzip := range []bool{false, true} {
		clients[gzip] = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: bareInFlight, DisableCompression: !gzip}}
	}
	starts := make(chan int)
	errs := make(chan error, bareInFlight)
	var wg sync.WaitGroup
	for range bareInFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for start := range starts {
				body = body[:0]
				for i := start; i < min(start+2000, len(msgs)); i++ {
					body = fmt.Appendf(body, `{"index":{"_index":%q,"_id":"bench-orders+0+%d"}}`+"\n", index, first+i)
					body = append(append(body, msgs[i].Value...), '\n')
				}
				shape := shapes[start/2000%len(shapes)]
				if err := postBulk(clients[shape.gzip], shape.filter, body); err != nil {
					errs <- err
					for range starts { // drain: the sender stops at the first error
					}
					return
				}
			}
		}()
	}
	var err error
send:
	for start := 0; start < len(msgs); start += 2000 {
		select {
		case starts <- start:
		case err = <-errs:
			break send
		}
	}
	close(starts)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		b.Fatal(err)
	}
}

// postBulk sends one bulk body and checks that every item succeeded.
func postBulk(client *http.Client, filter bool, body []byte) error {
	path := "/_bulk"
	if filter {
		path += "?filter_path=errors,items.*.status,items.*.error"
	}
	resp, err := client.Post(node.URL+path, "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !bytes.Contains(answer[:min(len(answer), 64)], []byte(`"errors":false`)) {
		return fmt.Errorf("bulk: %d %.300s", resp.StatusCode, answer)
	}
	return nil
}

// warmUp indexes documents into a scratch index, untimed, in rounds of
// warmRound, until the node's JIT compilers have settled (at least
// warmMinRounds, then until they used less than a tenth of the node's CPU
// in a round), and deletes the index. The node's JIT takes hundreds of
// thousands of documents to settle, more on a loaded machine: with a fixed
// 20,000 documents of warm-up the benchmark that ran first (the sink's)
// paid for the rest, and the node spent about 40% more CPU on its requests
// than on the anchor's. Even after it, the first million documents cost
// the node some seconds of JIT more than a second million, whichever
// client sends them: make bench-search runs each benchmark on a node of
// its own.
func warmUp(b *testing.B, msgs []kafka.Message) {
	msgs = msgs[:min(len(msgs), warmRound)]
	var first, last nodeTimes
	round := 0
	for round < warmMaxRounds {
		cpu0 := nodeCPU(b)
		bareBulkFrom(b, "warmup", msgs, round*len(msgs), warmShapes...)
		last = nodeCPU(b).sub(cpu0)
		if round++; round == 1 {
			first = last
		}
		if round >= warmMinRounds && last.jit < last.total/10 {
			break
		}
	}
	// One line: the benchmark's log keeps only its first lines.
	b.Logf("warm-up: %d rounds of %d documents (at most %d); node CPU-s in the first %.2f (JIT %.2f), in the last %.2f (JIT %.2f)",
		round, len(msgs), warmMaxRounds, first.total, first.jit, last.total, last.jit)
	deleteIndex(b, "warmup")
}

// warmShapes are the request shapes the warm-up sends, each in turn: the
// sink's and the anchor's among them, so that the node's JIT has compiled
// both paths.
var warmShapes = []bulkShape{{false, false}, {false, true}, {true, false}, {true, true}}

const (
	warmRound     = 50_000
	warmMinRounds = 4
	warmMaxRounds = 40
)

// deleteIndex deletes index, so that its merges do not run into the next
// measurement.
func deleteIndex(b *testing.B, index string) {
	if status, m := es(b, "DELETE", "/"+index, ""); status != 200 {
		b.Fatalf("deleting %s: %d %v", index, status, m)
	}
}

// nodeTimes is CPU seconds (user and system) of the search node's JVM:
// all its threads, and its JIT compiler threads among them.
type nodeTimes struct{ total, jit float64 }

func (t nodeTimes) sub(u nodeTimes) nodeTimes { return nodeTimes{t.total - u.total, t.jit - u.jit} }

// report reports the node's CPU seconds, and those of its JIT compilers
// apart: compiling is warm-up, not the work the requests asked for.
func (t nodeTimes) report(b *testing.B) {
	b.ReportMetric(t.total, "node-cpu-s")
	b.ReportMetric(t.jit, "node-jit-cpu-s")
}

// nodeCPU returns the CPU seconds of the search node's JVM: the process
// whose command line has the node's HTTP port as an argument (both
// launchers pass it so). The JIT's are its threads named C1/C2
// CompilerThread (HotSpot); both launchers keep them alive
// (-XX:-UseDynamicNumberOfCompilerThreads), so none takes its seconds
// away when it ends.
func nodeCPU(b *testing.B) nodeTimes {
	port := node.URL[strings.LastIndexByte(node.URL, ':')+1:]
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		args, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !bytes.Contains(args, []byte("java")) || !slices.ContainsFunc(bytes.Split(args, []byte{0}), func(a []byte) bool {
			return string(a) == port || string(a) == "http.port="+port
		}) {
			continue
		}
		total, ok := cpuSeconds("/proc/" + d.Name() + "/stat")
		if !ok {
			continue
		}
		var jit float64
		threads, _ := os.ReadDir("/proc/" + d.Name() + "/task")
		for _, th := range threads {
			dir := "/proc/" + d.Name() + "/task/" + th.Name()
			if comm, err := os.ReadFile(dir + "/comm"); err == nil && bytes.Contains(comm, []byte("CompilerThre")) {
				s, _ := cpuSeconds(dir + "/stat")
				jit += s
			}
		}
		return nodeTimes{total, jit}
	}
	b.Fatalf("no JVM with port %s among the processes", port)
	return nodeTimes{}
}

// cpuSeconds reads utime and stime of a process's or thread's stat file.
func cpuSeconds(path string) (float64, bool) {
	stat, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	// Fields after the command's closing parenthesis: utime and stime are
	// the 12th and 13th, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, true
}

// loadAverage is the machine's 1, 5 and 15 minute load averages: the
// machine is shared, and throughput depends on it.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
