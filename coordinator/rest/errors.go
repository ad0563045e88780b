package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Messages Connect's REST layer uses for leadership problems
// (HerderRequestHandler.completeOrForwardRequest).
const (
	// ConflictMessage is Connect's text when a request cannot find the leader
	// within two hops, and the default message of a ConflictError.
	ConflictMessage = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
	// NoLeaderMessage is Connect's text when a write reaches a follower that
	// does not know the leader.
	NoLeaderMessage = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
	// StaleConfigMessage is Connect's text for its RebalanceNeededException;
	// a herder may use it as a ConflictError's message.
	StaleConfigMessage = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"
)

// NotFoundError is Connect's NotFoundException: the REST layer answers 404.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

// ConnectorNotFound returns the error Connect's herders return for an
// unknown connector: "Connector <name> not found".
func ConnectorNotFound(name string) *NotFoundError {
	return &NotFoundError{Message: "Connector " + name + " not found"}
}

// AlreadyExistsError is Connect's AlreadyExistsException: 409.
type AlreadyExistsError struct{ Message string }

func (e *AlreadyExistsError) Error() string { return e.Message }

// ConnectorExists returns the error Connect's herders return when creating a
// connector whose name is taken: "Connector <name> already exists".
func ConnectorExists(name string) *AlreadyExistsError {
	return &AlreadyExistsError{Message: "Connector " + name + " already exists"}
}

// BadRequestError is Connect's BadRequestException: 400. A
// *config.ValidationError (Connect's "Connector configuration is invalid and
// contains the following N error(s): ...") is answered 400 as well.
type BadRequestError struct{ Message string }

func (e *BadRequestError) Error() string { return e.Message }

// ConflictError is a 409 that is not about an existing name: a rebalance, a
// concurrent configuration change, no leader. An empty Message means
// ConflictMessage.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string {
	if e.Message == "" {
		return ConflictMessage
	}
	return e.Message
}

// NotLeaderError is Connect's RequestTargetException: this node cannot
// perform the write and the REST layer forwards the request to LeaderURL (the
// leader's REST base URL, such as "http://10.0.0.7:8083"), or answers 409
// with NoLeaderMessage when LeaderURL is empty.
type NotLeaderError struct{ LeaderURL string }

func (e *NotLeaderError) Error() string {
	if e.LeaderURL == "" {
		return "not the leader, and no leader is known"
	}
	return "not the leader; the leader is " + e.LeaderURL
}

// StatusError carries any other status and message, Connect's
// ConnectRestException (for example 403 "Topic tracking is disabled.").
type StatusError struct {
	StatusCode int
	Message    string
}

func (e *StatusError) Error() string { return e.Message }

// errorStatus maps an error to the status and message Connect's
// ConnectExceptionMapper would answer with. Unknown errors are 500 with the
// error's text, as in Connect.
func errorStatus(err error) (int, string) {
	var (
		notFound  *NotFoundError
		exists    *AlreadyExistsError
		bad       *BadRequestError
		invalid   *config.ValidationError
		conflict  *ConflictError
		status    *StatusError
		tooLarge  *http.MaxBytesError
		notLeader *NotLeaderError
	)
	switch {
	case errors.As(err, &notFound):
		return http.StatusNotFound, notFound.Message
	case errors.As(err, &exists):
		return http.StatusConflict, exists.Message
	case errors.As(err, &bad):
		return http.StatusBadRequest, bad.Message
	case errors.As(err, &invalid):
		return http.StatusBadRequest, invalid.Error()
	case errors.As(err, &conflict):
		return http.StatusConflict, conflict.Error()
	case errors.As(err, &notLeader):
		// Only reached when forwarding is impossible.
		return http.StatusConflict, NoLeaderMessage
	case errors.As(err, &status):
		return status.StatusCode, status.Message
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, "Request body is larger than the limit of " + itoa64(tooLarge.Limit) + " bytes"
	case errors.Is(err, context.DeadlineExceeded):
		// Connect's answer when the herder misses its 90 s deadline.
		return http.StatusInternalServerError, "Request timed out"
	default:
		return http.StatusInternalServerError, err.Error()
	}
}
