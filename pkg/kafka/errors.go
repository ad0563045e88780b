package kafka

import (
	"errors"
	"fmt"
	"net"

	"github.com/IBM/sarama"
)

var (
	// ErrOffsetOutOfRange reports a fetch below the partition's log start
	// offset (the data was deleted by retention or DeleteRecords) or above
	// its high watermark. The wrapping error names the offsets.
	ErrOffsetOutOfRange = errors.New("kafka: offset out of range")

	// ErrBeyondHighWatermark reports a fetch range whose end is beyond the
	// partition's high watermark: the records do not exist yet.
	ErrBeyondHighWatermark = errors.New("kafka: range end beyond high watermark")

	// ErrInvalidRange reports a negative offset or a range whose end is
	// before its start.
	ErrInvalidRange = errors.New("kafka: invalid offset range")

	// ErrProducerClosed is recorded for messages sent after Producer.Close.
	ErrProducerClosed = errors.New("kafka: producer closed")

	// ErrGroupActive reports a commit, offset delete or group delete
	// refused because the consumer group has active members: committing
	// without joining, and deleting, are only allowed for empty groups.
	ErrGroupActive = errors.New("kafka: consumer group has active members")

	// ErrTxnFatal reports a transactional producer that cannot go on:
	// almost always because a newer producer with the same transactional
	// id fenced it (or its id is not authorised, or expired). Its open
	// transaction is aborted by the broker. IsFenced is true for it.
	ErrTxnFatal = errors.New("kafka: transactional producer fenced (or its transactional id refused)")

	// ErrTxnAbortable reports a transaction that failed (a record was
	// refused) and can only be aborted.
	ErrTxnAbortable = errors.New("kafka: transaction failed and must be aborted")

	// ErrUnknownTopic reports a request about a topic that does not exist.
	ErrUnknownTopic = errors.New("kafka: unknown topic")
)

// ProduceError is a failed produce of one message, as returned by
// Producer.Flush and Producer.Close.
type ProduceError struct {
	Topic     string
	Partition int32 // -1 if the message failed before a partition was chosen
	Err       error
}

func (e *ProduceError) Error() string {
	return fmt.Sprintf("kafka: produce to %s[%d]: %v", e.Topic, e.Partition, e.Err)
}

func (e *ProduceError) Unwrap() error { return e.Err }

// IsRetriable reports whether err is a transient Kafka condition (leader
// movement, coordinator loading, network failure) that a later attempt may
// not hit.
func IsRetriable(err error) bool {
	var kerr sarama.KError
	if errors.As(err, &kerr) {
		return retriableKError(kerr)
	}
	var nerr net.Error
	return errors.As(err, &nerr) ||
		errors.Is(err, sarama.ErrNotConnected) ||
		errors.Is(err, sarama.ErrOutOfBrokers) ||
		errors.Is(err, sarama.ErrBrokerNotAvailable)
}

func retriableKError(k sarama.KError) bool {
	switch k {
	case sarama.ErrNotLeaderForPartition,
		sarama.ErrLeaderNotAvailable,
		sarama.ErrUnknownTopicOrPartition,
		sarama.ErrReplicaNotAvailable,
		sarama.ErrRequestTimedOut,
		sarama.ErrNetworkException,
		sarama.ErrKafkaStorageError,
		sarama.ErrFencedLeaderEpoch,
		sarama.ErrUnknownLeaderEpoch,
		sarama.ErrOffsetNotAvailable,
		sarama.ErrNotEnoughReplicas,
		sarama.ErrNotEnoughReplicasAfterAppend,
		sarama.ErrOffsetsLoadInProgress,
		sarama.ErrConsumerCoordinatorNotAvailable,
		sarama.ErrNotCoordinatorForConsumer,
		sarama.ErrNotController,
		sarama.ErrBrokerNotAvailable:
		return true
	}
	return false
}

func coordinatorKError(k sarama.KError) bool {
	switch k {
	case sarama.ErrOffsetsLoadInProgress,
		sarama.ErrConsumerCoordinatorNotAvailable,
		sarama.ErrNotCoordinatorForConsumer,
		sarama.ErrRequestTimedOut:
		return true
	}
	return false
}
