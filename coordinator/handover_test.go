package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// pullWorkers stands in for the pull workers of two coordinators: a lease
// runs for hold, then its result goes back to the coordinator that invoked
// it if that one still waits. A lease whose coordinator stopped waiting (it
// was deposed) may act until its deadline, as a real worker's may. Every
// invocation of a task's lease while another of its leases may still act
// is an overlap.
type pullWorkers struct {
	hold time.Duration

	mu       sync.Mutex
	running  map[int][]*workerLease // by task
	overlaps []string
}

type workerLease struct {
	by, id       string
	invoked, end time.Time // end: when it stops acting (its deadline until it reports)
}

func newPullWorkers(hold time.Duration) *pullWorkers {
	return &pullWorkers{hold: hold, running: map[int][]*workerLease{}}
}

// invoker is the setup.wrap of the coordinator named by.
func (w *pullWorkers) invoker(by string) func(coordinator.Invoker) coordinator.Invoker {
	return func(coordinator.Invoker) coordinator.Invoker { return pullInvoker{w: w, by: by} }
}

// invoked returns the leases invoked by by (every coordinator: ""), in
// order.
func (w *pullWorkers) invoked(by string) []workerLease {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []workerLease
	for _, ls := range w.running {
		for _, l := range ls {
			if by == "" || l.by == by {
				out = append(out, *l)
			}
		}
	}
	return out
}

func (w *pullWorkers) overlapped() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.overlaps...)
}

type pullInvoker struct {
	w  *pullWorkers
	by string
}

func (p pullInvoker) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	w := p.w
	now := time.Now()
	wl := &workerLease{by: p.by, id: l.ID, invoked: now, end: l.Deadline}
	w.mu.Lock()
	for _, r := range w.running[l.Task] {
		if r.end.After(now) {
			w.overlaps = append(w.overlaps, fmt.Sprintf("task %d: lease %s (by %s) invoked at %s while lease %s (by %s, invoked at %s) may act until %s",
				l.Task, l.ID, p.by, now.Format("15:04:05.000"), r.id, r.by, r.invoked.Format("15:04:05.000"), r.end.Format("15:04:05.000")))
		}
	}
	w.running[l.Task] = append(w.running[l.Task], wl)
	w.mu.Unlock()
	select {
	case <-time.After(w.hold):
		w.mu.Lock()
		wl.end = time.Now()
		w.mu.Unlock()
		return lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: lease.Succeeded, MorePending: true}, nil
	case <-ctx.Done():
		// The worker runs on; the coordinator gets no result.
		return lease.Result{}, fmt.Errorf("lease %s: the worker did not report: %w", l.ID, invoke.ErrNoResult)
	}
}

// gatedLeases holds the next lease record written once armed, until
// released: a lease-log write delayed (producer retries while a broker is
// down) while its coordinator is being replaced.
type gatedLeases struct {
	coordinator.LeaseLog
	armed   atomic.Bool
	held    chan lease.Lease // the lease held
	release chan struct{}
}

// newGatedLeases returns a gate (wrapping nothing yet: set LeaseLog) and
// the function that releases what it holds, called at the test's end too.
func newGatedLeases(t *testing.T) (g *gatedLeases, release func()) {
	g = &gatedLeases{held: make(chan lease.Lease, 1), release: make(chan struct{})}
	var released sync.Once
	release = func() { released.Do(func() { close(g.release) }) }
	t.Cleanup(release)
	return g, release
}

// hold arms the gate and returns the next lease recorded, which stays
// unwritten until released.
func (g *gatedLeases) hold(t *testing.T) lease.Lease {
	t.Helper()
	g.armed.Store(true)
	select {
	case l := <-g.held:
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("A recorded no lease within 30s")
		return lease.Lease{}
	}
}

func (g *gatedLeases) Begin(ctx context.Context, c string, l lease.Lease, leader int32) error {
	if g.armed.CompareAndSwap(true, false) {
		g.held <- l
		<-g.release
	}
	return g.LeaseLog.Begin(ctx, c, l, leader)
}

