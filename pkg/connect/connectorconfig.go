package connect

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// The connector configuration keys every connector has, as Connect's
// ConnectorConfig and SinkConnectorConfig name them.
const (
	NameConfig            = "name"
	ConnectorClassConfig  = "connector.class"
	TasksMaxConfig        = "tasks.max"
	KeyConverterConfig    = "key.converter"
	ValueConverterConfig  = "value.converter"
	HeaderConverterConfig = "header.converter"
	TopicsConfig          = "topics"
	TopicsRegexConfig     = "topics.regex"
)

// Default converters when a connector names none (Connect leaves this to the
// worker; Sluice's worker defaults are Connect's distributed example
// defaults).
const (
	DefaultKeyConverter    = "org.apache.kafka.connect.json.JsonConverter"
	DefaultValueConverter  = "org.apache.kafka.connect.json.JsonConverter"
	DefaultHeaderConverter = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

const commonGroup = "Common"

// CommonConfig declares the keys every connector has (Connect's
// ConnectorConfig.configDef).
func CommonConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: NameConfig, Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: config.NonEmptyString(), Group: commonGroup, OrderInGroup: 1, Width: config.WidthMedium, DisplayName: "Connector name",
			Doc: "Globally unique name to use for this connector."}).
		Define(config.Key{Name: ConnectorClassConfig, Type: config.String, Default: config.NoDefault, Importance: config.High,
			Group: commonGroup, OrderInGroup: 2, Width: config.WidthLong, DisplayName: "Connector class",
			Doc: "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. " +
				"If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name, " +
				"or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter"}).
		Define(config.Key{Name: TasksMaxConfig, Type: config.Int, Default: 1, Importance: config.High, Validator: config.AtLeast(1),
			Group: commonGroup, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Tasks max",
			Doc: "Maximum number of tasks to use for this connector."}).
		Define(config.Key{Name: KeyConverterConfig, Type: config.Class, Default: nil, Importance: config.Low,
			Group: commonGroup, OrderInGroup: 4, Width: config.WidthShort, DisplayName: "Key converter class",
			Doc: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. " +
				"This controls the format of the keys in messages written to or read from Kafka. Defaults to " + DefaultKeyConverter + "."}).
		Define(config.Key{Name: ValueConverterConfig, Type: config.Class, Default: nil, Importance: config.Low,
			Group: commonGroup, OrderInGroup: 5, Width: config.WidthShort, DisplayName: "Value converter class",
			Doc: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. " +
				"This controls the format of the values in messages written to or read from Kafka. Defaults to " + DefaultValueConverter + "."}).
		Define(config.Key{Name: HeaderConverterConfig, Type: config.Class, Default: nil, Importance: config.Low,
			Group: commonGroup, OrderInGroup: 6, Width: config.WidthShort, DisplayName: "Header converter class",
			Doc: "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. " +
				"Defaults to " + DefaultHeaderConverter + "."})
}

// SinkConfig declares the keys every sink connector has: the common keys
// and topics / topics.regex (Connect's SinkConnectorConfig).
func SinkConfig() *config.Def {
	return CommonConfig().
		Define(config.Key{Name: TopicsConfig, Type: config.List, Default: "", Importance: config.High,
			Group: commonGroup, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Topics",
			Doc: "List of topics to consume, separated by commas"}).
		Define(config.Key{Name: TopicsRegexConfig, Type: config.String, Default: "", Importance: config.High,
			Validator: config.Regex(), Group: commonGroup, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Topics regex",
			Doc: "Regular expression giving topics to consume. Under the hood, the regex is compiled to a java.util.regex.Pattern. " +
				"Only one of topics or topics.regex should be specified."})
}

// ValidateSinkTopics checks Connect's rule that exactly one of topics and
// topics.regex is set, returning problems keyed by configuration name.
func ValidateSinkTopics(props map[string]string) map[string][]string {
	topics := strings.TrimSpace(props[TopicsConfig])
	re := strings.TrimSpace(props[TopicsRegexConfig])
	switch {
	case topics != "" && re != "":
		msg := "topics and topics.regex are mutually exclusive options, but both are set."
		return map[string][]string{TopicsConfig: {msg}, TopicsRegexConfig: {msg}}
	case topics == "" && re == "":
		msg := "Must configure one of topics or topics.regex"
		return map[string][]string{TopicsConfig: {msg}, TopicsRegexConfig: {msg}}
	}
	return nil
}

// SinkTopicMatcher returns whether a topic is consumed by a sink configured
// with props.
func SinkTopicMatcher(props map[string]string) (func(topic string) bool, error) {
	if re := strings.TrimSpace(props[TopicsRegexConfig]); re != "" {
		rx, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return nil, fmt.Errorf("invalid %s %q: %w", TopicsRegexConfig, re, err)
		}
		return rx.MatchString, nil
	}
	set := map[string]bool{}
	for _, t := range strings.Split(props[TopicsConfig], ",") {
		if t = strings.TrimSpace(t); t != "" {
			set[t] = true
		}
	}
	return func(topic string) bool { return set[topic] }, nil
}
