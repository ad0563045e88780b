package s3store

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
)

// Property names, exactly as Confluent's S3 sink connector
// (S3SinkConnectorConfig) spells them.
const (
	BucketConfig          = "s3.bucket.name"
	RegionConfig          = "s3.region"
	PartSizeConfig        = "s3.part.size"
	AccessKeyIDConfig     = "aws.access.key.id"
	SecretAccessKeyConfig = "aws.secret.access.key"
	SSEAlgorithmConfig    = "s3.ssea.name"
	SSECustomerKeyConfig  = "s3.sse.customer.key"
	SSEKMSKeyIDConfig     = "s3.sse.kms.key.id"
	CannedACLConfig       = "s3.acl.canned"
	PartRetriesConfig     = "s3.part.retries"
	RetryBackoffConfig    = "s3.retry.backoff.ms"
	PathStyleConfig       = "s3.path.style.access.enabled"
)

// Defaults and limits, as in Confluent's S3 sink connector.
const (
	// DefaultPartSize is s3.part.size's default, 25 MiB.
	DefaultPartSize = 25 << 20
	// MinPartSize is the smallest part S3 accepts (except the last), 5 MiB.
	MinPartSize = 5 << 20
	// MaxParts is the most parts a multipart upload may have.
	MaxParts = 10000
	// DefaultRegion is s3.region's default, the AWS SDK for Java's
	// Regions.DEFAULT_REGION.
	DefaultRegion = "us-west-2"
	// DefaultPartRetries is s3.part.retries's default.
	DefaultPartRetries = 3
	// DefaultRetryBackoff is s3.retry.backoff.ms's default.
	DefaultRetryBackoff = 200 * time.Millisecond
	// maxRetryBackoff caps the exponential backoff, Confluent's
	// S3_RETRY_MAX_BACKOFF_TIME_MS (24 h); the context's deadline normally
	// ends the wait long before.
	maxRetryBackoff = 24 * time.Hour
)

// SSE algorithms accepted by s3.ssea.name.
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// cannedACLs are the values of s3.acl.canned, the header values of the AWS
// SDK for Java's CannedAccessControlList.
var cannedACLs = []string{
	"private", "public-read", "public-read-write", "authenticated-read",
	"log-delivery-write", "bucket-owner-read", "bucket-owner-full-control",
	"aws-exec-read",
}

const group = "S3"

// Config returns the S3 store's keys, Confluent's S3 group, for a
// connector to merge into its own Def. It does not declare store.url (for S3
// the endpoint of an S3-compatible server), which storage.StoreURLKey
// declares for every store.
func Config() *config.Def {
	order := 0
	next := func() int { order++; return order }
	return config.NewDef().
		Define(config.Key{Name: BucketConfig, Type: config.String, Default: config.NoDefault,
			Validator: config.NonEmptyString(), Importance: config.High,
			Doc: "The S3 Bucket.", Group: group, OrderInGroup: next(), Width: config.WidthLong,
			DisplayName: "S3 Bucket"}).
		Define(config.Key{Name: RegionConfig, Type: config.String, Default: DefaultRegion,
			Validator: config.NonEmptyString(), Importance: config.Medium,
			Doc: "The AWS region to be used the connector.", Group: group, OrderInGroup: next(),
			Width: config.WidthLong, DisplayName: "AWS region"}).
		Define(config.Key{Name: PartSizeConfig, Type: config.Int, Default: DefaultPartSize,
			Validator: partRange{}, Importance: config.High,
			Doc: "The Part Size in S3 Multi-part Uploads. It is also the most memory each open " +
				"object holds, whatever the object's size.",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "S3 Part Size"}).
		Define(config.Key{Name: AccessKeyIDConfig, Type: config.String, Default: "",
			Importance: config.High,
			Doc: "The AWS access key ID used to authenticate personal AWS credentials such as IAM " +
				"credentials. When empty, the AWS SDK's default credential chain is used " +
				"(environment, shared config, web identity, ECS or EC2 role).",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "AWS Access Key ID"}).
		Define(config.Key{Name: SecretAccessKeyConfig, Type: config.Password, Default: nil,
			Importance: config.High,
			Doc: "The secret access key used to authenticate personal AWS credentials such as IAM " +
				"credentials. Set together with " + AccessKeyIDConfig + ".",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "AWS Secret Access Key"}).
		Define(config.Key{Name: SSEAlgorithmConfig, Type: config.String, Default: "",
			Validator: config.ValidString("", SSEAES256, SSEKMS), Importance: config.Low,
			Doc: "The S3 Server Side Encryption Algorithm.", Group: group, OrderInGroup: next(),
			Width: config.WidthLong, DisplayName: "S3 Server Side Encryption Algorithm"}).
		Define(config.Key{Name: SSECustomerKeyConfig, Type: config.Password, Default: nil,
			Validator: sseCustomerKey{}, Importance: config.Low,
			Doc: "The S3 Server Side Encryption Customer-Provided Key (SSE-C): a base64-encoded " +
				"256-bit key, used when " + SSEAlgorithmConfig + " is " + SSEAES256 + ".",
			Group: group, OrderInGroup: next(), Width: config.WidthLong,
			DisplayName: "S3 Server Side Encryption Customer-Provided Key (SSE-C)"}).
		Define(config.Key{Name: SSEKMSKeyIDConfig, Type: config.String, Default: "",
			Importance: config.Low,
			Doc: "The name of the AWS Key Management Service (AWS-KMS) key to be used for server side " +
				"encryption of the S3 objects. No encryption is used when no key is provided, but it is " +
				"enabled when '" + SSEKMS + "' is specified as encryption algorithm with a valid key name.",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "S3 Server Side Encryption Key"}).
		Define(config.Key{Name: CannedACLConfig, Type: config.String, Default: nil,
			Validator: cannedACL{}, Importance: config.Low,
			Doc:   "An S3 canned ACL header value to apply when writing objects.",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "S3 Canned ACL"}).
		Define(config.Key{Name: PartRetriesConfig, Type: config.Int, Default: DefaultPartRetries,
			Validator: config.AtLeast(0), Importance: config.Medium,
			Doc: "Maximum number of retry attempts for failed requests. Zero means no retries. " +
				"Only transient failures (5xx, throttling, connection refused or reset) are retried.",
			Group: group, OrderInGroup: next(), Width: config.WidthLong, DisplayName: "S3 Part Upload Retries"}).
		Define(config.Key{Name: RetryBackoffConfig, Type: config.Long, Default: int64(DefaultRetryBackoff / time.Millisecond),
			Validator: config.AtLeast(0), Importance: config.Low,
			Doc: "How long to wait in milliseconds before attempting the first retry of a failed S3 " +
				"request. Upon a failure, this connector may wait up to twice as long as the previous " +
				"wait, up to the maximum number of retries. This avoids retrying in a tight loop under " +
				"failure scenarios.",
			Group: group, OrderInGroup: next(), Width: config.WidthShort, DisplayName: "Retry Backoff (ms)"}).
		Define(config.Key{Name: PathStyleConfig, Type: config.Boolean, Default: true,
			Importance: config.Low,
			Doc: "Specifies whether or not to enable path style access to the bucket used by the " +
				"connector (https://host/bucket/key rather than https://bucket.host/key).",
			Group: group, OrderInGroup: next(), Width: config.WidthShort, DisplayName: "Enable Path Style Access to S3"})
}

