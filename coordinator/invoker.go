package coordinator

import (
	"context"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// Invoker runs a lease somewhere and returns its result: in this process,
// in a Lambda function, or on a long-lived worker. An error means the
// lease's outcome is unknown (the invocation itself failed); the coordinator
// then treats the lease as lost and re-issues the same work after its
// deadline.
type Invoker interface {
	Invoke(ctx context.Context, l lease.Lease) (lease.Result, error)
}

// InProcess runs leases in this process with an executor (dev mode, tests).
type InProcess struct {
	Executor *lease.Executor
}

// Invoke runs the lease.
func (p InProcess) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	return p.Executor.Run(ctx, l), nil
}
