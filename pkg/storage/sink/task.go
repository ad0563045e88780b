package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// Options plug a store and formats into the engine; each connector (S3,
// HDFS, local) supplies its own.
type Options struct {
	// OpenStore opens the store the task's properties configure. The task
	// closes it in Stop.
	OpenStore func(ctx context.Context, props map[string]string) (storage.Store, error)
	// NewFormat builds the format called class (the value of format.class,
	// keys.format.class or headers.format.class), configured by props.
	NewFormat func(class string, props map[string]string) (storage.Format, error)
	// IsSchemaChange reports whether an error from RecordWriter.Write means
	// "this record does not fit the file's schema" (a schemaless format's
	// inferred schema); the engine then commits the file and starts a new
	// one with the record. Nil means never.
	IsSchemaChange func(error) bool
	// Logger receives the task's logs; default slog.Default().
	Logger *slog.Logger
	// Now is the wall clock, used only by the Wallclock extractor and
	// rotate.schedule.interval.ms; default time.Now.
	Now func() time.Time
}

// Task is the storage sink task shared by the S3, HDFS and local sink
// connectors (Confluent's S3SinkTask and TopicPartitionWriter). It is not
// safe for concurrent use; the lease executor calls it from one goroutine.
//
// Within a lease it writes each leased partition's records into files,
// named <topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start
// offset><extension>, committing a file when it holds flush.size records,
// when a record's time reaches its first record's time plus
// rotate.interval.ms, when the value schema changes, when the partition
// needs more than sluice.max.open.files files (the least recently written
// is committed), and at PreCommit, which commits every open file. Where a
// file is cut therefore depends only on the lease's records and the
// configuration, so a retried or zombie lease with the same range writes
// the same objects with the same bytes (rule 2 of docs/architecture.md).
type Task struct {
	opts Options
	log  *slog.Logger
	s    *settings

	store                      storage.Store
	value, keys, headers       storage.Format
	partitioner                Partitioner
	partitions                 map[connect.TopicPartition]*partitionWriter
	failed                     error
	envelopeKeys, envelopeHdrs bool
	// The last key schema and its envelope, kept by keyViewSchema.
	lastKeySchema, lastKeyEnvelope *data.Schema
}

var (
	_ connect.SinkTask        = (*Task)(nil)
	_ connect.PartitionOpener = (*Task)(nil)
	_ connect.PreCommitter    = (*Task)(nil)
	_ connect.RawValueSink    = (*Task)(nil)
	_ connect.RawKeySink      = (*Task)(nil)
)

// NewTask returns a task using opts' store and formats.
func NewTask(opts Options) *Task {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Task{opts: opts, log: opts.Logger}
}

// settings are the parsed engine configuration.
type settings struct {
	flushSize        int
	rotateIntervalMs int64
	scheduleMs       int64
	scheduleLoc      *time.Location
	topicsDir        string
	dirDelim         string
	fileDelim        string
	padWidth         int
	nullBehavior     string
	tombstone        string
	storeKeys        bool
	storeHeaders     bool
	maxOpen          int
	rotationTime     Extractor
	compat           compatibility
}

// EngineConfig is Config merged with the partitioner's keys, and the
// engine's rules across them: everything the task parses itself.
func EngineConfig() *config.Def {
	return Config().Merge(PartitionerConfig()).Rule(engineRule)
}

func parseSettings(props map[string]string) (*settings, Partitioner, error) {
	v, err := EngineConfig().Parse(props)
	if err != nil {
		return nil, nil, err
	}
	p, err := PartitionerFromValues(v)
	if err != nil {
		return nil, nil, err
	}
	s := &settings{
		flushSize:        v.Int(FlushSizeConfig),
		rotateIntervalMs: v.Long(RotateIntervalMsConfig),
		scheduleMs:       v.Long(RotateScheduleIntervalConfig),
		topicsDir:        v.String(TopicsDirConfig),
		dirDelim:         v.String(DirectoryDelimConfig),
		fileDelim:        v.String(FileDelimConfig),
		padWidth:         v.Int(ZeroPadWidthConfig),
		nullBehavior:     normalizeNullBehavior(v.String(BehaviorOnNullValuesConfig)),
		tombstone:        v.String(TombstonePartitionConfig),
		storeKeys:        v.Bool(StoreKafkaKeysConfig),
		storeHeaders:     v.Bool(StoreKafkaHeadersConfig),
		maxOpen:          v.Int(MaxOpenFilesConfig),
		compat:           parseCompatibility(v.String(SchemaCompatibilityConfig)),
	}
	if s.scheduleMs > 0 {
		s.scheduleLoc, _ = LoadTimezone(v.String(TimezoneConfig))
	}
	if timed, ok := p.(Timed); ok {
		s.rotationTime = timed.Extractor()
	} else {
		s.rotationTime = RecordExtractor{}
	}
	return s, p, nil
}

