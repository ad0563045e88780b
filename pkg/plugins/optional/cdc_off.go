//go:build sluice.slim && !sluice.cdc

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const cdcIncluded = false

// CDCSources returns nothing: this build leaves out the cdc family.
func CDCSources() []connect.Plugin { return nil }
