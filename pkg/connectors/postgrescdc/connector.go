package postgrescdc

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Class is Debezium's PostgreSQL connector class, which Sluice answers to.
const Class = "io.debezium.connector.postgresql.PostgresConnector"

// Version is the connector's version, as reported by the REST API.
const Version = "3.6.1.Final-sluice"

// Connector is Debezium's PostgreSQL connector: one task reads the slot.
// It is not safe for concurrent use.
type Connector struct {
	props map[string]string
}

var _ connect.Connector = (*Connector)(nil)

// NewConnector returns a connector.
func NewConnector() *Connector { return &Connector{} }

// Start validates the configuration.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSettings(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns one task: a replication slot has one reader.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("postgres cdc: TaskConfigs called before Start")
	}
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop drops the slot when slot.drop.on.stop is set.
func (c *Connector) Stop() error {
	if c.props == nil {
		return nil
	}
	s, err := parseSettings(c.props)
	if err != nil || !s.dropSlotOnStop {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := s.dial(ctx, true)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return pglogrepl.DropReplicationSlot(ctx, conn, s.slot, pglogrepl.DropReplicationSlotOptions{})
}

// Config returns Config().
func (c *Connector) Config() *config.Def { return Config() }

// Plugins returns the connector for the plugin registry.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:         Class,
		Kind:          connect.KindSource,
		Version:       Version,
		NewConnector:  func() connect.Connector { return NewConnector() },
		NewSourceTask: func() connect.SourceTask { return NewTask() },
	}}
}
