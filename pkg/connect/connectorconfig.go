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
	TransformsConfig      = "transforms"
	PredicatesConfig      = "predicates"
	ConfigReloadConfig    = "config.action.reload"

	ErrorsRetryTimeoutConfig       = "errors.retry.timeout"
	ErrorsRetryMaxDelayConfig      = "errors.retry.delay.max.ms"
	ErrorsToleranceConfig          = "errors.tolerance"
	ErrorsLogEnableConfig          = "errors.log.enable"
	ErrorsLogIncludeMessagesConfig = "errors.log.include.messages"
	DLQTopicNameConfig             = "errors.deadletterqueue.topic.name"
	DLQTopicReplicationConfig      = "errors.deadletterqueue.topic.replication.factor"
	DLQContextHeadersEnableConfig  = "errors.deadletterqueue.context.headers.enable"
)

// Default converters when a connector names none (Connect leaves this to the
// worker; Sluice's worker defaults are Connect's distributed example
// defaults).
const (
	DefaultKeyConverter    = "org.apache.kafka.connect.json.JsonConverter"
	DefaultValueConverter  = "org.apache.kafka.connect.json.JsonConverter"
	DefaultHeaderConverter = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

const (
	commonGroup     = "Common"
	transformsGroup = "Transforms"
	predicatesGroup = "Predicates"
	errorGroup      = "Error Handling"
)

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
				"Defaults to " + DefaultHeaderConverter + "."}).
		Define(config.Key{Name: TransformsConfig, Type: config.List, Default: "", Importance: config.Low,
			Validator: aliasValidator("transformation"), Group: transformsGroup, OrderInGroup: 7, Width: config.WidthLong, DisplayName: "Transforms",
			Doc: "Aliases for the transformations to be applied to records."}).
		Define(config.Key{Name: PredicatesConfig, Type: config.List, Default: "", Importance: config.Low,
			Validator: aliasValidator("predicate"), Group: predicatesGroup, OrderInGroup: 8, Width: config.WidthLong, DisplayName: "Predicates",
			Doc: "Aliases for the predicates used by transformations."}).
		Define(config.Key{Name: ConfigReloadConfig, Type: config.String, Default: "restart", Importance: config.Low,
			Validator: config.ValidString("none", "restart"), Group: commonGroup, OrderInGroup: 9, Width: config.WidthMedium, DisplayName: "Reload Action",
			Doc: "The action that Connect should take on the connector when changes in external configuration providers result in a change " +
				"in the connector's configuration properties. Accepted for compatibility: Sluice resolves configuration providers afresh for every lease."}).
		Define(config.Key{Name: ErrorsRetryTimeoutConfig, Type: config.Long, Default: int64(0), Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 1, Width: config.WidthMedium, DisplayName: "Retry Timeout for Errors",
			Doc: "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries " +
				"will be attempted. Use -1 for infinite retries (bounded in Sluice by the lease's deadline)."}).
		Define(config.Key{Name: ErrorsRetryMaxDelayConfig, Type: config.Long, Default: int64(60000), Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 2, Width: config.WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors",
			Doc: "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit " +
				"is reached to prevent thundering herd issues."}).
		Define(config.Key{Name: ErrorsToleranceConfig, Type: config.String, Default: "none", Importance: config.Medium,
			Validator: config.ValidString("none", "all"), Group: errorGroup, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Error Tolerance",
			Doc: "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will " +
				"result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records."}).
		Define(config.Key{Name: ErrorsLogEnableConfig, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 4, Width: config.WidthShort, DisplayName: "Log Errors",
			Doc: "If true, write each error and the details of the failed operation and problematic record to the Connect application log. " +
				"This is 'false' by default, so that only errors that are not tolerated are reported."}).
		Define(config.Key{Name: ErrorsLogIncludeMessagesConfig, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 5, Width: config.WidthShort, DisplayName: "Log Error Details",
			Doc: "Whether to the include in the log the Connect record that resulted in a failure. This is 'false' by default, which will " +
				"prevent record keys, values, and headers from being written to log files, although some information such as topic and " +
				"partition number will still be logged."}).
		Define(config.Key{Name: DLQTopicNameConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 6, Width: config.WidthMedium, DisplayName: "Dead Letter Queue Topic Name",
			Doc: "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by " +
				"this connector, or its transformations or converters. The topic name is blank by default, which means that no messages " +
				"are to be recorded in the DLQ. Unlike Kafka Connect, Sluice also sends a source connector's failed records here, with " +
				"their source partition and offset in headers."}).
		Define(config.Key{Name: DLQTopicReplicationConfig, Type: config.Int, Default: 3, Importance: config.Medium,
			Validator: config.AtLeast(-1), Group: errorGroup, OrderInGroup: 7, Width: config.WidthMedium,
			DisplayName: "Dead Letter Queue Topic Replication Factor",
			Doc:         "Replication factor used to create the dead letter queue topic when it doesn't already exist; -1 uses the broker's default."}).
		Define(config.Key{Name: DLQContextHeadersEnableConfig, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: errorGroup, OrderInGroup: 8, Width: config.WidthMedium, DisplayName: "Enable Error Context Headers",
			Doc: "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with " +
				"headers from the original record, all error context header keys, all error context header keys will start with __connect.errors."})
}

// aliasValidator is Connect's check that transformation or predicate
// aliases are unique.
func aliasValidator(kind string) config.Validator {
	return config.LambdaValidator(func(name string, value any) error {
		aliases, _ := value.([]string)
		seen := map[string]bool{}
		for _, a := range aliases {
			if seen[a] {
				return config.InvalidValue(name, value, "Duplicate alias provided.")
			}
			seen[a] = true
		}
		return nil
	}, "unique "+kind+" aliases")
}

// SinkConfig declares the keys every sink connector has: the common keys
// and topics / topics.regex (Connect's SinkConnectorConfig), with
// Connect's rule that exactly one of the two is set.
func SinkConfig() *config.Def {
	return CommonConfig().
		Define(config.Key{Name: TopicsConfig, Type: config.List, Default: "", Importance: config.High,
			Group: commonGroup, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Topics",
			Doc: "List of topics to consume, separated by commas"}).
		Define(config.Key{Name: TopicsRegexConfig, Type: config.String, Default: "", Importance: config.High,
			Validator: config.Regex(), Group: commonGroup, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Topics regex",
			Doc: "Regular expression giving topics to consume. Under the hood, the regex is compiled to a java.util.regex.Pattern. " +
				"Only one of topics or topics.regex should be specified."}).
		Rule(sinkTopicsRule)
}

// sinkTopicsRule is Connect's rule that exactly one of topics and
// topics.regex is set (SinkConnectorConfig.validate).
func sinkTopicsRule(v *config.Values) []config.Problem {
	topics, re := len(v.List(TopicsConfig)) > 0, v.String(TopicsRegexConfig) != ""
	var msg string
	switch {
	case topics && re:
		msg = "topics and topics.regex are mutually exclusive options, but both are set."
	case !topics && !re:
		msg = "Must configure one of topics or topics.regex"
	default:
		return nil
	}
	return []config.Problem{{Key: TopicsConfig, Message: msg}, {Key: TopicsRegexConfig, Message: msg}}
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

// WithPrefix returns the properties under prefix with the prefix removed
// (Kafka's originalsWithPrefix).
func WithPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}
