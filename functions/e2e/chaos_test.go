package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// The end-to-end chaos pipeline's settings, from the environment (make
// chaos sets them).
type pipelineChaos struct {
	seed    uint64
	records int
	faults  time.Duration // how long faults are injected
	drain   time.Duration // how long the pipeline may take to finish after them
}

func pipelineChaosFromEnv(t *testing.T) pipelineChaos {
	t.Helper()
	pc := pipelineChaos{seed: 1, records: 20000, faults: 90 * time.Second}
	if v := os.Getenv("SLUICE_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SLUICE_CHAOS_SEED=%q: %v", v, err)
		}
		pc.seed = n
	}
	if v := os.Getenv("SLUICE_CHAOS_PIPELINE_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("SLUICE_CHAOS_PIPELINE_RECORDS=%q: want a positive number", v)
		}
		pc.records = n
	}
	if v := os.Getenv("SLUICE_CHAOS_PIPELINE_FAULTS"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SLUICE_CHAOS_PIPELINE_FAULTS=%q: want a positive duration", v)
		}
		pc.faults = d
	}
	// Five minutes, or a second per 1,000 records if longer (the sinks
	// move well over 1,000 records/s even on a loaded machine).
	pc.drain = max(5*time.Minute, time.Duration(pc.records/1000)*time.Second)
	if v := os.Getenv("SLUICE_CHAOS_PIPELINE_DRAIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SLUICE_CHAOS_PIPELINE_DRAIN=%q: want a positive duration", v)
		}
		pc.drain = d
	}
	return pc
}

// chaosRig is the pipeline's processes: coordinators, each with a
// source-poll and a sink-batch worker pulling leases from it, on a
// three-node Apache Kafka cluster and versitygw.
type chaosRig struct {
	t       *testing.T
	b       bins
	cluster *realkafka.Cluster
	secret  string // SLUICE_WORKER_SECRET_FILE=...
	coords  []*chaosCoordinator
	workers []*chaosWorker
	fns     []*chaosFunction
	lambda  *lambdatest.Service
	// lambdaProxy carries the Lambda coordinator's Invoke API connections.
	lambdaProxy *tcpProxy
	starts      int // processes started, to name them apart
}

// chaosCoordinator is a coordinator process; with lambda set it invokes
// its leases through the emulated Lambda service (SLUICE_INVOKER=lambda),
// else pull workers run them.
type chaosCoordinator struct {
	addr   string
	lambda bool
	p      *process
	// proxy carries its pull workers' connections to it (nil for the
	// Lambda one), for the driver to stall and reset.
	proxy *tcpProxy
}

// chaosFunction is a function process in an execution environment of
// its own (lambdatest.Runtime.NewEnvironment), so that killing it fails
// the invocation it held, as Lambda does.
type chaosFunction struct {
	kind string // source-poll or sink-batch
	rt   *lambdatest.Runtime
	p    *process
}

func (c *chaosCoordinator) url() string { return "http://" + c.addr }

type chaosWorker struct {
	kind  string // source-poll or sink-batch
	coord *chaosCoordinator
	p     *process
}

func (r *chaosRig) startCoordinator(c *chaosCoordinator) {
	r.starts++
	env := []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + r.cluster.Bootstrap(),
		"SLUICE_REST_LISTENER=" + c.addr,
		"SLUICE_REST_ADVERTISED_URL=" + c.url(),
		"SLUICE_ALLOWED_PATHS=" + os.TempDir(),
		"SLUICE_GROUP_ID=sluice-chaos",
		r.secret,
		"SLUICE_PULL_MAX_WAIT=2s",
		"SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT=enabled",
		"SLUICE_ELECTION_SESSION_TIMEOUT=2s",
		"SLUICE_LEASE_TIMEOUT=10s",
		"SLUICE_LEASE_MAX_TIME=2s",
		"SLUICE_SAFETY_MARGIN=" + margin.String(),
		"SLUICE_TASK_RETRIES=1000",
		"SLUICE_RETRY_BACKOFF_MAX=1s",
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_SINK_POLL_INTERVAL=200ms",
		"SLUICE_DEFAULT_ROTATE_INTERVAL=500ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
		"SLUICE_LOG_LEVEL=warn",
	}
	if c.lambda {
		env = append(env, "SLUICE_INVOKER=lambda",
			"SLUICE_LAMBDA_SOURCE_FUNCTION=source-poll",
			"SLUICE_LAMBDA_SINK_FUNCTION=sink-batch",
			"SLUICE_LAMBDA_ENDPOINT=http://"+r.lambdaProxy.Addr(),
			"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
			"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"AWS_REGION=us-east-1")
	} else {
		env = append(env, "SLUICE_INVOKER=pull")
	}
	c.p = start(r.t, fmt.Sprintf("coordinator %s #%d", c.addr, r.starts), r.b.coordinator,
		append(env, r.noAWSFiles()...)...)
}

