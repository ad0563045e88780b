package sink

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys, as Confluent's PartitionerConfig and
// StorageCommonConfig name them.
const (
	PartitionerClassConfig   = "partitioner.class"
	FieldNameConfig          = "partition.field.name"
	DurationMsConfig         = "partition.duration.ms"
	PathFormatConfig         = "path.format"
	LocaleConfig             = "locale"
	TimezoneConfig           = "timezone"
	TimestampExtractorConfig = "timestamp.extractor"
	TimestampFieldConfig     = "timestamp.field"
	DirectoryDelimConfig     = "directory.delim"
)

// Defaults, Confluent's.
const (
	DefaultDirectoryDelim     = "/"
	DefaultTimestampExtractor = ExtractorWallclock
	DefaultTimestampField     = "timestamp"
)

// The timestamp extractors (timestamp.extractor), by Confluent's short names.
const (
	ExtractorWallclock   = "Wallclock"
	ExtractorRecord      = "Record"
	ExtractorRecordField = "RecordField"
)

// PartitionerGroup is the group of the partitioner keys in the Connect REST API.
const PartitionerGroup = "Partitioner"

// PartitionerConfig declares the partitioner keys (Confluent's
// PartitionerConfig.newConfigDef plus StorageCommonConfig's
// directory.delim), with Confluent's names, types and defaults.
func PartitionerConfig() *config.Def {
	order := 0
	next := func() int { order++; return order }
	return config.NewDef().
		Define(config.Key{Name: PartitionerClassConfig, Type: config.Class, Default: DefaultPartitionerClass, Importance: config.High,
			Validator: config.LambdaValidator(validClass, "one of "+strings.Join(PartitionerClasses(), ", ")+" (or the simple names)"),
			Group:     PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Partitioner Class",
			Dependents: []string{FieldNameConfig, DurationMsConfig, PathFormatConfig, LocaleConfig, TimezoneConfig},
			Doc: "The partitioner to use when writing data to the store. You can use DefaultPartitioner, which preserves " +
				"the Kafka partitions (partition=<p>); FieldPartitioner, which partitions the data to different directories " +
				"according to the value of the partitioning fields specified in partition.field.name (<field>=<value>); " +
				"TimeBasedPartitioner, which partitions data by time as path.format formats it; DailyPartitioner " +
				"('year'=YYYY/'month'=MM/'day'=dd) and HourlyPartitioner ('year'=YYYY/'month'=MM/'day'=dd/'hour'=HH). " +
				"Custom partitioner classes are not supported."}).
		Define(config.Key{Name: FieldNameConfig, Type: config.List, Default: "", Importance: config.Medium,
			Group: PartitionerGroup, OrderInGroup: next(), Width: config.WidthNone, DisplayName: "Partition Field Name",
			Doc: "The name of the partitioning field when FieldPartitioner is used: a list of field names of the record " +
				"value (a Struct, or a Map for schemaless values), whose INT8..INT64, STRING or BOOLEAN values make the " +
				"directories <field>=<value> joined by directory.delim."}).
		Define(config.Key{Name: DurationMsConfig, Type: config.Long, Default: int64(-1), Importance: config.Medium,
			Group: PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Partition Duration (ms)",
			Doc: "The duration of a partition milliseconds used by TimeBasedPartitioner. The default value -1 means that " +
				"we are not using TimeBasedPartitioner."}).
		Define(config.Key{Name: PathFormatConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Path Format",
			Doc: "This configuration is used to set the format of the data directories when partitioning with " +
				"TimeBasedPartitioner. The format set in this configuration converts the Unix timestamp to proper " +
				"directories strings: it is a Joda-Time DateTimeFormat pattern. For example, if you set " +
				"path.format='year'=YYYY/'month'=MM/'day'=dd/'hour'=HH, the data directories will have the format " +
				"/year=2015/month=12/day=07/hour=15/."}).
		Define(config.Key{Name: LocaleConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Locale",
			Doc: "The locale to use when partitioning with TimeBasedPartitioner, for example en-US. Required by the " +
				"time-based partitioners, as in Confluent. Sluice formats month and day names in English whatever the " +
				"locale; numeric patterns (the usual ones) do not depend on it."}).
		Define(config.Key{Name: TimezoneConfig, Type: config.String, Default: "", Importance: config.Medium,
			Validator: config.LambdaValidator(validTimezone, "Any timezone accepted by: class org.joda.time.DateTimeZone"),
			Group:     PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Timezone",
			Doc: "The timezone to use when partitioning with TimeBasedPartitioner. Used to format and compute dates and " +
				"times. All timezone IDs must be specified in the long format, such as America/Los_Angeles, " +
				"America/New_York, and Europe/Paris, or UTC. Alternatively a locale independent, fixed offset, datetime " +
				"zone can be specified in form [+-]hh:mm."}).
		Define(config.Key{Name: TimestampExtractorConfig, Type: config.String, Default: DefaultTimestampExtractor,
			Importance: config.Medium,
			Validator:  config.ValidString(ExtractorWallclock, ExtractorRecord, ExtractorRecordField),
			Group:      PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Timestamp Extractor",
			Doc: "The extractor that gets the timestamp for records when partitioning with TimeBasedPartitioner: " +
				"Record (the Kafka record's timestamp), RecordField (the value's field named by timestamp.field) or " +
				"Wallclock (the time the sink writes the record; Confluent's default). Record and RecordField make the " +
				"output a pure function of the records, so a retried lease rewrites identical objects (exactly-once " +
				"output). Wallclock does not: a retried lease may put records under other directories, so the same " +
				"record can appear twice. Sluice logs a warning when a task starts with Wallclock."}).
		Define(config.Key{Name: TimestampFieldConfig, Type: config.String, Default: DefaultTimestampField,
			Importance: config.Medium,
			Group:      PartitionerGroup, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Record Field for Timestamp Extractor",
			Doc: "The record field to be used as timestamp by the timestamp extractor. Nested fields are named with " +
				"dots (a.b.c). A Timestamp, INT32 or INT64 (milliseconds since the epoch) or ISO-8601 STRING field."}).
		Define(config.Key{Name: DirectoryDelimConfig, Type: config.String, Default: DefaultDirectoryDelim,
			Importance: config.Medium, Group: "Storage", Width: config.WidthLong, DisplayName: "Directory Delimiter",
			Doc: "Directory delimiter pattern"})
}

func validClass(_ string, v any) error {
	s, _ := v.(string)
	if _, ok := classByName(s); !ok {
		return errors.New("Class " + s + " could not be found.")
	}
	return nil
}

func validTimezone(_ string, v any) error {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	_, err := LoadTimezone(s)
	return err
}
