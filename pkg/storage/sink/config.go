package sink

import (
	"errors"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys of the storage sink engine, as Confluent's
// S3SinkConnectorConfig, StorageSinkConnectorConfig and StorageCommonConfig
// name them, plus Sluice's sluice.max.open.files.
const (
	FlushSizeConfig              = "flush.size"
	RotateIntervalMsConfig       = "rotate.interval.ms"
	RotateScheduleIntervalConfig = "rotate.schedule.interval.ms"
	TopicsDirConfig              = "topics.dir"
	FileDelimConfig              = "file.delim"
	ZeroPadWidthConfig           = "filename.offset.zero.pad.width"
	BehaviorOnNullValuesConfig   = "behavior.on.null.values"
	TombstonePartitionConfig     = "tombstone.encoded.partition"
	StoreKafkaKeysConfig         = "store.kafka.keys"
	StoreKafkaHeadersConfig      = "store.kafka.headers"
	FormatClassConfig            = "format.class"
	KeysFormatClassConfig        = "keys.format.class"
	HeadersFormatClassConfig     = "headers.format.class"
	MaxOpenFilesConfig           = "sluice.max.open.files"
)

// Defaults.
const (
	DefaultTopicsDir          = "topics"
	DefaultFileDelim          = "+"
	DefaultZeroPadWidth       = 10
	DefaultTombstonePartition = "tombstone"
	// DefaultMaxOpenFiles is sluice.max.open.files's default. With S3's
	// default 25 MiB part and Parquet's default 32 MiB row group, 8 open
	// files of one Kafka partition hold at most 8 × 57 MiB ≈ 456 MiB, and
	// only once each has received that much data; time-ordered data keeps
	// one or two files open, so typical use stays far below.
	DefaultMaxOpenFiles = 8
)

// The values of behavior.on.null.values, Confluent's OutputWriteBehavior.
const (
	NullFail   = "fail"
	NullIgnore = "ignore"
	NullWrite  = "write"
)

// Group is the group of the engine's keys in the Connect REST API.
const Group = "Connector"

// Config declares the engine's keys. It does not declare format.class,
// whose valid values depend on the connector (each connector declares it),
// nor the partitioner's keys (PartitionerConfig) or the store's.
func Config() *config.Def {
	order := 0
	next := func() int { order++; return order }
	return config.NewDef().
		Define(config.Key{Name: FlushSizeConfig, Type: config.Int, Default: config.NoDefault, Importance: config.High,
			Validator: config.AtLeast(1), Group: Group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Flush Size",
			Doc: "Number of records written to store before invoking file commits. Sluice counts it per file: a file is " +
				"committed when it holds flush.size records (Confluent counts the records of all the open files of a Kafka " +
				"partition). Every open file is also committed when a lease ends, so the output is a pure function of the " +
				"lease's offset range. The coordinator issues a lease when a partition's lag reaches flush.size."}).
		Define(config.Key{Name: RotateIntervalMsConfig, Type: config.Long, Default: int64(-1), Importance: config.High,
			Group: Group, OrderInGroup: next(), Width: config.WidthMedium, DisplayName: "Rotate Interval (ms)",
			Doc: "The time interval in milliseconds to invoke file commits. A file is committed before a record whose " +
				"timestamp is at least the timestamp of the file's first record plus this interval, so rotation " +
				"follows record time and is deterministic. Timestamps come from the time-based partitioner's " +
				"timestamp.extractor, or from the Kafka record's timestamp with other partitioners (Confluent ignores " +
				"the key with them). The coordinator also issues a lease when a partition's oldest pending record is " +
				"older than this interval. -1 disables time-based rotation."}).
		Define(config.Key{Name: RotateScheduleIntervalConfig, Type: config.Long, Default: int64(-1), Importance: config.Medium,
			Group: Group, OrderInGroup: next(), Width: config.WidthMedium, DisplayName: "Rotate Schedule Interval (ms)",
			Doc: "The time interval in milliseconds to periodically invoke file commits, on the wall clock, aligned on " +
				"the start of the day in timezone (which must be set). WARNING: this breaks exactly-once output, because " +
				"where files are cut depends on when the lease runs: a retried lease may write other objects than the " +
				"first attempt, and records can appear twice. Sluice commits every open file at the end of each lease " +
				"anyway, so leases are already bounded in time; prefer rotate.interval.ms. -1 disables it."}).
		Define(config.Key{Name: TopicsDirConfig, Type: config.String, Default: DefaultTopicsDir, Importance: config.High,
			Group: "Storage", OrderInGroup: next(), Width: config.WidthNone, DisplayName: "Topics directory",
			Doc: "Top level directory to store the data ingested from Kafka."}).
		Define(config.Key{Name: FileDelimConfig, Type: config.String, Default: DefaultFileDelim, Importance: config.Medium,
			Validator: config.NonEmptyString(), Group: "Storage", OrderInGroup: next(), Width: config.WidthLong, DisplayName: "File Delimiter",
			Doc: "File delimiter pattern: object names are <topic><file.delim><partition><file.delim><start offset><extension>."}).
		Define(config.Key{Name: ZeroPadWidthConfig, Type: config.Int, Default: DefaultZeroPadWidth, Importance: config.Low,
			Validator: config.AtLeast(0), Group: Group, OrderInGroup: next(), Width: config.WidthLong,
			DisplayName: "Filename Offset Zero Pad Width",
			Doc:         "Width to zero pad offsets in store's filenames if offsets are too short in order to provide fixed width filenames that can be ordered by simple lexicographic sorting."}).
		Define(config.Key{Name: BehaviorOnNullValuesConfig, Type: config.String, Default: NullFail, Importance: config.Low,
			Validator: config.CaseInsensitiveValidString(NullFail, NullIgnore, NullWrite), Group: Group, OrderInGroup: next(),
			Width: config.WidthShort, DisplayName: "Behavior for null-valued records",
			Doc: "How to handle records with a null value (i.e. Kafka tombstone records). Valid options are 'ignore', " +
				"'fail' and 'write'. Ignore would skip the tombstone record and fail would cause the connector task to " +
				"throw an exception. In case of the write tombstone option, the connector redirects tombstone records to " +
				"a separate directory mentioned in the config tombstone.encoded.partition. The storage of Kafka record " +
				"keys is mandatory when this option is selected and the file for values is not generated for tombstone " +
				"records."}).
		Define(config.Key{Name: TombstonePartitionConfig, Type: config.String, Default: DefaultTombstonePartition,
			Importance: config.Low, Group: Group, OrderInGroup: next(), Width: config.WidthShort,
			DisplayName: "Tombstone Encoded Partition",
			Doc:         "Output partition for tombstone records when behavior.on.null.values is 'write'."}).
		Define(config.Key{Name: StoreKafkaKeysConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: Group, OrderInGroup: next(), Width: config.WidthShort, DisplayName: "Store Kafka Keys",
			Doc: "Enable or disable writing keys to storage, in a separate object per file: " +
				"<name>.keys<keys format extension> next to <name><extension>. A record with a null key fails the task."}).
		Define(config.Key{Name: StoreKafkaHeadersConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: Group, OrderInGroup: next(), Width: config.WidthShort, DisplayName: "Store Kafka Headers",
			Doc: "Enable or disable writing headers to storage, in a separate object per file: " +
				"<name>.headers<headers format extension>, each record's headers as an array of {key, value} strings. " +
				"A record without headers fails the task."}).
		Define(config.Key{Name: KeysFormatClassConfig, Type: config.Class, Default: nil, Importance: config.Low,
			Group: Group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Keys Format class",
			Doc: "The format class to use when writing keys to the store. Defaults to format.class (Confluent defaults " +
				"to Avro, which Sluice does not write)."}).
		Define(config.Key{Name: HeadersFormatClassConfig, Type: config.Class, Default: nil, Importance: config.Low,
			Group: Group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "Headers Format class",
			Doc: "The format class to use when writing headers to the store. Defaults to format.class (Confluent " +
				"defaults to Avro, which Sluice does not write)."}).
		Define(config.Key{Name: SchemaCompatibilityConfig, Type: config.String, Default: string(compatNone),
			Validator: config.CaseInsensitiveValidString("NONE", "BACKWARD", "FORWARD", "FULL"), Importance: config.High,
			Group: "Schema", Width: config.WidthShort, DisplayName: "Schema Compatibility",
			Doc: "The schema compatibility rule to use when the connector is observing schema changes. The supported " +
				"configurations are NONE, BACKWARD, FORWARD and FULL. NONE starts a new file at every schema change; " +
				"BACKWARD and FULL start one at a newer schema version and project records of an older version to the " +
				"file's schema; FORWARD starts one at an older version and projects newer records to the file's schema. " +
				"A file's schema is its first record's, so files stay a pure function of the lease's offset range."}).
		Define(config.Key{Name: MaxOpenFilesConfig, Type: config.Int, Default: DefaultMaxOpenFiles, Importance: config.Medium,
			Validator: config.AtLeast(1), Group: Group, OrderInGroup: next(), Width: config.WidthShort,
			DisplayName: "Max Open Files per Kafka Partition",
			Doc: "Sluice only. The most files a task keeps open for one Kafka partition at once. A record that needs " +
				"one more first commits the open file of that partition written least recently (the choice depends only " +
				"on the records, so output stays a pure function of the lease's range). It bounds memory when a " +
				"time- or field-partitioned backlog spreads over many directories: a task holds at most " +
				"partitions × sluice.max.open.files × (store part buffer (s3.part.size) + format buffer (one Parquet " +
				"row group)), doubled or tripled with store.kafka.keys and store.kafka.headers."})
}

// normalizeNullBehavior lowercases behavior.on.null.values.
func normalizeNullBehavior(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// FormatClassKey declares a storage sink connector's format.class: one of
// classes (the formats' Confluent class names, and any the connector maps
// onto them), def its default (config.NoDefault when required), note
// appended to the documentation. Another class is refused with Connect's
// message for an unknown class.
func FormatClassKey(classes []string, def any, note string) config.Key {
	list := strings.Join(classes, ", ")
	return config.Key{Name: FormatClassConfig, Type: config.Class, Default: def, Importance: config.High,
		Validator: config.LambdaValidator(func(_ string, v any) error {
			if s, _ := v.(string); !slices.Contains(classes, s) {
				return errors.New("Class " + s + " could not be found.")
			}
			return nil
		}, "one of "+list),
		Group: Group, Width: config.WidthNone, DisplayName: "Format class",
		Doc: "The format class to use when writing data to the store: " + list + "." + note}
}
