// Package lease defines the lease, Sluice's unit of work, and the executor
// that runs one: the single implementation shared by the Lambda functions,
// the long-lived workers and the coordinator's in-process invoker.
//
// A lease is self-contained and serialisable as JSON: it names the
// connector, task, config generation and epoch, carries the configuration,
// a budget and a deadline, and for sinks the exact offset range to process.
// The executor obeys the lease rules of docs/architecture.md:
//
//  1. offsets are committed only after the data they cover is durable
//     (produced and acked for sources, flushed for sinks);
//  2. a sink lease processes exactly its range, so a retry with the same
//     range reproduces the same work;
//  3. nothing is produced, written or committed after the lease's deadline
//     (less a safety margin), so a lease the coordinator has given up on
//     cannot race its successor.
//
// The files follow a record: executor.go checks a lease (Check), works out
// its time limits and turns its outcome into a Result; source.go and
// sink.go are the two kinds of lease as a type each whose methods are the
// steps (sourceLease, sinkLease); deliver.go runs a sink task over records
// that come with a Lambda Kafka event; pipeline.go converts and transforms
// one record; errorhandling.go applies errors.* (retries, log, dead letter
// queue); topiccreation.go creates a source's topics (topic.creation.*).
package lease

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
)

// Kind is a lease's kind: the kind of its connector's plugin, source or
// sink. It is connect.Kind, so a lease's kind and its plugin's compare
// directly.
type Kind = connect.Kind

// The lease kinds.
const (
	KindSource = connect.KindSource
	KindSink   = connect.KindSink
)

// Lease is one bounded unit of work for one task.
type Lease struct {
	// ID identifies this lease; a retry of the same work has a new ID and the
	// same Ranges.
	ID        string `json:"id"`
	Kind      Kind   `json:"kind"`
	Connector string `json:"connector"`
	Task      int    `json:"task"`
	// Generation is the connector configuration's generation.
	Generation int64 `json:"generation"`
	// Epoch increases strictly with every lease issued for the task.
	Epoch int64 `json:"epoch"`
	// Deadline is when the lease ends; nothing may be written after it.
	Deadline time.Time `json:"deadline"`
	// ConnectorConfig is the connector's configuration (class, converters,
	// topics); TaskConfig is the task's, as returned by TaskConfigs.
	ConnectorConfig map[string]string `json:"connector_config"`
	TaskConfig      map[string]string `json:"task_config"`
	Budget          Budget            `json:"budget"`
	// Ranges are a sink lease's offset ranges, [Start, End) per partition.
	Ranges []Range `json:"ranges,omitempty"`
	// ExactlyOnce, set on a source lease when the worker's
	// exactly.once.source.support is enabled, makes the lease write its
	// records and their source offsets in Kafka transactions (KIP-618).
	ExactlyOnce *ExactlyOnce `json:"exactly_once,omitempty"`
	// OffsetsTopic, set on a source lease without ExactlyOnce whose
	// connector has its own offsets.storage.topic (not the worker's), is
	// that topic. The lease reads its source offsets from it and writes
	// them to it first, then to the worker's offsets topic (best effort),
	// as a Connect worker with exactly-once support disabled does
	// (Worker.offsetStoreForRegularSourceTask, ConnectorOffsetBackingStore).
	OffsetsTopic string `json:"offsets_topic,omitempty"`
	// Token is an unguessable secret the invoker may set when it hands the
	// lease out (the pull invoker does); the lease's result must carry it
	// back. It is never recorded in the lease log.
	Token string `json:"token,omitempty"`
}

// Budget bounds a lease's work. Zero fields take the executor's defaults.
type Budget struct {
	// MaxRecords bounds the records a source lease polls.
	MaxRecords int64 `json:"max_records,omitempty"`
	// MaxBytes bounds the serialised bytes a source lease produces.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// MaxTime bounds the lease's wall time (also bounded by Deadline).
	MaxTime Duration `json:"max_time,omitempty"`
	// MaxIdle ends a source lease after Poll returned nothing for this long.
	MaxIdle Duration `json:"max_idle,omitempty"`
}

// Range is a half-open offset range [Start, End) of one partition.
type Range struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
}

// TopicPartition returns the range's partition.
func (r Range) TopicPartition() connect.TopicPartition {
	return connect.TopicPartition{Topic: r.Topic, Partition: r.Partition}
}

