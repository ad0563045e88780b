package transforms

import "github.com/sluicehq/sluice/pkg/connect"

// debeziumTransformsPackage is the package of Debezium's transformations.
const debeziumTransformsPackage = "io.debezium.transforms."

// debeziumPlugins lists the Debezium transformations change data capture
// users rely on.
func debeziumPlugins() []connect.Plugin {
	return []connect.Plugin{
		{Class: debeziumTransformsPackage + "ExtractNewRecordState", Kind: connect.KindTransformation, Version: routingVersion,
			NewTransformation: func() connect.Transformation { return NewExtractNewRecordState() }},
		{Class: debeziumTransformsPackage + "ByLogicalTableRouter", Kind: connect.KindTransformation, Version: routingVersion,
			NewTransformation: func() connect.Transformation { return NewByLogicalTableRouter() }},
	}
}
