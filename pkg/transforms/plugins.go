package transforms

import "github.com/sluicehq/sluice/pkg/connect"

// Plugins returns every built-in transformation and predicate.
func Plugins() []connect.Plugin {
	return append(append(fieldPlugins(), routingPlugins()...), debeziumPlugins()...)
}
