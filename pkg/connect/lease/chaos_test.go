package lease_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// chaosSettings are the chaos suite's size, from the environment (make
// chaos sets them; make test runs the defaults).
type chaosSettings struct {
	seed           uint64
	records, round int
}

func chaosFromEnv(t *testing.T) chaosSettings {
	t.Helper()
	s := chaosSettings{seed: 1, records: 2000, round: 6}
	for name, dst := range map[string]*int{"SLUICE_CHAOS_RECORDS": &s.records, "SLUICE_CHAOS_ROUNDS": &s.round} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				t.Fatalf("%s=%q: want a positive number", name, v)
			}
			*dst = n
		}
	}
	if v := os.Getenv("SLUICE_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SLUICE_CHAOS_SEED=%q: %v", v, err)
		}
		s.seed = n
	}
	return s
}

// TestChaosExactlyOnceSource runs one source task's exactly-once leases as
// separate worker processes and SIGKILLs them at seeded random moments,
// sometimes with two invocations of the task at once (the newer fences the
// older), while the in-process broker drops connections of produce
// requests; between rounds the committed source offsets must never move
// backwards, and at the end a read_committed consumer must see each of
// r000..r<N-1> exactly once. Reproduce a run with its seed
// (SLUICE_CHAOS_SEED, logged); make chaos runs a bigger one.
func TestChaosExactlyOnceSource(t *testing.T) { runSourceChaos(t, true) }

// TestChaosAtLeastOnceSource is TestChaosExactlyOnceSource's run with
// exactly-once disabled, one invocation of the task at a time (as the
// coordinator issues them): SIGKILLed worker processes and dropped produce
// connections may duplicate records but lose none, so a consumer sees each
// of r000..r<N-1> at least once, and the committed offsets never move
// backwards.
func TestChaosAtLeastOnceSource(t *testing.T) { runSourceChaos(t, false) }

// runSourceChaos is the chaos run of the source task, with exactly-once
// leases (two at once at times: the newer fences the older) or plain ones.
func runSourceChaos(t *testing.T, eos bool) {
	cs := chaosFromEnv(t)
	rng := rand.New(rand.NewPCG(cs.seed, 0x5eed))
	t.Logf("chaos: seed %d, %d records, %d rounds (SLUICE_CHAOS_SEED, SLUICE_CHAOS_RECORDS, SLUICE_CHAOS_ROUNDS)", cs.seed, cs.records, cs.round)
	// Connection drops: the broker closes the connection of the next
	// `drops` produce requests (kfake only; a real broker is not touched).
	var drops atomic.Int64
	var dropped atomic.Int64
	var broker *kafkatest.Env
	var e *env
	if realkafka.Enabled() {
		e = newEnv(t, nil)
	} else {
		broker = kafkatest.StartWith(t, devkafka.Options{Partitions: 1})
		e = envOn(t, broker, nil)
		c := broker.Broker.Cluster()
		c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			if drops.Add(-1) >= 0 {
				dropped.Add(1)
				return nil, errors.New("chaos: connection dropped"), true
			}
			drops.Store(0)
			return nil, nil, false
		})
	}

	var kills, overlaps, finished, epoch int64
	last := int64(0)
	for round := range cs.round {
		if d := int64(1 + rng.IntN(3)); broker != nil && rng.IntN(2) == 0 && os.Getenv("SLUICE_CHAOS_NO_DROPS") == "" {
			drops.Store(d)
		}
		n := 1
		if eos && rng.IntN(10) < 3 {
			n = 2 // a zombie and its successor at once
			overlaps++
		}
		hw0 := highWatermark(t, e, "out")
		var procs []*worker
		for range n {
			epoch++
			boundary := []string{lease.BoundaryPoll, lease.BoundaryInterval, lease.BoundaryInterval}[rng.IntN(3)]
			interval := lease.Duration(time.Duration(50+rng.IntN(500)) * time.Millisecond)
			l := chaosLease("c"+strconv.FormatInt(epoch, 10), epoch, cs.records, eos, boundary, map[string]string{"poll.delay": "5ms"})
			if eos {
				l.ExactlyOnce.Interval = interval
			}
			l.Budget.MaxRecords = int64(100 + rng.IntN(max(cs.records/4, 1)))
			// The deadline bounds the transaction timeout, which bounds how
			// long a transaction a SIGKILL left open holds back readers of
			// the offsets topic (Load waits for it).
			l.Deadline = time.Now().Add(10 * time.Second)
			procs = append(procs, startChaosWorker(t, e.brokers, l))
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		}
		// SIGKILL once the workers have written a random number of records
		// more (mid-transaction, mostly), unless they end first.
		target := hw0 + int64(10*(1+rng.IntN(40)))
		for wait := time.Now().Add(20 * time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
			if highWatermark(t, e, "out") >= target || allDone(procs) {
				break
			}
		}
		for _, p := range procs {
			if !p.done() && rng.IntN(5) != 0 && p.cmd.Process.Signal(syscall.SIGKILL) == nil {
				kills++
			}
		}
		for _, p := range procs {
			if <-p.exited == nil {
				finished++
			}
		}
		got, _ := storedOffsetWithin(t, e.store, 90*time.Second).(int64)
		if got < last {
			t.Fatalf("round %d: the committed offset moved backwards from %d to %d", round, last, got)
		}
		last = got
	}
	// Whatever the rounds left, the task's next leases finish the work.
	for i := 0; last < int64(cs.records); i++ {
		if i == 20 {
			t.Fatalf("the final leases did not reach offset %d (at %d)", cs.records, last)
		}
		epoch++
		res := e.exec.Run(context.Background(), chaosLease("final"+strconv.Itoa(i), epoch, cs.records, eos, lease.BoundaryPoll, nil))
		if res.Status != lease.Succeeded && !res.Retriable {
			t.Fatalf("final lease: %+v", res)
		}
		got, _ := storedOffset(t, e.store).(int64)
		if got < last {
			t.Fatalf("final lease: the committed offset moved backwards from %d to %d", last, got)
		}
		last = got
	}
	all := readTopic(t, e.client, "out")
	if !eos {
		atLeastOnce(t, all, cs.records)
		t.Logf("chaos (exactly-once disabled): %d invocations, %d SIGKILLed, %d ran to the end, %d produce connections dropped; "+
			"the log holds %d records for %d ids, each at least once; 0 violations",
			epoch, kills, finished, dropped.Load(), len(all), cs.records)
		return
	}
	seen := readCommitted(t, e.client, "out")
	// librdkafka's read_committed consumer is the reference reader.
	if kc := kcatCommitted(t, e.brokers[0], "out"); len(kc) != len(seen) {
		t.Errorf("kcat (read_committed) saw %d records, Sluice's reader %d", len(kc), len(seen))
		exactlyOnce(t, kc, cs.records)
	}
	exactlyOnce(t, seen, cs.records)
	t.Logf("chaos: %d invocations, %d SIGKILLed, %d ran to the end, %d rounds with two at once, %d produce connections dropped; "+
		"read_committed saw %d records (each once), the log holds %d (aborted ones included); 0 violations",
		epoch, kills, finished, overlaps, dropped.Load(), len(seen), len(all))
}