// noAWSFiles keeps the AWS SDK of a process off the machine's
// configuration and the instance metadata service.
func (r *chaosRig) noAWSFiles() []string {
	return []string{"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(r.t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(r.t.TempDir(), "none")}
}

// startFunction starts f's process in a new execution environment of its
// function (made from f.rt, any environment of it), as Lambda starts a
// new one after a runtime exits.
func (r *chaosRig) startFunction(f *chaosFunction) {
	r.starts++
	path := r.b.sourcePoll
	if f.kind == "sink-batch" {
		path = r.b.sinkBatch
	}
	f.rt = f.rt.NewEnvironment(r.t)
	f.p = start(r.t, fmt.Sprintf("%s function #%d", f.kind, r.starts), path,
		append(append(append(f.rt.Env(), functionEnv(r.cluster.Addrs())...), r.noAWSFiles()...), "SLUICE_LOG_LEVEL=warn")...)
}

func (r *chaosRig) startWorker(w *chaosWorker) {
	r.starts++
	path := r.b.sourcePoll
	if w.kind == "sink-batch" {
		path = r.b.sinkBatch
	}
	id := fmt.Sprintf("%s-%d", w.kind, r.starts)
	w.p = start(r.t, id+" of "+w.coord.addr, path, append(functionEnv(r.cluster.Addrs()), r.secret,
		"SLUICE_COORDINATOR_URL=http://"+w.coord.proxy.Addr(), "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID="+id,
		"SLUICE_LOG_LEVEL=warn", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(r.t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.t.TempDir(), "none"))...)
}

// leader returns the coordinator that says it leads, or nil.
func (r *chaosRig) leader() *chaosCoordinator {
	for _, c := range r.coords {
		if c.p == nil || c.p.Exited() {
			continue
		}
		var info struct {
			URL, Leader string
		}
		if err := getJSON(c.url()+"/sluice/v1/cluster", &info); err == nil && info.Leader == c.url() && info.URL == c.url() {
			return c
		}
	}
	return nil
}

// anyURL is the URL of a coordinator that runs.
func (r *chaosRig) anyURL() string {
	for _, c := range r.coords {
		if c.p != nil && !c.p.Exited() {
			return c.url()
		}
	}
	return r.coords[0].url()
}

func getJSON(url string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// TestChaosPipeline runs datagen -> Apache Kafka (three brokers,
// exactly-once source, transactions of 1.5 s) -> S3 (versitygw, snappy Parquet objects) and ->
// FileStreamSink, both sinks read_committed, with two coordinators in one
// group: a seeded one invokes its leases through the Lambda emulation
// (internal/lambdatest: one source-poll and two sink-batch execution
// environments, each a process), the other through pull workers (one
// source-poll and one sink-batch). A seeded driver SIGKILLs the
// source-poll function mid-invocation first (the Lambda coordinator leads
// first), then at random pull workers, function processes
// (mid-invocation when one holds an invocation), the leading coordinator
// and brokers (each restarted after a few seconds), and stalls or resets
// the connections of pull workers to their coordinator or of the Lambda
// coordinator to the Invoke API (tcpProxy). At the end a read_committed
// consumer of the topic and the S3 objects each hold every order id
// 0..N-1 exactly once, and the Parquet objects of each partition tile its
// committed records (every committed offset in exactly one object, none
// partial, duplicated or holding an aborted record); the file holds every
// id at least once (FileStreamSink is at least once, as Connect's); a
// read_uncommitted consumer sees records of aborted transactions (a
// source was killed mid-transaction: the run proves what it says); the
// committed source and sink offsets sampled during the run never moved
// backwards; and no lease in the lease log was issued before the
// deadline of its task's outstanding one (a deposed leader's late records,
// never invoked, aside: checkLeaseRecords). make chaos-pipeline runs it.
func TestChaosPipeline(t *testing.T) {
	if os.Getenv("SLUICE_CHAOS_PIPELINE") == "" {
		t.Skip("the end-to-end chaos pipeline on three Apache Kafka brokers: make chaos (SLUICE_CHAOS_PIPELINE=1)")
	}
	realkafka.Require(t)
	testBegan := time.Now()
	pc := pipelineChaosFromEnv(t)
	rng := rand.New(rand.NewPCG(pc.seed, 0xc4a05))
	t.Logf("chaos pipeline: seed %d, %d records, faults for %s, then up to %s to finish (SLUICE_CHAOS_SEED, SLUICE_CHAOS_PIPELINE_RECORDS, SLUICE_CHAOS_PIPELINE_FAULTS, SLUICE_CHAOS_PIPELINE_DRAIN)",
		pc.seed, pc.records, pc.faults, pc.drain)
	b := binaries(t)
	cluster := realkafka.Fresh(t, realkafka.Options{Brokers: 3, MinISR: 2, Partitions: 2})
	s3 := s3test.Start(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "worker-secret")
	if err := os.WriteFile(secretFile, []byte("chaos-worker-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rig := &chaosRig{t: t, b: b, cluster: cluster, secret: "SLUICE_WORKER_SECRET_FILE=" + secretFile}
	// The Lambda emulation: one source-poll and two sink-batch execution
	// environments, each a process of its own.
	srcRT, sinkRT := lambdatest.NewRuntime(t, "source-poll"), lambdatest.NewRuntime(t, "sink-batch")
	rig.lambda = lambdatest.NewService(t, 30*time.Second, srcRT, sinkRT)
	rig.lambdaProxy = newTCPProxy(t, strings.TrimPrefix(rig.lambda.URL(), "http://"))
	for _, f := range []*chaosFunction{{kind: "source-poll", rt: srcRT}, {kind: "sink-batch", rt: sinkRT}, {kind: "sink-batch", rt: sinkRT}} {
		rig.startFunction(f)
		rig.fns = append(rig.fns, f)
	}
	// Two coordinators, a seeded one of which invokes through the Lambda
	// emulation and the other pull workers (one source-poll, one
	// sink-batch); the Lambda one starts first and leads first, so that
	// the first faults hit emulated invocations.
	lambdaCoord := rng.IntN(2)
	for i := range 2 {
		c := &chaosCoordinator{addr: proctest.FreeAddr(t), lambda: i == lambdaCoord}
		rig.coords = append(rig.coords, c)
		if c.lambda {
			continue
		}
		c.proxy = newTCPProxy(t, c.addr)
		for _, kind := range []string{"source-poll", "sink-batch"} {
			w := &chaosWorker{kind: kind, coord: c}
			rig.startWorker(w)
			rig.workers = append(rig.workers, w)
		}
	}
	for _, c := range []*chaosCoordinator{rig.coords[lambdaCoord], rig.coords[1-lambdaCoord]} {
		rig.startCoordinator(c)
		proctest.CheckFor(t, 2*time.Minute, 200*time.Millisecond, func() error {
			if rig.leader() == nil {
				return fmt.Errorf("no coordinator leads yet")
			}
			return nil
		})
	}
	t.Logf("coordinator %d (%s) invokes through the Lambda emulation, coordinator %d (%s) through pull workers",
		lambdaCoord+1, rig.coords[lambdaCoord].addr, 2-lambdaCoord, rig.coords[1-lambdaCoord].addr)

	const topic = "chaos-orders"
	n := pc.records
	out := filepath.Join(dir, "orders.jsonl")
	conv := map[string]string{
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
	}
	source := map[string]string{"connector.class": "Datagen", "topic": topic, "shape": "orders", "count": strconv.Itoa(n),
		"rate": strconv.Itoa(max(n/40, 1)), "seed": strconv.FormatUint(pc.seed, 10), "tasks.max": "1",
		// Transactions span 1.5 s of polls, so that a kill mid-lease is a
		// kill mid-transaction.
		"exactly.once.support": "required", "transaction.boundary": "interval", "transaction.boundary.interval.ms": "1500"}
	maps.Copy(source, conv)
	s3sink := map[string]string{"connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": topic, "tasks.max": "2",
		"format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat", "parquet.codec": "snappy", "flush.size": "500",
		"consumer.override.isolation.level": "read_committed"}
	maps.Copy(s3sink, conv)
	maps.Copy(s3sink, s3.Props())
	filesink := map[string]string{"connector.class": "FileStreamSink", "topics": topic, "file": out, "tasks.max": "1",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"consumer.override.isolation.level": "read_committed"}
	for _, c := range []struct {
		name   string
		config map[string]string
	}{{"chaos-src", source}, {"chaos-s3", s3sink}, {"chaos-file", filesink}} {
		proctest.CheckFor(t, time.Minute, 500*time.Millisecond, func() error {
			status, body, err := request(http.MethodPost, rig.anyURL()+"/connectors", map[string]any{"name": c.name, "config": c.config})
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("POST /connectors %s: %d %s %v", c.name, status, body, err)
			}
			return nil
		})
	}

	kc, err := kafka.Dial(context.Background(), kafka.Config{Brokers: cluster.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	mono := &monotonic{t: t}
	sample := func() {
		mono.source(rig)
		for _, group := range []string{"connect-chaos-s3", "connect-chaos-file"} {
			mono.group(kc, group, topic)
		}
	}

	// The faults, each logged with its time from the first one.
	counts := map[string]int{}
	var began time.Time
	note := func(kind, detail string) {
		counts[kind]++
		t.Logf("fault at %6.1fs: %s (%s)", time.Since(began).Seconds(), kind, detail)
	}
	// killFunction SIGKILLs a function process of kind ("" for either),
	// one holding an invocation if one does within wait, and starts a
	// new execution environment in its place.
	killFunction := func(kind string, wait time.Duration) {
		var busy, all []*chaosFunction
		for until := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
			busy, all = nil, nil
			for _, f := range rig.fns {
				if kind == "" || f.kind == kind {
					all = append(all, f)
					if f.rt.Inflight() > 0 {
						busy = append(busy, f)
					}
				}
			}
			if len(busy) > 0 || time.Now().After(until) {
				break
			}
			sample()
		}
		f := all[rng.IntN(len(all))]
		if len(busy) > 0 {
			f = busy[rng.IntN(len(busy))]
		}
		f.p.Kill()
		if ids := f.rt.Exit("signal: killed"); len(ids) > 0 {
			note(f.kind+" function SIGKILLed mid-invocation", fmt.Sprint("invocations ", ids))
		} else {
			note(f.kind+" function SIGKILLed idle", "no invocation in flight")
		}
		rig.startFunction(f)
	}
	began = time.Now()
	// First the source-poll function mid-invocation (an exactly-once
	// transaction in flight, most likely) while the Lambda coordinator
	// leads, then each other kind of fault once in a seeded order, then at
	// random.
	first := []int{0, 3, 5, 7, 10}
	rng.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	first = append([]int{-1}, first...)
	for round := 0; time.Since(began) < pc.faults; round++ {
		pause := time.Duration(1000+rng.IntN(3000)) * time.Millisecond
		for until := time.Now().Add(pause); time.Now().Before(until); time.Sleep(500 * time.Millisecond) {
			sample()
		}
		f := rng.IntN(12)
		if round < len(first) {
			f = first[round]
		}
		switch {
		case f < 0:
			killFunction("source-poll", 30*time.Second)
		case f < 3: // a pull worker, mid-lease most likely
			w := rig.workers[rng.IntN(len(rig.workers))]
			w.p.Kill()
			note("worker SIGKILLed", w.kind+" of coordinator "+w.coord.addr)
			rig.startWorker(w)
		case f < 5: // an emulated function process, mid-invocation if one is
			killFunction("", 3*time.Second)
		case f < 7: // the leading coordinator
			// Between elections there may be none for a moment.
			var lead *chaosCoordinator
			proctest.CheckFor(t, time.Minute, 200*time.Millisecond, func() error {
				if lead = rig.leader(); lead == nil {
					return fmt.Errorf("no coordinator leads")
				}
				return nil
			})
			lead.p.Kill()
			if lead.lambda {
				counts["Lambda leader SIGKILLed"]++
			}
			note("leader SIGKILLed", fmt.Sprintf("coordinator %s, Lambda invoker %v", lead.addr, lead.lambda))
			time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
			rig.startCoordinator(lead)
		case f < 10: // a broker
			i := rng.IntN(3)
			cluster.Kill(i)
			note("broker SIGKILLed", fmt.Sprintf("broker %d", i+1))
			time.Sleep(time.Duration(2000+rng.IntN(4000)) * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			err := cluster.Restart(ctx, i)
			cancel()
			if err != nil {
				t.Fatalf("restarting broker %d: %v", i+1, err)
			}
		default: // the network between workers and their coordinator, or
			// between the Lambda coordinator and the Invoke API: stalled a
			// few seconds, or every connection reset
			proxies := []*tcpProxy{rig.lambdaProxy}
			for _, c := range rig.coords {
				if c.proxy != nil {
					proxies = append(proxies, c.proxy)
				}
			}
			i := rng.IntN(len(proxies))
			what := "the Invoke API"
			if i > 0 {
				what = "pull workers to their coordinator"
			}
			if rng.IntN(2) == 0 {
				d := time.Duration(1000+rng.IntN(5000)) * time.Millisecond
				proxies[i].Stall(d)
				note("proxy stalled", fmt.Sprintf("%s for %s", what, d))
			} else {
				n := proxies[i].Reset()
				counts["connections reset"] += n
				note("proxy reset", fmt.Sprintf("%s: %d connections", what, n))
			}
		}
	}
	t.Logf("faults over after %s: %v", time.Since(began).Round(time.Second), counts)
	for _, kind := range []string{"worker SIGKILLed", "source-poll function SIGKILLed mid-invocation", "leader SIGKILLed", "broker SIGKILLed"} {
		if counts[kind] == 0 {
			t.Errorf("no fault %q in %s: the run proves less than it says (seed %d)", kind, pc.faults, pc.seed)
		}
	}
	if counts["proxy stalled"]+counts["proxy reset"] == 0 {
		t.Errorf("no connection stalled or reset in %s: the run proves less than it says (seed %d)", pc.faults, pc.seed)
	}

	// The pipeline finishes: the source's offset reaches n, and both sinks'
	// groups reach the end of every partition.
	proctest.CheckFor(t, pc.drain, time.Second, func() error {
		sample()
		if mono.seq < int64(n) {
			return fmt.Errorf("the source's committed offset is at %d of %d", mono.seq, n)
		}
		parts, err := kc.Partitions(context.Background(), topic)
		if err != nil {
			return err
		}
		var tps []kafka.TopicPartition
		for _, p := range parts {
			tps = append(tps, kafka.TopicPartition{Topic: topic, Partition: p})
		}
		wms, err := kc.StableWatermarks(context.Background(), tps)
		if err != nil {
			return err
		}
		for _, group := range []string{"connect-chaos-s3", "connect-chaos-file"} {
			committed, err := kc.CommittedOffsets(context.Background(), group, tps)
			if err != nil {
				return err
			}
			for _, tp := range tps {
				if committed[tp] < wms[tp].High {
					return fmt.Errorf("group %s is at %d of %d in %s", group, committed[tp], wms[tp].High, tp)
				}
			}
		}
		return nil
	})

	// The checks: each order id 0..n-1 exactly once in the topic
	// (read_committed) and in S3, where the Parquet objects also tile
	// each partition's committed records; at least once in the file.
	checkBegan := time.Now()
	violations := 0
	check := func(where string, ids *idCounts, exact bool) {
		t.Helper()
		distinct, lost, dups := ids.tally()
		t.Logf("%s: %d order ids read, %d distinct, %d lost, %d duplicates, %d unknown", where, ids.total, distinct, lost, dups, ids.unknown)
		if lost > 0 || ids.unknown > 0 || (exact && dups > 0) {
			violations++
			t.Errorf("%s: %d of %d order ids lost, %d duplicates, %d unknown ids", where, lost, n, dups, ids.unknown)
		}
	}
	kafkaIDs, committed := committedOrders(t, cluster, topic, n)
	check("Kafka (read_committed)", kafkaIDs, true)
	// What read_uncommitted sees beyond it is in transactions that
	// aborted: killed mid-transaction, or fenced.
	all, _ := readOrders(t, cluster, topic, n, kgo.ReadUncommitted())
	aborted := all.total - kafkaIDs.total
	t.Logf("Kafka: %d records in aborted transactions (read_uncommitted sees %d records, read_committed %d)", aborted, all.total, kafkaIDs.total)
	if aborted <= 0 {
		t.Errorf("no records in aborted transactions: no source lease was killed mid-transaction, the run proves less than it says (seed %d)", pc.seed)
	}
	all = nil
	objects, badObjects := s3ParquetObjects(t, s3, topic)
	s3ids := newIDCounts(n)
	for _, o := range objects {
		for _, id := range o.ids {
			s3ids.add(id)
		}
	}
	check(fmt.Sprintf("S3 (%d Parquet objects)", len(objects)), s3ids, true)
	for _, bad := range append(badObjects, tileObjects(objects, committed)...) {
		violations++
		t.Errorf("S3: %s", bad)
	}
	kafkaIDs, committed, objects = nil, nil, nil
	check("FileStreamSink file (at least once)", fileOrderIDs(t, out, n), false)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("checks of %d records took %s; the test process's peak RSS %d MiB", n, time.Since(checkBegan).Round(time.Millisecond), ru.Maxrss/1024)
	leases := checkLeaseLog(t, kc, "sluice-leases")
	for _, v := range leases.violations {
		t.Error(v)
	}
	leaseViolations := len(leases.violations)
	t.Logf("lease log: %d leases recorded; %d issued while their task's previous lease was outstanding, %d of them sink leases (checked: each at or after that lease's deadline, sink leases with the same ranges); skipped as a deposed leader's late writes: %d lease records of an earlier leader generation (never invoked), %d tombstones of a lease already replaced",
		leases.issued, leases.waited, leases.reissued, leases.stale, leases.lateEnds)
	calls, errs := rig.lambda.Stats()
	t.Logf("Lambda emulation: invocations %v, %d of them failed (function errors, Runtime.ExitError of killed processes included)", calls, len(errs))
	t.Logf("chaos pipeline: seed %d, %d records, faults %v, %d offset samples (source and both sink groups), %d violations, %s in all",
		pc.seed, n, counts, mono.samples, violations+mono.violations+leaseViolations, time.Since(testBegan).Round(time.Second))
}

// leaseEntry is a record of the lease log (coordinator.leaseRecord).
type leaseEntry struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"`
	Deadline time.Time     `json:"deadline"`
	Ranges   []lease.Range `json:"ranges"`
	Leader   int32         `json:"leader_generation"`
}

// leaseLogRecord is one record of the lease log: a lease recorded (entry)
// or a tombstone, which names the lease it ends (ends, its
// sluice.lease.id header).
type leaseLogRecord struct {
	offset    int64
	key       string
	timestamp time.Time
	entry     *leaseEntry
	ends      string
}

// leaseLogCheck is what checkLeaseRecords found.
type leaseLogCheck struct {
	issued     int // leases recorded
	waited     int // recorded while the task's previous lease was outstanding
	reissued   int // of those, sink leases after sink leases
	stale      int // a deposed leader's late records, never invoked
	lateEnds   int // tombstones of a lease already replaced
	violations []string
}

// checkLeaseLog reads the whole lease log and checks it (checkLeaseRecords).
func checkLeaseLog(t *testing.T, kc *kafka.Client, topic string) leaseLogCheck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wms, err := kc.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var recs []leaseLogRecord
	err = kc.ReadRange(ctx, tp, wms[tp].Low, wms[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			r := leaseLogRecord{offset: m.Offset, key: string(m.Key), timestamp: m.Timestamp}
			if m.Value == nil {
				for _, h := range m.Headers {
					if h.Key == "sluice.lease.id" {
						r.ends = string(h.Value)
					}
				}
			} else {
				r.entry = new(leaseEntry)
				if err := json.Unmarshal(m.Value, r.entry); err != nil {
					return fmt.Errorf("lease log offset %d: %v", m.Offset, err)
				}
			}
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checkLeaseRecords(recs)
}

// checkLeaseRecords checks the lease log's records (a lease recorded
// before it is invoked, a tombstone once its result is in) against rules 3
// and 6 of the design: a lease recorded while its task's previous lease is
// outstanding (its invocation was killed, or its coordinator was, before
// the result came) is recorded at or after that lease's deadline, so that
// the two never run at once; and a sink lease issued so re-issues the
// outstanding lease's exact ranges.
//
// Two kinds of records are a deposed leader's writes that its producer
// delayed (a broker was killed) until after its successor's, and are not
// leases that may act:
//   - a lease recorded in a leader generation below one already in the log
//     (within one run, generations only grow): its coordinator invokes a
//     lease only while the generation it recorded it in is still
//     confirmed, and that confirmation ended before the later generation's
//     leader was elected, before that leader's record was written, so
//     before this one landed: it was never invoked (stale);
//   - a tombstone of another lease than the task's outstanding one: the
//     late End of a lease its successor replaced (lateEnds).
//
// The coordinator's lease log skips both the same way
// (coordinator.KafkaLeaseLog).
func checkLeaseRecords(recs []leaseLogRecord) leaseLogCheck {
	var c leaseLogCheck
	outstanding := map[string]leaseEntry{}
	var maxLeader int32
	for _, m := range recs {
		if m.entry == nil {
			if prev, ok := outstanding[m.key]; ok && m.ends != "" && m.ends != prev.ID {
				c.lateEnds++
				continue
			}
			delete(outstanding, m.key)
			continue
		}
		e := *m.entry
		c.issued++
		if e.Leader > 0 && e.Leader < maxLeader {
			c.stale++
			continue
		}
		maxLeader = max(maxLeader, e.Leader)
		if prev, ok := outstanding[m.key]; ok {
			c.waited++
			// Record timestamps are in milliseconds.
			if m.timestamp.Before(prev.Deadline.Truncate(time.Millisecond)) {
				c.violations = append(c.violations, fmt.Sprintf("%s: lease %s (leader generation %d) recorded at %s, before the deadline %s of the outstanding lease %s (leader generation %d): both may run at once",
					m.key, e.ID, e.Leader, m.timestamp.Format(time.RFC3339Nano), prev.Deadline.Format(time.RFC3339Nano), prev.ID, prev.Leader))
			}
			if e.Kind == "sink" && prev.Kind == "sink" {
				c.reissued++
				if fmt.Sprint(e.Ranges) != fmt.Sprint(prev.Ranges) {
					c.violations = append(c.violations, fmt.Sprintf("%s: sink lease %s has ranges %v, the outstanding lease %s had %v: not re-issued with the same ranges",
						m.key, e.ID, e.Ranges, prev.ID, prev.Ranges))
				}
			}
		}
		outstanding[m.key] = e
	}
	return c
}

// monotonic samples committed offsets and fails the test when one moves
// backwards.
type monotonic struct {
	t          *testing.T
	seq        int64                      // the source's last committed datagen seq
	groups     map[string]map[int32]int64 // group -> partition -> offset
	samples    int
	violations int
}

func (m *monotonic) source(r *chaosRig) {
	var got struct {
		Offsets []struct {
			Offset map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := getJSON(r.anyURL()+"/connectors/chaos-src/offsets", &got); err != nil || len(got.Offsets) != 1 {
		return
	}
	seq, ok := got.Offsets[0].Offset["seq"].(float64)
	if !ok {
		return
	}
	m.samples++
	if int64(seq) < m.seq {
		m.violations++
		m.t.Errorf("the source's committed offset moved backwards from %d to %d", m.seq, int64(seq))
	}
	m.seq = int64(seq)
}

func (m *monotonic) group(kc *kafka.Client, group, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	parts, err := kc.Partitions(ctx, topic)
	if err != nil {
		return
	}
	var tps []kafka.TopicPartition
	for _, p := range parts {
		tps = append(tps, kafka.TopicPartition{Topic: topic, Partition: p})
	}
	committed, err := kc.CommittedOffsets(ctx, group, tps)
	if err != nil {
		return
	}
	if m.groups == nil {
		m.groups = map[string]map[int32]int64{}
	}
	if m.groups[group] == nil {
		m.groups[group] = map[int32]int64{}
	}
	m.samples++
	for tp, off := range committed {
		if off < 0 {
			continue // none yet
		}
		if last, ok := m.groups[group][tp.Partition]; ok && off < last {
			m.violations++
			m.t.Errorf("group %s: the committed offset of %s moved backwards from %d to %d", group, tp, last, off)
		}
		m.groups[group][tp.Partition] = off
	}
}

// orderID reads the order_id of a JSON order.
func orderID(b []byte) (int64, error) {
	var rec struct {
		OrderID *int64 `json:"order_id"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.OrderID == nil {
		return 0, fmt.Errorf("not an order: %q (%v)", b, err)
	}
	return *rec.OrderID, nil
}

// fileOrderIDs counts the order ids in the FileStreamSink's file.
func fileOrderIDs(t *testing.T, path string, n int) *idCounts {
	t.Helper()
	ids := newIDCounts(n)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		id, err := orderID(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ids.add(id)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}
