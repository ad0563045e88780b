package transforms

import "github.com/sluicehq/sluice/pkg/connect"

// routingPlugins lists the transformations that route, filter or touch
// headers and timestamps, and the predicates.
func routingPlugins() []connect.Plugin { return nil }
