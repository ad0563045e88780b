package sink

import (
	"errors"
	"fmt"
)

var (
	// ErrNullValue reports a record with a null value when
	// behavior.on.null.values is fail (Confluent's message).
	ErrNullValue = errors.New("Null valued records are not writeable with current " + BehaviorOnNullValuesConfig + " 'settings.")
	// ErrNullKey reports a record with a null key when store.kafka.keys is
	// true (Confluent's DataException "Key cannot be null for SinkRecord").
	ErrNullKey = errors.New("Key cannot be null for SinkRecord")
	// ErrNoHeaders reports a record without headers when store.kafka.headers
	// is true (Confluent's "Headers cannot be null for SinkRecord").
	ErrNoHeaders = errors.New("Headers cannot be null for SinkRecord")
	// ErrFailed is returned by PreCommit after an earlier store failure:
	// the lease must be retried, and no offset may be committed.
	ErrFailed = errors.New("storage sink failed earlier in this lease")
	// ErrSchemaChanged is returned by a format's Write, which then has
	// written nothing, for a record that does not fit the file's schema: a
	// record whose value schema differs from the file's (Parquet, Avro), or
	// a schemaless record with a new field or a value of another type
	// (Parquet, see parquet_doc.go). The engine closes the file and writes
	// the record to a new one.
	ErrSchemaChanged = errors.New("the record does not fit the file's schema")
)

// IsSchemaChange reports whether an error from a RecordWriter's Write
// means the record needs a new file (ErrSchemaChanged anywhere in its
// chain); it fits Options.IsSchemaChange.
func IsSchemaChange(err error) bool { return errors.Is(err, ErrSchemaChanged) }

// RecordError is a record the sink cannot write (a value the format cannot
// encode, a record the partitioner cannot place, a null value or key). It
// fails the lease; it is not retriable, because the same record fails again.
type RecordError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %s-%d at offset %d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// StoreError is a failure of the store (creating, writing or committing an
// object). The task reports it from PreCommit as retriable, and commits no
// offsets.
type StoreError struct {
	Key string
	Op  string
	Err error
}

func (e *StoreError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.Key, e.Err) }
func (e *StoreError) Unwrap() error { return e.Err }

// ErrUnknownPartitionerClass reports a partitioner.class that is not one of PartitionerClasses.
var ErrUnknownPartitionerClass = errors.New("unknown partitioner class")

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
