package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// connectorRun is one running connector on the leader: its instance, its
// tasks' configurations and their scheduling loops.
type connectorRun struct {
	c      *Coordinator
	name   string
	plugin connect.Plugin
	config map[string]string
	stored []map[string]string // task configs in the store when started
	log    *slog.Logger

	cancel       context.CancelFunc
	done         chan struct{}
	reconfigure  chan struct{}
	restartConn  chan struct{}
	restartTasks chan []int
	failed       chan error

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed when a pause ends
	lag    *sinkLag      // a sink's lag check, shared by its tasks
}

func newConnectorRun(c *Coordinator, name string, p connect.Plugin, cs state.ConnectorState) *connectorRun {
	return &connectorRun{
		c: c, name: name, plugin: p, config: maps.Clone(cs.Config), stored: cs.Tasks,
		log:          c.log.With("connector", name),
		done:         make(chan struct{}),
		reconfigure:  make(chan struct{}, 1),
		restartConn:  make(chan struct{}, 1),
		restartTasks: make(chan []int, 8),
		failed:       make(chan error, 1),
		paused:       cs.TargetState == state.TargetPaused,
		resume:       make(chan struct{}),
	}
}

func (cr *connectorRun) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	cr.cancel = cancel
	cr.c.wg.Go(func() {
		defer close(cr.done)
		cr.run(ctx)
	})
}

// stop ends the run and waits for it; leases in flight wrap up first.
func (cr *connectorRun) stop() {
	cr.cancel()
	<-cr.done
}

// setTarget pauses or resumes the connector's tasks.
func (cr *connectorRun) setTarget(t state.TargetState) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	switch {
	case t == state.TargetPaused && !cr.paused:
		cr.paused = true
		cr.resume = make(chan struct{})
		go cr.c.putConnectorStatus(cr.name, state.StatePaused, "")
	case t == state.TargetStarted && cr.paused:
		cr.paused = false
		close(cr.resume)
		go cr.c.putConnectorStatus(cr.name, state.StateRunning, "")
	}
}

// pausedUntil returns whether the connector is paused and the channel that
// closes when it resumes.
func (cr *connectorRun) pausedUntil() (bool, <-chan struct{}) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.paused, cr.resume
}

// connectorContext is what the connector instance sees of the coordinator.
type connectorContext struct{ cr *connectorRun }

func (cc connectorContext) RequestTaskReconfiguration() {
	select {
	case cc.cr.reconfigure <- struct{}{}:
	default: // one request pending is enough
	}
}

func (cc connectorContext) RaiseError(err error) {
	select {
	case cc.cr.failed <- err:
	default:
	}
}

// run starts the connector and keeps its tasks scheduled until ctx ends or
// the connector fails. A connector restart stops and starts the instance
// again; a task restart replaces one task's loop.
func (cr *connectorRun) run(ctx context.Context) {
	for ctx.Err() == nil {
		again := cr.runInstance(ctx)
		if !again {
			return
		}
		cr.log.Info("restarting connector")
	}
}