func (r Range) String() string {
	return fmt.Sprintf("%s-%d[%d,%d)", r.Topic, r.Partition, r.Start, r.End)
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("30s") and also reads a number of milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or 30000 (milliseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms int64
	if err := json.Unmarshal(b, &ms); err == nil {
		*d = Duration(time.Duration(ms) * time.Millisecond)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\" or milliseconds: %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Status is how a lease ended.
type Status string

// The lease outcomes.
const (
	// Succeeded: the work was done and its offsets committed.
	Succeeded Status = "succeeded"
	// Failed: the task failed; Trace says why. Nothing past the durable data
	// was committed.
	Failed Status = "failed"
	// Expired: the deadline came before the work could be committed; nothing
	// was committed and the coordinator re-issues the same work.
	Expired Status = "expired"
)

// Result reports what a lease did.
type Result struct {
	LeaseID   string `json:"lease_id"`
	Connector string `json:"connector"`
	Task      int    `json:"task"`
	Epoch     int64  `json:"epoch"`
	Status    Status `json:"status"`
	// Records and Bytes count what was produced (source) or put (sink).
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	// Topics are the Kafka topics the lease produced to (source) or read
	// (sink): Connect's active topics.
	Topics []string `json:"topics,omitempty"`
	// SourceOffsets are the source offsets written, per source partition.
	SourceOffsets []SourceOffset `json:"source_offsets,omitempty"`
	// Committed are the sink offsets committed (the next offset to consume).
	Committed []Range `json:"committed,omitempty"`
	// Errors counts records that failed and were skipped under
	// errors.tolerance=all; DeadLettered counts records sent to the dead
	// letter queue.
	Errors       int64 `json:"errors,omitempty"`
	DeadLettered int64 `json:"dead_lettered,omitempty"`
	// MorePending says more data is likely waiting: the source stopped for
	// its budget, not because it ran dry, or the sink's partitions have more
	// records beyond the range.
	MorePending bool `json:"more_pending"`
	// Retriable says a failure may go away when the lease is retried.
	Retriable bool      `json:"retriable,omitempty"`
	Error     string    `json:"error,omitempty"`
	Trace     string    `json:"trace,omitempty"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	// Token is the lease's Token, copied back by the executor.
	Token string `json:"token,omitempty"`
}

// CheckFor reports why r cannot be l's result: another lease id,
// connector, task or epoch, a token that is not l's, an unknown status or
// a negative count. Its errors wrap ErrBadResult and never quote the token.
func (r Result) CheckFor(l Lease) error {
	var bad []string
	if r.LeaseID != l.ID {
		bad = append(bad, fmt.Sprintf("lease_id %q is not %q", r.LeaseID, l.ID))
	}
	if r.Connector != l.Connector || r.Task != l.Task || r.Epoch != l.Epoch {
		bad = append(bad, fmt.Sprintf("connector %q task %d epoch %d are not the lease's (%q task %d epoch %d)",
			r.Connector, r.Task, r.Epoch, l.Connector, l.Task, l.Epoch))
	}
	if l.Token != "" && subtle.ConstantTimeCompare([]byte(r.Token), []byte(l.Token)) != 1 {
		bad = append(bad, "the token is not the lease's")
	}
	bad = append(bad, r.problems()...)
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrBadResult, strings.Join(bad, "; "))
	}
	return nil
}

// Check is the part of CheckFor that needs no lease: a known status and
// no negative count. A worker's result can be refused with it before its
// lease is looked up.
func (r Result) Check() error {
	if bad := r.problems(); len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrBadResult, strings.Join(bad, "; "))
	}
	return nil
}

func (r Result) problems() []string {
	var bad []string
	switch r.Status {
	case Succeeded, Failed, Expired:
	default:
		bad = append(bad, fmt.Sprintf("unknown status %q (want succeeded, failed or expired)", r.Status))
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"records", r.Records}, {"bytes", r.Bytes}, {"errors", r.Errors}, {"dead_lettered", r.DeadLettered}} {
		if n.v < 0 {
			bad = append(bad, fmt.Sprintf("%s %d is negative", n.name, n.v))
		}
	}
	return bad
}

// SourceOffset is one source partition's committed offset.
type SourceOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}
