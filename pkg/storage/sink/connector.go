package sink

import (
	"context"
	"maps"
	"slices"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Connector is the configuration half shared by the storage sink
// connectors: it validates the configuration with the connector's Def and
// the engine's cross-key rules, and gives every task the same
// configuration (tasks differ only in the partitions their leases cover).
// It is not safe for concurrent use.
type Connector struct {
	def      *config.Def
	validate func(props map[string]string) map[string][]string
	props    map[string]string
}

var (
	_ connect.Connector       = (*Connector)(nil)
	_ connect.ConfigValidator = (*Connector)(nil)
)

// NewConnector returns a connector declaring def (which must include
// EngineConfig's keys) and checking validate's cross-key rules besides the
// engine's (validate may be nil).
func NewConnector(def *config.Def, validate func(props map[string]string) map[string][]string) *Connector {
	return &Connector{def: def, validate: validate}
}

// Start validates the configuration and keeps it for TaskConfigs.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := c.def.Parse(props); err != nil {
		return err
	}
	if problems := c.ValidateConfig(props); len(problems) > 0 {
		var ps []config.Problem
		for _, k := range slices.Sorted(maps.Keys(problems)) {
			for _, m := range problems[k] {
				ps = append(ps, config.Problem{Key: k, Message: m})
			}
		}
		return &config.ValidationError{Problems: ps}
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.props)
	}
	return out, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// Config returns the connector's declaration.
func (c *Connector) Config() *config.Def { return c.def }

// ValidateConfig checks the engine's and the connector's cross-key rules.
func (c *Connector) ValidateConfig(props map[string]string) map[string][]string {
	out := Validate(props)
	if c.validate != nil {
		for k, msgs := range c.validate(props) {
			if out == nil {
				out = map[string][]string{}
			}
			out[k] = append(out[k], msgs...)
		}
	}
	return out
}
