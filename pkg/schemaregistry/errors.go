package schemaregistry

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/twmb/franz-go/pkg/sr"
)

// Sentinels callers test with errors.Is. A registry's answer that names
// one of these conditions wraps it; so does a bad wire-format header.
var (
	// ErrUnknownMagicByte is a payload whose first byte is not 0, which is
	// not in Confluent's wire format (Confluent's "Unknown magic byte!").
	ErrUnknownMagicByte = errors.New("Unknown magic byte!")
	// ErrTooShort is a payload shorter than the 5-byte header.
	ErrTooShort = errors.New("payload is shorter than the 5-byte wire format header")
	// ErrSchemaNotFound is the registry's 40403: no schema with that id.
	ErrSchemaNotFound = errors.New("schema not found")
	// ErrSubjectNotFound is the registry's 40401: no such subject.
	ErrSubjectNotFound = errors.New("subject not found")
	// ErrVersionNotFound is the registry's 40402: no such version.
	ErrVersionNotFound = errors.New("version not found")
	// ErrIncompatible is the registry's 409: the schema is incompatible
	// with the subject's earlier versions.
	ErrIncompatible = errors.New("schema being registered is incompatible with an earlier schema")
	// ErrInvalidSchema is the registry's 42201: the schema does not parse.
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrUnauthorized is a 401 or 403: the credentials were refused.
	ErrUnauthorized = errors.New("not authorized by the schema registry")
	// ErrUnavailable is a registry that could not be reached, timed out,
	// or answered 5xx or 429 on every try: the operation may succeed later.
	ErrUnavailable = errors.New("schema registry unavailable")
)

// ResponseError is an error answer from the registry: its HTTP status, its
// error_code and message. It wraps the sentinel its code names.
type ResponseError struct {
	Method, URL string
	Status      int
	Code        int
	Message     string
}

func (e *ResponseError) Error() string {
	if e.Code == 0 {
		// No error_code: a registry's front (an authenticating proxy, a
		// load balancer) answered, often with an empty body.
		return fmt.Sprintf("schema registry %s %s: %s (HTTP %d)", e.Method, e.URL, e.Message, e.Status)
	}
	return fmt.Sprintf("schema registry %s %s: %s; error code: %d (HTTP %d)", e.Method, e.URL, e.Message, e.Code, e.Status)
}

// Unwrap returns the sentinel that the error code names, or nil.
func (e *ResponseError) Unwrap() error {
	switch {
	case e.Code == 40403:
		return ErrSchemaNotFound
	case e.Code == 40401:
		return ErrSubjectNotFound
	case e.Code == 40402:
		return ErrVersionNotFound
	case e.Code == 409 || e.Status == http.StatusConflict:
		return ErrIncompatible
	case e.Code == 42201:
		return ErrInvalidSchema
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return ErrUnauthorized
	case retriableStatus(e.Status):
		return ErrUnavailable
	}
	return nil
}

func retriableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// fromSR turns franz-go's response error into a *ResponseError; transport
// failures become ErrUnavailable.
func fromSR(err error) error {
	if err == nil {
		return nil
	}
	var re *sr.ResponseError
	if errors.As(err, &re) {
		msg := re.Message
		switch {
		case len(re.Raw) == 0:
			// franz-go says "no response" for an empty body: name the
			// status instead, as Confluent's client does ("Unauthorized").
			msg = http.StatusText(re.StatusCode)
		case msg == "":
			msg = string(re.Raw)
		}
		return &ResponseError{Method: re.Method, URL: re.URL, Status: re.StatusCode, Code: re.ErrorCode, Message: msg}
	}
	if errors.Is(err, errConfig) || errors.Is(err, errNoListing) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// IsRetriable reports whether err may go away if the same call is tried
// again later: the registry was unreachable, timed out or overloaded.
func IsRetriable(err error) bool { return errors.Is(err, ErrUnavailable) }

// errNoListing marks a GET /schemas answer that is not a list of schemas:
// not retried, and the client asks by id instead.
var errNoListing = errors.New("the registry's GET /schemas answer is not a list of schemas")

// errConfig marks configuration errors so that fromSR leaves them alone.
var errConfig = errors.New("schema registry configuration")

// ConfigError is a bad schema registry property. Its message follows
// Kafka's ConfigException: "Invalid value X for configuration K: reason".
type ConfigError struct {
	Key, Value, Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("Invalid value %s for configuration %s: %s", e.Value, e.Key, e.Reason)
}

// Unwrap marks the error as a configuration error.
func (e *ConfigError) Unwrap() error { return errConfig }
