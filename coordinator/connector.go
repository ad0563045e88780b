package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
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

	// targetChanged wakes the task scheduler when the connector is paused
	// or resumed.
	targetChanged chan struct{}

	mu     sync.Mutex
	paused bool
	lag    *sinkLag // a sink's lag check, shared by its tasks
}

func newConnectorRun(c *Coordinator, name string, p connect.Plugin, cs state.ConnectorState) *connectorRun {
	return &connectorRun{
		c: c, name: name, plugin: p, config: maps.Clone(cs.Config), stored: cs.Tasks,
		log:           c.log.With("connector", name),
		done:          make(chan struct{}),
		reconfigure:   make(chan struct{}, 1),
		restartConn:   make(chan struct{}, 1),
		restartTasks:  make(chan []int, 8),
		failed:        make(chan error, 1),
		paused:        cs.TargetState == state.TargetPaused,
		targetChanged: make(chan struct{}, 1),
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
		cr.c.wg.Go(func() { cr.c.putConnectorStatus(cr.name, state.StatePaused, "") })
	case t == state.TargetStarted && cr.paused:
		cr.paused = false
		cr.c.wg.Go(func() { cr.c.putConnectorStatus(cr.name, state.StateRunning, "") })
	default:
		return
	}
	select {
	case cr.targetChanged <- struct{}{}:
	default: // one wake-up pending is enough
	}
}

// isPaused returns whether the connector is paused.
func (cr *connectorRun) isPaused() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.paused
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
		again := cr.runInstanceSafely(ctx)
		if !again {
			return
		}
		cr.log.Info("restarting connector")
	}
}

// runInstanceSafely is runInstance, with a panic of the connector's code
// turned into the connector's failure (the stack in its trace) rather than
// the coordinator's crash.
func (cr *connectorRun) runInstanceSafely(ctx context.Context) (restart bool) {
	panicked := true
	func() {
		defer func() {
			if p := recover(); p != nil {
				cr.log.Error("connector panicked", "panic", p)
				cr.c.putConnectorStatus(cr.name, state.StateFailed, fmt.Sprintf("connector panicked: %v\n%s", p, debug.Stack()))
			}
		}()
		restart = cr.runInstance(ctx)
		panicked = false
	}()
	if panicked {
		return cr.waitForRestart(ctx)
	}
	return restart
}

