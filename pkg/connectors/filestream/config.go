package filestream

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys, as Connect's FileStreamSourceConnector and
// FileStreamSinkConnector name them.
const (
	FileConfig      = "file"
	TopicConfig     = "topic"
	BatchSizeConfig = "batch.size"
	// MaxLineBytesConfig bounds a source line (Sluice's; Connect's task
	// grows its buffer without bound).
	MaxLineBytesConfig = "max.line.bytes"

	// DefaultBatchSize is batch.size's default, Connect's
	// DEFAULT_TASK_BATCH_SIZE.
	DefaultBatchSize = 2000
	// DefaultMaxLineBytes is max.line.bytes's default: 1 MiB, about the
	// largest record a Kafka producer sends by default (max.request.size).
	DefaultMaxLineBytes = 1 << 20
)

// Source partition and offset fields, Connect's FILENAME_FIELD and
// POSITION_FIELD.
const (
	FilenameField = "filename"
	PositionField = "position"
)

// singleTopicMessage is the message Connect's FileStreamSourceConnector gave
// (while topic was a LIST) for more than one topic.
const singleTopicMessage = "'topic' in FileStreamSourceConnector configuration requires definition of a single topic"

// SourceConfig declares the source connector's keys (Connect's
// FileStreamSourceConnector.CONFIG_DEF), with file required.
func SourceConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: FileConfig, Type: config.String, Default: config.NoDefault,
			Validator: config.NonEmptyString(), Importance: config.High,
			Doc: "Source filename. Required: Kafka Connect reads standard input when it is not set, " +
				"but a Sluice task runs inside a bounded lease in a short-lived process that has no useful standard input. " +
				"A file that cannot be opened or read fails the task (Kafka Connect waits for it to appear)."}).
		Define(config.Key{Name: TopicConfig, Type: config.String, Default: config.NoDefault,
			Validator:  config.Composite(config.NonEmptyString(), config.LambdaValidator(singleTopic, "a single topic name")),
			Importance: config.High,
			Doc:        "The topic to publish data to"}).
		Define(config.Key{Name: BatchSizeConfig, Type: config.Int, Default: DefaultBatchSize,
			Validator: config.AtLeast(1), Importance: config.Low,
			Doc: "The maximum number of records the source task can read from the file each time it is polled"}).
		Define(config.Key{Name: MaxLineBytesConfig, Type: config.Int, Default: DefaultMaxLineBytes,
			Validator: config.AtLeast(1), Importance: config.Low,
			Doc: "The longest line, in bytes without its terminator, the source task reads: it buffers at most this much. " +
				"A longer line fails the task, naming the file and the line's position, after the lines before it are delivered; " +
				"with errors.tolerance=all it is skipped instead (logged with its position) and reading goes on after it. " +
				"Sluice's own setting: Kafka Connect's task buffers a line of any length."})
}

// SinkConfig declares the sink connector's keys (Connect's
// FileStreamSinkConnector.CONFIG_DEF), with file required; topics is the
// framework's.
func SinkConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: FileConfig, Type: config.String, Default: config.NoDefault,
			Validator: config.NonEmptyString(), Importance: config.High,
			Doc: "Destination filename, opened for appending and created (mode 0644) if missing. " +
				"Required: Kafka Connect writes to standard output when it is not set, " +
				"but a Sluice task runs inside a bounded lease in a short-lived process whose output nobody keeps."})
}

// singleTopic rejects a comma-separated list of topics.
func singleTopic(_ string, value any) error {
	if s, ok := value.(string); ok && strings.Contains(s, ",") {
		return errors.New(singleTopicMessage)
	}
	return nil
}