// chaosLease is the chaos run's lease of the source task: exactly-once
// with the transaction boundary given, or a plain one.
func chaosLease(id string, epoch int64, records int, eos bool, boundary string, extra map[string]string) lease.Lease {
	if eos {
		return eosLease(id, epoch, "out", records, boundary, extra)
	}
	return sourceLease(id, epoch, "out", records, extra)
}

// atLeastOnce fails unless got holds each of r000..r<n-1> (duplicates
// allowed) and nothing else.
func atLeastOnce(t *testing.T, got []string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, v := range got {
		seen[v] = true
	}
	var missing []string
	for _, w := range want(n) {
		if !seen[w] {
			missing = append(missing, w)
		}
		delete(seen, w)
	}
	if len(missing) > 0 || len(seen) > 0 {
		t.Fatalf("%d of %d ids missing (first %v), %d unexpected values", len(missing), n, missing[:min(len(missing), 10)], len(seen))
	}
}

// worker is a worker process running one lease.
type worker struct {
	cmd    *exec.Cmd
	exited chan error // receives Wait's result once
	end    chan struct{}
}

func (w *worker) done() bool {
	select {
	case <-w.end:
		return true
	default:
		return false
	}
}

func allDone(ws []*worker) bool {
	for _, w := range ws {
		if !w.done() {
			return false
		}
	}
	return true
}

// startChaosWorker runs l in a worker process (TestChaosHelperProcess).
func startChaosWorker(t *testing.T, brokers []string, l lease.Lease) *worker {
	t.Helper()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChaosHelperProcess$")
	cmd.Env = append(os.Environ(), "SLUICE_CHAOS_BROKERS="+strings.Join(brokers, ","), "SLUICE_CHAOS_LEASE="+string(b), "SLUICE_TEST_KAFKA=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, exited: make(chan error, 1), end: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		close(w.end)
		w.exited <- err
	}()
	t.Cleanup(func() {
		if !w.done() {
			_ = cmd.Process.Kill()
			<-w.end
		}
	})
	return w
}

// highWatermark is partition 0 of topic's high watermark: every record
// written, committed or not.
func highWatermark(t *testing.T, e *env, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		return 0 // not created yet
	}
	return wm[tp].High
}

// The worker process of TestChaosExactlyOnceSource: it runs the lease it
// is given and exits 0 if the lease succeeded.
func TestChaosHelperProcess(t *testing.T) {
	brokers := os.Getenv("SLUICE_CHAOS_BROKERS")
	if brokers == "" {
		t.Skip("worker process of TestChaosExactlyOnceSource, run by it")
	}
	var l lease.Lease
	if err := json.Unmarshal([]byte(os.Getenv("SLUICE_CHAOS_LEASE")), &l); err != nil {
		t.Fatal(err)
	}
	k := kafkatest.Connect(t, strings.Split(brokers, ","))
	exec := lease.NewExecutor(newEnvRegistry(t), k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond})
	if res := exec.Run(context.Background(), l); res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s %s", l.ID, res.Status, res.Error)
	}
}

// kcatCommitted returns the values librdkafka's read_committed consumer
// (kcat) reads from partition 0 of topic.
func kcatCommitted(t *testing.T, broker, topic string) []string {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is required as the reference read_committed consumer: run `make tools` or apt-get install kcat")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kcat", "-b", broker, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
		"-X", "isolation.level=read_committed", "-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	return strings.Fields(string(out))
}
