package batch

import (
	"context"
	"fmt"
	"maps"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
)

// StoreConfigs is the ConfigSource of production: the configs topic, read
// through a state.ConfigStore (state.Open(...).Configs). Each call first
// reads the topic to its end, so a configuration written just before the
// invocation is seen.
type StoreConfigs struct{ Store *state.ConfigStore }

var _ ConfigSource = StoreConfigs{}

// Configs reads the configs topic once and returns the connector's
// configuration and the task configurations of its last complete commit
// (none while they are inconsistent).
func (s StoreConfigs) Configs(ctx context.Context, name string) (map[string]string, []map[string]string, error) {
	if err := s.Store.Refresh(ctx); err != nil {
		return nil, nil, fmt.Errorf("reading the configs topic: %w", err)
	}
	c, ok := s.Store.Connector(name)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s", ErrUnknownConnector, name)
	}
	if c.Inconsistent {
		return c.Config, nil, nil
	}
	return c.Config, c.Tasks, nil
}

// sinkConfig is a sink connector's configurations.
type sinkConfig struct {
	name      string
	connector map[string]string
	task      map[string]string
}

// loadSink reads the connector's configuration and checks that it is a
// sink. The task configuration is task 0's as published, or else what the
// connector's TaskConfigs(1) returns.
func loadSink(ctx context.Context, d Deps, name string) (*sinkConfig, error) {
	cfg, tasks, err := d.Configs.Configs(ctx, name)
	if err != nil {
		return nil, err
	}
	plugin, err := d.Plugins.Connector(cfg[connect.ConnectorClassConfig])
	if err != nil {
		return nil, fmt.Errorf("%w: connector %s: %w", ErrBadRequest, name, err)
	}
	if plugin.Kind != connect.KindSink {
		return nil, fmt.Errorf("%w: connector %s is a %s connector (%s), not a sink", ErrBadRequest, name, plugin.Kind, plugin.Class)
	}
	sc := &sinkConfig{name: name, connector: cfg}
	if len(tasks) > 0 {
		sc.task = maps.Clone(tasks[0])
		return sc, nil
	}
	c := plugin.NewConnector()
	if err := c.Start(ctx, noContext{}, cfg); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("starting connector %s for its task configuration: %w", name, err)
	}
	tasks, err = c.TaskConfigs(1)
	if serr := c.Stop(); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("task configurations of connector %s: %w", name, err)
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%w: connector %s returned no task configuration", ErrBadRequest, name)
	}
	sc.task = tasks[0]
	return sc, nil
}

// noContext is the ConnectorContext of a connector started only for its
// task configurations.
type noContext struct{}

func (noContext) RequestTaskReconfiguration() {}
func (noContext) RaiseError(error)            {}
