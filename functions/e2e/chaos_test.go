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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// The end-to-end chaos pipeline's settings, from the environment (make
// chaos sets them).
type pipelineChaos struct {
	seed    uint64
	records int
	faults  time.Duration // how long faults are injected
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
	starts  int // processes started, to name them apart
}

type chaosCoordinator struct {
	addr string
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
	c.p = start(r.t, fmt.Sprintf("coordinator %s #%d", c.addr, r.starts), r.b.coordinator,
		"SLUICE_BOOTSTRAP_SERVERS="+r.cluster.Bootstrap(),
		"SLUICE_REST_LISTENER="+c.addr,
		"SLUICE_REST_ADVERTISED_URL="+c.url(),
		"SLUICE_ALLOWED_PATHS="+os.TempDir(),
		"SLUICE_GROUP_ID=sluice-chaos",
		"SLUICE_INVOKER=pull",
		r.secret,
		"SLUICE_PULL_MAX_WAIT=2s",
		"SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT=enabled",
		"SLUICE_ELECTION_SESSION_TIMEOUT=2s",
		"SLUICE_LEASE_TIMEOUT=10s",
		"SLUICE_LEASE_MAX_TIME=2s",
		"SLUICE_SAFETY_MARGIN="+margin.String(),
		"SLUICE_TASK_RETRIES=1000",
		"SLUICE_RETRY_BACKOFF_MAX=1s",
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_SINK_POLL_INTERVAL=200ms",
		"SLUICE_DEFAULT_ROTATE_INTERVAL=500ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
		"SLUICE_LOG_LEVEL=warn",
	)
}

func (r *chaosRig) startWorker(w *chaosWorker) {
	r.starts++
	path := r.b.sourcePoll
	if w.kind == "sink-batch" {
		path = r.b.sinkBatch
	}
	id := fmt.Sprintf("%s-%d", w.kind, r.starts)
	w.p = start(r.t, id+" of "+w.coord.addr, path, append(functionEnv(r.cluster.Addrs()), r.secret,
		"SLUICE_COORDINATOR_URL="+w.coord.url(), "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID="+id,
		"SLUICE_LOG_LEVEL=warn", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(r.t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.t.TempDir(), "none"))...)
}

