package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Code is an S3 error code, such as "NoSuchBucket". The Err* values are
// Codes, so errors.Is(err, s3store.ErrNoSuchBucket) tells what S3 said
// whatever operation failed.
type Code string

// Error returns the code.
func (c Code) Error() string { return string(c) }

// S3 error codes callers act on.
var (
	// ErrAccessDenied: the credentials are valid but not allowed to do this
	// (IAM policy, bucket policy, KMS key policy).
	ErrAccessDenied error = Code("AccessDenied")
	// ErrInvalidAccessKeyID: the access key ID does not exist. It also
	// matches versitygw's XAdminUserNotFound, its answer to the same
	// mistake.
	ErrInvalidAccessKeyID error = Code("InvalidAccessKeyId")
	// ErrSignatureDoesNotMatch: the secret access key is wrong (or the
	// clock, region or endpoint is).
	ErrSignatureDoesNotMatch error = Code("SignatureDoesNotMatch")
	// ErrNoSuchBucket: s3.bucket.name does not exist.
	ErrNoSuchBucket error = Code("NoSuchBucket")
	// ErrNoSuchKey: Open found no object; the error also matches
	// fs.ErrNotExist.
	ErrNoSuchKey error = Code("NoSuchKey")
	// ErrNoSuchUpload: the multipart upload is gone (aborted, or expired
	// by a lifecycle rule).
	ErrNoSuchUpload error = Code("NoSuchUpload")
)

// ErrClosed is returned by a Writer used after Commit or Abort.
var ErrClosed = errors.New("s3store: object writer already committed or aborted")

// Error is a failed S3 request. Its message names the operation, the
// bucket and key, and the S3 error code:
//
//	s3store: PutObject s3://bucket/key: NoSuchBucket (HTTP 404): The specified bucket does not exist
type Error struct {
	// Op is the S3 operation, such as "PutObject" or "UploadPart".
	Op     string
	Bucket string
	Key    string
	// Part is the part number for UploadPart, else 0.
	Part int
	// Code is the S3 error code, or "" when there was no S3 answer (for
	// example a connection refused).
	Code string
	// Message is S3's message for Code.
	Message string
	// StatusCode is the HTTP status, or 0 when there was no answer.
	StatusCode int
	// Err is the SDK's error.
	Err error
}

func (e *Error) Error() string {
	where := "s3://" + e.Bucket + "/" + e.Key
	if e.Part > 0 {
		where += " part " + strconv.Itoa(e.Part)
	}
	if e.Code == "" && e.StatusCode == 0 {
		return fmt.Sprintf("s3store: %s %s: %v", e.Op, where, e.Err)
	}
	code := e.Code
	if code == "" {
		code = "no error code"
	}
	msg := fmt.Sprintf("s3store: %s %s: %s (HTTP %d)", e.Op, where, code, e.StatusCode)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns the SDK's error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches a Code equal to e.Code, and fs.ErrNotExist for NoSuchKey (and
// a 404 without a code, as HEAD requests get).
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return string(t) == e.Code || codeAliases[e.Code] == t
	}
	if target == fs.ErrNotExist {
		return e.Code == string(ErrNoSuchKey.(Code)) || (e.Code == "" && e.StatusCode == 404)
	}
	return false
}

// codeAliases maps codes some S3-compatible servers use to the code AWS
// uses for the same mistake.
var codeAliases = map[string]Code{
	"XAdminUserNotFound": "InvalidAccessKeyId", // versitygw
}

// wrap turns an SDK error into an *Error; nil stays nil.
func wrap(op, bucket, key string, part int, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Bucket: bucket, Key: key, Part: part, Err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = apiErr.ErrorCode()
		e.Message = apiErr.ErrorMessage()
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		e.StatusCode = respErr.HTTPStatusCode()
	}
	return e
}

// transientCodes are S3 error codes worth retrying: throttling and
// server-side trouble, as the AWS SDKs' retryers treat them.
var transientCodes = map[string]bool{
	"SlowDown":                               true,
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"ThrottledException":                     true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"BandwidthLimitExceeded":                 true,
	"ProvisionedThroughputExceededException": true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
	"InternalError":                          true,
	"ServiceUnavailable":                     true,
	"PriorRequestNotComplete":                true,
}

// IsRetriable reports whether err is transient, so that doing the same work
// again later (a fresh Create and Commit, a re-issued lease) may succeed:
// an HTTP 5xx or 429, an S3 throttling code, a timeout, or a connection
// that was refused, reset or cut short. Credentials, permission and
// missing-bucket errors are not, and neither is a cancelled context: that
// is the caller's own decision.
func IsRetriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) && (e.Code != "" || e.StatusCode != 0) {
		return e.StatusCode >= 500 || e.StatusCode == 429 || transientCodes[e.Code]
	}
	for _, errno := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}
