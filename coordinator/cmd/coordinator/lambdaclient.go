package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// lambdaRefusals are the Invoke errors with which Lambda refuses an
// invocation without running the function: retrying them cannot run a
// lease twice.
var lambdaRefusals = map[string]struct{}{
	"TooManyRequestsException":  {}, // throttled: concurrency or rate limit
	"EC2ThrottledException":     {},
	"ResourceNotReadyException": {}, // the function is being created or updated
}

// lambdaClient is the Lambda invoker's client (endpoint, if set, replaces
// the region's). Its retryer retries an Invoke only when Lambda refused it
// (lambdaRefusals), never after a connection error, a timeout or a 5xx:
// the function may be running then, and an SDK retry would run the same
// lease twice at once. The coordinator instead treats the outcome as
// unknown and waits out the lease's deadline before it issues the work
// again (lease rule 3).
func lambdaClient(cfg aws.Config, endpoint string) *lambda.Client {
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = []retry.IsErrorRetryable{retry.RetryableErrorCode{Codes: lambdaRefusals}}
		})
	})
}