// Settings is the S3 store's configuration. ParseSettings fills it from
// connector properties; New fills zero fields with the defaults above.
type Settings struct {
	Bucket string
	Region string
	// Endpoint is the URL of an S3-compatible server (store.url); empty
	// means AWS.
	Endpoint string
	// PathStyle addresses the bucket in the path, not the host name.
	PathStyle bool
	// PartSize is the size of multipart upload parts and the buffer of each
	// open object, at least MinPartSize.
	PartSize int
	// AccessKeyID and SecretAccessKey, when both set, are static
	// credentials; when both are empty the SDK's default chain is used.
	AccessKeyID     string
	SecretAccessKey string
	// SSEAlgorithm is "", SSEAES256 or SSEKMS.
	SSEAlgorithm string
	// SSEKMSKeyID is the KMS key for SSEKMS.
	SSEKMSKeyID string
	// SSECustomerKey is a base64 256-bit key (SSE-C) used with SSEAES256.
	SSECustomerKey string
	// CannedACL is an x-amz-acl value, or "".
	CannedACL string
	// PartRetries is how many times a failed request is retried; -1 means
	// the default (0 is a valid "no retries").
	PartRetries int
	// RetryBackoff is the wait before the first retry; it doubles after.
	RetryBackoff time.Duration
}

// ParseSettings reads the S3 store's properties (Config's keys and
// store.url). The error is a *config.ValidationError naming every bad key.
func ParseSettings(props map[string]string) (Settings, error) {
	vals, err := Config().Parse(props)
	var problems []config.Problem
	if err != nil {
		ve, ok := err.(*config.ValidationError)
		if !ok {
			return Settings{}, err
		}
		problems = append(problems, ve.Problems...)
	}
	endpoint := strings.TrimSpace(props[storage.StoreURLConfig])
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, config.Problem{Key: storage.StoreURLConfig, Message: config.InvalidValue(storage.StoreURLConfig, endpoint,
				"an S3 endpoint must be an http:// or https:// URL with a host").Error()})
		}
	}
	if len(problems) > 0 {
		return Settings{}, &config.ValidationError{Problems: problems}
	}
	cfg := Settings{
		Bucket:          vals.String(BucketConfig),
		Region:          vals.String(RegionConfig),
		Endpoint:        endpoint,
		PathStyle:       vals.Bool(PathStyleConfig),
		PartSize:        vals.Int(PartSizeConfig),
		AccessKeyID:     vals.String(AccessKeyIDConfig),
		SecretAccessKey: vals.Password(SecretAccessKeyConfig).Value(),
		SSEAlgorithm:    vals.String(SSEAlgorithmConfig),
		SSEKMSKeyID:     vals.String(SSEKMSKeyIDConfig),
		SSECustomerKey:  vals.Password(SSECustomerKeyConfig).Value(),
		CannedACL:       vals.String(CannedACLConfig),
		PartRetries:     vals.Int(PartRetriesConfig),
		RetryBackoff:    time.Duration(vals.Long(RetryBackoffConfig)) * time.Millisecond,
	}
	if err := cfg.check(); err != nil {
		return Settings{}, err
	}
	return cfg, nil
}

