package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/javatime"
)

// timestampRouterConfig is TimestampRouter's ConfigDef.
func timestampRouterConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "topic.format", Type: config.String, Default: "${topic}-${timestamp}", Importance: config.High,
			Doc: "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."}).
		Define(config.Key{Name: "timestamp.format", Type: config.String, Default: "yyyyMMdd", Importance: config.High,
			Doc: "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>."})
}

// TimestampRouter is Connect's TimestampRouter: it sets the topic to
// topic.format with ${topic} replaced by the topic and ${timestamp} by the
// record's timestamp formatted with timestamp.format (a SimpleDateFormat
// pattern, in UTC). Records without a timestamp are an error. A configured
// TimestampRouter is safe for concurrent use.
type TimestampRouter struct {
	topicFormat     string
	timestampFormat *javatime.Layout
}

var _ connect.Transformation = (*TimestampRouter)(nil)

// NewTimestampRouter returns an unconfigured TimestampRouter.
func NewTimestampRouter() *TimestampRouter { return &TimestampRouter{} }

// Config returns the transformation's configuration keys.
func (t *TimestampRouter) Config() *config.Def { return timestampRouterConfig() }

// Configure reads topic.format and timestamp.format.
func (t *TimestampRouter) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	t.topicFormat = vals.String("topic.format")
	pattern := vals.String("timestamp.format")
	if t.timestampFormat, err = javatime.Compile(pattern); err != nil {
		// Connect fails later, on the first record, with
		// SimpleDateFormat's IllegalArgumentException.
		return config.InvalidValue("timestamp.format", pattern, err.Error())
	}
	return nil
}

// Apply routes the record.
func (t *TimestampRouter) Apply(r *connect.TransformRecord) (bool, error) {
	if r.Timestamp.IsZero() {
		return false, fmt.Errorf("Timestamp missing on record: %s", timestampRouterRecordString(r))
	}
	ts := t.timestampFormat.Format(r.Timestamp.UTC())
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", ts)
	return true, nil
}

// Close does nothing.
func (t *TimestampRouter) Close() error { return nil }

// timestampRouterRecordString describes a record as ConnectRecord.toString.
func timestampRouterRecordString(r *connect.TransformRecord) string {
	partition := "null"
	if r.Partition != nil {
		partition = fmt.Sprint(*r.Partition)
	}
	return fmt.Sprintf("ConnectRecord{topic='%s', kafkaPartition=%s, key=%s, keySchema=%s, value=%s, valueSchema=%s, timestamp=null, headers=ConnectHeaders(headers=%s)}",
		r.Topic, partition, timestampRouterString(r.Key), timestampRouterSchemaString(r.KeySchema),
		timestampRouterString(r.Value), timestampRouterSchemaString(r.ValueSchema), timestampRouterHeadersString(r.Headers))
}

func timestampRouterString(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(v)
}

func timestampRouterSchemaString(s *data.Schema) string {
	if s == nil {
		return "null"
	}
	return s.String()
}

func timestampRouterHeadersString(h connect.Headers) string {
	parts := make([]string, len(h))
	for i, x := range h {
		parts[i] = fmt.Sprintf("ConnectHeader(key=%s, value=%s, schema=%s)",
			x.Key, timestampRouterString(x.Value), timestampRouterSchemaString(x.Schema))
	}
	return strings.Join(parts, ", ")
}
