// Command sink-batch runs Sluice sink leases: fetch exactly the leased range,
// convert, Put, flush, commit. Under AWS Lambda it serves one lease per
// invocation, and also export requests ({"connector": ..., "until": "now"},
// from an EventBridge schedule, say) and Lambda's own Kafka events (from an
// MSK or self-managed Kafka event source mapping); elsewhere it is a
// long-lived worker pulling leases from the coordinator. See --help.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/functions/internal/batch"
	"github.com/sluicehq/sluice/functions/internal/runner"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins/sinks"
)

// Config is sink-batch's own configuration, besides the runner's.
type Config struct {
	Connector               string `envconfig:"CONNECTOR" desc:"connector that writes Lambda Kafka events (event source mapping)"`
	ReportBatchItemFailures bool   `envconfig:"REPORT_BATCH_ITEM_FAILURES" default:"false" desc:"answer Kafka events with the failed records (set when the mapping has FunctionResponseTypes=ReportBatchItemFailures)"`
	// StateTopics are where the connectors' configurations are read from
	// (the status topic is opened with the configs topic).
	env.StateTopics
}

func main() {
	var cfg Config
	e := &events{cfg: &cfg}
	fn := runner.Function{Name: "sink-batch", Kind: lease.KindSink, Plugins: sinks.Plugins, Events: e.handle, Config: &cfg}
	if err := runner.Main(fn, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sink-batch:", err)
		os.Exit(1)
	}
}

// events serves the payloads that are not leases through package batch.
// The configs topic is opened at the first event, not at start-up, so that
// lease-only deployments never read it.
type events struct {
	cfg *Config
	mu  sync.Mutex
	st  *state.Store
}

func (e *events) handle(ctx context.Context, d runner.Deps, payload json.RawMessage) (any, error) {
	st, err := e.store(ctx, d)
	if err != nil {
		return nil, err
	}
	out, err := batch.Handle(ctx, batch.Deps{
		Executor: d.Executor, Kafka: d.Kafka, Plugins: d.Plugins, Logger: d.Logger,
		Configs: batch.StoreConfigs{Store: st.Configs}, Connector: e.cfg.Connector,
		ReportBatchItemFailures: e.cfg.ReportBatchItemFailures,
	}, payload)
	if errors.Is(err, batch.ErrUnknownEvent) {
		return nil, unknownEvent{err}
	}
	return out, err
}

// unknownEvent is batch's ErrUnknownEvent as the runner knows it
// (runner.ErrUnknownEvent, errorType Sluice.UnknownEvent), with batch's
// message alone: both sentinels read "unknown event shape", which wrapping
// one in the other would say twice.
type unknownEvent struct{ err error }

func (e unknownEvent) Error() string   { return e.err.Error() }
func (e unknownEvent) Unwrap() []error { return []error{e.err, runner.ErrUnknownEvent} }

func (e *events) store(ctx context.Context, d runner.Deps) (*state.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st != nil {
		return e.st, nil
	}
	st, err := state.Open(ctx, d.Kafka, state.Config{ConfigTopic: e.cfg.ConfigStorageTopic, StatusTopic: e.cfg.StatusStorageTopic,
		ReplicationFactor: -1, Logger: d.Logger})
	if err != nil {
		return nil, fmt.Errorf("opening the configs topic %s: %w", e.cfg.ConfigStorageTopic, err)
	}
	e.st = st
	return st, nil
}
