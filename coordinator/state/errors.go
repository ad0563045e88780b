package state

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed reports a call on a closed Log or Store.
	ErrClosed = errors.New("state: closed")

	// ErrUnknownConnector reports a write for a connector that has no
	// configuration: Connect's readers ignore task configs of such a
	// connector, so the write would never become visible.
	ErrUnknownConnector = errors.New("state: unknown connector")

	// ErrStaleStatus reports a status write refused because the stored
	// status was written by another worker in a newer generation (Connect's
	// putSafe rule).
	ErrStaleStatus = errors.New("state: status is older than the stored one")

	// ErrInvalid reports an argument that cannot be written: an empty
	// connector name, an unknown state, a negative task id.
	ErrInvalid = errors.New("state: invalid argument")
)

// PartitionCountError reports a configs topic with more than one partition,
// which Connect refuses: connector and task records must keep one total
// order. Error returns Connect's own message.
type PartitionCountError struct {
	Topic      string
	Property   string // the worker property that named the topic
	Partitions int
}

func (e *PartitionCountError) Error() string {
	return fmt.Sprintf("Topic '%s' supplied via the '%s' property is required "+
		"to have a single partition in order to guarantee consistency of "+
		"connector configurations, but found %d partitions.",
		e.Topic, e.Property, e.Partitions)
}
