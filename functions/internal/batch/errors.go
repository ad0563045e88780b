package batch

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownEvent reports a payload that is neither an export request
	// nor a Lambda Kafka event. The runner turns it into a Lambda error.
	ErrUnknownEvent = errors.New("unknown event shape")
	// ErrBadRequest reports an export request or Kafka event that has the
	// right shape but cannot be carried out as given: an unsupported
	// "until", a connector that is not a sink, records of topics the
	// connector does not consume, no connector for Kafka events.
	ErrBadRequest = errors.New("bad request")
	// ErrUnknownConnector reports a connector the ConfigSource does not know.
	ErrUnknownConnector = errors.New("unknown connector")
)

// ExportError reports an export whose lease failed (not expired: a lease
// that runs out of time ends the export as incomplete, without an error).
// Summary is what the export did up to the failure; Lease is the failed
// lease's result, with its trace. Offsets never move past durable data, so
// running the same request again retries the failed range.
type ExportError struct {
	Summary ExportSummary
	LeaseID string
	Err     string
	Trace   string
}

func (e *ExportError) Error() string {
	return fmt.Sprintf("export of connector %s: lease %s failed: %s", e.Summary.Connector, e.LeaseID, e.Err)
}

// KafkaEventError reports a Kafka event whose batch failed as a whole: a
// failure the batch cannot report per record (the sink's Put or PreCommit
// failed, or partial batch responses are not enabled). Lambda retries the
// whole batch. Failed lists the records that failed, when known.
type KafkaEventError struct {
	Connector string
	Failed    []ItemIdentifier
	Err       error
}

func (e *KafkaEventError) Error() string {
	if len(e.Failed) > 0 {
		return fmt.Sprintf("Kafka event for connector %s: %d record(s) failed, first %s offset %d: %v",
			e.Connector, len(e.Failed), e.Failed[0].Partition, e.Failed[0].Offset, e.Err)
	}
	return fmt.Sprintf("Kafka event for connector %s: %v", e.Connector, e.Err)
}

func (e *KafkaEventError) Unwrap() error { return e.Err }