// The split brain at a leader handover (issue 15): leader A's group
// coordinator stops answering A's heartbeats, so the broker expires A's
// session and elects B, while A's own group session has not noticed and A
// still takes itself for the leader. A was recording a lease when that
// began (the write delayed until B leads and runs the task). A must not
// invoke that lease (it cannot confirm its leadership any more): no two
// leases of the task ever act at once, with pull workers that outlive
// their coordinator's interest. B reads the record after its task started
// and skips it (recorded in A's earlier generation after B's own record,
// it was never invoked), so B need not wait out its deadline.
func TestDeposedLeaderInvokesNoLeaseOverlappingItsSuccessors(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	k := kafkatest.Connect(t, c.ListenAddrs())

	// A's heartbeats, once cut, are held by the broker until woken.
	var cut atomic.Bool
	var memberA atomic.Pointer[string]
	wake := make(chan struct{})
	var woken sync.Once
	wakeA := func() { woken.Do(func() { close(wake) }) }
	t.Cleanup(wakeA)
	c.ControlKey(int16(kmsg.Heartbeat), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if id := memberA.Load(); cut.Load() && id != nil && req.(*kmsg.HeartbeatRequest).MemberID == *id {
			c.SleepControl(func() { <-wake })
		}
		return nil, nil, false
	})

	campaign := func(url string) *kafka.Election {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e, err := k.Client.Campaign(ctx, kafka.ElectionOptions{Group: "sluice-handover", Topic: "sluice-handover-leader", URL: url, SessionTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	cfg := testConfig()
	cfg.LeaseTimeout = 8 * time.Second // room between B leading and A's recorded deadline on a loaded machine
	cfg.TaskRetries = 1000
	workers := newPullWorkers(300 * time.Millisecond)

	elA := campaign("http://a.test:8083")
	waitFor(t, 30*time.Second, "A to lead", elA.Leading)
	gate, release := newGatedLeases(t)
	cfgA := cfg
	cfgA.RestAdvertisedURL = "http://a.test:8083"
	coordA := build(t, k, cfgA, setup{elector: elA, wrap: workers.invoker("A"),
		wrapLeases: func(l coordinator.LeaseLog) coordinator.LeaseLog { gate.LeaseLog = l; return gate }})
	elB := campaign("http://b.test:8083")
	waitFor(t, 30*time.Second, "B to join", elB.Joined)
	cfgB := cfg
	cfgB.RestAdvertisedURL = "http://b.test:8083"
	build(t, k, cfgB, setup{elector: elB, wrap: workers.invoker("B")})
	// B's join is a rebalance, which may move leadership for a moment;
	// A, the older candidate, keeps it once the group has settled.
	var steadySince time.Time
	waitFor(t, 30*time.Second, "A to lead alone for 2s", func() bool {
		if !elA.Leading() || elB.Leading() {
			steadySince = time.Time{}
			return false
		}
		if steadySince.IsZero() {
			steadySince = time.Now()
		}
		return time.Since(steadySince) >= 2*time.Second
	})
	members, err := elA.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.URL == "http://a.test:8083" {
			memberA.Store(&m.ID)
		}
	}
	if memberA.Load() == nil {
		t.Fatalf("A is not among the members %+v", members)
	}

	if err := coordA.Add(datagenProps(1_000_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "A to invoke 3 leases", func() bool { return len(workers.invoked("A")) >= 3 })

	// A's next lease record is delayed; then A's heartbeats go unanswered.
	held := gate.hold(t)
	genA := elA.Generation()
	cut.Store(true)
	cutAt := time.Now()
	waitFor(t, 30*time.Second, "B to lead", elB.Leading)
	t.Logf("B leads %s after A's heartbeats were cut; A still takes itself for the leader: %v", time.Since(cutAt).Round(time.Millisecond), elA.Leading())
	waitFor(t, 30*time.Second, "B to invoke a lease", func() bool { return len(workers.invoked("B")) >= 1 })

	// The delayed record lands while B's task runs.
	release()
	releasedAt := time.Now()
	byA := len(workers.invoked("A"))
	time.Sleep(time.Until(held.Deadline) + 500*time.Millisecond)
	afterA := len(workers.invoked("A"))
	wakeA()
	waitFor(t, 30*time.Second, "B to invoke a lease after A's recorded deadline", func() bool {
		for _, l := range workers.invoked("B") {
			if l.invoked.After(held.Deadline) {
				return true
			}
		}
		return false
	})
	// Woken, A finds its session gone and joins a later generation (where,
	// the older candidate, it may lead again).
	waitFor(t, 30*time.Second, "A to join a later generation", func() bool { return elA.Generation() > genA })

	if overlaps := workers.overlapped(); len(overlaps) > 0 {
		t.Errorf("%d lease invocations overlapped another lease of the task; the first ones:", len(overlaps))
		for _, o := range overlaps[:min(5, len(overlaps))] {
			t.Error(o)
		}
	}
	if afterA > byA {
		t.Errorf("A invoked %d lease(s) after its record was released, while B led", afterA-byA)
	}
	// B read A's record after its task had started (well within a
	// second) and skipped it: it went on issuing leases before that
	// record's deadline.
	skipped := false
	for _, l := range workers.invoked("B") {
		if l.invoked.After(releasedAt.Add(time.Second)) && l.invoked.Before(held.Deadline) {
			skipped = true
		}
	}
	if !skipped {
		t.Errorf("B invoked no lease between a second after A's late record of lease %s landed and its deadline %s: it waited out a lease it can know was never invoked",
			held.ID, held.Deadline.Format("15:04:05.000"))
	}
}

// lose makes this member a follower, as the end of its group session does.
func (f *fakeElector) lose() {
	f.mu.Lock()
	f.leading = false
	f.mu.Unlock()
	f.changes <- false
}

// failingRefresh fails the next fails reads of the lease log (its
// partition's leader is down).
type failingRefresh struct {
	coordinator.LeaseLog
	fails atomic.Int32
}

func (f *failingRefresh) Refresh(ctx context.Context) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("injected: the lease log's partition has no leader")
	}
	return f.LeaseLog.Refresh(ctx)
}

