// Package batch handles the sink-batch function's events that are not
// leases (docs/architecture.md, "Runtime modes"):
//
//   - an export request, from an EventBridge schedule or on demand, which
//     exports a sink connector's partitions up to their high watermark
//     through ordinary sink leases run by the executor; and
//   - Lambda's own Kafka event (events.KafkaEvent, from an Amazon MSK or
//     self-managed Apache Kafka event source mapping), whose records are
//     written through the connector's converters, transformations and sink
//     task.
//
// # Export request
//
//	{"connector": "s3-orders", "until": "now"}
//
// "until" is required. "now" exports every partition of the connector's
// topics (topics or topics.regex) from the committed offset of the group
// connect-<connector> (or the log start, as Connect's sinks) up to the high
// watermark read when the request starts: records produced later are left
// for the next request. An object of "<topic>-<partition>" to offset
// (Lambda's Kafka event keys) exports only the partitions it names, each up
// to min(offset, high watermark), which makes a re-run reproduce exactly the
// same ranges. A time ("2024-05-01T00:00:00Z") is refused with ErrBadRequest:
// it needs an offsets-for-times lookup that package kafka does not offer.
//
// Each partition's range is cut into chunks that are whole multiples of
// flush.size counted from the committed offset, as the coordinator cuts
// its leases, so storage sinks write full files and only the last file of a
// partition may be short. Each round runs one sink lease holding the next
// chunk of every partition not yet done, through the same executor and
// rules as the coordinator's leases: offsets are committed to
// connect-<connector> only after the chunk is durable, never backwards, and
// object names are a pure function of the range, so running the same
// request again after a crash writes the same objects and moves nothing
// back. A lease starts only while enough of the invocation's time is left
// (twice the longest lease so far, at least Deps.MinLeaseTime); otherwise
// the export stops after the last completed lease and reports itself
// incomplete, and the next request carries on from the committed offsets.
// The answer is an ExportSummary:
//
//	{"connector": "s3-orders", "complete": false, "leases": 3,
//	 "partitions": [{"topic": "orders", "partition": 0, "from": 0, "to": 2500,
//	                 "done": 2000, "records": 2000}]}
//
// An export must not run while the coordinator issues leases for the same
// connector (pause it, or deploy it for exports only): both would commit
// to connect-<connector>, and ranges cut differently from the same offset
// would write different objects under the same name.
//
// # Lambda Kafka event
//
// The event's records are written by the sink connector named by
// Deps.Connector (the function's SLUICE_CONNECTOR: one event source
// mapping, one function configuration, one connector); a record of a topic
// the connector does not consume fails the batch (ErrBadRequest). Offsets
// belong to the event source mapping's own consumer group, so nothing is
// committed to connect-<connector>; the task is still flushed (PreCommit)
// before the handler answers, so what it reports as done is durable.
//
// A record that fails conversion or a transformation is handled with the
// connector's errors.* configuration, as Connect does: with
// errors.tolerance=all it is logged (errors.log.enable), sent to the dead
// letter queue (errors.deadletterqueue.topic.name) and skipped; with
// errors.tolerance=none it fails. Lambda supports partial batch responses
// for Kafka event source mappings (ReportBatchItemFailures, provisioned
// mode); with Deps.ReportBatchItemFailures set, the records of a partition
// before its first failed record are written and the answer names the
// failed record, so that Lambda resumes that partition from it:
//
//	{"batchItemFailures": [{"itemIdentifier": {"partition": "orders-0", "offset": 15}}]}
//
// Without it (the default, because Lambda ignores the answer and treats the
// batch as a success when the event source mapping does not have
// ReportBatchItemFailures), a failed record writes nothing and the handler
// returns a *KafkaEventError: Lambda retries the whole batch, up to the
// mapping's retry attempts and record age, and then hands it to its
// on-failure destination. Delivery is at least once either way: a batch
// Lambda retries after a sink failure is written again, and a storage sink
// writes it under the same object names only when Lambda hands over the
// same batch.
package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Deps is what Handle needs. Executor, Kafka, Configs and Plugins are
// required; the other fields have the defaults documented on each.
type Deps struct {
	// Executor runs the export's sink leases.
	Executor *lease.Executor
	// Kafka reads partitions, watermarks and committed offsets, and
	// produces dead letters for Kafka events.
	Kafka *kafka.Client
	// Configs gives connector configurations.
	Configs ConfigSource
	// Plugins finds the connector, converters and transformations for
	// Kafka events.
	Plugins *connect.Registry
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides whether another export lease fits in
	// the invocation; default time.Now.
	Now func() time.Time

	// Connector is the sink connector that writes Lambda Kafka events (the
	// function's SLUICE_CONNECTOR). Kafka events fail without it.
	Connector string
	// ReportBatchItemFailures answers a Kafka event with the records that
	// failed, for an event source mapping whose FunctionResponseTypes holds
	// ReportBatchItemFailures. False fails the whole batch instead; Lambda
	// retries it whole, so records written before the failure are written
	// again (at least once). Config provider references are resolved by the
	// Executor (its Options.Resolver) for exports and events alike.
	ReportBatchItemFailures bool
	// LeaseRecords bounds the records of one partition in one export
	// lease, rounded down to a multiple of flush.size (at least one
	// flush.size). Default 100,000.
	LeaseRecords int64
	// MinLeaseTime is the least time left before the invocation's deadline
	// for an export lease to start. Default 10s.
	MinLeaseTime time.Duration
	// LeaseTime is an export lease's deadline when the invocation's
	// context has none. Default 15 minutes (Lambda's longest timeout).
	LeaseTime time.Duration
}