// withDefaults fills zero fields with the defaults.
func (c Settings) withDefaults() Settings {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.PartRetries < 0 {
		c.PartRetries = DefaultPartRetries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	return c
}

// check validates what the keys' validators cannot see alone: values that
// belong together. Its error names the keys.
func (c Settings) check() error {
	var problems []config.Problem
	add := func(key string, value any, reason string) {
		problems = append(problems, config.Problem{Key: key, Message: config.InvalidValue(key, value, reason).Error()})
	}
	if c.Bucket == "" {
		add(BucketConfig, c.Bucket, "String must be non-empty")
	}
	if c.PartSize < MinPartSize {
		add(PartSizeConfig, c.PartSize, fmt.Sprintf("Part size must be at least: %d bytes (5MB)", MinPartSize))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		add(AccessKeyIDConfig, c.AccessKeyID, AccessKeyIDConfig+" and "+SecretAccessKeyConfig+" must be set together")
	}
	switch c.SSEAlgorithm {
	case "", SSEAES256, SSEKMS:
	default:
		add(SSEAlgorithmConfig, c.SSEAlgorithm, "String must be one of: , "+SSEAES256+", "+SSEKMS)
	}
	if c.SSECustomerKey != "" {
		if c.SSEAlgorithm != SSEAES256 {
			add(SSECustomerKeyConfig, config.Secret(c.SSECustomerKey), "requires "+SSEAlgorithmConfig+"="+SSEAES256)
		} else if err := checkCustomerKey(c.SSECustomerKey); err != nil {
			add(SSECustomerKeyConfig, config.Secret(c.SSECustomerKey), err.Error())
		}
	}
	if c.CannedACL != "" {
		if err := (cannedACL{}).Validate(CannedACLConfig, c.CannedACL); err != nil {
			problems = append(problems, config.Problem{Key: CannedACLConfig, Message: err.Error()})
		}
	}
	if len(problems) > 0 {
		return &config.ValidationError{Problems: problems}
	}
	return nil
}

// partRange is Confluent's PartRange: [5 MiB, Integer.MAX_VALUE].
type partRange struct{}

func (partRange) Validate(name string, value any) error {
	n, ok := value.(int)
	if !ok {
		return config.InvalidValue(name, value, "Part size must be non-null")
	}
	if n < MinPartSize {
		return config.InvalidValue(name, value, fmt.Sprintf("Part size must be at least: %d bytes (5MB)", MinPartSize))
	}
	return nil
}

func (partRange) String() string { return fmt.Sprintf("[%d,...,2147483647]", MinPartSize) }

// cannedACL is Confluent's CannedAclValidator; null passes.
type cannedACL struct{}

func (cannedACL) Validate(name string, value any) error {
	if value == nil {
		return nil
	}
	s, _ := value.(string)
	for _, acl := range cannedACLs {
		if s == acl {
			return nil
		}
	}
	return config.InvalidValue(name, value, "Value must be one of: "+strings.Join(cannedACLs, ", "))
}

func (cannedACL) String() string { return "[" + strings.Join(cannedACLs, ", ") + "]" }

// sseCustomerKey accepts null, "" or a base64 256-bit key.
type sseCustomerKey struct{}

func (sseCustomerKey) Validate(name string, value any) error {
	s, _ := value.(config.Secret)
	if s.Value() == "" {
		return nil
	}
	if err := checkCustomerKey(s.Value()); err != nil {
		return config.InvalidValue(name, s, err.Error())
	}
	return nil
}

func (sseCustomerKey) String() string { return "base64-encoded 256-bit key" }

func checkCustomerKey(b64 string) error {
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) != 32 {
		return fmt.Errorf("must be a base64-encoded 256-bit (32-byte) key")
	}
	return nil
}

// customerKeyMD5 is the x-amz-server-side-encryption-customer-key-MD5
// header for a base64 key, which the Go SDK v2 does not compute.
func customerKeyMD5(b64 string) string {
	key, _ := base64.StdEncoding.DecodeString(b64)
	sum := md5.Sum(key)
	return base64.StdEncoding.EncodeToString(sum[:])
}
