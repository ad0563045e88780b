package transforms

import (
	"errors"
	"fmt"
)

// Error is an error from one transformation of a Chain.
type Error struct {
	Alias, Class string
	Err          error
}

func (e *Error) Error() string {
	return fmt.Sprintf("transformation %s (%s): %v", e.Alias, e.Class, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// errConfig marks configuration errors found after parsing (Connect's
// ConfigException thrown from configure).
var errConfig = errors.New("invalid configuration")

// configError is a ConfigException thrown from configure, after the keys
// parsed: its message is Connect's as it is.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// Is makes errors.Is(err, errConfig) true.
func (e *configError) Is(target error) bool { return target == errConfig }
