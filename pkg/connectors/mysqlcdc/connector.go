package mysqlcdc

import (
	"context"
	"errors"
	"maps"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// The classes Sluice answers to: Debezium's MySQL connector and its MariaDB
// connector (Debezium 3.x); events name "mysql" or "mariadb" as their
// connector accordingly.
const (
	MySQLClass   = "io.debezium.connector.mysql.MySqlConnector"
	MariaDBClass = "io.debezium.connector.mariadb.MariaDbConnector"
)

// Version is the connectors' version, as reported by the REST API.
const Version = "3.6.1.Final-sluice"

// Connector runs one task: a binlog has one reader per connector.
type Connector struct{ props map[string]string }

var _ connect.Connector = (*Connector)(nil)

// Start validates the configuration.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSettings(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns one task.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("mysql cdc: TaskConfigs called before Start")
	}
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// Config returns Config().
func (c *Connector) Config() *config.Def { return Config() }

// Plugins returns the MySQL and MariaDB connectors.
func Plugins() []connect.Plugin {
	plugin := func(class, name string) connect.Plugin {
		return connect.Plugin{Class: class, Kind: connect.KindSource, Version: Version,
			NewConnector:  func() connect.Connector { return &Connector{} },
			NewSourceTask: func() connect.SourceTask { t := newTask(false); t.connector = name; return t }}
	}
	return []connect.Plugin{plugin(MySQLClass, "mysql"), plugin(MariaDBClass, "mariadb")}
}
