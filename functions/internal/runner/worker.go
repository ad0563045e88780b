package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// The worker's backoff after failing to reach the coordinator.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// runWorker pulls leases of fn's kind from the coordinator and runs them,
// Config.Concurrency at a time, until SIGTERM or SIGINT. A signal cancels
// the polls and the context of the leases in hand, which makes each wrap up
// and commit (the executor's stop signal); their results are reported and
// runWorker returns nil.
func runWorker(fn Function, deps Deps) error {
	defer deps.close()
	ctx, stop := signals()
	defer stop()
	id := deps.Config.WorkerID
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	secret, err := deps.Config.Secret(ctx)
	if err != nil {
		return err
	}
	client, err := deps.Config.coordinatorClient()
	if err != nil {
		return err
	}
	w := &Worker{
		Client: &invoke.PullClient{BaseURL: deps.Config.CoordinatorURL, Worker: id, Kinds: []lease.Kind{fn.Kind},
			HTTP: client, Secret: secret},
		Deps: deps,
	}
	deps.Logger.Info("worker pulling leases", "coordinator", deps.Config.CoordinatorURL, "worker", id, "concurrency", deps.Config.Concurrency)
	var wg sync.WaitGroup
	for range deps.Config.Concurrency {
		wg.Go(func() { w.Run(ctx) })
	}
	wg.Wait()
	deps.Logger.Info("worker stopped", "worker", id)
	return nil
}

// Worker runs leases pulled from the coordinator. Several Run loops may
// share one Worker.
type Worker struct {
	Client *invoke.PullClient
	Deps   Deps
}

// Run polls for a lease, runs it and reports its result, again and again
// until ctx is cancelled. Cancelling ctx stops polling at once and makes a
// lease in hand wrap up, commit and be reported before Run returns.
//
// Every lease taken is reported, including one that could not run (a
// failed result for a bad lease, an expired one for a lease that came too
// late): the pull protocol has no error channel, and an unreported lease
// would keep the coordinator waiting until its deadline with no trace.
func (w *Worker) Run(ctx context.Context) {
	log := w.Deps.Logger.With("worker", w.Client.Worker)
	backoff := minBackoff
	for ctx.Err() == nil {
		l, err := w.Client.Next(ctx, w.Deps.Config.PollWait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("polling the coordinator for a lease", "error", err, "retry_in", backoff)
			sleep(ctx, backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		if l == nil {
			continue
		}
		res := w.Deps.Executor.Run(ctx, *l)
		w.report(res, l.Deadline)
	}
}

// report posts a result, retrying until the lease's deadline, after which
// the coordinator no longer waits for it.
func (w *Worker) report(res lease.Result, deadline time.Time) {
	log := w.Deps.Logger.With("worker", w.Client.Worker, "connector", res.Connector, "task", res.Task, "lease", res.LeaseID)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	backoff := minBackoff
	for {
		err := w.Client.Report(ctx, res)
		switch {
		case err == nil:
			return
		case errors.Is(err, invoke.ErrNoResult), ctx.Err() != nil:
			log.Warn("lease result not taken: the coordinator stopped waiting for it and re-issues the work", "status", res.Status, "error", err)
			return
		}
		log.Warn("reporting a lease result", "error", err, "retry_in", backoff)
		sleep(ctx, backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
