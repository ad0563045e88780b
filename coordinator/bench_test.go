package coordinator_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// benchScale is the size of BenchmarkCoordinator's run. The figure
// (SLUICE_BENCH_SCALE=full, `make bench-coordinator`) is 1,000 connectors
// with 10 tasks each; by default the benchmark runs 20 connectors with short
// windows so that `make bench-smoke` stays fast. SLUICE_BENCH_CONNECTORS
// overrides the connector count.
type benchScale struct {
	connectors, tasks int
	settle            time.Duration // before the decisions window
	window            time.Duration // lease decisions are counted over it
	restRate          int           // REST requests per second
	restFor           time.Duration // per listener set-up (benchREST)
	restWarm          time.Duration // each set-up alone first
	startupLimit      time.Duration // reported as such when missed
}

func coordinatorBenchScale(b *testing.B) benchScale {
	s := benchScale{connectors: 20, tasks: 10, settle: time.Second, window: 2 * time.Second,
		restRate: 1000, restFor: time.Second, restWarm: 500 * time.Millisecond, startupLimit: time.Minute}
	if os.Getenv("SLUICE_BENCH_SCALE") == "full" {
		s = benchScale{connectors: 1000, tasks: 10, settle: 6 * time.Second, window: 15 * time.Second,
			restRate: 1000, restFor: 10 * time.Second, restWarm: 2 * time.Second, startupLimit: 3 * time.Minute}
	}
	if v := os.Getenv("SLUICE_BENCH_CONNECTORS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			b.Fatalf("SLUICE_BENCH_CONNECTORS=%q: want an integer of at least 2", v)
		}
		s.connectors = n
	}
	return s
}

// countingInvoker stands in for Lambda or workers: every lease succeeds at
// once with nothing pending, so that what the benchmark measures is the
// coordinator's own cost of deciding, recording and issuing leases.
// With busy set, every source lease reports more data pending, so sources
// lease back to back: the coordinator's capacity rather than the idle
// workload's cadence.
type countingInvoker struct {
	source, sink atomic.Int64
	busy         atomic.Bool
}

func (i *countingInvoker) Invoke(_ context.Context, l lease.Lease) (lease.Result, error) {
	if l.Kind == lease.KindSink {
		i.sink.Add(1)
	} else {
		i.source.Add(1)
	}
	return lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: lease.Succeeded,
		MorePending: l.Kind == lease.KindSource && i.busy.Load()}, nil
}

func (i *countingInvoker) total() int64 { return i.source.Load() + i.sink.Load() }

