// Package awslambda is the coordinator's AWS Lambda invoker: one
// synchronous invocation per lease. It lives apart from package invoke so
// that the function binaries, which use invoke's pull client, do not link
// the Lambda API client.
package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// LambdaAPI is the part of the Lambda client the invoker uses.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Lambda invokes one AWS Lambda function per lease, synchronously
// (RequestResponse) with the lease as the JSON payload: SourceFunction for
// source leases, SinkFunction for sink leases. A function error (the
// X-Amz-Function-Error header) or an invocation error is returned as an
// error: the lease's outcome is unknown and the coordinator re-issues it
// after its deadline.
type Lambda struct {
	Client         LambdaAPI
	SourceFunction string
	SinkFunction   string
}

// FunctionError is an error a function returned, in Lambda's error shape.
type FunctionError struct {
	Function     string
	Kind         string   // X-Amz-Function-Error: "Unhandled" or "Handled"
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed (%s): %s: %s", e.Function, e.Kind, e.ErrorType, e.ErrorMessage)
}

// Invoke runs the lease in the function for its kind.
func (l *Lambda) Invoke(ctx context.Context, ls lease.Lease) (lease.Result, error) {
	fn := l.SourceFunction
	if ls.Kind == lease.KindSink {
		fn = l.SinkFunction
	}
	if fn == "" {
		return lease.Result{}, fmt.Errorf("no Lambda function configured for %s leases", ls.Kind)
	}
	payload, err := json.Marshal(ls)
	if err != nil {
		return lease.Result{}, err
	}
	// The invocation may not outlive the lease.
	ctx, cancel := context.WithDeadline(ctx, ls.Deadline)
	defer cancel()
	out, err := l.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(fn),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return lease.Result{}, fmt.Errorf("invoking %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		fe := &FunctionError{Function: fn, Kind: *out.FunctionError}
		if jerr := json.Unmarshal(out.Payload, fe); jerr != nil {
			fe.ErrorMessage = string(out.Payload)
		}
		return lease.Result{}, fe
	}
	var res lease.Result
	if err := json.Unmarshal(out.Payload, &res); err != nil {
		return lease.Result{}, fmt.Errorf("function %s returned a payload that is not a lease result: %w", fn, err)
	}
	if res.LeaseID != ls.ID {
		return lease.Result{}, errors.New("function " + fn + " returned the result of another lease (" + res.LeaseID + ")")
	}
	return res, nil
}