// engineRule checks the engine's rules across keys (Confluent's
// S3SinkConnectorValidator).
func engineRule(v *config.Values) []config.Problem {
	var out []config.Problem
	if normalizeNullBehavior(v.String(BehaviorOnNullValuesConfig)) == NullWrite && !v.Bool(StoreKafkaKeysConfig) {
		out = append(out, config.Problem{Key: BehaviorOnNullValuesConfig,
			Message: "Writing tombstones (" + BehaviorOnNullValuesConfig + "=write) requires " + StoreKafkaKeysConfig + "=true, " +
				"as the tombstones' keys are the only thing written."})
	}
	if ms, ok := v.Get(RotateScheduleIntervalConfig).(int64); ok && ms != -1 && v.String(TimezoneConfig) == "" {
		out = append(out, config.Problem{Key: TimezoneConfig,
			Message: "Timezone cannot be empty when using scheduled file rotation (" + RotateScheduleIntervalConfig + ")."})
	}
	return out
}

// Warnings lists what in props breaks exactly-once output: the Wallclock
// timestamp extractor with a time-based partitioner, and
// rotate.schedule.interval.ms. Connect's validation can only return
// errors, so Start logs these.
func Warnings(props map[string]string) []string {
	var w []string
	class := strings.TrimSpace(props[PartitionerClassConfig])
	timeBased := strings.Contains(class, "TimeBased") || strings.Contains(class, "Daily") || strings.Contains(class, "Hourly")
	ex := strings.TrimSpace(props[TimestampExtractorConfig])
	if timeBased && (ex == "" || ex == ExtractorWallclock) {
		w = append(w, TimestampExtractorConfig+"=Wallclock partitions records by the time the lease runs: "+
			"a retried lease may write them under other directories (duplicates). Use Record or RecordField for exactly-once output.")
	}
	if s := strings.TrimSpace(props[RotateScheduleIntervalConfig]); s != "" && s != "-1" {
		w = append(w, RotateScheduleIntervalConfig+" cuts files on the wall clock: a retried lease may cut them elsewhere "+
			"(duplicates). Use rotate.interval.ms for exactly-once output.")
	}
	return w
}

// Start parses the configuration, opens the store and builds the formats
// and the partitioner.
func (t *Task) Start(ctx context.Context, _ connect.SinkTaskContext, props map[string]string) error {
	s, p, err := parseSettings(props)
	if err != nil {
		return err
	}
	t.s, t.partitioner = s, p
	t.log = t.opts.Logger.With("connector", props[connect.NameConfig])
	for _, w := range Warnings(props) {
		t.log.Warn("configuration breaks exactly-once output", "warning", w)
	}
	if t.opts.NewFormat == nil || t.opts.OpenStore == nil {
		return errors.New("storage sink: Options.NewFormat and Options.OpenStore are required")
	}
	valueClass := strings.TrimSpace(props[FormatClassConfig])
	if valueClass == "" {
		return &config.ValidationError{Problems: []config.Problem{{Key: FormatClassConfig,
			Message: "Missing required configuration \"" + FormatClassConfig + "\" which has no default value."}}}
	}
	if t.value, err = t.opts.NewFormat(valueClass, props); err != nil {
		return fmt.Errorf("%s: %w", FormatClassConfig, err)
	}
	if s.storeKeys {
		if t.keys, err = t.opts.NewFormat(cmp.Or(strings.TrimSpace(props[KeysFormatClassConfig]), valueClass), props); err != nil {
			return fmt.Errorf("%s: %w", KeysFormatClassConfig, err)
		}
		t.envelopeKeys = needsStruct(t.keys)
	}
	if s.storeHeaders {
		if t.headers, err = t.opts.NewFormat(cmp.Or(strings.TrimSpace(props[HeadersFormatClassConfig]), valueClass), props); err != nil {
			return fmt.Errorf("%s: %w", HeadersFormatClassConfig, err)
		}
		t.envelopeHdrs = needsStruct(t.headers)
	}
	if t.store, err = t.opts.OpenStore(ctx, props); err != nil {
		return connect.Retriable(fmt.Errorf("opening the store: %w", err))
	}
	t.partitions = map[connect.TopicPartition]*partitionWriter{}
	return nil
}

// Open prepares the leased partitions.
func (t *Task) Open(_ context.Context, partitions []connect.TopicPartition) error {
	for _, tp := range partitions {
		t.partition(tp)
	}
	return nil
}

func (t *Task) partition(tp connect.TopicPartition) *partitionWriter {
	pw := t.partitions[tp]
	if pw == nil {
		pw = &partitionWriter{t: t, tp: tp, files: map[string]*file{}, next: -1}
		t.partitions[tp] = pw
	}
	return pw
}