// BenchmarkCoordinator is the scale figure: a coordinator managing
// 1,000 connectors with 10 tasks each (SLUICE_BENCH_SCALE=full; 20 by
// default). Half the connectors are datagen sources, half FileStreamSinks on
// topics with no data; a counting invoker completes every lease at once.
// It reports, never asserts (targets: start-up under 5 s, REST p99 under
// 10 ms, under 200 MB RSS):
//
//   - startup-cold-s, startup-s: from opening the state topics (already
//     holding every connector and task configuration) to every connector
//     RUNNING and every task's status written by this coordinator; first on
//     topics with no statuses, then a restart on topics with them.
//   - decisions/s: leases invoked per second by the restarted coordinator,
//     in steady state (idle sources back off); cpu-s/s: CPU the whole
//     process used meanwhile. busy-decisions/s, busy-cpu-s/s: the same
//     while every source lease reports more data pending, so that sources
//     lease back to back: what the coordinator can decide, record in the
//     lease log and issue.
//   - rest-p50-ms, rest-p99-ms: latency of an open-loop, fixed-rate mix of
//     GET /connectors, /connectors/{n}/status and /connectors/{n}/config
//     through the coordinator's server on a loopback listener, counted
//     from when each request was due. rest-<set-up>-p50-ms and -p99-ms:
//     the same for each listener set-up (plain, basic auth, bearer tokens,
//     TLS, TLS with either), all served at once and their requests
//     interleaved in one schedule (benchREST), and -p99-delta-ms its p99
//     minus plain's (target: at most 1 ms), -p99-delta-worst-round-ms the
//     largest difference in one of the rounds; rest-<set-up>-cpu-us/req
//     the process's CPU per request while that set-up alone took the load,
//     less the CPU the process used without REST load just before;
//     rest-newconn-*: one request per new connection, closed loop, plain
//     and over TLS (a full handshake each). The log has the table, per
//     round, with the process's GC and scheduling figures.
//   - rss-MB: peak resident set of the process from the restart through
//     the REST load (the cold coordinator's memory is returned and the peak
//     reset first); it also holds the benchmark's Kafka client and REST load
//     generator. The broker runs in its own process. busy-rss-MB: the peak
//     during the busy window, measured separately. heap-MB: live heap after
//     a GC at the end.
func BenchmarkCoordinator(b *testing.B) {
	scale := coordinatorBenchScale(b)
	quiet := slog.New(slog.DiscardHandler)
	if os.Getenv("SLUICE_BENCH_PROGRESS") != "" {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var cfg coordinator.Config
	if err := envconfig.Process("sluice", &cfg); err != nil { // production defaults
		b.Fatal(err)
	}
	// The broker runs in its own process, in memory: the CPU, RSS and
	// latency measured are the coordinator's, not the broker's.
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	reg := plugins.Registry()
	names := populateBenchConnectors(ctx, b, k, reg, scale)
	memPhase("populated")

	for b.Loop() {
		inv := &countingInvoker{}
		cold := startBenchCoordinator(ctx, b, k, reg, cfg, inv, "http://127.0.0.1:18083", quiet)
		coldTook, coldOK := cold.waitRunning(names, scale.tasks, scale.startupLimit)
		memPhase("cold started")
		cold.close()
		// The restarted coordinator is measured as if in a process of its
		// own: the cold one's memory is given back and the peak reset.
		benchkit.ResetPeakRSS()
		memPhase("cold closed")

		inv = &countingInvoker{}
		warm := startBenchCoordinator(ctx, b, k, reg, cfg, inv, "http://127.0.0.1:18084", quiet)
		took, ok := warm.waitRunning(names, scale.tasks, scale.startupLimit)
		memPhase("warm started")

		time.Sleep(scale.settle)
		cpu0, n0, t0 := benchkit.CPU(), inv.total(), time.Now()
		time.Sleep(scale.window)
		elapsed := time.Since(t0).Seconds()
		decisions := float64(inv.total()-n0) / elapsed
		cpu := (benchkit.CPU() - cpu0).Seconds() / elapsed
		memPhase("steady")

		// The same REST load through every listener set-up (plain, basic,
		// bearer, TLS, TLS with each), interleaved; the figures without a
		// suffix are the plain listener's.
		rest := benchREST(b, warm.coord, names, scale.restRate, scale.restFor, scale.restWarm, quiet, restVariants)
		p50, p99, sent, failed := rest.by["plain"].p50, rest.by["plain"].p99, rest.by["plain"].sent, rest.by["plain"].failed
		// One request per new connection, closed loop: the price of a
		// fresh connection, without and with TLS.
		newConn := map[string][2]float64{}
		for _, v := range []restVariant{{name: "plain"}, {name: "tls", tls: true}, {name: "tls-basic", tls: true, basic: true}} {
			q50, q99 := benchRESTNewConnections(b, warm.coord, 200, quiet, v)
			newConn[v.name] = [2]float64{q50, q99}
		}
		memPhase("after REST")
		rss := benchkit.PeakRSSMB()

		// Capacity: every source busy, after the figures above.
		benchkit.ResetPeakRSS()
		inv.busy.Store(true)
		time.Sleep(scale.settle / 2)
		cpu0, n0, t0 = benchkit.CPU(), inv.total(), time.Now()
		time.Sleep(scale.window / 2)
		elapsed = time.Since(t0).Seconds()
		busyDecisions := float64(inv.total()-n0) / elapsed
		busyCPU := (benchkit.CPU() - cpu0).Seconds() / elapsed
		busyRSS := benchkit.PeakRSSMB()
		memPhase("busy")
		warm.close()

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)

		b.ReportMetric(coldTook.Seconds(), "startup-cold-s")
		b.ReportMetric(took.Seconds(), "startup-s")
		b.ReportMetric(decisions, "decisions/s")
		b.ReportMetric(cpu, "cpu-s/s")
		b.ReportMetric(busyDecisions, "busy-decisions/s")
		b.ReportMetric(busyCPU, "busy-cpu-s/s")
		b.ReportMetric(busyRSS, "busy-rss-MB")
		b.ReportMetric(p50, "rest-p50-ms")
		b.ReportMetric(p99, "rest-p99-ms")
		var restLine strings.Builder
		for _, name := range []string{"plain", "tls", "tls-basic"} {
			b.ReportMetric(newConn[name][0], "rest-newconn-"+name+"-p50-ms")
			b.ReportMetric(newConn[name][1], "rest-newconn-"+name+"-p99-ms")
			fmt.Fprintf(&restLine, "; %s: p50 %.2fms p99 %.2fms", name, newConn[name][0], newConn[name][1])
		}
		rest.reportMetrics(b, restVariants)
		b.ReportMetric(rss, "rss-MB")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		b.Logf("%d connectors x %d tasks: start-up %.2fs (all running: %v; cold %.2fs, %v); %.0f lease decisions/s "+
			"(%d source, %d sink leases in all), %.2f CPU-s/s; all sources busy: %.0f lease decisions/s, %.2f CPU-s/s, peak RSS %.0f MB; REST plain %d requests (%d/s in all, %d failed) p50 %.2fms p99 %.2fms; "+
			"peak RSS %.0f MB, heap %.0f MB, %d goroutines at the end (broker in its own process)",
			len(names), scale.tasks, took.Seconds(), ok, coldTook.Seconds(), coldOK, decisions,
			inv.source.Load(), inv.sink.Load(), cpu, busyDecisions, busyCPU, busyRSS, sent, scale.restRate, failed, p50, p99,
			rss, float64(ms.HeapAlloc)/(1<<20), runtime.NumGoroutine())
		b.Logf("REST new connection per request, closed loop%s", restLine.String())
		// Printed, not logged: the testing package cuts a benchmark's log
		// to 10 lines without -v.
		fmt.Printf("BenchmarkCoordinator, %d connectors x %d tasks, %.0f lease decisions/s before: %s", len(names), scale.tasks, decisions,
			rest.report(restVariants, scale.restRate, scale.restFor))
	}
}

