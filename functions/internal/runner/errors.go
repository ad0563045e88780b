package runner

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

var (
	// ErrMalformedPayload reports an invocation payload that is not JSON,
	// or a lease that does not decode.
	ErrMalformedPayload = errors.New("malformed payload")
	// ErrUnknownEvent reports a payload that is neither a lease nor an
	// event this function handles. An EventHandler returns it (or an error
	// wrapping it) for shapes it does not know.
	ErrUnknownEvent = errors.New("unknown event shape")
)

// The errorType values of the Lambda errors a function returns
// ({"errorMessage", "errorType"}), one per kind of rejected invocation.
const (
	ErrorTypeMalformedPayload = "Sluice.MalformedPayload"
	ErrorTypeUnknownEvent     = "Sluice.UnknownEvent"
	ErrorTypeBadLease         = "Sluice.BadLease"
	ErrorTypeLeaseExpired     = "Sluice.LeaseExpired"
	ErrorTypeEventFailed      = "Sluice.EventFailed"
)

// lambdaError renders a handler error in Lambda's error shape with an
// errorType that says what was wrong; aws-lambda-go would otherwise name
// the Go type ("wrapError").
func lambdaError(err error) messages.InvokeResponse_Error {
	typ := ErrorTypeEventFailed
	switch {
	case errors.Is(err, ErrMalformedPayload):
		typ = ErrorTypeMalformedPayload
	case errors.Is(err, ErrUnknownEvent):
		typ = ErrorTypeUnknownEvent
	case errors.Is(err, lease.ErrExpired):
		typ = ErrorTypeLeaseExpired
	case errors.Is(err, lease.ErrBadLease):
		typ = ErrorTypeBadLease
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: typ}
}
