package jdbc

import (
	"errors"
	"fmt"
)

// ErrBadURL is returned for a connection.url Sluice cannot connect to:
// not a jdbc:postgresql, jdbc:mysql or jdbc:mariadb URL, or malformed.
var ErrBadURL = errors.New("jdbc: unsupported connection.url")

// ErrUnrepresentable is wrapped by a ValueError: a value that the
// destination (a Connect schema, or a database column) cannot hold
// without changing it.
var ErrUnrepresentable = errors.New("value cannot be represented")

// ValueError is a value that could not be converted between a database
// column and Connect's data model; it names the table and column. A sink
// reports the record carrying it to the errant record reporter (DLQ); a
// source fails the lease with it, naming the row.
type ValueError struct {
	Table  string
	Column string
	Err    error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("table %s column %s: %v", e.Table, e.Column, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// RecordError is a sink record that cannot be written (bad schema, missing
// key, a value the column cannot hold, or a row the database rejects).
// The sink reports it to the errant record reporter; with
// errors.tolerance=all it goes to the DLQ and the lease carries on.
type RecordError struct {
	Err error
}

func (e *RecordError) Error() string { return e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

func recordErrorf(format string, args ...any) error {
	return &RecordError{Err: fmt.Errorf(format, args...)}
}
