package lease

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
)

var (
	// ErrBadLease reports a lease that cannot be run as given: missing
	// fields, an unknown kind, an unknown connector class.
	ErrBadLease = errors.New("bad lease")
	// ErrExpired reports a lease whose deadline (less the safety margin)
	// came before its work could be committed. Nothing was committed.
	ErrExpired = errors.New("lease expired")
	// ErrBadResult reports a lease result that does not belong to its
	// lease (another connector, task, epoch or token) or is not a possible
	// result (an unknown status, a negative count).
	ErrBadResult = errors.New("bad lease result")
	// ErrFenced reports an exactly-once source lease whose transactional
	// producer was fenced: a newer lease of the same task initialised its
	// own, so this one is a zombie. Its open transaction is aborted:
	// nothing of it is visible to read_committed consumers.
	ErrFenced = errors.New("lease fenced by a newer lease of the task")
)

// panicError is a panic of task code that ran in a goroutine of its own
// (a source task's Poll), recovered there and handed to the lease as its
// error; the lease's trace is the panic's stack.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("task panicked: %v", e.value) }

// Stage names the step of the pipeline where an error happened, as Connect's
// errors.Stage (and its __connect.errors.stage header) names it.
type Stage string

// The stages.
const (
	StageKeyConverter    Stage = "KEY_CONVERTER"
	StageValueConverter  Stage = "VALUE_CONVERTER"
	StageHeaderConverter Stage = "HEADER_CONVERTER"
	StageTransformation  Stage = "TRANSFORMATION"
	StageTaskPut         Stage = "TASK_PUT"
	StageTaskPoll        Stage = "TASK_POLL"
	StageKafkaProduce    Stage = "KAFKA_PRODUCE"
	StageKafkaConsume    Stage = "KAFKA_CONSUME"
)

// StageError is an error at one stage of the pipeline.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("error in stage %s: %v", e.Stage, e.Err) }
func (e *StageError) Unwrap() error { return e.Err }

// RecordError is a record that failed, and was not tolerated, before it
// reached the task: its coordinates and the cause.
type RecordError struct {
	TopicPartition connect.TopicPartition
	Offset         int64
	Err            error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s offset %d: %v", e.TopicPartition, e.Offset, e.Err)
}
func (e *RecordError) Unwrap() error { return e.Err }
