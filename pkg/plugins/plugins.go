// Package plugins lists Sluice's built-in plugins: connectors, converters,
// transformations and predicates. It is the one place where plugins are
// registered; no plugin registers itself. The function binaries link only
// their side's list (packages sources and sinks).
package plugins

import (
	"slices"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/plugins/sinks"
	"github.com/sluicehq/sluice/pkg/plugins/sources"
)

// All returns every built-in plugin once.
func All() []connect.Plugin {
	all := sources.Plugins()
	for _, p := range sinks.Plugins() {
		if !slices.ContainsFunc(all, func(q connect.Plugin) bool { return q.Class == p.Class && q.Kind == p.Kind }) {
			all = append(all, p)
		}
	}
	return all
}

// Registry returns a registry of the built-in plugins.
func Registry() *connect.Registry { return mustRegistry(All()) }

func mustRegistry(ps []connect.Plugin) *connect.Registry {
	r, err := connect.NewRegistry(ps...)
	if err != nil {
		// The built-in lists are fixed at compile time; a clash is a bug
		// that every test run catches.
		panic(err)
	}
	return r
}
