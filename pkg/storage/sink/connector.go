package sink

import (
	"context"
	"maps"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Connector is the configuration half shared by the storage sink
// connectors: it validates the configuration with the connector's Def
// (its keys and rules, the engine's included), and gives every task the
// same configuration (tasks differ only in the partitions their leases
// cover). It is not safe for concurrent use.
type Connector struct {
	def   *config.Def
	props map[string]string
}

var _ connect.Connector = (*Connector)(nil)

// NewConnector returns a connector declaring def, which must include
// EngineConfig (its keys and rules) and declares the connector's own rules.
func NewConnector(def *config.Def) *Connector {
	return &Connector{def: def}
}

// Start validates the configuration and keeps it for TaskConfigs.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := c.def.Parse(props); err != nil {
		return err
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
