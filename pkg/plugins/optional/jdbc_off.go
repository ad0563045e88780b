//go:build sluice.slim && !sluice.jdbc

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const jdbcIncluded = false

// JDBCSources returns nothing: this build leaves out the jdbc family.
func JDBCSources() []connect.Plugin { return nil }

// JDBCSinks returns nothing: this build leaves out the jdbc family.
func JDBCSinks() []connect.Plugin { return nil }
