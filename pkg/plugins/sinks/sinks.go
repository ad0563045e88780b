// Package sinks lists the plugins a sink function needs: converters,
// transforms and predicates, and the sink connectors.
package sinks

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	avroconv "github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/converter/jsonschema"
	"github.com/sluicehq/sluice/pkg/connect/converter/protobuf"
	"github.com/sluicehq/sluice/pkg/connectors/elasticsearch"
	"github.com/sluicehq/sluice/pkg/connectors/filestream"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/connectors/jdbc"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/connectors/s3sink"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// Plugins returns the sink side's plugins.
func Plugins() []connect.Plugin {
	var all []connect.Plugin
	all = append(all, converter.Plugins()...)
	all = append(all, avroconv.Plugins()...)
	all = append(all, jsonschema.Plugins()...)
	all = append(all, protobuf.Plugins()...)
	all = append(all, transforms.Plugins()...)
	all = append(all, filestream.Plugins()...)
	all = append(all, s3sink.Plugins()...)
	all = append(all, hdfssink.Plugins()...)
	all = append(all, localsink.Plugins()...)
	all = append(all, jdbc.SinkPlugins()...)
	all = append(all, mqtt.SinkPlugin())
	all = append(all, elasticsearch.Plugins()...)
	return all
}