// runInstance runs one connector instance; it returns true when the
// connector is to be restarted.
func (cr *connectorRun) runInstance(ctx context.Context) (restart bool) {
	impl := cr.plugin.NewConnector()
	if paused, _ := cr.pausedUntil(); paused {
		cr.c.putConnectorStatus(cr.name, state.StatePaused, "")
	} else {
		cr.c.putConnectorStatus(cr.name, state.StateRunning, "")
	}
	if err := impl.Start(ctx, connectorContext{cr}, cr.config); err != nil {
		cr.fail(fmt.Errorf("starting connector: %w", err))
		return cr.waitForRestart(ctx)
	}
	defer func() {
		if err := impl.Stop(); err != nil {
			cr.log.Warn("stopping connector", "error", err)
		}
	}()
	tasksMax, err := strconv.Atoi(cr.config[connect.TasksMaxConfig])
	if err != nil || tasksMax < 1 {
		tasksMax = 1
	}
	for {
		configs, err := impl.TaskConfigs(tasksMax)
		if err != nil {
			cr.fail(fmt.Errorf("generating task configs: %w", err))
			return cr.waitForRestart(ctx)
		}
		if len(configs) > tasksMax {
			configs = configs[:tasksMax]
		}
		configs, err = cr.publish(ctx, configs)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			cr.fail(fmt.Errorf("publishing task configs: %w", err))
			return cr.waitForRestart(ctx)
		}
		gen := cr.c.d.Configs.Generation()
		cr.log.Info("connector running", "class", cr.plugin.Class, "tasks", len(configs), "generation", gen)

		tasks := make([]*taskHandle, len(configs))
		for id := range configs {
			tasks[id] = cr.startTask(ctx, id, configs[id], len(configs), gen)
		}
		stopTasks := func() {
			for _, t := range tasks {
				t.stop()
			}
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				stopTasks()
				return false
			case err := <-cr.failed:
				stopTasks()
				cr.fail(fmt.Errorf("connector raised an error: %w", err))
				return cr.waitForRestart(ctx)
			case <-cr.restartConn:
				stopTasks()
				return true
			case ids := <-cr.restartTasks:
				for _, id := range ids {
					if id >= 0 && id < len(tasks) {
						tasks[id].stop()
						tasks[id] = cr.startTask(ctx, id, configs[id], len(configs), gen)
					}
				}
			case <-cr.reconfigure:
				cr.log.Info("task reconfiguration requested")
				stopTasks()
				break wait
			}
		}
	}
}

// waitForRestart waits, after the connector failed, for a restart request
// or the end of the run.
func (cr *connectorRun) waitForRestart(ctx context.Context) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-cr.restartConn:
			return true
		case <-cr.restartTasks:
			// Tasks of a failed connector cannot run; only a connector
			// restart helps.
		}
	}
}

// publish writes the task configurations when they differ from the stored
// ones, atomically (tasks, then the commit record). It returns the configs
// the tasks are to run with: the stored ones when equal, so that a
// coordinator does not hold two copies of every task's configuration.
func (cr *connectorRun) publish(ctx context.Context, configs []map[string]string) ([]map[string]string, error) {
	if slices.EqualFunc(configs, cr.stored, maps.Equal) && len(configs) == len(cr.stored) {
		return cr.stored, nil
	}
	if err := cr.c.d.Configs.PutTaskConfigs(ctx, cr.name, configs); err != nil {
		return nil, err
	}
	cr.stored = configs
	return configs, nil
}

func (cr *connectorRun) fail(err error) {
	cr.log.Error("connector failed", "error", err)
	cr.c.putConnectorStatus(cr.name, state.StateFailed, err.Error())
}

// taskHandle is one task's scheduling loop.
type taskHandle struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (h *taskHandle) stop() {
	h.cancel()
	<-h.done
}

func (cr *connectorRun) startTask(ctx context.Context, id int, config map[string]string, count int, gen int64) *taskHandle {
	tctx, cancel := context.WithCancel(ctx)
	h := &taskHandle{cancel: cancel, done: make(chan struct{})}
	t := &taskRun{cr: cr, id: id, config: config, generation: gen, count: count, log: cr.log.With("task", id)}
	cr.c.wg.Go(func() {
		defer close(h.done)
		t.run(tctx)
	})
	return h
}

// taskRun schedules one task's leases.
type taskRun struct {
	cr         *connectorRun
	id         int
	config     map[string]string
	generation int64
	count      int
	log        *slog.Logger
	failures   int
	state      state.State
	// inherited is the outstanding lease a previous leader left for this
	// task, if any.
	inherited *leaseRecord
	lastEpoch int64
}

