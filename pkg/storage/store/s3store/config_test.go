package s3store

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

func TestParseConfig(t *testing.T) {
	base := func(extra ...string) map[string]string {
		p := map[string]string{BucketConfig: "b"}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	tests := []struct {
		name    string
		props   map[string]string
		want    Settings
		errKeys []string
	}{
		{
			name:  "defaults",
			props: base(),
			want: Settings{Bucket: "b", Region: DefaultRegion, PathStyle: true, PartSize: DefaultPartSize,
				PartRetries: DefaultPartRetries, RetryBackoff: DefaultRetryBackoff},
		},
		{
			name: "everything set",
			props: base(RegionConfig, "eu-west-1", "store.url", "http://127.0.0.1:9000", PathStyleConfig, "false",
				PartSizeConfig, "5242880", AccessKeyIDConfig, "AK", SecretAccessKeyConfig, "SK", SSEAlgorithmConfig, "aws:kms",
				SSEKMSKeyIDConfig, "kms-1", CannedACLConfig, "bucket-owner-full-control", PartRetriesConfig, "0", RetryBackoffConfig, "5"),
			want: Settings{Bucket: "b", Region: "eu-west-1", Endpoint: "http://127.0.0.1:9000", PathStyle: false,
				PartSize: MinPartSize, AccessKeyID: "AK", SecretAccessKey: "SK", SSEAlgorithm: SSEKMS, SSEKMSKeyID: "kms-1",
				CannedACL: "bucket-owner-full-control", PartRetries: 0, RetryBackoff: 5 * time.Millisecond},
		},
		{
			name:  "sse-c",
			props: base(SSEAlgorithmConfig, "AES256", SSECustomerKeyConfig, "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="),
			want: Settings{Bucket: "b", Region: DefaultRegion, PathStyle: true, PartSize: DefaultPartSize,
				PartRetries: DefaultPartRetries, RetryBackoff: DefaultRetryBackoff, SSEAlgorithm: SSEAES256,
				SSECustomerKey: "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="},
		},
		{name: "bucket missing", props: map[string]string{}, errKeys: []string{BucketConfig}},
		{name: "part size below 5 MiB", props: base(PartSizeConfig, "1048576"), errKeys: []string{PartSizeConfig}},
		{name: "unknown sse algorithm", props: base(SSEAlgorithmConfig, "rot13"), errKeys: []string{SSEAlgorithmConfig}},
		{name: "bad canned acl", props: base(CannedACLConfig, "world-writable"), errKeys: []string{CannedACLConfig}},
		{name: "negative retries", props: base(PartRetriesConfig, "-1"), errKeys: []string{PartRetriesConfig}},
		{name: "endpoint not a URL", props: base("store.url", "minio:9000"), errKeys: []string{"store.url"}},
		{name: "access key without secret", props: base(AccessKeyIDConfig, "AK"), errKeys: []string{AccessKeyIDConfig}},
		{name: "customer key not 256 bits", props: base(SSEAlgorithmConfig, "AES256", SSECustomerKeyConfig, "c2hvcnQ="), errKeys: []string{SSECustomerKeyConfig}},
		{name: "several problems at once", props: base(PartSizeConfig, "1", SSEAlgorithmConfig, "x", "store.url", "ftp://h"),
			errKeys: []string{PartSizeConfig, SSEAlgorithmConfig, "store.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSettings(tt.props)
			if len(tt.errKeys) == 0 {
				if err != nil {
					t.Fatalf("ParseSettings: %v", err)
				}
				if got != tt.want {
					t.Fatalf("ParseSettings =\n%+v, want\n%+v", got, tt.want)
				}
				return
			}
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *config.ValidationError", err)
			}
			for _, key := range tt.errKeys {
				found := false
				for _, p := range ve.Problems {
					found = found || (p.Key == key && strings.Contains(p.Message, key))
				}
				if !found {
					t.Errorf("no problem names %s in %v", key, ve)
				}
			}
			if strings.Contains(err.Error(), "MDEy") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestConfigDefDocumentsEveryKey(t *testing.T) {
	def := Config()
	for _, k := range def.Keys() {
		if k.Doc == "" || k.Group != "S3" || k.DisplayName == "" {
			t.Errorf("key %s lacks doc, group or display name", k.Name)
		}
	}
	secret, _ := def.Key(SecretAccessKeyConfig)
	if secret.Type != config.Password {
		t.Errorf("%s is %v, want PASSWORD", SecretAccessKeyConfig, secret.Type)
	}
	if k, _ := def.Key(PartSizeConfig); k.ValidValues() != "[5242880,...,2147483647]" {
		t.Errorf("%s valid values %q", PartSizeConfig, k.ValidValues())
	}
}

func TestIsRetriable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "500", err: &Error{Code: "InternalError", StatusCode: 500}, want: true},
		{name: "503 slow down", err: &Error{Code: "SlowDown", StatusCode: 503}, want: true},
		{name: "throttling 400", err: &Error{Code: "Throttling", StatusCode: 400}, want: true},
		{name: "429 no code", err: &Error{StatusCode: 429}, want: true},
		{name: "access denied", err: &Error{Code: "AccessDenied", StatusCode: 403}, want: false},
		{name: "no such bucket", err: &Error{Code: "NoSuchBucket", StatusCode: 404}, want: false},
		{name: "signature", err: &Error{Code: "SignatureDoesNotMatch", StatusCode: 403}, want: false},
		{name: "connection refused", err: &Error{Op: "PutObject", Err: refused}, want: true},
		{name: "connection reset", err: fmt.Errorf("x: %w", syscall.ECONNRESET), want: true},
		{name: "unexpected EOF", err: fmt.Errorf("x: %w", io.ErrUnexpectedEOF), want: true},
		{name: "cancelled", err: fmt.Errorf("x: %w", errors.Join(refused, contextCanceled())), want: false},
		{name: "plain error", err: errors.New("boom"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRetriable(tt.err); got != tt.want {
				t.Fatalf("IsRetriable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "s3 answer", err: &Error{Op: "PutObject", Bucket: "b", Key: "k", Code: "NoSuchBucket", StatusCode: 404, Message: "The specified bucket does not exist"},
			want: "s3store: PutObject s3://b/k: NoSuchBucket (HTTP 404): The specified bucket does not exist"},
		{name: "part", err: &Error{Op: "UploadPart", Bucket: "b", Key: "k", Part: 3, Code: "AccessDenied", StatusCode: 403},
			want: "s3store: UploadPart s3://b/k part 3: AccessDenied (HTTP 403)"},
		{name: "no answer", err: &Error{Op: "PutObject", Bucket: "b", Key: "k", Err: errors.New("connection refused")},
			want: "s3store: PutObject s3://b/k: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func contextCanceled() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx.Err()
}

// The ACL and encryption headers are derived once from the configuration:
// SSE-C carries the key and its MD5, SSE-S3 and SSE-KMS only the algorithm
// (and KMS key).
func TestHeaders(t *testing.T) {
	const key = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=" // base64 of the 32 bytes below
	sum := md5.Sum([]byte("01234567890123456789012345678901"))
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])

	h := newHeaders(Settings{SSEAlgorithm: SSEAES256, SSECustomerKey: key, CannedACL: "bucket-owner-full-control"})
	if h.acl != types.ObjectCannedACLBucketOwnerFullControl || h.sse != "" || h.kmsKeyID != nil ||
		aws.ToString(h.customerAlgorithm) != SSEAES256 || aws.ToString(h.customerKey) != key ||
		aws.ToString(h.customerKeyMD5) != wantMD5 {
		t.Errorf("SSE-C headers = %+v", h)
	}
	h = newHeaders(Settings{SSEAlgorithm: SSEKMS, SSEKMSKeyID: "arn:aws:kms:k"})
	if h.acl != "" || h.sse != types.ServerSideEncryptionAwsKms || aws.ToString(h.kmsKeyID) != "arn:aws:kms:k" ||
		h.customerAlgorithm != nil || h.customerKey != nil || h.customerKeyMD5 != nil {
		t.Errorf("SSE-KMS headers = %+v", h)
	}
	h = newHeaders(Settings{SSEAlgorithm: SSEAES256})
	if h.sse != types.ServerSideEncryptionAes256 || h.kmsKeyID != nil || h.customerKey != nil {
		t.Errorf("SSE-S3 headers = %+v", h)
	}
	if h := newHeaders(Settings{}); h != (headers{}) {
		t.Errorf("no headers configured, got %+v", h)
	}
}
