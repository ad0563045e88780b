package converter

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ErrInvalidConfig is wrapped by every ConfigError, so callers can test for
// a configuration problem with errors.Is.
var ErrInvalidConfig = errors.New("invalid converter configuration")

// ConfigError reports a converter property whose value is not accepted
// (Connect's ConfigException). Its message follows Connect's:
// "Invalid value X for configuration K: reason".
type ConfigError struct {
	Key    string
	Value  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("Invalid value %s for configuration %s: %s", e.Value, e.Key, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// dataErrorf returns a *data.Error, Sluice's DataException, which is what
// every conversion failure in this package is; callers match it with
// errors.As.
func dataErrorf(format string, args ...any) error {
	return &data.Error{Msg: fmt.Sprintf(format, args...)}
}

// dataErrorWrap returns a *data.Error carrying Connect's message msg and,
// after it, the cause (Connect keeps the cause in the exception chain).
func dataErrorWrap(msg string, cause error) error {
	if cause == nil {
		return &data.Error{Msg: msg}
	}
	return &data.Error{Msg: msg + " " + cause.Error()}
}

// parseBool parses a BOOLEAN property as Connect's ConfigDef does: "true" or
// "false", case-insensitive, surrounding blanks ignored.
func parseBool(props map[string]string, key string, def bool) (bool, error) {
	v, ok := props[key]
	if !ok {
		return def, nil
	}
	switch lowerTrim(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &ConfigError{Key: key, Value: v, Reason: "Expected value to be either true or false"}
}

func lowerTrim(s string) string {
	b := []byte(s)
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
