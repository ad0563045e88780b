package coordinator_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// The REST comparison of BenchmarkCoordinator: the same open-loop load
// through every listener set-up (restVariants) of one coordinator, with
// the set-ups' requests interleaved so that each sees the same machine.
//
// Measured one set-up after another, the p99s of identical set-ups differ
// by several milliseconds from one 10 s window to the next on a 2-core
// machine (GC cycles of the coordinator's ~150 MB heap and the scheduling
// of its ~1,800 goroutines land on one window more than another), which
// hides a 1 ms difference. Here one schedule of `rate` requests per second
// in all sends request i to set-up perm(i) (a random order of the set-ups
// in each block of len(variants) requests, every set-up the same path and
// connector within a block), so that a stall delays every set-up's
// requests alike. The run is cut into rounds; each set-up's p99 is
// reported over the whole run and per round, with its difference from
// plain's p99 (the spread across rounds shows what noise alone does).

// restConns is how many connections a client keeps per listener: it opens
// them during the warm-up and never more (http.Transport.MaxConnsPerHost),
// so that no TLS handshake falls in the measured window; a request that
// finds them all busy waits for one, and its latency counts the wait.
const restConns = 16

// restRounds is how many rounds the interleaved run is cut into.
const restRounds = 5

// restFigures are one listener set-up's REST figures.
type restFigures struct {
	p50, p99, p999, max float64 // ms, over every round
	sent, failed        int
	// roundP99 is the p99 of each round (ms); deltaP99 the round's p99
	// minus plain's in the same round.
	roundP99, deltaP99 []float64
	// cpuPerReq is the process's CPU time per request (µs) while this
	// set-up alone took the load at the same rate during the warm-up,
	// less the coordinator's background CPU (restComparison.background):
	// server and client (the load generator runs in the process).
	cpuPerReq float64
}

// restComparison is benchREST's result.
type restComparison struct {
	by     map[string]restFigures
	rounds []string // the process's runtime figures of each round
	load   [2]string
	// cpuPerReq is the process's CPU per request over the interleaved run,
	// background included; background is the process's CPU-s/s without
	// REST load, measured before.
	cpuPerReq, background float64
}

// restJob is one request of a schedule.
type restJob struct {
	i, target int
	due       time.Time
	path      string
}

