package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// Options tune an Executor. Zero fields take the defaults documented on each.
type Options struct {
	// SafetyMargin is kept free before a lease's deadline: no write or commit
	// starts later than Deadline-SafetyMargin, and polling or putting stops
	// at Deadline-2×SafetyMargin. Default 2s.
	SafetyMargin time.Duration
	// Budget fills the zero fields of a lease's budget. Defaults: 500,000
	// records, 256 MiB, 5 minutes, 1 second idle.
	Budget Budget
	// Producer configures the per-lease producer of source leases.
	Producer kafka.ProducerOptions
	// FetchMaxBytes bounds one fetch request of a sink lease. Default 4 MiB.
	FetchMaxBytes int32
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// DisableTopicCreation turns off the creation of source topics through
	// the admin API (KIP-158): Connect's worker topic.creation.enable=false.
	// By default a source connector with topic.creation.* settings creates
	// each topic it produces to before the first record is sent to it.
	DisableTopicCreation bool
	// Resolver resolves ${provider:path:key} references (Connect's config
	// providers) in a lease's configurations just before the task runs;
	// resolved values are never logged or reported. Nil leaves them as
	// they are.
	Resolver Resolver
	// OpenOffsets opens the store of an offsets topic other than the
	// executor's, for exactly-once source leases of connectors with their
	// own offsets.storage.topic; the store is closed (if it has a Close
	// method) when the lease ends. Nil: such leases fail.
	OpenOffsets func(ctx context.Context, topic string) (offsets.Store, error)
}

// Resolver resolves configuration provider references
// (configprovider.Resolver).
type Resolver interface {
	// ResolveAll resolves the references in each configuration, asking
	// each provider once for all of them.
	ResolveAll(ctx context.Context, configs ...map[string]string) ([]map[string]string, error)
}