// A coordinator that becomes leader while the lease log cannot be read (a
// broker outage) schedules nothing until it has read it: another
// coordinator's lease recorded while it followed is waited out, not
// missed.
func TestNewLeaderSchedulesNothingBeforeReadingTheLeaseLog(t *testing.T) {
	k := kafkatest.Start(t, 2)
	cfg := testConfig()
	cfg.LeaseTimeout = 2 * time.Second
	cfg.TaskRetries = 1000
	el := newFakeElector("")
	workers := newPullWorkers(100 * time.Millisecond)
	leases := &failingRefresh{}
	coord := build(t, k, cfg, setup{elector: el, wrap: workers.invoker("B"),
		wrapLeases: func(l coordinator.LeaseLog) coordinator.LeaseLog { leases.LeaseLog = l; return leases }})
	el.lead()
	if err := coord.Add(datagenProps(1_000_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "2 leases invoked", func() bool { return len(workers.invoked("B")) >= 2 })
	el.lose()
	// The lease cut off when leadership went has expired.
	time.Sleep(cfg.LeaseTimeout + 500*time.Millisecond)

	// Another coordinator led meanwhile and recorded a lease.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, "sluice-leases", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	theirs := lease.Lease{ID: "orders-datagen-0-other", Kind: lease.KindSource, Connector: "orders-datagen", Task: 0,
		Epoch: time.Now().UnixNano(), Deadline: time.Now().Add(4 * time.Second)}
	if err := other.Begin(ctx, "orders-datagen", theirs, 0); err != nil {
		t.Fatal(err)
	}

	before := len(workers.invoked("B"))
	leases.fails.Store(3)
	el.lead()
	waitFor(t, 30*time.Second, "a lease invoked after the other coordinator's deadline", func() bool {
		return len(workers.invoked("B")) > before
	})
	for _, l := range workers.invoked("B")[before:] {
		if l.invoked.Before(theirs.Deadline) {
			t.Errorf("lease %s invoked at %s, before the deadline %s of the other coordinator's lease %s",
				l.id, l.invoked.Format("15:04:05.000"), theirs.Deadline.Format("15:04:05.000"), theirs.ID)
		}
	}
	if n := leases.fails.Load(); n >= 0 {
		t.Errorf("the lease log was read %d time(s) fewer than the failures injected", n+1)
	}
}