// sendInterleaved sends rate requests per second for d in all, open loop,
// to targets in turn (a random order in each block of len(targets)
// requests, the same path for every target in a block): each request is
// due at a fixed time and its latency counts from then, however long the
// ones before it take (a pool of workers sends them, each target's client
// keeping its connections). It returns each target's latencies, in the
// order they were due, and how many requests failed.
func sendInterleaved(targets []*restTarget, names []string, rate int, d time.Duration, seed uint64) ([][]time.Duration, []int) {
	total := int(float64(rate) * d.Seconds())
	total -= total % len(targets)
	jobs := make(chan restJob, total)
	done := make([]time.Duration, total)
	bad := make([]bool, total)
	var wg sync.WaitGroup
	for range restWorkers {
		wg.Go(func() {
			for j := range jobs {
				err := targets[j.target].get(j.path)
				done[j.i] = time.Since(j.due)
				bad[j.i] = err != nil
			}
		})
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	interval := time.Second / time.Duration(rate)
	order := make([]int, len(targets))
	owner := make([]int, total)
	start := time.Now()
	for block := 0; block*len(targets) < total; block++ {
		n := names[rng.IntN(len(names))]
		path := [...]string{"/connectors", "/connectors/" + n + "/status", "/connectors/" + n + "/config"}[block%3]
		for k := range order {
			order[k] = k
		}
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for k, t := range order {
			i := block*len(targets) + k
			due := start.Add(time.Duration(i) * interval)
			time.Sleep(time.Until(due))
			owner[i] = t
			jobs <- restJob{i: i, target: t, due: due, path: path}
		}
	}
	close(jobs)
	wg.Wait()
	latencies := make([][]time.Duration, len(targets))
	failed := make([]int, len(targets))
	for i, t := range owner {
		latencies[t] = append(latencies[t], done[i])
		if bad[i] {
			failed[t]++
		}
	}
	return latencies, failed
}

// benchREST starts a listener per variant over coord and compares them:
// after a warm-up of each alone (its connections opened, then rate
// requests per second for warm, which gives its CPU per request), every
// listener takes its share of one interleaved schedule of rate requests
// per second for perVariant×len(variants) in all, so that each listener
// gets rate×perVariant requests, in restRounds rounds. variants[0] is the
// baseline the others are compared with (plain).
func benchREST(b *testing.B, coord *coordinator.Coordinator, names []string, rate int, perVariant, warm time.Duration,
	logger *slog.Logger, variants []restVariant) restComparison {
	b.Helper()
	out := restComparison{by: map[string]restFigures{}, load: [2]string{loadAverage(), ""}}
	cpu0, t0 := benchkit.CPU(), time.Now()
	time.Sleep(warm)
	out.background = (benchkit.CPU() - cpu0).Seconds() / time.Since(t0).Seconds()
	targets := make([]*restTarget, len(variants))
	cpuPerReq := make([]float64, len(variants))
	for i, v := range variants {
		targets[i] = startRESTTarget(b, coord, logger, v, true)
		defer targets[i].close()
		targets[i].openConnections(b, names)
		cpu0, t0 := benchkit.CPU(), time.Now()
		l, _ := sendInterleaved(targets[i:i+1], names, rate, warm, 0)
		net := (benchkit.CPU() - cpu0).Seconds() - out.background*time.Since(t0).Seconds()
		cpuPerReq[i] = net * 1e6 / float64(max(1, len(l[0])))
	}
	roundFor := perVariant * time.Duration(len(variants)) / restRounds
	all := make([][]time.Duration, len(variants))
	failed := make([]int, len(variants))
	roundP99 := make([][]float64, len(variants))
	cpu0, sent := benchkit.CPU(), 0
	for r := range restRounds {
		stopTrace := traceRound(b, r)
		before := readRuntime()
		l, bad := sendInterleaved(targets, names, rate, roundFor, uint64(r+1))
		out.rounds = append(out.rounds, readRuntime().since(before))
		stopTrace()
		for i := range variants {
			sent += len(l[i])
			failed[i] += bad[i]
			all[i] = append(all[i], l[i]...)
			slices.Sort(l[i])
			roundP99[i] = append(roundP99[i], quantileMS(l[i], 0.99))
		}
	}
	out.cpuPerReq = float64((benchkit.CPU() - cpu0).Microseconds()) / float64(max(1, sent))
	out.load[1] = loadAverage()
	for i, v := range variants {
		slices.Sort(all[i])
		f := restFigures{p50: quantileMS(all[i], 0.50), p99: quantileMS(all[i], 0.99), p999: quantileMS(all[i], 0.999),
			max: quantileMS(all[i], 1), sent: len(all[i]), failed: failed[i], roundP99: roundP99[i], cpuPerReq: cpuPerReq[i]}
		for r := range restRounds {
			f.deltaP99 = append(f.deltaP99, roundP99[i][r]-roundP99[0][r])
		}
		out.by[v.name] = f
	}
	return out
}

// openConnections opens the client's restConns connections (concurrent
// requests until as many were made on new connections, bounded) and
// checks that the listener answers.
func (t *restTarget) openConnections(b *testing.B, names []string) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, restConns)
	for range restConns {
		wg.Go(func() {
			for range 20 {
				if err := t.get("/connectors/" + names[0] + "/status"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("REST %s: %v", t.v.name, err)
	}
}

// report writes the comparison: per set-up its p50, p99 (and its
// difference from the baseline's), p99.9 and max over all rounds, the
// differences per round, and the process's runtime figures per round.
func (c restComparison) report(variants []restVariant, rate int, perVariant time.Duration) string {
	var s strings.Builder
	base := c.by[variants[0].name]
	fmt.Fprintf(&s, "REST, set-ups interleaved: %d requests/s in all for %s, each set-up's requests alternating with the others' (%d requests each), "+
		"in %d rounds; connections kept (%d per listener, opened before); latency from when each request was due; load average before %s, after %s; "+
		"the process's CPU without REST load %.2f CPU-s/s\n",
		rate, perVariant*time.Duration(len(variants)), base.sent, restRounds, restConns, c.load[0], c.load[1], c.background)
	fmt.Fprintf(&s, "  %-10s %8s %8s %9s %8s %8s   %-32s %s\n", "set-up", "p50 ms", "p99 ms", "p99-plain", "p99.9 ms", "max ms",
		"p99-plain per round (ms)", "CPU-µs/req alone, less background")
	met, allRounds := true, true
	for _, v := range variants {
		f := c.by[v.name]
		rounds := make([]string, len(f.deltaP99))
		for r, d := range f.deltaP99 {
			rounds[r] = fmt.Sprintf("%+.2f", d)
			if d > 1 {
				allRounds = false
			}
		}
		fmt.Fprintf(&s, "  %-10s %8.2f %8.2f %+9.2f %8.2f %8.2f   %-32s %.0f (%d failed)\n", v.name, f.p50, f.p99, f.p99-base.p99, f.p999, f.max,
			strings.Join(rounds, " "), f.cpuPerReq, f.failed)
		if f.p99-base.p99 > 1 {
			met = false
		}
	}
	verdict := "MET"
	if !met {
		verdict = "NOT MET"
	}
	fmt.Fprintf(&s, "  target \"authentication and TLS add at most 1 ms to REST p99\", over all rounds: %s; within 1 ms in every round: %v; "+
		"CPU over the interleaved run %.0f µs/request (process: server, load generator, the coordinator's own work)\n",
		verdict, allRounds, c.cpuPerReq)
	for r, line := range c.rounds {
		fmt.Fprintf(&s, "  round %d: %s\n", r+1, line)
	}
	return s.String()
}

// reportMetrics reports the comparison's figures as benchmark metrics.
func (c restComparison) reportMetrics(b *testing.B, variants []restVariant) {
	base := c.by[variants[0].name]
	for _, v := range variants {
		f := c.by[v.name]
		b.ReportMetric(f.p50, "rest-"+v.name+"-p50-ms")
		b.ReportMetric(f.p99, "rest-"+v.name+"-p99-ms")
		b.ReportMetric(f.cpuPerReq, "rest-"+v.name+"-cpu-us/req")
		if v.name != variants[0].name {
			b.ReportMetric(f.p99-base.p99, "rest-"+v.name+"-p99-delta-ms")
			b.ReportMetric(slices.Max(f.deltaP99), "rest-"+v.name+"-p99-delta-worst-round-ms")
		}
	}
}

// runtimeFigures are the Go runtime's cumulative figures at one moment.
type runtimeFigures struct {
	at                  time.Time
	cpu                 time.Duration
	gcCycles            uint64
	gcCPU, assistCPU    float64 // s
	mutexWait           float64 // s
	gcPauses, schedWait *metrics.Float64Histogram
}

var runtimeMetricNames = []string{"/gc/cycles/total:gc-cycles", "/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/gc/mark/assist:cpu-seconds", "/sync/mutex/wait/total:seconds",
	"/sched/pauses/total/gc:seconds", "/sched/latencies:seconds"}

func readRuntime() runtimeFigures {
	s := make([]metrics.Sample, len(runtimeMetricNames))
	for i, n := range runtimeMetricNames {
		s[i].Name = n
	}
	metrics.Read(s)
	return runtimeFigures{at: time.Now(), cpu: benchkit.CPU(), gcCycles: s[0].Value.Uint64(), gcCPU: s[1].Value.Float64(),
		assistCPU: s[2].Value.Float64(), mutexWait: s[3].Value.Float64(), gcPauses: s[4].Value.Float64Histogram(),
		schedWait: s[5].Value.Float64Histogram()}
}

// since describes what the process did between before and r: CPU, GC
// cycles and their CPU, stop-the-world pauses, how long runnable
// goroutines waited for a thread (scheduling latency) and for mutexes.
func (r runtimeFigures) since(before runtimeFigures) string {
	secs := r.at.Sub(before.at).Seconds()
	pauses, sched := histogramDelta(r.gcPauses, before.gcPauses), histogramDelta(r.schedWait, before.schedWait)
	return fmt.Sprintf("%.2f CPU-s/s; %d GC cycles (%.2f CPU-s/s, assists %.3f); GC pauses p99 %.2fms max %.2fms; "+
		"scheduling latency p50 %.3fms p99 %.2fms p99.9 %.2fms max %.2fms (%d waits); mutex wait %.1fms",
		(r.cpu-before.cpu).Seconds()/secs, r.gcCycles-before.gcCycles, (r.gcCPU-before.gcCPU)/secs, (r.assistCPU-before.assistCPU)/secs,
		pauses.quantileMS(0.99), pauses.quantileMS(1), sched.quantileMS(0.5), sched.quantileMS(0.99), sched.quantileMS(0.999),
		sched.quantileMS(1), sched.total(), (r.mutexWait-before.mutexWait)*1000)
}

// histogram is the difference of two readings of a runtime histogram.
type histogram struct {
	counts  []uint64
	buckets []float64
}

func histogramDelta(now, before *metrics.Float64Histogram) histogram {
	h := histogram{counts: slices.Clone(now.Counts), buckets: now.Buckets}
	for i := range h.counts {
		h.counts[i] -= before.Counts[i]
	}
	return h
}

func (h histogram) total() uint64 {
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// quantileMS is the upper bound of the bucket holding the q quantile
// (1: the largest value), in ms; its lower bound when that is infinite.
func (h histogram) quantileMS(q float64) float64 {
	total := h.total()
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var n uint64
	for i, c := range h.counts {
		n += c
		if n >= max(want, 1) {
			if math.IsInf(h.buckets[i+1], 1) {
				return h.buckets[i] * 1000
			}
			return h.buckets[i+1] * 1000
		}
	}
	return 0
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// traceRound writes a runtime trace of round r to the file
// SLUICE_BENCH_REST_TRACE names, for round 2 only (after the first has
// settled); it returns the function that stops it.
func traceRound(b *testing.B, r int) func() {
	path := os.Getenv("SLUICE_BENCH_REST_TRACE")
	if path == "" || r != 1 {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		b.Fatal(err)
	}
	return func() { trace.Stop(); _ = f.Close() }
}

// BenchmarkCoordinatorREST is BenchmarkCoordinator's REST comparison
// alone (`make bench-coordinator-rest`): the same connectors and leases
// (SLUICE_BENCH_SCALE=full: 1,000 connectors × 10 tasks), one coordinator
// started on them, then benchREST, without the start-up, capacity and
// new-connection measurements. SLUICE_BENCH_REST_TRACE=file writes a
// runtime trace of the second round.
func BenchmarkCoordinatorREST(b *testing.B) {
	scale := coordinatorBenchScale(b)
	quiet := slog.New(slog.DiscardHandler)
	var cfg coordinator.Config
	if err := envconfig.Process("sluice", &cfg); err != nil { // production defaults
		b.Fatal(err)
	}
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	reg := plugins.Registry()
	names := populateBenchConnectors(ctx, b, k, reg, scale)
	for b.Loop() {
		inv := &countingInvoker{}
		bc := startBenchCoordinator(ctx, b, k, reg, cfg, inv, "http://127.0.0.1:18083", quiet)
		if _, ok := bc.waitRunning(names, scale.tasks, scale.startupLimit); !ok {
			b.Fatal("the coordinator did not start every connector")
		}
		time.Sleep(scale.settle)
		n0, t0 := inv.total(), time.Now()
		rest := benchREST(b, bc.coord, names, scale.restRate, scale.restFor, scale.restWarm, quiet, restVariants)
		decisions := float64(inv.total()-n0) / time.Since(t0).Seconds()
		bc.close()
		rest.reportMetrics(b, restVariants)
		b.ReportMetric(decisions, "decisions/s")
		// Printed, not logged: the testing package cuts a benchmark's log
		// to 10 lines without -v.
		fmt.Printf("BenchmarkCoordinatorREST: %d connectors x %d tasks, %.0f lease decisions/s meanwhile\n%s", len(names), scale.tasks, decisions,
			rest.report(restVariants, scale.restRate, scale.restFor))
	}
}

// discardResponse is an http.ResponseWriter that keeps the status and
// drops the body, so that BenchmarkRESTReads counts the handler's
// allocations, not a recorder's.
type discardResponse struct {
	header http.Header
	status int
}

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(status int)      { d.status = status }

// BenchmarkRESTReads is the coordinator's cost of each REST read that
// BenchmarkCoordinator's load sends (GET /connectors,
// /connectors/{n}/status, /connectors/{n}/config), with 1,000 connectors
// (SLUICE_BENCH_SCALE=full, `make bench-coordinator-rest`; 100 by
// default, SLUICE_BENCH_CONNECTORS overrides) of 10 tasks each in the
// configs and status topics of an in-process broker: time, bytes and
// allocations per request through the REST handler, without a listener
// or client. Every byte allocated per request brings the next GC cycle
// nearer, and a request that allocates while one runs helps it mark
// (GC assist) before it answers.
func BenchmarkRESTReads(b *testing.B) {
	scale := benchScale{connectors: 100, tasks: 10}
	if os.Getenv("SLUICE_BENCH_SCALE") == "full" {
		scale.connectors = 1000
	}
	if v := os.Getenv("SLUICE_BENCH_CONNECTORS"); v != "" {
		fmt.Sscan(v, &scale.connectors)
	}
	ctx := context.Background()
	k := kafkatest.Start(b, 1)
	reg := plugins.Registry()
	names := populateBenchConnectors(ctx, b, k, reg, scale)
	st, err := state.Open(ctx, k.Client, state.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, n := range names {
		running := state.Status{State: state.StateRunning, WorkerID: "127.0.0.1:8083"}
		tasks := map[int]state.Status{}
		for i := range scale.tasks {
			tasks[i] = running
		}
		if err := st.Statuses.PutConnectorStatus(ctx, n, running); err != nil {
			b.Fatal(err)
		}
		if err := st.Statuses.PutTaskStatuses(ctx, n, tasks); err != nil {
			b.Fatal(err)
		}
	}
	var cfg coordinator.Config
	if err := envconfig.Process("sluice", &cfg); err != nil {
		b.Fatal(err)
	}
	coord, err := coordinator.New(cfg, coordinator.Deps{Plugins: reg, Kafka: k.Client, Invoker: &countingInvoker{},
		Configs: st.Configs, Statuses: st.Statuses, Leases: coordinator.NewMemoryLeaseLog(), Offsets: k.Offsets,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := rest.NewHandler(coord, rest.Options{Logger: slog.New(slog.DiscardHandler)})
	n := names[len(names)/2]
	for _, path := range []string{"/connectors", "/connectors/" + n + "/status", "/connectors/" + n + "/config"} {
		b.Run(strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "_"), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			w := &discardResponse{header: http.Header{}}
			b.ReportAllocs()
			cpu0 := benchkit.CPU()
			for b.Loop() {
				clear(w.header)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK && w.status != 0 {
					b.Fatalf("GET %s: %d", path, w.status)
				}
			}
			// The process's CPU per request: unlike ns/op, not inflated
			// when other processes take the machine's cores.
			b.ReportMetric(float64((benchkit.CPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}
