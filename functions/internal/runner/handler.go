package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// EventHandler handles an invocation whose payload is not a lease (sink-batch's
// event-triggered exports: a schedule, an on-demand export, Lambda's Kafka
// event). It returns the invocation's response, encoded as JSON, or an error
// wrapping ErrUnknownEvent for a shape it does not know.
type EventHandler func(ctx context.Context, deps Deps, payload json.RawMessage) (any, error)

// Handler serves Lambda invocations, one per call, and is safe for
// concurrent use. A payload is a lease when it is a JSON object with both a
// "kind" and a "connector" member; anything else goes to Events.
//
// What comes back, and why:
//
//   - a handler error, in Lambda's error shape ({"errorMessage",
//     "errorType"}; see the ErrorType constants), when nothing ran: a payload
//     that is not JSON or not a lease, an event shape nobody handles, a lease
//     of the other kind, without id, connector or deadline, for a connector
//     class this build does not have, or whose deadline (its own or the
//     invocation's, whichever is earlier) leaves less than twice the safety
//     margin. Nothing was written or committed. The coordinator's Lambda
//     invoker treats a function error as "outcome unknown" and re-issues the
//     lease after its deadline, which is right for all of these: they are
//     deployment faults (the wrong function, a function older than the
//     coordinator) or a lease that came too late, not faults of the task;
//   - the lease.Result, whatever its status, once the executor ran the
//     lease: succeeded, failed (the task failed; Error and Trace say why, and
//     nothing past the durable data was committed) or expired (the deadline
//     came before the commit; nothing was committed). The coordinator records
//     the outcome, the task's trace and retries with backoff.
type Handler struct {
	// Kind is the lease kind the function runs.
	Kind lease.Kind
	Deps Deps
	// Events handles payloads that are not leases; nil rejects them with
	// ErrUnknownEvent.
	Events EventHandler
}

// Invoke implements aws-lambda-go's lambda.Handler: it decodes the payload,
// runs it and encodes the response; errors take the Lambda error shape.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, lambdaError(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, lambdaError(fmt.Errorf("encoding the response: %w", err))
	}
	return b, nil
}

// Handle dispatches one payload: a lease runs in the executor, anything else
// goes to Events. ctx carries the invocation's deadline; cancelling it makes
// a running lease wrap up and commit.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: the invocation payload (%d bytes) is not JSON", ErrMalformedPayload, len(payload))
	}
	if !isLease(payload) {
		if h.Events == nil {
			return nil, fmt.Errorf("%w: this function runs %s leases only, and the payload is not a lease (a JSON object with \"kind\" and \"connector\")",
				ErrUnknownEvent, h.Kind)
		}
		return h.Events(ctx, h.Deps, payload)
	}
	var l lease.Lease
	if err := json.Unmarshal(payload, &l); err != nil {
		return nil, fmt.Errorf("%w: lease: %w", ErrMalformedPayload, err)
	}
	if err := h.check(ctx, l, time.Now()); err != nil {
		return nil, err
	}
	return h.Deps.Executor.Run(ctx, l), nil
}

// isLease reports whether payload is a JSON object with "kind" and
// "connector" members. Lambda's own events (EventBridge schedules, Kafka
// events) have neither.
func isLease(payload []byte) bool {
	var probe struct {
		Kind      *json.RawMessage `json:"kind"`
		Connector *json.RawMessage `json:"connector"`
	}
	// Only an object decodes into the probe.
	if json.Unmarshal(payload, &probe) != nil {
		return false
	}
	return probe.Kind != nil && probe.Connector != nil
}

// check rejects a lease this function cannot run before anything runs: one
// of the other kind, one lease.Check refuses, or one whose deadline leaves
// too little time.
func (h *Handler) check(ctx context.Context, l lease.Lease, now time.Time) error {
	if l.Kind != h.Kind {
		return fmt.Errorf("%w: this function runs %s leases, lease %s is a %q lease", lease.ErrBadLease, h.Kind, l.ID, l.Kind)
	}
	if _, err := lease.Check(h.Deps.Plugins, l); err != nil {
		return err
	}
	deadline, which := l.Deadline, "the lease's"
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, which = d, "the invocation's"
	}
	// The executor stops working at deadline-2×margin and commits by
	// deadline-margin: with less time than that left it could do nothing.
	margin := h.Deps.Config.SafetyMargin
	if left := deadline.Sub(now); left < 2*margin {
		return fmt.Errorf("%w: lease %s not started: %s deadline %s leaves %s, less than twice the safety margin %s",
			lease.ErrExpired, l.ID, which, deadline.Format(time.RFC3339Nano), left.Round(time.Millisecond), margin)
	}
	return nil
}
