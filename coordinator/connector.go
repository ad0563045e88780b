package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// connectorRun is one running connector: its instance, its tasks'
// configurations and their scheduling loops.
type connectorRun struct {
	c           *Coordinator
	name        string
	plugin      connect.Plugin
	config      map[string]string
	log         *slog.Logger
	reconfigure chan struct{}
	failed      chan error

	mu         sync.Mutex
	generation int64
	state      State
	trace      string
	tasks      []TaskStatus
}

func newConnectorRun(c *Coordinator, name string, p connect.Plugin, props map[string]string) *connectorRun {
	return &connectorRun{
		c: c, name: name, plugin: p, config: props,
		log:         c.log.With("connector", name),
		reconfigure: make(chan struct{}, 1),
		failed:      make(chan error, 1),
		state:       StateUnassigned,
	}
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

// run starts the connector and keeps its tasks scheduled until ctx ends,
// the connector raises an error, or it fails to start.
func (cr *connectorRun) run(ctx context.Context) {
	impl := cr.plugin.NewConnector()
	if err := impl.Start(ctx, connectorContext{cr}, cr.config); err != nil {
		cr.fail(fmt.Errorf("starting connector: %w", err))
		return
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
			return
		}
		if len(configs) > tasksMax {
			configs = configs[:tasksMax]
		}
		gen := cr.startGeneration(len(configs))
		cr.log.Info("connector running", "class", cr.plugin.Class, "tasks", len(configs), "generation", gen)

		tctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for id, tc := range configs {
			t := &taskRun{cr: cr, id: id, config: tc, generation: gen, count: len(configs),
				log: cr.log.With("task", id)}
			wg.Go(func() { t.run(tctx) })
		}
		var stop bool
		select {
		case <-ctx.Done():
			stop = true
		case err := <-cr.failed:
			cr.fail(fmt.Errorf("connector raised an error: %w", err))
			stop = true
		case <-cr.reconfigure:
			cr.log.Info("task reconfiguration requested")
		}
		cancel()
		wg.Wait()
		if stop {
			return
		}
	}
}

func (cr *connectorRun) startGeneration(tasks int) int64 {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.generation++
	cr.state, cr.trace = StateRunning, ""
	cr.tasks = make([]TaskStatus, tasks)
	for i := range cr.tasks {
		cr.tasks[i] = TaskStatus{ID: i, State: StateUnassigned}
	}
	return cr.generation
}

func (cr *connectorRun) fail(err error) {
	cr.log.Error("connector failed", "error", err)
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.state, cr.trace = StateFailed, err.Error()
}

func (cr *connectorRun) status() ConnectorStatus {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return ConnectorStatus{Name: cr.name, Type: string(cr.plugin.Kind), State: cr.state, Trace: cr.trace,
		Tasks: append([]TaskStatus(nil), cr.tasks...)}
}

// updateTask applies fn to a task's status.
func (cr *connectorRun) updateTask(id int, fn func(*TaskStatus)) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if id < len(cr.tasks) {
		fn(&cr.tasks[id])
	}
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
}

func (t *taskRun) run(ctx context.Context) {
	switch t.cr.plugin.Kind {
	case connect.KindSource:
		t.runSource(ctx)
	case connect.KindSink:
		t.runSink(ctx)
	}
}

// newLease builds the task's next lease.
func (t *taskRun) newLease(kind lease.Kind, ranges []lease.Range) lease.Lease {
	cfg := t.cr.c.cfg
	epoch := t.cr.c.nextEpoch()
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

// invoke runs a lease and records its outcome in the task's status. It
// returns whether the task may go on: false once it has failed more often
// than the retry limit, or when ctx ended. After an unknown outcome (the
// invocation failed) it waits for the lease's deadline, so that the same work
// is never issued twice while the first lease may still act.
func (t *taskRun) invoke(ctx context.Context, l lease.Lease) (lease.Result, bool) {
	t.cr.updateTask(t.id, func(s *TaskStatus) {
		if s.State == StateUnassigned {
			s.State = StateRunning
		}
	})
	res, err := t.cr.c.invoker.Invoke(ctx, l)
	if ctx.Err() != nil {
		return res, false
	}
	if err != nil {
		res = lease.Result{Status: lease.Failed, Error: "invocation failed: " + err.Error(), Trace: err.Error(), Retriable: true}
		t.log.Warn("invocation failed; waiting for the lease deadline before re-issuing", "lease", l.ID, "error", err)
		if !sleep(ctx, time.Until(l.Deadline)) {
			return res, false
		}
	}
	t.cr.updateTask(t.id, func(s *TaskStatus) {
		s.Leases++
		s.Records += res.Records
		s.LastLease = time.Now()
		if res.Status == lease.Succeeded {
			s.State, s.Trace = StateRunning, ""
		}
	})
	if res.Status == lease.Succeeded {
		t.failures = 0
		return res, true
	}
	t.failures++
	cfg := t.cr.c.cfg
	if t.failures > cfg.TaskRetries {
		t.log.Error("task failed", "attempts", t.failures, "error", res.Error)
		t.cr.updateTask(t.id, func(s *TaskStatus) { s.State, s.Trace = StateFailed, res.Trace })
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
	for ctx.Err() == nil {
		res, ok := t.invoke(ctx, t.newLease(lease.KindSource, nil))
		if !ok {
			return
		}
		if res.Status != lease.Succeeded || res.MorePending {
			idle = 100 * time.Millisecond
			continue
		}
		if !sleep(ctx, idle) {
			return
		}
		idle = min(2*idle, t.cr.c.cfg.IdleBackoffMax)
	}
}
