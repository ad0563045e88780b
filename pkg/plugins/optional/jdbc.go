//go:build !sluice.slim || sluice.jdbc

package optional

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/jdbc"
)

const jdbcIncluded = true

// JDBCSources returns the JDBC source connector.
func JDBCSources() []connect.Plugin { return jdbc.SourcePlugins() }

// JDBCSinks returns the JDBC sink connector.
func JDBCSinks() []connect.Plugin { return jdbc.SinkPlugins() }
