package config

import (
	"errors"
	"strconv"
	"strings"
)

// ValidationError reports every problem Def.Parse found in a configuration,
// in declaration order, so a user can fix them all at once.
type ValidationError struct {
	Problems []Problem
}

// Problem is one error message about one key. A key can have several, for
// example a missing required key whose validator also rejects null.
type Problem struct {
	Key     string
	Message string
}

// Error returns the message Kafka Connect's worker returns when it rejects a
// connector configuration (AbstractHerder.maybeAddConfigErrors), so users see
// the same text as with Kafka Connect:
//
//	Connector configuration is invalid and contains the following 2 error(s):
//	Invalid value x for configuration tasks.max: Not a number of type INT
//	Missing required configuration "file" which has no default value.
//	You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("Connector configuration is invalid and contains the following ")
	b.WriteString(strconv.Itoa(len(e.Problems)))
	b.WriteString(" error(s):")
	for _, p := range e.Problems {
		b.WriteByte('\n')
		b.WriteString(p.Message)
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return b.String()
}

// InvalidValueError is one rejected value, Kafka's
// ConfigException(name, value, message). Validators may return it to control
// the whole message; any other error a validator returns is wrapped in one.
type InvalidValueError struct {
	// Name is the configuration key.
	Name string
	// Value is the offending value: the raw string for a value that did not
	// parse, the parsed value for one a validator rejected.
	Value any
	// Reason says what is wrong, without the key or value.
	Reason string
}

// InvalidValue returns the error Kafka's ConfigException(name, value, reason)
// would carry.
func InvalidValue(name string, value any, reason string) *InvalidValueError {
	return &InvalidValueError{Name: name, Value: value, Reason: reason}
}

// Error returns "Invalid value <value> for configuration <name>: <reason>",
// with the value printed as Java prints it (null, [a, b], [hidden]).
func (e *InvalidValueError) Error() string {
	msg := "Invalid value " + javaString(e.Value) + " for configuration " + e.Name
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// missingMessage is Kafka's message for an absent key that has no default.
func missingMessage(name string) string {
	return `Missing required configuration "` + name + `" which has no default value.`
}

// undefinedDependentMessage is Kafka's message for a dependent that names no
// declared key.
func undefinedDependentMessage(name string) string {
	return name + " is referred in the dependents, but not defined."
}

// validatorMessage turns a validator's error into the message shown to
// users: an *InvalidValueError anywhere in the chain is kept as it is, any
// other error becomes the reason of one.
func validatorMessage(name string, value any, err error) string {
	if ive, ok := errors.AsType[*InvalidValueError](err); ok {
		return ive.Error()
	}
	return InvalidValue(name, value, err.Error()).Error()
}
