// Package connect is what a Sluice connector author imports: the Connector,
// SourceTask and SinkTask contracts, records, headers, converters and the
// plugin descriptor. It mirrors Kafka Connect's connect-api so that a Java
// connector's structure carries over: the same lifecycle, the same record
// coordinates, the same offsets semantics.
//
// Lifecycle of a connector (the coordinator drives it):
//
//  1. Start(ctx, cc, props) with the validated connector configuration;
//  2. TaskConfigs(maxTasks) returns at most maxTasks task configurations;
//  3. the connector may call cc.RequestTaskReconfiguration() when its inputs
//     change, and TaskConfigs is called again;
//  4. Stop() when the connector is deleted, paused or reconfigured.
//
// Tasks run inside leases (see package lease): one task instance per lease,
// started, driven for a bounded amount of work, then stopped. A task must
// therefore keep all its durable state in its offsets (sources) or at its
// destination (sinks), exactly as a Connect task that may be restarted on any
// worker at any time.
package connect

import (
	"context"
	"strconv"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Connector is the configuration-level half of a plugin (Connect's
// Connector). It is not safe for concurrent use; the coordinator calls it
// from one goroutine.
type Connector interface {
	// Start starts the connector with its configuration. ctx lives as long as
	// the connector runs; it is cancelled before Stop.
	Start(ctx context.Context, cc ConnectorContext, props map[string]string) error
	// TaskConfigs returns the configurations of at most maxTasks tasks.
	TaskConfigs(maxTasks int) ([]map[string]string, error)
	// Stop releases what Start acquired.
	Stop() error
	// Config declares the connector's own configuration keys (the framework's
	// common keys are added by the framework).
	Config() *config.Def
}

// ConnectorContext is handed to a connector by the coordinator.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks for TaskConfigs to be called again.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err.
	RaiseError(err error)
}

// TopicPartition names one Kafka partition (Kafka's TopicPartition). It is
// also the Kafka client's type (kafka.TopicPartition).
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// String returns "<topic>-<partition>", as Kafka's TopicPartition.toString.
func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// SourceTask reads from an external system (Connect's SourceTask).
//
// Within one lease the executor calls Start once, Poll repeatedly until the
// lease's budget is spent or Poll returns no records for the idle limit,
// then Commit (if implemented) after the produced records and their offsets
// are durable, then Stop.
type SourceTask interface {
	// Start starts the task with its task configuration; the task restores
	// its position from tc.Offsets().
	Start(ctx context.Context, tc SourceTaskContext, props map[string]string) error
	// Poll returns the next records, or none when nothing is available now.
	// It should not block for long: return what is there, or nothing. ctx is
	// cancelled when the lease must stop.
	Poll(ctx context.Context) ([]SourceRecord, error)
	// Stop releases what Start acquired. It is called exactly once, after the
	// last Poll, even when Start or Poll failed.
	Stop() error
}

// SourceCommitter is an optional SourceTask capability (Connect's
// SourceTask.commit): called after the records returned so far were acked by
// Kafka and their offsets written.
type SourceCommitter interface {
	Commit(ctx context.Context) error
}

// SourceRecordCommitter is an optional SourceTask capability (Connect's
// SourceTask.commitRecord): called once per record after Kafka acked it
// and the lease's source offsets were written, in the order the records
// were produced, with the partition and offset it was written at. The
// record carries its topic, partition, timestamp, source partition and
// source offset as produced (after transformations); its key, value and
// headers are not kept until then, so that a lease does not hold all its
// data in memory.
type SourceRecordCommitter interface {
	CommitRecord(ctx context.Context, r *SourceRecord, written TopicPartition, offset int64) error
}

// SourceOffsetCommitter is an optional SourceTask capability for tasks
// that act on their committed position rather than on each record (a
// database's replication slot, whose log may be released up to the
// committed offset): after the lease wrote its source offsets, every
// record before them acked by Kafka, CommitOffsets is called with the
// offsets written, the latest of each source partition, before Commit. In
// an exactly-once lease it is called after each transaction commits, with
// that transaction's offsets. A task that needs nothing else per record
// should have this instead of SourceRecordCommitter: the lease then keeps
// nothing of a record once it is sent, where for CommitRecord it keeps
// every record's coordinates and source offset until the flush.
type SourceOffsetCommitter interface {
	CommitOffsets(ctx context.Context, written OffsetReader) error
}

// StreamingRecordCommitter is an optional SourceRecordCommitter capability
// for sources whose records carry no source offsets (a message broker's
// session holds the position, not Kafka): the executor may call
// CommitRecord during the lease, concurrently with Poll, for each record
// as soon as Kafka acked it and every record produced before it, so that
// the source's window of unacknowledged messages keeps moving within a
// lease. It does so only for records without a SourcePartition (with no
// offsets to write first) and outside exactly-once leases; every other
// record is committed after the flush, as for SourceRecordCommitter. The
// calls still come in the order the records were produced, one at a time.
type StreamingRecordCommitter interface {
	SourceRecordCommitter
	// CommitsRecordsWhilePolling reports whether CommitRecord may run
	// during the lease, concurrently with Poll.
	CommitsRecordsWhilePolling() bool
}

// SourceTaskContext gives a source task its configuration and its committed
// offsets.
type SourceTaskContext interface {
	// Offsets reads committed source offsets (Connect's OffsetStorageReader).
	Offsets() OffsetReader
}

// OffsetReader reads committed source offsets. Offset returns nil when a
// source partition has no committed offset.
type OffsetReader interface {
	Offset(partition map[string]any) map[string]any
}

// SinkTask writes to an external system (Connect's SinkTask).
//
// Within one lease the executor:
//
//  1. calls Start;
//  2. calls Open with the leased partitions (if the task implements PartitionOpener);
//  3. calls Put with the leased records in batches, in offset order per partition;
//  4. calls PreCommit (or Flush) with the next offsets to consume; the offsets it returns
//     are the ones committed, so a task that buffers may return less;
//  5. calls Close with the partitions (if implemented) and Stop.
//
// Records are delivered at least once; a lease that is retried delivers the
// same range again.
type SinkTask interface {
	Start(ctx context.Context, tc SinkTaskContext, props map[string]string) error
	// Put hands over a batch of records. An error fails the lease unless it
	// is retriable (see Retriable), in which case the batch is offered again.
	Put(ctx context.Context, records []SinkRecord) error
	Stop() error
}

// PartitionOpener is an optional SinkTask capability (Connect's open/close).
type PartitionOpener interface {
	Open(ctx context.Context, partitions []TopicPartition) error
	Close(ctx context.Context, partitions []TopicPartition) error
}

// Flusher is an optional SinkTask capability (Connect's flush): make every
// record put so far durable at the destination. It is used when the task
// does not implement PreCommitter.
type Flusher interface {
	Flush(ctx context.Context, offsets map[TopicPartition]int64) error
}

// PreCommitter is an optional SinkTask capability (Connect's preCommit):
// given the next offsets to consume per partition, return the offsets that
// are safe to commit (durable at the destination). Returning a partition's
// offset lower than given commits less; omitting a partition commits nothing
// for it.
type PreCommitter interface {
	PreCommit(ctx context.Context, offsets map[TopicPartition]int64) (map[TopicPartition]int64, error)
}

// SinkTaskContext gives a sink task its assignment and its errant record
// reporter.
type SinkTaskContext interface {
	// Assignment is the set of partitions of the current lease.
	Assignment() []TopicPartition
	// ErrantRecordReporter returns the reporter for records the destination
	// rejects (Connect's SinkTaskContext.errantRecordReporter).
	ErrantRecordReporter() ErrantRecordReporter
}

// ErrantRecordReporter reports a record a sink task could not write, so
// that a bad row never blocks a partition (Connect's ErrantRecordReporter).
// With errors.tolerance=all the record is logged (errors.log.enable), sent
// to the dead letter queue (if configured) and skipped, and Report returns
// nil: the task carries on, and the record's offset is committed with the
// rest. With errors.tolerance=none Report returns an error that the task
// should return from Put, failing the lease. Reports are durable before
// offsets are committed.
type ErrantRecordReporter interface {
	Report(ctx context.Context, r *SinkRecord, err error) error
}