// run schedules the task until ctx ends or it fails. Its status is
// UNASSIGNED while it waits out a lease a previous coordinator left, then
// RUNNING (or PAUSED) while it is scheduled, whether or not a lease is in
// flight: an idle sink task is running, as in Connect.
func (t *taskRun) run(ctx context.Context) {
	if !t.awaitInherited(ctx) {
		return
	}
	switch t.cr.plugin.Kind {
	case connect.KindSource:
		t.runSource(ctx)
	case connect.KindSink:
		t.runSink(ctx)
	}
}

// awaitInherited waits out the lease a previous coordinator (one that died
// or restarted) issued for the task, if it may still act: a new lease must
// never overlap it (rule 3). It reports whether ctx is still live.
func (t *taskRun) awaitInherited(ctx context.Context) bool {
	rec, ok := t.cr.c.d.Leases.OutstandingFor(t.cr.name, t.id)
	if !ok {
		return true
	}
	t.inherited, t.lastEpoch = &rec, rec.Epoch
	wait := time.Until(rec.Deadline)
	if wait <= 0 {
		return true
	}
	t.setState(state.StateUnassigned, "")
	t.log.Info("waiting out an outstanding lease before scheduling", "lease", rec.ID, "deadline", rec.Deadline)
	return sleep(ctx, wait)
}

// setState writes the task's status when it changes.
func (t *taskRun) setState(st state.State, trace string) {
	if t.state == st && st != state.StateFailed {
		return
	}
	t.state = st
	offStack(func() struct{} {
		t.cr.c.putTaskStatus(t.cr.name, t.id, st, trace)
		return struct{}{}
	})
}

// offStack runs f on a goroutine of its own and waits for its result.
//
// A task's goroutine lives as long as the task and mostly sleeps, and a
// coordinator has thousands. The calls it makes into the Kafka client, the
// lease log and the invoker are deep, and the stack they grow would stay
// with the sleeping goroutine: Go halves a stack at a GC only while less
// than a quarter of it is in use. Made on short-lived goroutines, with
// only small values on the task goroutine's own frames (no Lease or Result),
// those calls leave the task goroutines at small stacks (measured at
// 10,000 tasks: 68 MB of stacks instead of 93 MB).
func offStack[T any](f func() T) T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return <-ch
}

// waitWhilePaused blocks while the connector is paused; it reports whether
// ctx is still live. A task that is not paused is RUNNING.
func (t *taskRun) waitWhilePaused(ctx context.Context) bool {
	for {
		paused, resumed := t.cr.pausedUntil()
		if !paused {
			if ctx.Err() != nil {
				return false
			}
			t.setState(state.StateRunning, "")
			return true
		}
		t.setState(state.StatePaused, "")
		select {
		case <-ctx.Done():
			return false
		case <-resumed:
		}
	}
}

// newLease builds the task's next lease.
func (t *taskRun) newLease(kind lease.Kind, ranges []lease.Range) lease.Lease {
	cfg := t.cr.c.cfg
	epoch := t.cr.c.nextEpoch(t.lastEpoch)
	t.lastEpoch = epoch
	return lease.Lease{
		ID:              fmt.Sprintf("%s-%d-%d", t.cr.name, t.id, epoch),
		Kind:            kind,
		Connector:       t.cr.name,
		Task:            t.id,
		Generation:      t.generation,
		Epoch:           epoch,
		Deadline:        time.Now().Add(cfg.LeaseTimeout),
		ConnectorConfig: t.cr.config,
		TaskConfig:      t.config,
		Budget:          lease.Budget{MaxTime: lease.Duration(cfg.LeaseMaxTime)},
		Ranges:          ranges,
	}
}

// outcome is what a task's loop needs of a lease's result.
type outcome struct {
	ok          bool // the task may go on (invoke's second result)
	succeeded   bool
	morePending bool
}

