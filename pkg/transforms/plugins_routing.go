package transforms

import "github.com/sluicehq/sluice/pkg/connect"

const (
	// routingVersion is the version these plugins report.
	routingVersion = "1.0.0"

	routingTransformsPackage = "org.apache.kafka.connect.transforms."
	routingPredicatesPackage = "org.apache.kafka.connect.transforms.predicates."
)

// routingPlugins lists the transformations that route, filter or touch
// headers and timestamps, and the predicates.
func routingPlugins() []connect.Plugin {
	transformation := func(class string, newT func() connect.Transformation) connect.Plugin {
		return connect.Plugin{Class: routingTransformsPackage + class, Kind: connect.KindTransformation,
			Version: routingVersion, NewTransformation: newT}
	}
	predicate := func(class string, newP func() connect.Predicate) connect.Plugin {
		return connect.Plugin{Class: routingPredicatesPackage + class, Kind: connect.KindPredicate,
			Version: routingVersion, NewPredicate: newP}
	}
	return []connect.Plugin{
		transformation("TimestampConverter$Key", func() connect.Transformation { return NewTimestampConverterKey() }),
		transformation("TimestampConverter$Value", func() connect.Transformation { return NewTimestampConverterValue() }),
		transformation("TimestampRouter", func() connect.Transformation { return NewTimestampRouter() }),
		transformation("RegexRouter", func() connect.Transformation { return NewRegexRouter() }),
		transformation("Filter", func() connect.Transformation { return NewFilter() }),
		transformation("InsertHeader", func() connect.Transformation { return NewInsertHeader() }),
		transformation("DropHeaders", func() connect.Transformation { return NewDropHeaders() }),
		transformation("HeaderFrom$Key", func() connect.Transformation { return NewHeaderFromKey() }),
		transformation("HeaderFrom$Value", func() connect.Transformation { return NewHeaderFromValue() }),
		predicate("TopicNameMatches", func() connect.Predicate { return NewTopicNameMatches() }),
		predicate("HasHeaderKey", func() connect.Predicate { return NewHasHeaderKey() }),
		predicate("RecordIsTombstone", func() connect.Predicate { return NewRecordIsTombstone() }),
	}
}
