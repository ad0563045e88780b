// Package coordinator is Sluice's coordinator (Kafka Connect's herder): it
// owns connector configurations, runs connectors (Start, TaskConfigs,
// reconfiguration), decides which work each task does next and hands that
// work out as leases through an Invoker.
//
// In distributed mode every coordinator reads the configs and status
// topics; one of them, elected through Kafka, leads: it reconciles the
// configurations into running connectors and schedules their leases, while
// the others serve reads and forward writes. In standalone and dev mode one
// coordinator leads alone.
//
// Scheduling follows the lease rules of docs/architecture.md: a source task
// gets a new lease as soon as its last one reports more data pending, and
// backs off while it is idle; a sink task gets a lease only when a
// partition's lag reaches flush.size or its pending records are older than
// the rotation interval (rule 4), and a failed or expired sink lease is
// re-issued with the same ranges (rule 2). Every lease is recorded in the
// lease log before it is invoked, so a coordinator that takes over waits
// out its predecessor's leases and re-issues their ranges (rule 6).
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// Elector tells a coordinator whether it leads (kafka.Election). Leading
// is the one answer to "does this coordinator lead": Leader's self agrees
// with it, and Leader's url is otherwise the leader's as far as known.
type Elector interface {
	Changes() <-chan bool
	Leading() bool
	Leader() (url string, self bool, err error)
}

// Deps are what a coordinator works with.
type Deps struct {
	Plugins *connect.Registry
	Kafka   *kafka.Client
	Invoker Invoker
	// Configs and Statuses are kept current by their owner (for the Kafka
	// topics, state.Store.Follow); writes are read back before they return.
	Configs  ConfigStore
	Statuses StatusStore
	Leases   LeaseLog
	// Offsets holds source connectors' offsets (for the offsets API).
	Offsets offsets.Store
	// Election decides leadership; nil: this coordinator always leads.
	Election Elector
	Logger   *slog.Logger
	// Providers checks the config provider references of a submitted
	// configuration against the allow settings of the worker properties'
	// config providers (a *configprovider.Resolver); nil: only that the
	// providers are configured (Config.ConfigProviders).
	Providers ReferenceChecker
}

// Coordinator runs connectors and schedules their leases. It is safe for
// concurrent use.
type Coordinator struct {
	cfg      Config
	d        Deps
	log      *slog.Logger
	workerID string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}
	health chan struct{} // HealthCheck's requests, received by loop

	mu      sync.Mutex
	running map[string]*connectorRun
	leading bool
	// stopFollowing ends the lease log's following while leading.
	stopFollowing context.CancelFunc
	// logGen is the election generation in which the lease log was last
	// read to its end; reread asks followLeases to read it now (the
	// generation moved on while this coordinator led).
	logGen    int32
	reread    chan struct{}
	lastEpoch int64
	clusterID string // the Kafka cluster's id, once asked

	// names is the last Connectors answer, of the configurations'
	// generation namesGen.
	namesMu  sync.Mutex
	names    []string
	namesGen int64

	// The session keys (sessionkey.go): keyRetryAt is the loop's;
	// curKey, prevKey and prevUntil are under keysMu.
	keyRetryAt      time.Time
	keysMu          sync.Mutex
	curKey, prevKey *rest.SessionKey
	prevUntil       time.Time

	meta    topicCache // topic metadata for sink lag checks
	metrics *metrics
	history *history // the ended leases and their cost
	started time.Time

	// reconciled is the config generation the running connectors last
	// matched (reconcile's loop goroutine only); noGeneration forces the
	// next reconcile.
	reconciled int64
}

const noGeneration = math.MinInt64

// New returns a coordinator; Start starts it.
func New(cfg Config, d Deps) (*Coordinator, error) {
	if cfg.MaxTasks == 0 {
		cfg.MaxTasks = DefaultMaxTasks
	}
	if cfg.MaxConnectors == 0 {
		cfg.MaxConnectors = DefaultMaxConnectors
	}
	cfg.interWorkerDefaults()
	cfg.Cost = cfg.Cost.withDefaults(cfg.Invoker)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Plugins == nil || d.Invoker == nil || d.Configs == nil || d.Statuses == nil || d.Leases == nil {
		return nil, fmt.Errorf("coordinator: plugins, invoker, configs, statuses and leases are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg: cfg, d: d, log: d.Logger, workerID: workerID(cfg.RestAdvertisedURL),
		ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), reread: make(chan struct{}, 1), health: make(chan struct{}),
		running: map[string]*connectorRun{}, reconciled: noGeneration,
	}
	c.metrics = newMetrics(c)
	c.history = newHistory(cfg.LeaseHistory)
	c.started = time.Now()
	return c, nil
}