// issue builds the task's next lease and invokes it, on a short-lived
// goroutine (see offStack).
func (t *taskRun) issue(ctx context.Context, kind lease.Kind, ranges []lease.Range) outcome {
	return offStack(func() outcome {
		res, ok := t.invoke(ctx, t.newLease(kind, ranges))
		return outcome{ok: ok, succeeded: res.Status == lease.Succeeded, morePending: res.MorePending}
	})
}

// invoke records the lease, runs it and records its outcome in the task's
// status. It returns whether the task may go on: false once it has failed
// more often than the retry limit, or when ctx ended. After an unknown
// outcome (the invocation failed) it waits for the lease's deadline, so
// that the same work is never issued twice while the first lease may still
// act.
func (t *taskRun) invoke(ctx context.Context, l lease.Lease) (lease.Result, bool) {
	c := t.cr.c
	if t.state != state.StateFailed {
		t.setState(state.StateRunning, "")
	}
	if err := c.d.Leases.Begin(ctx, t.cr.name, l); err != nil {
		// The lease was never invoked, but its record may have landed
		// (typically when the coordinator is closing): clear it, or the
		// next leader would wait for its deadline (LeaseTimeout) before
		// scheduling the task.
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := c.d.Leases.End(endCtx, t.cr.name, t.id, l.ID); err != nil {
			t.log.Warn("clearing the record of a lease not issued", "lease", l.ID, "error", err)
		}
		cancel()
		if ctx.Err() != nil {
			return lease.Result{}, false
		}
		t.log.Warn("recording the lease failed; not issuing it", "lease", l.ID, "error", err)
		return lease.Result{Status: lease.Failed, Error: err.Error(), Retriable: true}, sleep(ctx, c.cfg.RetryBackoffMax/4)
	}
	res, err := c.d.Invoker.Invoke(ctx, l)
	if err != nil {
		res = lease.Result{Status: lease.Failed, Error: "invocation failed: " + err.Error(), Trace: err.Error(), Retriable: true}
		t.log.Warn("invocation failed; waiting for the lease deadline before re-issuing", "lease", l.ID, "error", err)
		if !sleep(ctx, time.Until(l.Deadline)) {
			return res, false
		}
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if err := c.d.Leases.End(endCtx, t.cr.name, t.id, l.ID); err != nil {
		t.log.Warn("clearing the lease record", "lease", l.ID, "error", err)
	}
	cancel()
	c.noteTopics(t.cr.name, res.Topics)
	if ctx.Err() != nil {
		return res, false
	}
	if res.Status == lease.Succeeded {
		t.failures = 0
		t.setState(state.StateRunning, "")
		return res, true
	}
	t.failures++
	cfg := c.cfg
	if t.failures > cfg.TaskRetries {
		t.log.Error("task failed", "attempts", t.failures, "error", res.Error)
		trace := res.Trace
		if trace == "" {
			trace = res.Error
		}
		t.setState(state.StateFailed, trace)
		return res, false
	}
	backoff := min(cfg.RetryBackoffMax, time.Duration(1<<min(t.failures-1, 20))*200*time.Millisecond)
	t.log.Warn("lease did not succeed; retrying", "status", res.Status, "attempt", t.failures, "backoff", backoff, "error", res.Error)
	return res, sleep(ctx, backoff)
}

// runSource issues source leases back to back while data is pending, and
// with a growing pause (up to IdleBackoffMax) while the source is idle.
func (t *taskRun) runSource(ctx context.Context) {
	idle := 100 * time.Millisecond
	for t.waitWhilePaused(ctx) {
		o := t.issue(ctx, lease.KindSource, nil)
		if !o.ok {
			return
		}
		if !o.succeeded || o.morePending {
			idle = 100 * time.Millisecond
			continue
		}
		// ±20% jitter: idle tasks started together would otherwise lease in
		// lockstep waves.
		if !sleep(ctx, time.Duration(float64(idle)*(0.8+0.4*rand.Float64()))) {
			return
		}
		idle = min(2*idle, t.cr.c.cfg.IdleBackoffMax)
	}
}
