//go:build !sluice.slim || sluice.cdc

package optional

import (
	"slices"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/mysqlcdc"
	"github.com/sluicehq/sluice/pkg/connectors/postgrescdc"
)

const cdcIncluded = true

// CDCSources returns the change data capture connectors (PostgreSQL,
// MySQL and MariaDB).
func CDCSources() []connect.Plugin {
	return slices.Concat(postgrescdc.Plugins(), mysqlcdc.Plugins())
}
