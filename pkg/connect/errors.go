package connect

import "errors"

// RetriableError marks an error after which the same operation may succeed
// if tried again (Connect's RetriableException).
type RetriableError struct{ Err error }

func (e *RetriableError) Error() string { return e.Err.Error() }
func (e *RetriableError) Unwrap() error { return e.Err }

// Retriable wraps err as retriable; nil stays nil.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return &RetriableError{Err: err}
}

// IsRetriable reports whether err, or any error it wraps, is retriable.
func IsRetriable(err error) bool {
	var r *RetriableError
	return errors.As(err, &r)
}

// IntolerableError marks a failure that says nothing about the record at
// hand but about the configuration (a schema registry refusing the
// credentials): errors.tolerance does not apply to it, so the lease fails
// (not retriably) instead of sending every record to the dead letter queue.
type IntolerableError struct{ Err error }

func (e *IntolerableError) Error() string { return e.Err.Error() }
func (e *IntolerableError) Unwrap() error { return e.Err }

// Intolerable wraps err as a failure errors.tolerance does not tolerate;
// nil stays nil.
func Intolerable(err error) error {
	if err == nil {
		return nil
	}
	return &IntolerableError{Err: err}
}

// IsIntolerable reports whether err, or any error it wraps, is intolerable.
func IsIntolerable(err error) bool {
	var r *IntolerableError
	return errors.As(err, &r)
}

// ErrUnknownPlugin is returned for a class name or alias no plugin has.
var ErrUnknownPlugin = errors.New("unknown plugin")
