package elasticsearch

import (
	"errors"
	"fmt"
)

// ErrInvalidRecord is wrapped by the errors of records that cannot become a
// document: no usable key for the ID, a value that is not a JSON object, a
// null value under behavior.on.null.values=FAIL.
var ErrInvalidRecord = errors.New("invalid record")

// ErrRetriesExhausted is wrapped by the error returned when a request still
// failed (429, 5xx, unreachable) after max.retries retries.
var ErrRetriesExhausted = errors.New("retries exhausted")

// ErrNoDataStreams is wrapped by the error of a sink with data.stream.type
// set whose server has no data stream API: Elasticsearch's OSS
// distribution (data streams are in the default distribution's X-Pack
// since 7.9) and Elasticsearch before 7.9. Retrying changes nothing.
var ErrNoDataStreams = errors.New("the server has no data stream API")

// DocumentError is the server's rejection of one document of a bulk
// request: its index, ID, HTTP status and the error's type and reason.
// Reported as an errant record, its message (with the reason) goes into
// the dead letter queue's __connect.errors.exception.message header.
type DocumentError struct {
	Index  string
	ID     string
	Status int
	Type   string
	Reason string
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("indexing document %q in index %q failed with status %d: %s: %s", e.ID, e.Index, e.Status, e.Type, e.Reason)
}

// HTTPError is an error answer to a whole request.
type HTTPError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// retriable reports whether a request that got this status may succeed
// when sent again.
func retriableStatus(status int) bool { return status == 429 || status >= 500 }
