// Package plugins lists Sluice's built-in plugins: connectors,
// converters, transformations and predicates. It is the one place where plugins are registered; no plugin
// registers itself.
package plugins

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connectors/datagen"
	"github.com/sluicehq/sluice/pkg/connectors/filestream"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// All returns every built-in plugin.
func All() []connect.Plugin {
	var all []connect.Plugin
	all = append(all, converter.Plugins()...)
	all = append(all, filestream.Plugins()...)
	all = append(all, datagen.Plugins()...)
	all = append(all, s3sink.Plugins()...)
	all = append(all, hdfssink.Plugins()...)
	all = append(all, localsink.Plugins()...)
	all = append(all, transforms.Plugins()...)
	return all
}

// Registry returns a registry of the built-in plugins.
func Registry() *connect.Registry {
	r, err := connect.NewRegistry(All()...)
	if err != nil {
		// The built-in list is fixed at compile time; a clash is a bug that
		// every test run catches.
		panic(err)
	}
	return r
}
