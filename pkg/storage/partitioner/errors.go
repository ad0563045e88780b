package partitioner

import (
	"errors"
	"fmt"
)

// ErrUnknownClass reports a partitioner.class that is not one of Classes.
var ErrUnknownClass = errors.New("unknown partitioner class")

// EncodeError reports a record a partitioner cannot place, with Confluent's
// message ("Error encoding partition.", "Unable to determine timestamp
// using timestamp.extractor ...") and the record's coordinates.
type EncodeError struct {
	Topic     string
	Partition int32
	Offset    int64
	Msg       string
	Err       error
}

func (e *EncodeError) Error() string {
	s := fmt.Sprintf("%s (record %s-%d@%d)", e.Msg, e.Topic, e.Partition, e.Offset)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *EncodeError) Unwrap() error { return e.Err }
