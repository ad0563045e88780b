// Package sources lists the plugins a source function needs: converters,
// transforms and predicates, and the source connectors. The source-poll
// binary links only these, not the sinks' storage libraries.
package sources

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	avroconv "github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connectors/datagen"
	"github.com/sluicehq/sluice/pkg/connectors/filestream"
	"github.com/sluicehq/sluice/pkg/plugins/optional"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// Plugins returns the source side's plugins.
func Plugins() []connect.Plugin {
	var all []connect.Plugin
	all = append(all, converter.Plugins()...)
	all = append(all, avroconv.Plugins()...)
	all = append(all, optional.JSONSchema()...)
	all = append(all, optional.Protobuf()...)
	all = append(all, transforms.Plugins()...)
	all = append(all, datagen.Plugins()...)
	all = append(all, filestream.Plugins()...)
	all = append(all, optional.JDBCSources()...)
	all = append(all, optional.MQTTSources()...)
	all = append(all, optional.CDCSources()...)
	return all
}