// leader returns the coordinator that says it leads, or nil.
func (r *chaosRig) leader() *chaosCoordinator {
	for _, c := range r.coords {
		if c.p.Exited() {
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
		if !c.p.Exited() {
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
// exactly-once source) -> S3 (versitygw, JSON objects) and ->
// FileStreamSink, both sinks read_committed, with two coordinators in one
// group whose leases run in pull workers (one source-poll and one
// sink-batch per coordinator), while a seeded driver SIGKILLs workers
// mid-lease, SIGKILLs the leading coordinator and SIGKILLs brokers (each
// restarted after a few seconds). At the end a read_committed consumer of
// the topic and the S3 objects each hold every order id 0..N-1 exactly
// once; the file holds every one at least once (FileStreamSink is at least
// once, as Connect's); the committed source and sink offsets sampled
// during the run never moved backwards. make chaos runs it.
func TestChaosPipeline(t *testing.T) {
	if os.Getenv("SLUICE_CHAOS_PIPELINE") == "" {
		t.Skip("the end-to-end chaos pipeline on three Apache Kafka brokers: make chaos (SLUICE_CHAOS_PIPELINE=1)")
	}
	realkafka.Require(t)
	pc := pipelineChaosFromEnv(t)
	rng := rand.New(rand.NewPCG(pc.seed, 0xc4a05))
	t.Logf("chaos pipeline: seed %d, %d records, faults for %s (SLUICE_CHAOS_SEED, SLUICE_CHAOS_PIPELINE_RECORDS, SLUICE_CHAOS_PIPELINE_FAULTS)",
		pc.seed, pc.records, pc.faults)
	b := binaries(t)
	cluster := realkafka.Fresh(t, realkafka.Options{Brokers: 3, MinISR: 2, Partitions: 2})
	s3 := s3test.Start(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "worker-secret")
	if err := os.WriteFile(secretFile, []byte("chaos-worker-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rig := &chaosRig{t: t, b: b, cluster: cluster, secret: "SLUICE_WORKER_SECRET_FILE=" + secretFile}
	for range 2 {
		c := &chaosCoordinator{addr: proctest.FreeAddr(t)}
		rig.startCoordinator(c)
		rig.coords = append(rig.coords, c)
		for _, kind := range []string{"source-poll", "sink-batch"} {
			w := &chaosWorker{kind: kind, coord: c}
			rig.startWorker(w)
			rig.workers = append(rig.workers, w)
		}
	}
	proctest.CheckFor(t, 2*time.Minute, 200*time.Millisecond, func() error {
		if rig.leader() == nil {
			return fmt.Errorf("no coordinator leads yet")
		}
		return nil
	})

	const topic = "chaos-orders"
	n := pc.records
	out := filepath.Join(dir, "orders.jsonl")
	conv := map[string]string{
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
	}
	source := map[string]string{"connector.class": "Datagen", "topic": topic, "shape": "orders", "count": strconv.Itoa(n),
		"rate": strconv.Itoa(max(n/40, 1)), "seed": strconv.FormatUint(pc.seed, 10), "tasks.max": "1",
		"exactly.once.support": "required", "transaction.boundary": "poll"}
	maps.Copy(source, conv)
	s3sink := map[string]string{"connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": topic, "tasks.max": "2",
		"format.class": "io.confluent.connect.s3.format.json.JsonFormat", "flush.size": "500",
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

	// The faults.
	counts := map[string]int{}
	began := time.Now()
	// Each kind of fault once first, in a seeded order, then at random.
	first := []int{0, 5, 7}
	rng.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	for round := 0; time.Since(began) < pc.faults; round++ {
		pause := time.Duration(1000+rng.IntN(3000)) * time.Millisecond
		for until := time.Now().Add(pause); time.Now().Before(until); time.Sleep(500 * time.Millisecond) {
			sample()
		}
		f := rng.IntN(10)
		if round < len(first) {
			f = first[round]
		}
		switch {
		case f < 5: // a worker, mid-lease most likely
			w := rig.workers[rng.IntN(len(rig.workers))]
			w.p.Kill()
			counts["worker SIGKILLed"]++
			rig.startWorker(w)
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
			counts["leader SIGKILLed"]++
			time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
			rig.startCoordinator(lead)
		default: // a broker
			i := rng.IntN(3)
			cluster.Kill(i)
			counts["broker SIGKILLed"]++
			time.Sleep(time.Duration(2000+rng.IntN(4000)) * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			err := cluster.Restart(ctx, i)
			cancel()
			if err != nil {
				t.Fatalf("restarting broker %d: %v", i+1, err)
			}
		}
	}
	t.Logf("faults over after %s: %v", time.Since(began).Round(time.Second), counts)
	for _, kind := range []string{"worker SIGKILLed", "leader SIGKILLed", "broker SIGKILLed"} {
		if counts[kind] == 0 {
			t.Errorf("no fault %q in %s: the run proves less than it says (seed %d)", kind, pc.faults, pc.seed)
		}
	}

	// The pipeline finishes: the source's offset reaches n, and both sinks'
	// groups reach the end of every partition.
	proctest.CheckFor(t, 5*time.Minute, time.Second, func() error {
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
	// (read_committed) and in S3, at least once in the file.
	violations := 0
	check := func(where string, ids map[int64]int, exact bool) {
		t.Helper()
		lost, dups := 0, 0
		for id := range int64(n) {
			switch c := ids[id]; {
			case c == 0:
				lost++
			case c > 1:
				dups += c - 1
			}
		}
		extra := 0
		for id := range ids {
			if id < 0 || id >= int64(n) {
				extra++
			}
		}
		t.Logf("%s: %d distinct order ids, %d lost, %d duplicates, %d unknown", where, len(ids), lost, dups, extra)
		if lost > 0 || extra > 0 || (exact && dups > 0) {
			violations++
			t.Errorf("%s: %d of %d order ids lost, %d duplicates, %d unknown ids", where, lost, n, dups, extra)
		}
	}
	check("Kafka (read_committed)", committedOrderIDs(t, cluster, topic, n), true)
	objects, s3ids := s3OrderIDs(t, s3)
	check(fmt.Sprintf("S3 (%d objects)", objects), s3ids, true)
	check("FileStreamSink file (at least once)", fileOrderIDs(t, out), false)
	waited, reissued, leaseViolations := checkLeaseLog(t, kc, "sluice-leases")
	t.Logf("lease log: %d leases issued while their task's previous lease was outstanding, each at or after its deadline; %d of them sink leases re-issued with the same ranges",
		waited, reissued)
	t.Logf("chaos pipeline: seed %d, %d records, faults %v, %d offset samples (source and both sink groups), %d violations",
		pc.seed, n, counts, mono.samples, violations+mono.violations+leaseViolations)
}

// leaseEntry is a record of the lease log (coordinator.leaseRecord).
type leaseEntry struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"`
	Deadline time.Time     `json:"deadline"`
	Ranges   []lease.Range `json:"ranges"`
}

// checkLeaseLog reads the whole lease log (a lease recorded before it is
// invoked, a tombstone once its result is in) and checks rules 3 and 6 of
// the design: a lease recorded while its task's previous lease is still
// outstanding (its invocation was killed, or its coordinator was, before
// the result came) is recorded at or after that lease's deadline, so
// that the two never run at once; and a sink lease issued so re-issues
// the outstanding lease's exact ranges. It returns how many leases were
// issued that way, how many of them were sink leases, and the violations.
func checkLeaseLog(t *testing.T, kc *kafka.Client, topic string) (waited, reissued, violations int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wms, err := kc.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	outstanding := map[string]leaseEntry{}
	issued := 0
	err = kc.ReadRange(ctx, tp, wms[tp].Low, wms[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			key := string(m.Key)
			if m.Value == nil {
				delete(outstanding, key)
				continue
			}
			var e leaseEntry
			if err := json.Unmarshal(m.Value, &e); err != nil {
				return fmt.Errorf("lease log offset %d: %v", m.Offset, err)
			}
			issued++
			if prev, ok := outstanding[key]; ok {
				waited++
				// Record timestamps are in milliseconds.
				if m.Timestamp.Before(prev.Deadline.Truncate(time.Millisecond)) {
					violations++
					t.Errorf("%s: lease %s recorded at %s, before the deadline %s of the outstanding lease %s: both may run at once",
						key, e.ID, m.Timestamp.Format(time.RFC3339Nano), prev.Deadline.Format(time.RFC3339Nano), prev.ID)
				}
				if e.Kind == "sink" && prev.Kind == "sink" {
					reissued++
					if fmt.Sprint(e.Ranges) != fmt.Sprint(prev.Ranges) {
						violations++
						t.Errorf("%s: sink lease %s has ranges %v, the outstanding lease %s had %v: not re-issued with the same ranges",
							key, e.ID, e.Ranges, prev.ID, prev.Ranges)
					}
				}
			}
			outstanding[key] = e
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lease log: %d leases recorded", issued)
	return waited, reissued, violations
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

// committedOrderIDs counts the order ids a read_committed consumer of
// every partition of topic sees.
func committedOrderIDs(t *testing.T, c *realkafka.Cluster, topic string, n int) map[int64]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ids := map[int64]int{}
	total := 0
	read := func(ctx context.Context) {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			id, err := orderID(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			ids[id]++
			total++
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for total < n && ctx.Err() == nil {
		read(ctx)
	}
	// A little longer: anything more is a duplicate.
	more, cancelMore := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelMore()
	for more.Err() == nil {
		read(more)
	}
	return ids
}

// s3OrderIDs counts the order ids in the bucket's objects (JSON lines)
// and returns how many objects there are.
func s3OrderIDs(t *testing.T, srv *s3test.Server) (int, map[int64]int) {
	t.Helper()
	ctx := context.Background()
	store, err := s3store.Open(ctx, srv.Props())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := store.List(ctx, "topics/")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]int{}
	for _, key := range slices.Sorted(slices.Values(keys)) {
		rc, err := store.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			id, err := orderID(sc.Bytes())
			if err != nil {
				t.Fatalf("object %s: %v", key, err)
			}
			ids[id]++
		}
	}
	return len(keys), ids
}

// fileOrderIDs counts the order ids in the FileStreamSink's file.
func fileOrderIDs(t *testing.T, path string) map[int64]int {
	t.Helper()
	ids := map[int64]int{}
	for _, line := range lines(t, path) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		id, err := orderID([]byte(line))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ids[id]++
	}
	return ids
}