// workerID is Connect's worker id: the REST URL's host:port.
func workerID(advertised string) string {
	if u, err := url.Parse(advertised); err == nil && u.Host != "" {
		return u.Host
	}
	return advertised
}

// Start starts following the stores and, while leading, running
// connectors. It returns at once; Close stops everything.
func (c *Coordinator) Start() {
	c.wg.Go(c.loop)
}

// Run starts the coordinator, blocks until ctx ends, then closes it.
func (c *Coordinator) Run(ctx context.Context) {
	c.Start()
	<-ctx.Done()
	c.Close()
}

// Close stops every connector, waits for the leases in flight and for every
// goroutine started.
func (c *Coordinator) Close() {
	c.cancel()
	c.wg.Wait()
}

// loop follows leadership and reconciles the configurations into running
// connectors while leading.
func (c *Coordinator) loop() {
	var changes <-chan bool
	if c.d.Election != nil {
		changes = c.d.Election.Changes()
		c.setLeading(c.d.Election.Leading())
	} else {
		c.setLeading(true)
	}
	tick := time.NewTicker(c.cfg.ReconcileInterval)
	defer tick.Stop()
	for {
		// A deep Snapshot of 1,000 connectors costs milliseconds and
		// stalls REST reads: reconcile only when the configurations moved
		// on (or leadership changed) since the last time.
		if gen := c.d.Configs.Generation(); c.isLeading() && gen != c.reconciled {
			c.reconcile()
			c.reconciled = gen
		}
		if c.isLeading() {
			c.maintainSessionKey()
		}
		select {
		case <-c.ctx.Done():
			c.stopAll()
			return
		case leading := <-changes:
			c.setLeading(leading)
			c.reconciled = noGeneration
		case <-c.wake:
		case <-tick.C:
		case <-c.health:
		}
	}
}

// healthCheckTimeout bounds HealthCheck, as Connect's
// RestServer.DEFAULT_HEALTH_CHECK_TIMEOUT_MS.
const healthCheckTimeout = 10 * time.Second

// HealthCheck is Connect's Herder.healthCheck (GET /health): it asks the
// main loop to answer, so a coordinator that has stopped, or whose loop is
// stuck (in a reconcile that does not end), reports unhealthy.
func (c *Coordinator) HealthCheck(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
	defer cancel()
	select {
	case c.health <- struct{}{}:
	case <-c.ctx.Done():
		return errors.New("the coordinator has stopped")
	case <-ctx.Done():
		return fmt.Errorf("the coordinator's main loop did not answer: %w", ctx.Err())
	}
	return nil
}

func (c *Coordinator) setLeading(leading bool) {
	c.mu.Lock()
	was := c.leading
	c.mu.Unlock()
	switch {
	case leading && !was:
		// Nothing is scheduled before the whole lease log is read: a
		// table missing a predecessor's lease would issue that task's
		// next lease while the old one may still act (rule 3).
		if !c.readLeaseLog() {
			return // closing, or no longer leading: the next change retries
		}
		c.log.Info("leading: running connectors")
		if err := c.d.Configs.Refresh(c.ctx); err != nil {
			c.log.Warn("refreshing configurations", "error", err)
		}
		ctx, cancel := context.WithCancel(c.ctx)
		c.mu.Lock()
		c.leading = true
		c.stopFollowing = cancel
		c.mu.Unlock()
		c.wg.Go(func() { c.followLeases(ctx) })
	case !leading && was:
		c.log.Info("no longer leading: stopping connectors")
		c.mu.Lock()
		c.leading = false
		c.mu.Unlock()
		c.stopFollowing()
		c.stopAll()
	}
}