// populateBenchConnectors writes the connectors' configurations and their
// task configurations (as the connectors themselves generate them, so that
// the coordinator finds nothing to republish) to the configs topic, and
// creates the sinks' empty topics: 10 partitions each, one per task.
func populateBenchConnectors(ctx context.Context, b *testing.B, k *kafkatest.Env, reg *connect.Registry, scale benchScale) []string {
	b.Helper()
	st, err := state.Open(ctx, k.Client, state.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sinkTopics := max(1, scale.connectors/20)
	for i := range sinkTopics {
		if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: fmt.Sprintf("bench-in-%03d", i), Partitions: int32(scale.tasks)}); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	names := make([]string, scale.connectors)
	for i := range names {
		var props map[string]string
		if i%2 == 0 {
			names[i] = fmt.Sprintf("bench-source-%04d", i)
			props = map[string]string{"connector.class": "Datagen", "topic": fmt.Sprintf("bench-out-%04d", i),
				"shape": "orders", "count": "1", "seed": "7"}
		} else {
			names[i] = fmt.Sprintf("bench-sink-%04d", i)
			props = map[string]string{"connector.class": "FileStreamSink", "topics": fmt.Sprintf("bench-in-%03d", i%sinkTopics),
				"file": fmt.Sprintf("%s/%s.txt", dir, names[i])}
		}
		props["name"] = names[i]
		props["tasks.max"] = strconv.Itoa(scale.tasks)
		props["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
		p, err := reg.Connector(props["connector.class"])
		if err != nil {
			b.Fatal(err)
		}
		impl := p.NewConnector()
		if err := impl.Start(ctx, nil, props); err != nil {
			b.Fatal(err)
		}
		tasks, err := impl.TaskConfigs(scale.tasks)
		if err != nil {
			b.Fatal(err)
		}
		_ = impl.Stop()
		if err := st.Configs.PutConnectorConfig(ctx, names[i], props, ""); err != nil {
			b.Fatal(err)
		}
		if err := st.Configs.PutTaskConfigs(ctx, names[i], tasks); err != nil {
			b.Fatal(err)
		}
	}
	return names
}

// benchCoordinator is one coordinator of the benchmark with its stores.
type benchCoordinator struct {
	coord    *coordinator.Coordinator
	statuses *state.StatusStore
	worker   string
	started  time.Time
	close    func()
}

// startBenchCoordinator opens the state and lease topics and starts a
// coordinator on them, as the coordinator's main does in distributed mode
// (leading alone). The clock starts before the topics are opened.
func startBenchCoordinator(ctx context.Context, b *testing.B, k *kafkatest.Env, reg *connect.Registry, cfg coordinator.Config,
	inv coordinator.Invoker, url string, logger *slog.Logger) *benchCoordinator {
	b.Helper()
	started := time.Now()
	cfg.RestAdvertisedURL = url
	st, err := state.Open(ctx, k.Client, state.Config{Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Follow(ctx, cfg.ReconcileInterval); err != nil {
		b.Fatal(err)
	}
	leases, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, "sluice-leases", -1, logger)
	if err != nil {
		b.Fatal(err)
	}
	coord, err := coordinator.New(cfg, coordinator.Deps{Plugins: reg, Kafka: k.Client, Invoker: inv,
		Configs: st.Configs, Statuses: st.Statuses, Leases: leases, Offsets: k.Offsets, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	coord.Start()
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			coord.Close()
			leases.Close()
			st.Close()
		})
	}
	b.Cleanup(closeAll)
	return &benchCoordinator{coord: coord, statuses: st.Statuses, worker: url[len("http://"):], started: started, close: closeAll}
}

// waitRunning waits until every connector is RUNNING and every task has a
// status, all written by this coordinator; it returns the time since the
// coordinator started opening its topics, and false when limit ran out.
func (bc *benchCoordinator) waitRunning(names []string, tasks int, limit time.Duration) (time.Duration, bool) {
	for {
		ready := 0
		for _, n := range names {
			st, ok := bc.statuses.Connector(n)
			if !ok || st.State != state.StateRunning || st.WorkerID != bc.worker {
				continue
			}
			ts := bc.statuses.Tasks(n)
			if len(ts) == tasks && !slices.ContainsFunc(ts, func(t state.TaskStatus) bool { return t.WorkerID != bc.worker }) {
				ready++
			}
		}
		took := time.Since(bc.started)
		if ready == len(names) {
			return took, true
		}
		if took > limit {
			bc.logProgress(names, ready)
			return took, false
		}
		if os.Getenv("SLUICE_BENCH_PROGRESS") != "" && took/(5*time.Second) != (took+20*time.Millisecond)/(5*time.Second) {
			bc.logProgress(names, ready)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logProgress prints how far start-up got: connectors ready, and the
// connector and task states this coordinator wrote.
func (bc *benchCoordinator) logProgress(names []string, ready int) {
	conns, tasks := map[state.State]int{}, map[state.State]int{}
	for _, n := range names {
		if st, ok := bc.statuses.Connector(n); ok && st.WorkerID == bc.worker {
			conns[st.State]++
		}
		for _, t := range bc.statuses.Tasks(n) {
			if t.WorkerID == bc.worker {
				tasks[t.State]++
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%6.1fs: %d/%d connectors ready; connector states %v; task states %v\n",
		time.Since(bc.started).Seconds(), ready, len(names), conns, tasks)
}

// restTarget is a REST listener over the coordinator, set up as a
// restVariant says (the coordinator's own server, TLS and authentication),
// and a client for it that keeps its connections.
type restTarget struct {
	v      restVariant
	sec    restSecurity
	base   string
	client *http.Client
	close  func()
}

const restWorkers = 128

func startRESTTarget(b *testing.B, coord *coordinator.Coordinator, logger *slog.Logger, v restVariant, keepAlive bool) *restTarget {
	b.Helper()
	sec := v.setUp(b, b.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := rest.NewServer(sec.auth.Wrap(rest.NewHandler(coord, rest.Options{Logger: logger})), sec.serverTLS)
	scheme := "http"
	if sec.serverTLS != nil {
		ln, scheme = tls.NewListener(ln, sec.serverTLS), "https"
	}
	var served sync.WaitGroup
	served.Go(func() { _ = srv.Serve(ln) })
	transport := &http.Transport{MaxIdleConnsPerHost: restConns, MaxConnsPerHost: restConns, TLSClientConfig: sec.clientTLS, DisableKeepAlives: !keepAlive}
	t := &restTarget{v: v, sec: sec, base: scheme + "://" + ln.Addr().String(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: transport}}
	t.close = func() { transport.CloseIdleConnections(); _ = srv.Close(); served.Wait() }
	if v.basic || v.bearer {
		// The listener does authenticate: no credentials, no answer.
		resp, err := t.client.Get(t.base + "/connectors")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			b.Fatalf("REST %s: a request without credentials got %s, want 401", v.name, resp.Status)
		}
	}
	return t
}

// get sends one GET with the variant's credentials, as a region of the
// runtime trace ("REST <set-up>") when one is written.
func (t *restTarget) get(path string) error {
	if trace.IsEnabled() {
		defer trace.StartRegion(context.Background(), "REST "+t.v.name).End()
	}
	req, err := http.NewRequest(http.MethodGet, t.base+path, nil)
	if err != nil {
		return err
	}
	t.sec.setAuth(req)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

// benchRESTNewConnections sends n GET /connectors one after another, each
// on a new connection (as curl without --keepalive does), to a listener set
// up as v says, and returns p50 and p99 in ms: with TLS, the cost of a
// full handshake (ECDSA P-256 certificate, Go's default key exchange).
func benchRESTNewConnections(b *testing.B, coord *coordinator.Coordinator, n int, logger *slog.Logger, v restVariant) (p50, p99 float64) {
	b.Helper()
	t := startRESTTarget(b, coord, logger, v, false)
	defer t.close()
	latencies := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := t.get("/connectors"); err != nil {
			b.Fatalf("REST %s, new connection: %v", v.name, err)
		}
		latencies = append(latencies, time.Since(t0))
	}
	slices.Sort(latencies)
	return quantileMS(latencies, 0.50), quantileMS(latencies, 0.99)
}

// quantileMS returns the q quantile of sorted latencies in ms.
func quantileMS(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))].Microseconds()) / 1000
}

// memPhase prints, with SLUICE_BENCH_PROGRESS set, the process's memory at
// a phase of the benchmark: resident now and at peak, heap and stacks.
func memPhase(phase string) {
	if os.Getenv("SLUICE_BENCH_PROGRESS") == "" {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, _ := os.ReadFile("/proc/self/status")
	var rss string
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
	}
	fmt.Fprintf(os.Stderr, "memory %-13s RSS %s (peak %.0f MB), heap in use %.0f MB, stacks %.0f MB, goroutines %d, GC cycles %d\n",
		phase, rss, benchkit.PeakRSSMB(), float64(ms.HeapInuse)/(1<<20), float64(ms.StackInuse)/(1<<20), runtime.NumGoroutine(), ms.NumGC)
}