// confirmingElector is a fakeElector that confirms its leadership per
// generation, as kafka.Election does (Confirmed, ConfirmedUntil,
// Generation).
type confirmingElector struct {
	*fakeElector
	cmu   sync.Mutex
	gen   int32
	until time.Time
}

func (e *confirmingElector) Confirmed() (time.Time, int32) {
	leading := e.Leading()
	e.cmu.Lock()
	defer e.cmu.Unlock()
	if !leading {
		return time.Time{}, e.gen
	}
	return e.until, e.gen
}

func (e *confirmingElector) ConfirmedUntil() time.Time {
	until, _ := e.Confirmed()
	return until
}

func (e *confirmingElector) Generation() int32 {
	e.cmu.Lock()
	defer e.cmu.Unlock()
	return e.gen
}

// moveTo makes gen the group's generation, confirmed until until (zero:
// not confirmed), without a change of Leading.
func (e *confirmingElector) moveTo(gen int32, until time.Time) {
	e.cmu.Lock()
	defer e.cmu.Unlock()
	e.gen, e.until = gen, until
}

// A leader deposed and elected again may never see itself lose
// leadership: Changes keeps only the latest state, so its coordinator can
// go on with its tasks as if nothing happened. Meanwhile its successor led
// a generation and invoked a lease of a task; and a lease the old leader
// was recording when it was deposed (the write delayed by producer
// retries) lands only now. Confirmed in its new generation, the old leader
// must neither invoke that lease (recorded in a generation that has
// passed) nor issue anything for the task before it has read the lease log
// in the new generation and waited out its successor's lease.
func TestLeaseRecordedBeforeAReElectionIsNotInvoked(t *testing.T) {
	k := kafkatest.Start(t, 2)
	cfg := testConfig()
	cfg.LeaseTimeout = 3 * time.Second
	cfg.TaskRetries = 1000
	el := &confirmingElector{fakeElector: newFakeElector("")}
	el.moveTo(5, time.Now().Add(time.Hour))
	workers := newPullWorkers(100 * time.Millisecond)
	gate, release := newGatedLeases(t)
	coord := build(t, k, cfg, setup{elector: el, wrap: workers.invoker("A"),
		wrapLeases: func(l coordinator.LeaseLog) coordinator.LeaseLog { gate.LeaseLog = l; return gate }})
	el.lead()
	if err := coord.Add(datagenProps(1_000_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "A to invoke 2 leases", func() bool { return len(workers.invoked("A")) >= 2 })

	held := gate.hold(t)
	// Deposed: generation 6, whose leader records and invokes a lease of
	// the task.
	el.moveTo(6, time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	successor, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, "sluice-leases", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer successor.Close()
	theirs := lease.Lease{ID: "orders-datagen-0-successor", Kind: lease.KindSource, Connector: "orders-datagen", Task: 0,
		Epoch: time.Now().UnixNano(), Deadline: time.Now().Add(3 * time.Second)}
	if err := successor.Begin(ctx, "orders-datagen", theirs, 6); err != nil {
		t.Fatal(err)
	}
	workers.mu.Lock()
	workers.running[0] = append(workers.running[0], &workerLease{by: "successor", id: theirs.ID, invoked: time.Now(), end: theirs.Deadline})
	workers.mu.Unlock()
	// Elected again (generation 7), unnoticed; the delayed record lands.
	el.moveTo(7, time.Now().Add(time.Hour))
	release()
	waitFor(t, 30*time.Second, "A to invoke a lease after its successor's deadline", func() bool {
		for _, l := range workers.invoked("A") {
			if l.invoked.After(theirs.Deadline) {
				return true
			}
		}
		return false
	})
	for _, l := range workers.invoked("A") {
		if l.id == held.ID {
			t.Errorf("A invoked lease %s, recorded in generation 5, after it was deposed and elected again (generation 7)", held.ID)
		}
	}
	if overlaps := workers.overlapped(); len(overlaps) > 0 {
		t.Errorf("%d lease invocations overlapped another lease of the task; the first ones:", len(overlaps))
		for _, o := range overlaps[:min(5, len(overlaps))] {
			t.Error(o)
		}
	}
}

// deposedAfterStep is a confirmingElector that, once armed, confirms the
// leadership a task's step asks about before it issues a lease, and then
// moves to generation next, unconfirmed: the member is deposed between the
// decision to issue a lease and its record.
type deposedAfterStep struct {
	*confirmingElector
	next  int32
	armed atomic.Bool
	fired atomic.Bool
}

func (e *deposedAfterStep) Confirmed() (time.Time, int32) {
	until, gen := e.confirmingElector.Confirmed()
	if e.armed.Load() && calledFrom(".(*taskRun).step") && e.armed.CompareAndSwap(true, false) {
		e.moveTo(e.next, time.Time{})
		e.fired.Store(true)
	}
	return until, gen
}

func (e *deposedAfterStep) ConfirmedUntil() time.Time {
	until, _ := e.Confirmed()
	return until
}

// calledFrom reports whether a function whose name ends in suffix is on
// the caller's stack.
func calledFrom(suffix string) bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, suffix) {
			return true
		}
		if !more {
			return false
		}
	}
}