// readLeaseLog reads the lease log to its end, retrying with a growing
// pause while it fails (a broker outage). It gives up, reporting false,
// when the coordinator closes or the election says it no longer leads.
func (c *Coordinator) readLeaseLog() bool {
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(c.ctx, leaseLogReadTimeout)
		err := c.refreshLeaseLog(ctx)
		cancel()
		if err == nil {
			return true
		}
		c.log.Warn("reading the lease log failed; scheduling nothing until it is read", "error", err, "retry_in", backoff)
		if !sleep(c.ctx, backoff) || (c.d.Election != nil && !c.d.Election.Leading()) {
			return false
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// leaseLogReadTimeout bounds one attempt to read the lease log.
const leaseLogReadTimeout = 30 * time.Second

// refreshLeaseLog reads the lease log to its end and, once it has, notes
// the election generation it was read in (taken before the read: the
// read then covers every record written before that generation began).
func (c *Coordinator) refreshLeaseLog(ctx context.Context) error {
	var gen int32
	if g, ok := c.d.Election.(interface{ Generation() int32 }); ok {
		gen = g.Generation()
	}
	if err := c.d.Leases.Refresh(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.logGen = gen
	c.mu.Unlock()
	return nil
}

// followLeases reads the lease log every reconcile interval while this
// coordinator leads, so that its tasks learn of a lease another coordinator
// recorded after they started (taskRun.foreignWait), and at once when
// confirmedGeneration finds a generation in which it has not read it.
func (c *Coordinator) followLeases(ctx context.Context) {
	t := time.NewTicker(c.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.reread:
		}
		if err := c.refreshLeaseLog(ctx); err != nil && ctx.Err() == nil {
			c.log.Debug("following the lease log", "error", err)
		}
	}
}

// confirmedLeader reports whether this coordinator certainly leads now:
// its election (kafka.Election.ConfirmedUntil) has confirmed, recently
// enough, that no other coordinator can have been elected yet. A leader
// whose group coordinator stops answering may be replaced before its own
// group session notices; it must then not invoke a lease, which its
// successor (having read the lease log when elected) would not wait out
// (rule 3). Without an election, or with one that cannot confirm, the
// election's Leading is the answer.
func (c *Coordinator) confirmedLeader() bool {
	_, ok := c.confirmedGeneration()
	return ok
}

// confirmedGeneration returns the election generation this coordinator
// leads in and whether it certainly leads in it now (confirmedLeader):
// confirmed (kafka.Election.Confirmed), and with the lease log read to its
// end in that generation. A leader deposed and elected again may see only
// the second change (Changes keeps the latest) and keep its tasks running:
// until it has read what its successor recorded meanwhile, it must not
// act. Without a generation-aware election the generation is 0.
func (c *Coordinator) confirmedGeneration() (int32, bool) {
	switch cf := c.d.Election.(type) {
	case interface {
		Confirmed() (time.Time, int32)
	}:
		until, gen := cf.Confirmed()
		if !time.Now().Before(until) {
			return gen, false
		}
		c.mu.Lock()
		read := c.logGen == gen
		c.mu.Unlock()
		if !read {
			select {
			case c.reread <- struct{}{}:
			default:
			}
		}
		return gen, read
	case interface{ ConfirmedUntil() time.Time }:
		return 0, time.Now().Before(cf.ConfirmedUntil())
	}
	return 0, true
}

// awaitConfirmedLeader waits until this coordinator certainly leads in
// generation gen (confirmedGeneration); it gives up (false) when ctx ends,
// at until, or once the election has moved past gen, which never comes
// back.
func (c *Coordinator) awaitConfirmedLeader(ctx context.Context, gen int32, until time.Time) bool {
	for {
		now, ok := c.confirmedGeneration()
		if ok && now == gen {
			return true
		}
		if now != gen || !time.Now().Before(until) || !sleep(ctx, confirmPoll) {
			return false
		}
	}
}

// confirmPoll is how often a lease recorded while this coordinator could
// not confirm its leadership looks again; unconfirmedStepDelay is when a
// task's next step is due after it found its leadership unconfirmed (a
// broker outage may last; ten thousand tasks must not spin meanwhile).
const (
	confirmPoll          = 50 * time.Millisecond
	unconfirmedStepDelay = 250 * time.Millisecond
)

func (c *Coordinator) isLeading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading
}

// poke asks the loop to reconcile now.
func (c *Coordinator) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// reconcile starts, restarts, pauses and stops connector runs so that they
// match the configurations and target states.
func (c *Coordinator) reconcile() {
	snap := c.d.Configs.Snapshot()
	var stop []*connectorRun
	var stopped []string
	c.mu.Lock()
	for name, cs := range snap.Connectors {
		cr := c.running[name]
		switch {
		case cs.TargetState == state.TargetStopped:
			if cr != nil {
				stop = append(stop, cr)
				delete(c.running, name)
				stopped = append(stopped, name)
			} else if c.leading && !c.reportsStopped(name) {
				// Created STOPPED (initial_state), or stopped before this
				// coordinator led: Connect's worker reports it STOPPED too.
				stopped = append(stopped, name)
			}
		case cr != nil && !maps.Equal(cr.config, cs.Config):
			stop = append(stop, cr)
			delete(c.running, name)
		case cr != nil:
			cr.setTarget(cs.TargetState)
		}
	}
	for name, cr := range c.running {
		if _, ok := snap.Connectors[name]; !ok {
			stop = append(stop, cr)
			delete(c.running, name)
			c.metrics.forget(name)
			c.history.forget(name)
			defer c.deleteStatuses(name)
		}
	}
	c.mu.Unlock()
	for _, cr := range stop {
		cr.stop()
	}
	for _, name := range stopped {
		c.markStopped(name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.leading || c.ctx.Err() != nil {
		return
	}
	for name, cs := range snap.Connectors {
		if _, ok := c.running[name]; ok || cs.TargetState == state.TargetStopped {
			continue
		}
		plugin, err := c.d.Plugins.Connector(cs.Config[connect.ConnectorClassConfig])
		if err != nil {
			c.putConnectorStatus(name, state.StateFailed, err.Error())
			continue
		}
		cr := newConnectorRun(c, name, plugin, cs)
		c.running[name] = cr
		cr.start(c.ctx)
	}
}

// stopAll stops every connector run and waits for it.
func (c *Coordinator) stopAll() {
	c.mu.Lock()
	runs := make([]*connectorRun, 0, len(c.running))
	for _, cr := range c.running {
		runs = append(runs, cr)
	}
	c.running = map[string]*connectorRun{}
	c.mu.Unlock()
	for _, cr := range runs {
		cr.stop()
	}
}

// reportsStopped reports whether the connector's status says STOPPED on
// this worker.
func (c *Coordinator) reportsStopped(name string) bool {
	st, ok := c.d.Statuses.Connector(name)
	return ok && st.State == state.StateStopped && st.WorkerID == c.workerID
}

// stateWriteTimeout bounds each write of a status or of task
// configurations that the coordinator makes on its own account.
const stateWriteTimeout = 30 * time.Second

// writeState runs write on a context of its own, bounded by
// stateWriteTimeout and not cancelled with the coordinator, so that the
// statuses of connectors that stop are written while it stops; a failure
// is logged as what failed, with attrs.
func (c *Coordinator) writeState(what string, write func(context.Context) error, attrs ...any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), stateWriteTimeout)
	defer cancel()
	if err := write(ctx); err != nil {
		c.log.Warn(what, append(attrs, "error", err)...)
	}
}

// markStopped records a stopped connector as Connect does (KIP-875): its
// task configurations emptied and its status STOPPED.
func (c *Coordinator) markStopped(name string) {
	c.writeState("emptying a stopped connector's task configs", func(ctx context.Context) error {
		return c.d.Configs.PutTaskConfigs(ctx, name, nil)
	}, "connector", name)
	c.putConnectorStatus(name, state.StateStopped, "")
}

func (c *Coordinator) deleteStatuses(name string) {
	c.writeState("deleting statuses", func(ctx context.Context) error {
		return c.d.Statuses.DeleteConnectorStatus(ctx, name)
	}, "connector", name)
}

func (c *Coordinator) putConnectorStatus(name string, st state.State, trace string) {
	c.writeState("writing connector status", func(ctx context.Context) error {
		return c.d.Statuses.PutConnectorStatus(ctx, name, state.Status{State: st, Trace: trace, WorkerID: c.workerID, Generation: c.statusGeneration()})
	}, "connector", name)
}

// statusGeneration is the generation of the statuses this coordinator
// writes: as a Connect worker's, its group generation, so that a status
// another worker (a Kafka Connect worker before a migration) wrote in an
// earlier generation is overwritten, and one written after is not.
func (c *Coordinator) statusGeneration() int32 {
	if g, ok := c.d.Election.(interface{ Generation() int32 }); ok {
		return g.Generation()
	}
	return 0
}

func (c *Coordinator) putTaskStatus(name string, task int, st state.State, trace string) {
	c.writeState("writing task status", func(ctx context.Context) error {
		return c.d.Statuses.PutTaskStatus(ctx, name, task, state.Status{State: st, Trace: trace, WorkerID: c.workerID, Generation: c.statusGeneration()})
	}, "connector", name, "task", task)
}

// nextEpoch returns a lease epoch greater than any issued before by this or
// an earlier coordinator: time-based, and above the lease log's record.
func (c *Coordinator) nextEpoch(after int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastEpoch = max(c.lastEpoch+1, time.Now().UnixNano(), after+1)
	return c.lastEpoch
}

// noteTopics records in the status topic the topics a connector's task
// used that are not among its active topics yet (KIP-558), unless topic
// tracking is off.
func (c *Coordinator) noteTopics(name string, task int, topics []string) {
	if !c.cfg.TopicTrackingEnable || len(topics) == 0 {
		return
	}
	known := c.d.Statuses.Topics(name)
	for _, topic := range topics {
		if slices.Contains(known, topic) {
			continue
		}
		c.writeState("recording an active topic", func(ctx context.Context) error {
			return c.d.Statuses.PutTopicStatus(ctx, state.TopicStatus{Topic: topic, Connector: name, Task: task, Discovered: time.Now()})
		}, "connector", name, "topic", topic)
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
