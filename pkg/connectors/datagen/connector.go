package datagen

import (
	"context"
	"errors"
	"maps"
	"strconv"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Class is the connector's class name.
const Class = "io.sluice.connect.datagen.DatagenConnector"

// ConfluentClass is Confluent's kafka-connect-datagen class, accepted as an
// alias together with its keys kafka.topic, iterations, max.interval and
// quickstart.
const ConfluentClass = "io.confluent.kafka.connect.datagen.DatagenConnector"

// Connector splits generation into tasks. It is not safe for concurrent use.
type Connector struct {
	props map[string]string
}

var _ connect.Connector = (*Connector)(nil)

// NewConnector returns a connector.
func NewConnector() *Connector { return &Connector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSettings(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks configurations (at least one), each the
// connector's with its own task.index and task.count. Each task generates
// its own stream of count records.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("datagen: TaskConfigs called before Start")
	}
	n := max(maxTasks, 1)
	configs := make([]map[string]string, n)
	for i := range configs {
		tc := maps.Clone(c.props)
		tc[TaskIndexConfig] = strconv.Itoa(i)
		tc[TaskCountConfig] = strconv.Itoa(n)
		configs[i] = tc
	}
	return configs, nil
}

// Stop does nothing: the connector watches nothing in the background.
func (c *Connector) Stop() error { return nil }

// ExactlyOnceSupport is SUPPORTED: record i of a task is a pure function
// of (seed, task index, i, shape) and a task resumes at its committed seq,
// so records and offsets written in one transaction are exactly once
// (KIP-618).
func (c *Connector) ExactlyOnceSupport(map[string]string) connect.ExactlyOnceSupport {
	return connect.ExactlyOnceSupported
}

// Config returns Config().
func (c *Connector) Config() *config.Def { return Config() }
