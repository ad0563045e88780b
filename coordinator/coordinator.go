// Package coordinator is Sluice's coordinator: it owns connector
// configurations, runs connectors (Start, TaskConfigs, reconfiguration),
// decides which work each task does next and hands that work out as leases
// through an Invoker.
//
// Scheduling follows DESIGN.md: a source task gets a new lease as soon as
// its last one reports more data pending, and backs off while it is idle; a
// sink task gets a lease only when a partition's lag reaches flush.size or
// its pending records are older than the rotation interval, and a failed or
// expired sink lease is re-issued with the same ranges.
package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Coordinator runs connectors and schedules their leases. It is safe for
// concurrent use.
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	plugins *connect.Registry
	kafka   *kafka.Client
	invoker Invoker

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	connectors map[string]*connectorRun
	lastEpoch  int64
}

// New returns a coordinator. It starts nothing until connectors are added;
// Close stops everything it started.
func New(cfg Config, plugins *connect.Registry, client *kafka.Client, invoker Invoker, log *slog.Logger) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Coordinator{
		cfg: cfg, log: log, plugins: plugins, kafka: client, invoker: invoker,
		ctx: ctx, cancel: cancel, connectors: map[string]*connectorRun{},
	}, nil
}

// Add validates a connector configuration and starts the connector. Every
// problem in the configuration is reported at once (Connect's "Connector
// configuration is invalid and contains the following N error(s)").
func (c *Coordinator) Add(props map[string]string) error {
	plugin, infos, found := Validate(c.plugins, c.cfg.ConfigProviders, props)
	if err := connect.ConfigError(infos); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %s", connect.ErrUnknownPlugin, props[connect.ConnectorClassConfig])
	}
	name := props[connect.NameConfig]
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.connectors[name]; ok {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	cr := newConnectorRun(c, name, plugin, maps.Clone(props))
	c.connectors[name] = cr
	c.wg.Go(func() { cr.run(c.ctx) })
	return nil
}

// Connectors lists the connectors' names, sorted.
func (c *Coordinator) Connectors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.connectors))
}

// Status returns a connector's status.
func (c *Coordinator) Status(name string) (ConnectorStatus, bool) {
	c.mu.Lock()
	cr, ok := c.connectors[name]
	c.mu.Unlock()
	if !ok {
		return ConnectorStatus{}, false
	}
	return cr.status(), true
}

// Run blocks until ctx ends, then stops every connector and waits for the
// leases in flight.
func (c *Coordinator) Run(ctx context.Context) {
	<-ctx.Done()
	c.Close()
}

// Close stops every connector and waits for its goroutines.
func (c *Coordinator) Close() {
	c.cancel()
	c.wg.Wait()
}

// nextEpoch returns a lease epoch greater than any this process issued
// before and, being time-based, than any an earlier process issued.
func (c *Coordinator) nextEpoch() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastEpoch = max(c.lastEpoch+1, time.Now().UnixNano())
	return c.lastEpoch
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
