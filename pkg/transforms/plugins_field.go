package transforms

import "github.com/sluicehq/sluice/pkg/connect"

// fieldPlugins lists the transformations that reshape keys and values.
func fieldPlugins() []connect.Plugin { return nil }