func (o *Options) setDefaults() {
	if o.SafetyMargin <= 0 {
		o.SafetyMargin = 2 * time.Second
	}
	if o.Budget.MaxRecords <= 0 {
		o.Budget.MaxRecords = 500_000
	}
	if o.Budget.MaxBytes <= 0 {
		o.Budget.MaxBytes = 256 << 20
	}
	if o.Budget.MaxTime <= 0 {
		o.Budget.MaxTime = Duration(5 * time.Minute)
	}
	if o.Budget.MaxIdle <= 0 {
		o.Budget.MaxIdle = Duration(time.Second)
	}
	if o.FetchMaxBytes <= 0 {
		o.FetchMaxBytes = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Executor runs leases. It is safe for concurrent use: each Run has its own
// task instance, converters and producer.
type Executor struct {
	plugins *connect.Registry
	kafka   *kafka.Client
	offsets offsets.Store
	opts    Options
	// knownTopics holds the topics source leases found or created
	// (topic creation), so that each is checked once per process.
	knownTopics sync.Map
}

// NewExecutor returns an executor that finds plugins in plugins, talks to
// Kafka through client and keeps source offsets in store.
func NewExecutor(plugins *connect.Registry, client *kafka.Client, store offsets.Store, opts Options) *Executor {
	opts.setDefaults()
	return &Executor{plugins: plugins, kafka: client, offsets: store, opts: opts}
}

// run is the state of one lease being executed, shared by its source or
// sink steps.
type run struct {
	e     *Executor
	lease Lease
	// plugin is the lease's connector, found by Check.
	plugin connect.Plugin
	log    *slog.Logger
	budget Budget
	// pollUntil is when polling or putting stops; commitBy is the last
	// moment a write or commit may start; hard is the deadline itself.
	pollUntil, commitBy, hard time.Time
	res                       Result
}

// Run executes one lease and reports what it did. It never panics because of
// a task: a panic becomes a failed result with the stack as its trace.
//
// Cancelling ctx asks the lease to wrap up, as SIGTERM does to a worker: a
// source stops polling, then flushes and commits what it produced; a sink
// finishes its range, which is bounded. The hard limit is the lease's
// deadline, or ctx's deadline when that is earlier: nothing is written or
// committed within the safety margin of it.
func (e *Executor) Run(ctx context.Context, l Lease) Result {
	return e.run(ctx, l, func(r *run, stop, ctx context.Context) error {
		if l.Kind == KindSource {
			return r.source(stop, ctx)
		}
		return r.sink(ctx)
	})
}

// Check reports why l cannot run with plugins, before anything runs: an
// id, connector or deadline missing, a kind neither source nor sink, a
// connector class missing, unknown to plugins or of the other kind, a sink
// lease without ranges or with an invalid one. Its errors wrap ErrBadLease.
// It returns the lease's connector plugin.
//
// Run and Deliver check every lease with it; a function binary calls it to
// refuse a lease before its invocation starts. Time is not checked here:
// Run reports a lease too close to its deadline as Expired.
func Check(plugins *connect.Registry, l Lease) (connect.Plugin, error) {
	var missing []string
	if l.ID == "" {
		missing = append(missing, "no id")
	}
	if l.Connector == "" {
		missing = append(missing, "no connector")
	}
	if l.Deadline.IsZero() {
		missing = append(missing, "no deadline")
	}
	if len(missing) > 0 {
		return connect.Plugin{}, fmt.Errorf("%w: id, connector and deadline are required; lease %q has %s",
			ErrBadLease, l.ID, strings.Join(missing, ", "))
	}
	if l.Kind != KindSource && l.Kind != KindSink {
		return connect.Plugin{}, fmt.Errorf("%w: unknown lease kind %q", ErrBadLease, l.Kind)
	}
	class := l.ConnectorConfig[connect.ConnectorClassConfig]
	if class == "" {
		return connect.Plugin{}, fmt.Errorf("%w: lease %s has no %s in its connector configuration", ErrBadLease, l.ID, connect.ConnectorClassConfig)
	}
	plugin, err := plugins.Connector(class)
	if err != nil {
		return plugin, fmt.Errorf("%w: lease %s: %w", ErrBadLease, l.ID, err)
	}
	if plugin.Kind != l.Kind {
		return plugin, fmt.Errorf("%w: %s is a %s connector, not a %s", ErrBadLease, plugin.Class, plugin.Kind, l.Kind)
	}
	if l.Kind == KindSink && len(l.Ranges) == 0 {
		return plugin, fmt.Errorf("%w: sink lease %s has no ranges", ErrBadLease, l.ID)
	}
	for _, rg := range l.Ranges {
		if rg.Start < 0 || rg.End < rg.Start {
			return plugin, fmt.Errorf("%w: invalid range %s", ErrBadLease, rg)
		}
	}
	if l.OffsetsTopic != "" && (l.Kind != KindSource || l.ExactlyOnce != nil) {
		return plugin, fmt.Errorf("%w: lease %s: an offsets topic of its own is for a source lease without exactly-once (which names its own)", ErrBadLease, l.ID)
	}
	return plugin, nil
}

// run executes work under the lease's identity, time limits and config
// resolution, and turns its outcome (or a panic) into the Result. work gets
// stop, the caller's context (cancelled: wrap up), and ctx, bounded only by
// the lease's hard deadline.
func (e *Executor) run(ctx context.Context, l Lease, work func(r *run, stop, ctx context.Context) error) (res Result) {
	now := e.opts.Now()
	r := &run{e: e, lease: l, res: Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Started: now, Token: l.Token}}
	r.log = e.opts.Logger.With("connector", l.Connector, "task", l.Task, "lease", l.ID, "epoch", l.Epoch)
	defer func() {
		if p := recover(); p != nil {
			r.fail(fmt.Errorf("task panicked: %v", p), string(debug.Stack()))
		}
		r.res.Finished = e.opts.Now()
		res = r.res
		r.log.Info("lease finished", "status", res.Status, "records", res.Records, "bytes", res.Bytes,
			"more_pending", res.MorePending, "duration", res.Finished.Sub(res.Started), "error", res.Error)
	}()
	if err := r.plan(ctx, now); err != nil {
		r.end(err)
		return
	}
	stop := ctx
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), r.hard)
	defer cancel()
	if err := r.resolve(ctx); err != nil {
		r.end(err)
		return
	}
	r.end(work(r, stop, ctx))
	return
}

