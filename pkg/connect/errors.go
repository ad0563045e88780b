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

// ErrUnknownPlugin is returned for a class name or alias no plugin has.
var ErrUnknownPlugin = errors.New("unknown plugin")