// checkedLeases notes every lease recorded with a leader generation that
// its coordinator's election did not confirm at that moment.
type checkedLeases struct {
	coordinator.LeaseLog
	el *confirmingElector

	mu        sync.Mutex
	recorded  map[int32]int // by leader generation
	uncertain []string
}

func (c *checkedLeases) Begin(ctx context.Context, conn string, l lease.Lease, leader int32) error {
	until, gen := c.el.Confirmed()
	c.mu.Lock()
	c.recorded[leader]++
	if leader != gen || !time.Now().Before(until) {
		c.uncertain = append(c.uncertain, fmt.Sprintf("lease %s recorded with leader generation %d; the election's generation %d, confirmed until %s",
			l.ID, leader, gen, until.Format("15:04:05.000")))
	}
	c.mu.Unlock()
	return c.LeaseLog.Begin(ctx, conn, l, leader)
}

// A lease record carries a leader generation its coordinator led and had
// confirmed when it wrote it: the lease log skips a late record of an
// earlier generation than the task's last record only because such a
// record was never invoked. A leader deposed between deciding to issue a
// lease and recording it finds a later generation, which it does not lead:
// a record carrying that one would look like the new leader's (not skipped
// when it lands after the new leader's own record, so waited out and its
// sink ranges re-issued). It records nothing until it leads and has
// confirmed a generation again.
func TestLeaseIsRecordedOnlyWithAConfirmedGeneration(t *testing.T) {
	k := kafkatest.Start(t, 2)
	cfg := testConfig()
	cfg.LeaseTimeout = 3 * time.Second
	cfg.TaskRetries = 1000
	el := &deposedAfterStep{confirmingElector: &confirmingElector{fakeElector: newFakeElector("")}, next: 6}
	el.moveTo(5, time.Now().Add(time.Hour))
	workers := newPullWorkers(100 * time.Millisecond)
	leases := &checkedLeases{el: el.confirmingElector, recorded: map[int32]int{}}
	coord := build(t, k, cfg, setup{elector: el, wrap: workers.invoker("A"),
		wrapLeases: func(l coordinator.LeaseLog) coordinator.LeaseLog { leases.LeaseLog = l; return leases }})
	el.lead()
	if err := coord.Add(datagenProps(1_000_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "A to invoke 2 leases", func() bool { return len(workers.invoked("A")) >= 2 })

	el.armed.Store(true)
	waitFor(t, 30*time.Second, "a step to decide on a lease", el.fired.Load)
	// Deposed in generation 6 for a while, then elected again.
	time.Sleep(time.Second)
	before := len(workers.invoked("A"))
	el.moveTo(7, time.Now().Add(time.Hour))
	waitFor(t, 30*time.Second, "A to invoke a lease in generation 7", func() bool { return len(workers.invoked("A")) > before })

	leases.mu.Lock()
	defer leases.mu.Unlock()
	for _, u := range leases.uncertain {
		t.Error(u)
	}
	if leases.recorded[5] == 0 || leases.recorded[7] == 0 {
		t.Errorf("leases recorded by leader generation %v; want some in generations 5 and 7", leases.recorded)
	}
}