// runInstance runs one connector instance; it returns true when the
// connector is to be restarted. A configuration stored before the limits
// it breaks (tasks.max above SLUICE_MAX_TASKS) fails the connector.
func (cr *connectorRun) runInstance(ctx context.Context) (restart bool) {
	if msg := tasksMaxError(cr.config, cr.c.cfg.MaxTasks); msg != "" {
		cr.fail(errors.New(msg))
		return cr.waitForRestart(ctx)
	}
	impl := cr.plugin.NewConnector()
	if cr.isPaused() {
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
		configs = withTaskClass(configs, cr.plugin.Class)
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

		switch end, err := cr.runTasks(ctx, configs, gen); end {
		case tasksStopped:
			return false
		case tasksConnectorFailed:
			cr.fail(fmt.Errorf("connector raised an error: %w", err))
			return cr.waitForRestart(ctx)
		case tasksRestartConnector:
			return true
		case tasksReconfigure:
			cr.log.Info("task reconfiguration requested")
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
// withTaskClass adds "task.class" to each task configuration, as Connect's
// Worker does: Kafka Connect refuses to start a task whose stored
// configuration lacks it (after moving back from Sluice), and Sluice's
// configurations then equal the ones Connect stored (no new generation
// after moving from Connect). The task class is the connector class with
// "Connector" replaced by "Task", Connect's naming (FileStreamSourceConnector
// and FileStreamSourceTask, S3SinkConnector and S3SinkTask).
func withTaskClass(configs []map[string]string, connectorClass string) []map[string]string {
	base, ok := strings.CutSuffix(connectorClass, "Connector")
	if !ok {
		return configs
	}
	out := make([]map[string]string, len(configs))
	for i, c := range configs {
		out[i] = c
		if _, set := c[taskClassConfig]; !set {
			out[i] = maps.Clone(c)
			out[i][taskClassConfig] = base + "Task"
		}
	}
	return out
}

// taskClassConfig is Connect's TaskConfig.TASK_CLASS_CONFIG.
const taskClassConfig = "task.class"

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

// tasksEnd is why runTasks returned.
type tasksEnd int

const (
	tasksStopped          tasksEnd = iota // the run ended
	tasksConnectorFailed                  // the connector raised an error
	tasksRestartConnector                 // a connector restart was requested
	tasksReconfigure                      // the connector asked for new task configs
)

// runTasks schedules the connector's tasks, one per configuration, until
// the run ends or an event ends this set of tasks, and returns that event.
//
// This goroutine schedules every task of the connector: a task takes a
// goroutine of its own only while it takes a step (a lease, a lag check, a
// status write), so a thousand connectors with ten mostly idle tasks each
// cost a thousand goroutines, not eleven thousand sleeping ones with their
// stacks and timers. Before returning it cancels the steps in flight and
// waits for them: leases in flight wrap up first.
func (cr *connectorRun) runTasks(ctx context.Context, configs []map[string]string, gen int64) (tasksEnd, error) {
	newTask := func(id int) *taskRun {
		return &taskRun{cr: cr, id: id, config: configs[id], generation: gen, count: len(configs),
			log: cr.log.With("task", id), next: time.Now()}
	}
	tasks := make([]*taskRun, len(configs))
	for id := range tasks {
		tasks[id] = newTask(id)
	}
	cr.startTasks(tasks)
	stepCtx, cancelSteps := context.WithCancel(ctx)
	defer cancelSteps()
	done := make(chan *taskRun)
	inFlight := 0
	drain := func() {
		cancelSteps()
		for ; inFlight > 0; inFlight-- {
			<-done
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		var wake time.Time
		for _, t := range tasks {
			switch {
			case t.busy || t.over || t.next.IsZero():
			case !t.next.After(now):
				t.busy = true
				inFlight++
				sctx, cancel := context.WithCancel(stepCtx)
				t.cancel = cancel
				go func() {
					defer func() { done <- t }()
					defer cancel()
					defer t.recoverStep()
					t.step(sctx)
				}()
			case wake.IsZero() || t.next.Before(wake):
				wake = t.next
			}
		}
		var tick <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
			tick = timer.C
		}
		select {
		case t := <-done:
			inFlight--
			t.busy = false
			if t.next.IsZero() && !t.over && !cr.isPaused() {
				// The step saw the connector paused, and it was resumed
				// while the step ran: that wake-up skipped this busy task.
				t.next = time.Now()
			}
			if t.restart {
				tasks[t.id] = newTask(t.id)
				cr.startTasks(tasks[t.id : t.id+1])
			}
		case <-tick:
		case <-cr.targetChanged:
			// Paused or resumed: every task not in a step takes its next
			// one now, to show PAUSED at once or to go on.
			for _, t := range tasks {
				if !t.busy && !t.over {
					t.next = now
				}
			}
		case <-ctx.Done():
			drain()
			return tasksStopped, nil
		case err := <-cr.failed:
			drain()
			return tasksConnectorFailed, err
		case <-cr.restartConn:
			drain()
			return tasksRestartConnector, nil
		case ids := <-cr.restartTasks:
			for _, id := range ids {
				if id < 0 || id >= len(tasks) {
					continue
				}
				if t := tasks[id]; t.busy {
					// Replaced once its step has wrapped up.
					t.restart = true
					t.cancel()
				} else {
					tasks[id] = newTask(id)
					cr.startTasks(tasks[id : id+1])
				}
			}
		case <-cr.reconfigure:
			drain()
			return tasksReconfigure, nil
		}
	}
}

// startTasks writes new tasks' first statuses, all in one batch: UNASSIGNED
// while a task waits out a lease a previous coordinator left, else PAUSED
// or RUNNING. Their first steps are spread over 100µs per task the
// coordinator may be starting (its connectors times these tasks), up to a
// second (or the sink poll interval), so that a coordinator starting
// thousands of tasks does not invoke them all in the same instant, while
// a few tasks start at once.
func (cr *connectorRun) startTasks(tasks []*taskRun) {
	cr.c.mu.Lock()
	starting := len(cr.c.running) * len(tasks)
	cr.c.mu.Unlock()
	spread := min(time.Second, cr.c.cfg.SinkPollInterval, time.Duration(starting)*startSpreadPerTask)
	paused := cr.isPaused()
	now := time.Now()
	statuses := make(map[int]state.Status, len(tasks))
	for _, t := range tasks {
		st := state.StateRunning
		if wait := t.inheritedWait(); wait > 0 {
			st, t.next = state.StateUnassigned, now.Add(wait)
		} else {
			t.started = true
			t.next = now.Add(rand.N(spread + 1))
			if paused {
				st = state.StatePaused
			}
		}
		t.state = st
		statuses[t.id] = state.Status{State: st, WorkerID: cr.c.workerID, Generation: cr.c.statusGeneration()}
	}
	cr.c.writeState("writing task statuses", func(ctx context.Context) error {
		return cr.c.d.Statuses.PutTaskStatuses(ctx, cr.name, statuses)
	}, "connector", cr.name)
}

// startSpreadPerTask is how far apart, on average, startTasks spreads the
// first steps of the tasks a coordinator starts.
const startSpreadPerTask = 100 * time.Microsecond

// taskRun is one task's scheduling state. Its steps run one at a time, each
// on a goroutine of its own; between steps only runTasks touches it.
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
	lastID    string // the id of the last lease this run issued
	started   bool   // the inherited lease, if any, has been waited out

	// Scheduling: when the next step is due (zero: when the target state
	// changes), whether one is running, whether the task is over (failed,
	// or its run ended) and whether it is to be replaced (restarted).
	next       time.Time
	busy, over bool
	restart    bool
	cancel     context.CancelFunc // the running step's
	idle       time.Duration      // a source's current idle backoff
	lag        *sinkLag           // a sink's, once known
	plan       *sinkPlan
	seen       time.Time // a sink's last look at the lag (see stepSink)
}

// step takes the task's next step and sets when the one after is due:
// waiting out an inherited lease (UNASSIGNED), a status write while the
// connector is paused (PAUSED), or one source lease, or one sink lag check
// and a lease when ranges are due (RUNNING, as Connect shows an idle sink
// task too).
func (t *taskRun) step(ctx context.Context) {
	if !t.started {
		if wait := t.inheritedWait(); wait > 0 {
			t.setState(state.StateUnassigned, "")
			t.next = time.Now().Add(wait)
			return
		}
		t.started = true
	}
	if t.cr.isPaused() {
		t.setState(state.StatePaused, "")
		t.next = time.Time{}
		return
	}
	if ctx.Err() != nil {
		t.over = true
		return
	}
	if !t.cr.c.confirmedLeader() {
		// No lease while this coordinator may have been replaced; it
		// looks again shortly (or is stopped once deposed).
		t.next = time.Now().Add(unconfirmedStepDelay)
		return
	}
	if wait := t.foreignWait(); wait > 0 {
		t.next = time.Now().Add(wait)
		return
	}
	t.setState(state.StateRunning, "")
	var delay time.Duration
	var ok bool
	switch t.cr.plugin.Kind {
	case connect.KindSource:
		delay, ok = t.stepSource(ctx)
	case connect.KindSink:
		delay, ok = t.stepSink(ctx)
	}
	t.over = !ok
	t.next = time.Now().Add(delay)
}

// inheritedWait returns how long the task must still wait out the lease a
// previous coordinator (one that died or restarted) issued for it, which
// may act until its deadline: a new lease must never overlap it (rule 3).
func (t *taskRun) inheritedWait() time.Duration {
	rec, ok := t.cr.c.d.Leases.OutstandingFor(t.cr.name, t.id)
	if !ok {
		return 0
	}
	t.inherited, t.lastEpoch = &rec, rec.Epoch
	wait := time.Until(rec.Deadline)
	if wait > 0 && !t.started && t.state == "" {
		t.log.Info("waiting out an outstanding lease before scheduling", "lease", rec.ID, "deadline", rec.Deadline)
	}
	return wait
}

// foreignWait returns how long the task must wait out a lease that the
// lease log holds for it and that this task run did not issue nor inherit:
// one another coordinator recorded after this run started (a deposed
// leader that had not noticed yet). It takes that lease over as an
// inherited one: its epoch, and for a sink its ranges, re-issued once it
// has expired (rules 2 and 3).
func (t *taskRun) foreignWait() time.Duration {
	rec, ok := t.cr.c.d.Leases.OutstandingFor(t.cr.name, t.id)
	if !ok || rec.ID == t.lastID || (t.inherited != nil && rec.ID == t.inherited.ID) {
		return 0
	}
	t.inherited = &rec
	t.lastEpoch = max(t.lastEpoch, rec.Epoch)
	if rec.Kind == lease.KindSink && t.plan != nil {
		for _, rg := range rec.Ranges {
			t.plan.pending[rg.TopicPartition()] = rg
		}
	}
	wait := time.Until(rec.Deadline)
	t.log.Warn("the lease log holds a lease for this task that another coordinator issued; waiting it out", "lease", rec.ID, "deadline", rec.Deadline)
	return wait
}

// setState writes the task's status when it changes.
func (t *taskRun) setState(st state.State, trace string) {
	if t.state == st && st != state.StateFailed {
		return
	}
	t.state = st
	t.cr.c.putTaskStatus(t.cr.name, t.id, st, trace)
}

// recoverStep turns a panic of a step (deferred) into the task's failure,
// with the stack as its trace, instead of the coordinator's crash.
func (t *taskRun) recoverStep() {
	p := recover()
	if p == nil {
		return
	}
	trace := fmt.Sprintf("task step panicked: %v\n%s", p, debug.Stack())
	t.log.Error("task step panicked", "panic", p)
	t.over = true
	t.setState(state.StateFailed, trace)
}

// leaseID is the id of a task's lease of epoch.
func leaseID(connector string, task int, epoch int64) string {
	return fmt.Sprintf("%s-%d-%d", connector, task, epoch)
}

// newLease builds the task's next lease.
func (t *taskRun) newLease(kind lease.Kind, ranges []lease.Range) lease.Lease {
	cfg := t.cr.c.cfg
	epoch := t.cr.c.nextEpoch(t.lastEpoch)
	t.lastEpoch = epoch
	t.lastID = leaseID(t.cr.name, t.id, epoch)
	// A source lease works LeaseMaxTime, then commits what it produced. A
	// sink lease commits its exact ranges or nothing: a work time shorter
	// than its range needs (a loaded machine, a slow store) would only
	// throw the work away and re-issue the same ranges to fail again, so
	// it works until the safety margins before its deadline.
	work := cfg.LeaseMaxTime
	if kind == lease.KindSink {
		work = max(work, cfg.LeaseTimeout)
	}
	l := lease.Lease{
		ID:              leaseID(t.cr.name, t.id, epoch),
		Kind:            kind,
		Connector:       t.cr.name,
		Task:            t.id,
		Generation:      t.generation,
		Epoch:           epoch,
		Deadline:        time.Now().Add(cfg.LeaseTimeout),
		ConnectorConfig: t.cr.config,
		TaskConfig:      t.config,
		Budget:          lease.Budget{MaxTime: lease.Duration(work)},
		Ranges:          ranges,
	}
	switch {
	case kind == lease.KindSource && cfg.ExactlyOnce.Enabled():
		l.ExactlyOnce = exactlyOnce(cfg, t.cr.name, t.id, t.cr.config)
	case kind == lease.KindSource:
		// Connect's regular source task: the connector's own
		// offsets.storage.topic first, the worker's second.
		l.OffsetsTopic = t.cr.c.ownOffsetsTopic(t.cr.config)
	}
	return l
}

// exactlyOnce is how a source task's leases write with exactly-once
// support enabled (KIP-618): Connect's transactional id, the connector's
// offsets.storage.topic or the worker's, and its transaction boundary.
func exactlyOnce(cfg Config, connector string, task int, props map[string]string) *lease.ExactlyOnce {
	x := &lease.ExactlyOnce{
		TransactionalID: lease.TransactionalID(cfg.GroupID, connector, task),
		OffsetsTopic:    cmp.Or(cfg.OffsetStorageTopic, state.DefaultOffsetTopic),
		Boundary:        strings.ToLower(strings.TrimSpace(props[connect.TransactionBoundaryConfig])),
		Interval:        lease.Duration(connect.DefaultTransactionBoundaryIntervalMS * time.Millisecond),
	}
	if topic := strings.TrimSpace(props[connect.OffsetsTopicConfig]); topic != "" {
		x.OffsetsTopic = topic
	}
	if ms, err := strconv.ParseInt(strings.TrimSpace(props[connect.TransactionBoundaryIntervalConfig]), 10, 64); err == nil && ms > 0 {
		x.Interval = lease.Duration(time.Duration(ms) * time.Millisecond)
	}
	return x
}

// rangeRecords is how many offsets ranges cover.
func rangeRecords(ranges []lease.Range) int64 {
	var n int64
	for _, rg := range ranges {
		n += rg.End - rg.Start
	}
	return n
}

// invokeChecked invokes l and checks that the result is l's and possible
// (lease.Result.CheckFor): a result that is not is an invocation error, as
// is a panic of the invoker, whose stack it returns as trace. The outcome
// of the lease is then unknown.
func invokeChecked(ctx context.Context, inv Invoker, l lease.Lease) (res lease.Result, trace string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("invoker panicked: %v", p)
			res, trace = lease.Result{}, err.Error()+"\n"+string(debug.Stack())
		}
	}()
	res, err = inv.Invoke(ctx, l)
	if err == nil {
		err = res.CheckFor(l)
	}
	return res, "", err
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
	// The lease is recorded with the generation this coordinator certainly
	// leads in (step found it so a moment ago) and invoked only while that
	// generation is confirmed. A record carries only a generation its
	// writer led and had confirmed when it wrote it: the lease log's
	// skipping of a deposed leader's late records relies on it.
	gen, ok := c.confirmedGeneration()
	if !ok {
		return lease.Result{Status: lease.Failed, Error: "leadership not confirmed", Retriable: true}, ctx.Err() == nil
	}
	if err := c.d.Leases.Begin(ctx, t.cr.name, l, gen); err != nil {
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
	// The record is durable: invoke the lease only while this coordinator
	// certainly leads in the generation it recorded it in, so that any
	// successor was elected after the record was written and has read it
	// (it reads the lease log when elected), and a record that landed
	// after a later generation's was never invoked (KafkaLeaseLog skips
	// it).
	if !c.awaitConfirmedLeader(ctx, gen, l.Deadline) {
		// Not invoked. The record stays, as if the lease had run: a
		// successor waits it out, and End here could erase a successor's
		// record.
		t.log.Warn("leadership not confirmed after recording the lease; not invoking it", "lease", l.ID)
		return lease.Result{Status: lease.Failed, Error: "leadership not confirmed", Retriable: true}, ctx.Err() == nil
	}
	invoked := time.Now()
	t.log.Debug("lease issued", "lease", l.ID, "kind", l.Kind, "records", rangeRecords(l.Ranges))
	res, trace, err := invokeChecked(ctx, c.d.Invoker, l)
	c.leaseEnded(l, res, err, invoked, time.Now())
	t.log.Debug("lease returned", "lease", l.ID, "status", res.Status, "records", res.Records, "more_pending", res.MorePending, "took", time.Since(invoked))
	if err != nil {
		if trace == "" {
			trace = err.Error()
		}
		res = lease.Result{Status: lease.Failed, Error: "invocation failed: " + err.Error(), Trace: trace, Retriable: true}
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
	c.noteTopics(t.cr.name, t.id, res.Topics)
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

// stepSource issues one source lease. The next is due at once while data
// is pending, and after a growing pause (up to IdleBackoffMax) while the
// source is idle. It returns the delay and whether the task goes on.
func (t *taskRun) stepSource(ctx context.Context) (time.Duration, bool) {
	res, ok := t.invoke(ctx, t.newLease(lease.KindSource, nil))
	if !ok {
		return 0, false
	}
	if res.Status != lease.Succeeded || res.MorePending {
		t.idle = 0
		return 0, true
	}
	if t.idle == 0 {
		t.idle = 100 * time.Millisecond
	}
	// ±20% jitter: idle tasks started together would otherwise lease in
	// lockstep waves.
	d := time.Duration(float64(t.idle) * (0.8 + 0.4*rand.Float64()))
	t.idle = min(2*t.idle, t.cr.c.cfg.IdleBackoffMax)
	return d, true
}
