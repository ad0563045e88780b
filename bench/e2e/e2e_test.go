package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

const (
	partitions     = 4
	flushSize      = 50_000
	rotateInterval = time.Second
	// defaultRecords keeps make bench-smoke fast; make bench-e2e sets
	// SLUICE_BENCH_RECORDS=20000,1000000.
	defaultRecords = "20000"
)

// sizes reads SLUICE_BENCH_RECORDS: record counts, comma-separated.
func sizes(b *testing.B) []int {
	b.Helper()
	s := os.Getenv("SLUICE_BENCH_RECORDS")
	if s == "" {
		s = defaultRecords
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("SLUICE_BENCH_RECORDS=%q: want positive integers, comma-separated", s)
		}
		out = append(out, n)
	}
	return out
}

// modes reads SLUICE_BENCH_INVOKERS (default: all three).
func modes() []string {
	if s := os.Getenv("SLUICE_BENCH_INVOKERS"); s != "" {
		return strings.Split(s, ",")
	}
	return []string{"inprocess", "lambda", "pull"}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds the coordinator and the two functions once per test
// binary and returns the folder that holds them.
func binaries(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "sluice-bench-e2e-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+"/",
			"github.com/sluicehq/sluice/coordinator/cmd/coordinator",
			"github.com/sluicehq/sluice/functions/sink-batch",
			"github.com/sluicehq/sluice/functions/source-poll")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// run is one end-to-end run's figures.
type run struct {
	// firstFile is when the first Parquet file appeared, first when the
	// first offsets were committed, all when all were; from process start.
	firstFile   time.Duration
	first, all  time.Duration
	coordCPU    time.Duration
	coordRSS    float64
	functionCPU time.Duration
	functionRSS float64 // the largest function process's peak
	invocations int64
	timeline    *timeline
}

// runs accumulates the figures of b.N runs and reports their means.
type runs []run

func (rs runs) report(b *testing.B, records int) {
	b.Helper()
	var firstFile, first, all, cpu, fcpu time.Duration
	var rss, frss float64
	for _, r := range rs {
		firstFile += r.firstFile
		first += r.first
		all += r.all
		cpu += r.coordCPU
		fcpu += r.functionCPU
		rss = max(rss, r.coordRSS)
		frss = max(frss, r.functionRSS)
	}
	n := time.Duration(len(rs))
	if firstFile > 0 {
		b.ReportMetric((firstFile / n).Seconds(), "first-file-s")
	}
	b.ReportMetric((first / n).Seconds(), "first-s")
	b.ReportMetric((all / n).Seconds(), "all-s")
	b.ReportMetric(float64(records)/(all/n).Seconds(), "records/s")
	b.ReportMetric((cpu / n).Seconds(), "coord-cpu-s")
	b.ReportMetric(rss, "coord-peak-rss-MB")
	if fcpu > 0 {
		b.ReportMetric((fcpu / n).Seconds(), "fn-cpu-s")
		b.ReportMetric(frss, "fn-peak-rss-MB")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkE2EExport exports SLUICE_BENCH_RECORDS datagen orders from a
// 4-partition topic to snappy Parquet files with the local storage sink
// connector of a properties file, from the coordinator process's start
// until the connector's offsets show every record committed.
func BenchmarkE2EExport(b *testing.B) {
	bin := binaries(b)
	broker := benchkit.ExternalBroker(b)
	k := kafkatest.Connect(b, []string{broker})
	for _, n := range sizes(b) {
		topic := fmt.Sprintf("orders-%d", n)
		if err := k.Client.EnsureTopic(context.Background(), kafka.TopicSpec{Name: topic, Partitions: partitions}); err != nil {
			b.Fatal(err)
		}
		benchkit.ProduceOrders(b, k.Client, topic, n)
		// The records are there before start, older than the rotation
		// interval (1 s): a tail is due as soon as the coordinator sees it.
		time.Sleep(rotateInterval)
		for _, mode := range modes() {
			b.Run(fmt.Sprintf("invoker=%s/records=%d", mode, n), func(b *testing.B) {
				var rs runs
				for i := range b.N {
					r := export(b, bin, broker, k.Client, mode, topic, n, i)
					rs = append(rs, r)
					// The timeline goes to stdout: a benchmark's log is cut
					// to a few lines without -v.
					fmt.Printf("%s, %d records: first file %s, first offsets committed %s, all committed %s (%.0f records/s); coordinator %.2f CPU-s, peak RSS %.0f MB; functions %.2f CPU-s, peak RSS %.0f MB; %d invocations\n%s",
						mode, n, r.firstFile.Round(time.Millisecond), r.first.Round(time.Millisecond), r.all.Round(time.Millisecond), float64(n)/r.all.Seconds(),
						r.coordCPU.Seconds(), r.coordRSS, r.functionCPU.Seconds(), r.functionRSS, r.invocations, r.timeline)
				}
				rs.report(b, n)
			})
		}
	}
}

var runSeq int

// export runs the coordinator once with a fresh cluster id, state topics
// and connector (so a fresh consumer group) over the topic.
func export(b *testing.B, bin, broker string, k *kafka.Client, mode, topic string, n, iter int) run {
	b.Helper()
	runSeq++
	id := fmt.Sprintf("e2e-%s-%d-%d-%d", mode, n, iter, runSeq)
	dir := b.TempDir()
	out := filepath.Join(dir, "out")
	props := filepath.Join(dir, "sink.properties")
	writeFile(b, props, strings.Join([]string{
		"name=" + id,
		"connector.class=io.sluice.connect.storage.LocalSinkConnector",
		"tasks.max=4",
		"topics=" + topic,
		"local.dir=" + out,
		"format.class=io.confluent.connect.s3.format.parquet.ParquetFormat",
		"parquet.codec=snappy",
		"flush.size=" + strconv.Itoa(flushSize),
		"key.converter=org.apache.kafka.connect.storage.StringConverter",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable=false",
	}, "\n")+"\n")
	addr := proctest.FreeAddr(b)
	env := coordinatorEnv(broker, addr, id, dir)
	env = append(env, "SLUICE_DEFAULT_ROTATE_INTERVAL="+rotateInterval.String())

	var fns []*proctest.Process
	var fnCPU0 []time.Duration
	var rt *lambdatest.Runtime
	var lambdaSvc *lambdatest.Service
	switch mode {
	case "lambda":
		// Warm execution environments, one per task: Lambda's concurrency.
		rt = lambdatest.NewRuntime(b, "sink-batch")
		lambdaSvc = lambdatest.NewService(b, 60*time.Second, rt)
		for i := range 4 {
			fns = append(fns, proctest.Start(b, fmt.Sprintf("sink-batch-%d", i), filepath.Join(bin, "sink-batch"),
				append(append(functionEnv(broker, dir), rt.Env()...), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024")))
		}
		rt.WaitIdle(b, 4, 30*time.Second)
		env = append(env, "SLUICE_INVOKER=lambda", "SLUICE_LAMBDA_SINK_FUNCTION=sink-batch",
			"SLUICE_LAMBDA_ENDPOINT="+lambdaSvc.URL(),
			"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
		for _, p := range fns {
			fnCPU0 = append(fnCPU0, benchkit.ProcessCPU(b, p.Cmd.Process.Pid))
		}
	case "pull":
		env = append(env, "SLUICE_INVOKER=pull")
	case "inprocess":
	default:
		b.Fatalf("invoker %q: want inprocess, lambda or pull", mode)
	}

	coord := proctest.Start(b, "coordinator", filepath.Join(bin, "coordinator"), env, props)
	t0 := coord.Started
	if mode == "pull" {
		// A long-lived worker polls a coordinator that is starting: it
		// finds the REST listener as soon as it is up.
		waitListening(b, addr, coord)
		fns = append(fns, proctest.Start(b, "sink-batch-worker", filepath.Join(bin, "sink-batch"),
			append(functionEnv(broker, dir), "SLUICE_COORDINATOR_URL=http://"+addr, "SLUICE_CONCURRENCY=4",
				"SLUICE_POLL_WAIT=20s")))
		fnCPU0 = append(fnCPU0, 0)
	}

	// The connector's group is polled at the broker, which GET
	// /connectors/{name}/offsets reads too, so that polling costs the
	// measured coordinator nothing; the REST answer is checked at the end.
	var r run
	deadline := t0.Add(10 * time.Minute)
	for {
		committed, err := groupOffsets(k, "connect-"+id)
		now := time.Now()
		if err == nil && committed > 0 && r.first == 0 {
			r.first = now.Sub(t0)
		}
		if r.firstFile == 0 && hasParquet(out) {
			r.firstFile = now.Sub(t0)
		}
		if err == nil && committed >= int64(n) {
			r.all = now.Sub(t0)
			break
		}
		if coord.Exited() || now.After(deadline) {
			b.Fatalf("%s: %d of %d records committed after %s (%v); coordinator exited: %v\n%s",
				id, committed, n, now.Sub(t0).Round(time.Millisecond), err, coord.Exited(), proctest.LastLines(coord.Stderr.String(), 40))
		}
		time.Sleep(pollEvery)
	}
	pid := coord.Cmd.Process.Pid
	r.coordCPU, r.coordRSS = benchkit.ProcessCPU(b, pid), peakRSSMB(b, pid)
	url := "http://" + addr + "/connectors/" + id + "/offsets"
	if committed, err := sinkOffsets(&http.Client{Timeout: 10 * time.Second}, url); err != nil || committed != int64(n) {
		b.Fatalf("GET %s: %d records committed, want %d (%v)", url, committed, n, err)
	}
	for i, p := range fns {
		r.functionCPU += benchkit.ProcessCPU(b, p.Cmd.Process.Pid) - fnCPU0[i]
		r.functionRSS = max(r.functionRSS, peakRSSMB(b, p.Cmd.Process.Pid))
	}
	if lambdaSvc != nil {
		calls, _ := lambdaSvc.Stats()
		r.invocations = int64(calls["sink-batch"])
		if errs := rt.InitErrors(); len(errs) > 0 {
			b.Errorf("sink-batch: init errors %+v", errs)
		}
	}
	_ = coord.Cmd.Process.Signal(syscall.SIGTERM)
	_ = coord.Wait(b, 60*time.Second)
	// Measured: the function processes are done with (Lambda freezes and
	// later kills its environments).
	for _, p := range fns {
		p.Kill()
	}
	logs := []string{coord.Stderr.String()}
	for _, p := range fns {
		logs = append(logs, p.Stderr.String())
	}
	r.timeline = parseTimeline(t0, r.all, logs...)
	checkParquet(b, out, n)
	return r
}

// pollEvery is how often the benchmark asks for the connector's offsets:
// the resolution of the times it reports.
const pollEvery = 10 * time.Millisecond

// coordinatorEnv is the environment of a distributed-mode coordinator with
// state topics of its own (id), its REST API on addr and local files
// allowed under dir. Debug logs feed the timeline.
func coordinatorEnv(broker, addr, id, dir string) []string {
	return []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + broker,
		"SLUICE_REST_LISTENER=" + addr,
		"SLUICE_REST_ADVERTISED_URL=http://" + addr,
		"SLUICE_GROUP_ID=" + id,
		"SLUICE_CONFIG_STORAGE_TOPIC=" + id + "-configs",
		"SLUICE_STATUS_STORAGE_TOPIC=" + id + "-status",
		"SLUICE_OFFSET_STORAGE_TOPIC=" + id + "-offsets",
		"SLUICE_LEASE_STORAGE_TOPIC=" + id + "-leases",
		"SLUICE_ALLOWED_PATHS=" + dir,
		"SLUICE_LOG_LEVEL=debug",
	}
}

// functionEnv is a sink-batch process's environment.
func functionEnv(broker, dir string) []string {
	return []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + broker,
		"SLUICE_ALLOWED_PATHS=" + dir,
		"SLUICE_LOG_LEVEL=debug",
	}
}

func writeFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// waitListening waits until addr accepts connections.
func waitListening(b *testing.B, addr string, p *proctest.Process) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p.Exited() || time.Now().After(deadline) {
			b.Fatalf("%s: not listening on %s: %v\n%s", p.Name, addr, err, proctest.LastLines(p.Stderr.String(), 40))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hasParquet reports whether a Parquet file is under dir (the local
// store renames each file into place once written).
func hasParquet(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(path, ".parquet") {
			return found
		}
		return nil
	})
	return err == found
}

// groupOffsets sums the offsets group has committed.
func groupOffsets(k *kafka.Client, group string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	committed, err := k.GroupOffsets(ctx, group)
	var sum int64
	for _, off := range committed {
		sum += off
	}
	return sum, err
}

// sinkOffsets sums the kafka_offset of GET /connectors/{name}/offsets.
func sinkOffsets(client *http.Client, url string) (int64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	var body struct {
		Offsets []struct {
			Offset map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	var sum int64
	for _, o := range body.Offsets {
		if v, ok := o.Offset["kafka_offset"].(float64); ok {
			sum += int64(v)
		}
	}
	return sum, nil
}

// checkParquet checks that the files under dir hold n rows, in files of at
// most flush.size rows (an independent reader: parquet-go/parquet-go).
func checkParquet(b *testing.B, dir string, n int) {
	b.Helper()
	var rows int64
	files := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := pgo.OpenFile(bytes.NewReader(content), int64(len(content)))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if f.NumRows() > flushSize {
			return fmt.Errorf("%s: %d rows, more than flush.size", path, f.NumRows())
		}
		rows += f.NumRows()
		files++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if rows != int64(n) {
		b.Fatalf("%d files hold %d rows, want %d", files, rows, n)
	}
}

// peakRSSMB is process pid's peak resident set size (VmHWM), in MB (the
// unit this benchmark has always reported).
func peakRSSMB(tb testing.TB, pid int) float64 {
	return benchkit.ProcessPeakRSSMiB(tb, pid) * (1 << 20) / 1e6
}