// plan checks the lease, finds its connector and works out its time limits.
func (r *run) plan(ctx context.Context, now time.Time) error {
	l := r.lease
	var err error
	if r.plugin, err = Check(r.e.plugins, l); err != nil {
		return err
	}
	r.budget = l.Budget
	d := r.e.opts.Budget
	if r.budget.MaxRecords <= 0 {
		r.budget.MaxRecords = d.MaxRecords
	}
	if r.budget.MaxBytes <= 0 {
		r.budget.MaxBytes = d.MaxBytes
	}
	if r.budget.MaxTime <= 0 {
		r.budget.MaxTime = d.MaxTime
	}
	if r.budget.MaxIdle <= 0 {
		r.budget.MaxIdle = d.MaxIdle
	}
	r.hard = l.Deadline
	if cd, ok := ctx.Deadline(); ok && cd.Before(r.hard) {
		r.hard = cd
	}
	margin := r.e.opts.SafetyMargin
	r.commitBy = r.hard.Add(-margin)
	r.pollUntil = r.hard.Add(-2 * margin)
	if limit := now.Add(time.Duration(r.budget.MaxTime)); limit.Before(r.pollUntil) {
		r.pollUntil = limit
	}
	if !now.Before(r.commitBy) {
		return fmt.Errorf("%w: lease %s deadline %s has passed (safety margin %s)", ErrExpired, l.ID, l.Deadline.Format(time.RFC3339Nano), margin)
	}
	return nil
}

// resolve replaces configuration provider references in the lease's
// configurations. Only this run's copy holds the resolved values.
func (r *run) resolve(ctx context.Context) error {
	res := r.e.opts.Resolver
	if res == nil {
		return nil
	}
	// The task configuration mostly repeats the connector's: one call
	// asks each provider (Secrets Manager, SSM) once for both.
	out, err := res.ResolveAll(ctx, r.lease.ConnectorConfig, r.lease.TaskConfig)
	if err != nil {
		return fmt.Errorf("resolving configuration providers in the lease's configurations: %w", err)
	}
	r.lease.ConnectorConfig, r.lease.TaskConfig = out[0], out[1]
	return nil
}

// mayCommit reports whether a write or commit may still start.
func (r *run) mayCommit() error {
	if now := r.e.opts.Now(); !now.Before(r.commitBy) {
		return fmt.Errorf("%w: not committing at %s, past the lease's last commit time %s", ErrExpired,
			now.Format(time.RFC3339Nano), r.commitBy.Format(time.RFC3339Nano))
	}
	return nil
}

// end records the lease's outcome.
func (r *run) end(err error) {
	switch {
	case err == nil:
		r.res.Status = Succeeded
	case errors.Is(err, ErrExpired):
		r.res.Status, r.res.Error, r.res.Retriable = Expired, err.Error(), true
	default:
		var p *panicError
		if errors.As(err, &p) {
			r.fail(err, p.stack)
			return
		}
		r.fail(err, "")
	}
}

func (r *run) fail(err error, stack string) {
	r.res.Status, r.res.Error = Failed, err.Error()
	r.res.Retriable = connect.IsRetriable(err)
	r.res.Trace = trace(err, stack)
	r.res.Committed, r.res.SourceOffsets = nil, nil
}

// trace renders an error chain, one cause a line, as Connect's status trace
// shows a Java stack of causes.
func trace(err error, stack string) string {
	s := fmt.Sprintf("%T: %v", err, err)
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		s += fmt.Sprintf("\nCaused by: %T: %v", e, e)
	}
	if stack != "" {
		s += "\n" + stack
	}
	return s
}

// stopTask calls Stop and reports its error unless an earlier one is kept.
func stopTask(stop func() error, err *error) {
	if serr := stop(); serr != nil && *err == nil {
		*err = fmt.Errorf("stopping task: %w", serr)
	}
}

// noteTopic adds a topic the lease produced to or read from to its
// result's topics (the coordinator's active topics), once.
func (r *run) noteTopic(topic string) {
	if !slices.Contains(r.res.Topics, topic) {
		r.res.Topics = append(r.res.Topics, topic)
	}
}

// GroupID is the consumer group a sink connector commits to, as Connect names it.
func GroupID(connector string) string { return "connect-" + connector }