// Put writes records into their files, committing files as they rotate.
//
// A record the sink cannot write fails the lease with a *RecordError. A
// store failure is kept and reported by PreCommit (as retriable, with no
// offsets committed): Put returns nil and ignores the rest of the lease's
// records, because the executor would offer the batch again after a
// retriable error from Put, and a file that failed to commit cannot be
// resumed; the retried lease rewrites everything.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) error {
	for i := range records {
		if t.failed != nil {
			return nil
		}
		r := &records[i]
		pw := t.partition(connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition})
		if err := pw.put(ctx, r); err != nil {
			// Declared here, not for every record: errors.As makes it escape.
			var se *StoreError
			if !errors.As(err, &se) {
				return err
			}
			t.failed = err
			t.log.Error("store failed; the lease will be retried", "error", err)
		}
	}
	return nil
}

// PreCommit commits every open file and returns the given offsets of the
// partitions whose objects are all committed. After a store failure it
// aborts what is open and returns a retriable error: nothing is committed.
func (t *Task) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if t.failed != nil {
		t.abortAll()
		return nil, connect.Retriable(fmt.Errorf("%w: %w", ErrFailed, t.failed))
	}
	for _, tp := range sortedPartitions(t.partitions) {
		if err := t.partitions[tp].commitAll(ctx); err != nil {
			t.failed = err
			t.abortAll()
			return nil, connect.Retriable(err)
		}
	}
	safe := make(map[connect.TopicPartition]int64, len(offsets))
	for tp, off := range offsets {
		if pw := t.partitions[tp]; pw == nil || len(pw.files) == 0 {
			safe[tp] = off
		}
	}
	return safe, nil
}

// Close aborts the files still open for partitions (a lease that failed
// before PreCommit) and forgets them.
func (t *Task) Close(_ context.Context, partitions []connect.TopicPartition) error {
	for _, tp := range partitions {
		if pw := t.partitions[tp]; pw != nil {
			pw.abortAll()
			delete(t.partitions, tp)
		}
	}
	return nil
}

// Stop aborts anything still open and closes the store.
func (t *Task) Stop() error {
	t.abortAll()
	if t.store != nil {
		err := t.store.Close()
		t.store = nil
		return err
	}
	return nil
}

func (t *Task) abortAll() {
	for _, pw := range t.partitions {
		pw.abortAll()
	}
}

func sortedPartitions(m map[connect.TopicPartition]*partitionWriter) []connect.TopicPartition {
	tps := make([]connect.TopicPartition, 0, len(m))
	for tp := range m {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b connect.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return tps
}

// TakesRawValues reports whether the started task takes values undecoded
// (connect.RawValueSink) from valueConverter: when it is the schemaless
// JsonConverter, the value format writes such values (RawValueWriter), and
// nothing else the task does reads a record's value: neither the
// partitioner nor the time that rotates files (the RecordField extractor
// does). Keys and headers files take the keys and headers, decoded as
// always.
func (t *Task) TakesRawValues(valueConverter connect.Converter) bool {
	jc, ok := valueConverter.(*converter.JSONConverter)
	if !ok || jc.SchemasEnabled() || t.s == nil {
		return false
	}
	if rw, ok := t.value.(RawValueWriter); !ok || !rw.WritesRawValues() {
		return false
	}
	switch p := t.partitioner.(type) {
	case defaultPartitioner:
	case *timeBased:
		if readsValue(p.extractor) {
			return false
		}
	default:
		return false
	}
	return t.s.rotateIntervalMs <= 0 || !readsValue(t.s.rotationTime)
}

// TakesRawKeys reports whether the started task takes keys undecoded
// (connect.RawKeySink): when it writes no keys files (store.kafka.keys is
// false), as nothing else it does reads a key: the built-in partitioners
// and timestamp extractors read the partition, the time or the value.
func (t *Task) TakesRawKeys(connect.Converter) bool {
	if t.s == nil || t.s.storeKeys {
		return false
	}
	switch t.partitioner.(type) {
	case defaultPartitioner, fieldPartitioner, *timeBased:
		return true
	}
	return false
}

// readsValue reports whether e may read a record's value: all but the
// extractors known not to.
func readsValue(e Extractor) bool {
	switch e.(type) {
	case RecordExtractor, wallclockExtractor:
		return false
	}
	return true
}

// StructOnly is an optional Format capability: the format can only write
// STRUCT values (Parquet), so keys and headers are wrapped in a struct as
// Confluent's "enveloped" record views do.
type StructOnly interface {
	StructOnly() bool
}

func needsStruct(f storage.Format) bool {
	s, ok := f.(StructOnly)
	return ok && s.StructOnly()
}