func (d *Deps) setDefaults() error {
	if d.Executor == nil || d.Kafka == nil || d.Configs == nil || d.Plugins == nil {
		return fmt.Errorf("batch: Deps.Executor, Kafka, Configs and Plugins are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.LeaseRecords <= 0 {
		d.LeaseRecords = 100_000
	}
	if d.MinLeaseTime <= 0 {
		d.MinLeaseTime = 10 * time.Second
	}
	if d.LeaseTime <= 0 {
		d.LeaseTime = 15 * time.Minute
	}
	return nil
}

// ConfigSource gives a connector's configuration by name (the configs
// topic in production: see StoreConfigs), and the task configurations it
// published, read together. An unknown connector is an error wrapping
// ErrUnknownConnector. Without task configurations the task configuration
// is task 0's of the connector's own TaskConfigs(1).
type ConfigSource interface {
	Configs(ctx context.Context, name string) (connector map[string]string, tasks []map[string]string, err error)
}

// probe holds the fields that tell the payloads apart.
type probe struct {
	Connector   *json.RawMessage `json:"connector"`
	Until       *json.RawMessage `json:"until"`
	EventSource *string          `json:"eventSource"`
	Records     *json.RawMessage `json:"records"`
}

// Kafka event sources, as Lambda names them in eventSource.
const (
	EventSourceMSK         = "aws:kafka"
	EventSourceSelfManaged = "SelfManagedKafka"
)

// Handle recognises the payload and handles it: an export request (an
// object with "connector" and "until") returns an *ExportSummary, a Lambda
// Kafka event (eventSource aws:kafka or SelfManagedKafka, with records)
// returns a *KafkaResponse. Anything else returns ErrUnknownEvent. An export
// whose lease failed returns its *ExportSummary with an *ExportError.
// Handle is safe for concurrent use; ctx's deadline bounds the work.
func Handle(ctx context.Context, d Deps, payload json.RawMessage) (any, error) {
	kind, err := classify(payload)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kafkaEventPayload:
		if err := d.setDefaults(); err != nil {
			return nil, err
		}
		resp, err := handleKafkaEvent(ctx, d, payload)
		if err != nil {
			return nil, err
		}
		return resp, nil
	default: // exportPayload
		if err := d.setDefaults(); err != nil {
			return nil, err
		}
		sum, err := export(ctx, d, payload)
		if sum == nil {
			return nil, err
		}
		return sum, err
	}
}

// payloadKind is what a sink-batch payload is.
type payloadKind int

const (
	kafkaEventPayload payloadKind = iota + 1
	exportPayload
)

// classify tells a Lambda Kafka event from an export request; anything
// else is an error wrapping ErrUnknownEvent.
func classify(payload []byte) (payloadKind, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return 0, fmt.Errorf("%w: the payload is not a JSON object (%v); %s", ErrUnknownEvent, err, expectedEvents)
	}
	switch {
	case p.EventSource != nil && (*p.EventSource == EventSourceMSK || *p.EventSource == EventSourceSelfManaged) && p.Records != nil:
		return kafkaEventPayload, nil
	case p.Connector != nil && p.Until != nil && p.EventSource == nil:
		return exportPayload, nil
	}
	return 0, fmt.Errorf("%w: %s", ErrUnknownEvent, expectedEvents)
}

// expectedEvents names the payloads Handle knows, for its ErrUnknownEvent.
const expectedEvents = `expected an export request ({"connector": ..., "until": "now"}) or a Lambda Kafka event ` +
	`(eventSource "` + EventSourceMSK + `" or "` + EventSourceSelfManaged + `", with records)`
