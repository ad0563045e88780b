// Package sinks lists the plugins a sink function needs: converters,
// transforms and predicates, and the sink connectors.
package sinks

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	avroconv "github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connectors/filestream"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/plugins/optional"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// Plugins returns the sink side's plugins.
func Plugins() []connect.Plugin {
	var all []connect.Plugin
	all = append(all, converter.Plugins()...)
	all = append(all, avroconv.Plugins()...)
	all = append(all, optional.JSONSchema()...)
	all = append(all, optional.Protobuf()...)
	all = append(all, transforms.Plugins()...)
	all = append(all, filestream.Plugins()...)
	all = append(all, s3sink.Plugins()...)
	all = append(all, hdfssink.Plugins()...)
	all = append(all, localsink.Plugins()...)
	all = append(all, optional.JDBCSinks()...)
	all = append(all, optional.MQTTSinks()...)
	all = append(all, optional.SearchSinks()...)
	return all
}
