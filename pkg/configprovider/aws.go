package configprovider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Parameters of the AWS providers, named as in Amazon's MSK config providers
// (aws-samples/msk-config-providers, CommonConfigUtils and the providers'
// NotFoundStrategy).
const (
	RegionParam           = "region"
	EndpointParam         = "endpoint"
	NotFoundStrategyParam = "NotFoundStrategy"
	// AllowedPrefixesParam is Sluice's allow setting for the AWS
	// providers: the secret or parameter names (or ARNs) they may read.
	AllowedPrefixesParam = "allowed.prefixes"
)

// namePrefixes is the allowed.prefixes parameter: a comma-separated list
// of prefixes that a secret id or parameter name must start with, spaces
// around entries ignored. Unset, nothing may be read (deny by default);
// "*" allows every name. Names and ARNs are compared as written: a
// reference by ARN needs an ARN prefix ("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/"),
// a reference by name a name prefix ("/prod/"). End a prefix with "/" to
// allow one level of a hierarchy and not its siblings ("/prod/app"
// also allows "/prod/application").
type namePrefixes struct {
	set      bool
	all      bool
	prefixes []string
}

func parsePrefixes(params map[string]string) namePrefixes {
	v, ok := params[AllowedPrefixesParam]
	if !ok {
		return namePrefixes{}
	}
	p := namePrefixes{set: true}
	for _, e := range strings.Split(v, ",") {
		switch e = strings.TrimSpace(e); e {
		case "":
		case "*":
			p.all = true
		default:
			p.prefixes = append(p.prefixes, e)
		}
	}
	return p
}

// check returns a *NotAllowedError naming what ("secret", "parameter") and
// name unless name is allowed.
func (p namePrefixes) check(what, name string) error {
	if p.all {
		return nil
	}
	for _, prefix := range p.prefixes {
		if strings.HasPrefix(name, prefix) {
			return nil
		}
	}
	return &NotAllowedError{Param: AllowedPrefixesParam, What: fmt.Sprintf("%s %q", what, name), Unset: !p.set}
}

// awsService is an AWS service the providers call: its name in messages
// and its SigV4 signing name, which is also its endpoint's first label.
type awsService struct {
	name    string // "SSM"
	signing string // "ssm"
}

var (
	serviceSSM            = awsService{name: "SSM", signing: "ssm"}
	serviceSecretsManager = awsService{name: "Secrets Manager", signing: "secretsmanager"}
)

// awsClient makes the AWS providers' calls: AWS JSON 1.1 requests, signed
// with the SDK's SigV4 signer and credentials from the SDK's default chain.
// The providers make one kind of call each, so they make it themselves
// rather than link a service client (megabytes of code per client in every
// function binary). It is safe for concurrent use.
type awsClient struct {
	cfg            aws.Config
	service        awsService
	endpoint       string // the endpoint parameter, else the service's regional endpoint
	ignoreNotFound bool
}

// configureAWS reads region, endpoint and NotFoundStrategy and loads the
// SDK configuration with the default credential chain (environment, shared
// files, web identity, ECS or Lambda role, EC2 instance role).
func configureAWS(params map[string]string, service awsService) (*awsClient, error) {
	c := &awsClient{service: service}
	switch s := params[NotFoundStrategyParam]; s {
	case "", "fail":
	case "ignore":
		c.ignoreNotFound = true
	default:
		return nil, fmt.Errorf("%w: %s: %q is not fail or ignore", ErrInvalidParam, NotFoundStrategyParam, s)
	}
	if e := strings.TrimSpace(params[EndpointParam]); e != "" {
		u, err := url.Parse(e)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("%w: %s: %q is not an absolute URL", ErrInvalidParam, EndpointParam, e)
		}
		c.endpoint = e
	}
	var opts []func(*config.LoadOptions) error
	if r := strings.TrimSpace(params[RegionParam]); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	c.cfg = cfg
	if c.endpoint == "" && cfg.Region != "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		c.endpoint = "https://" + service.signing + "." + cfg.Region + "." + suffix
	}
	return c, nil
}

// awsAttempts is how many times a call is tried when it fails transiently,
// as the SDK's standard retryer does; awsBackoff is its backoff unit.
const awsAttempts = 3

var awsBackoff = time.Second

// call makes one AWS JSON 1.1 call, target being the X-Amz-Target
// ("AmazonSSM.GetParameter"), and decodes its answer into out. On an AWS
// error it returns the error code (ParameterNotFound, AccessDenied...) and
// an error naming it; the response body never holds a secret then. A
// throttling error, a 5xx or a failed connection is tried again, up to
// awsAttempts times in all.
func (c *awsClient) call(ctx context.Context, target string, in, out any) (code string, err error) {
	if c.cfg.Region == "" {
		// As the SDK's clients, fail the call, not Configure: a provider
		// that is declared but not used does not need a region.
		return "", fmt.Errorf("%s: no AWS region: set the provider's %s parameter, or AWS_REGION", c.service.name, RegionParam)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		var retry bool
		code, retry, err = c.try(ctx, target, body, out)
		if err == nil || !retry || attempt == awsAttempts {
			return code, err
		}
		// Full jitter, as the SDK's standard retryer: up to 2^attempt s.
		wait := time.NewTimer(rand.N(awsBackoff << attempt))
		select {
		case <-ctx.Done():
			wait.Stop()
			return code, err
		case <-wait.C:
		}
	}
}

// try makes one attempt of call and reports whether a failure is worth
// another.
func (c *awsClient) try(ctx context.Context, target string, body []byte, out any) (code string, retry bool, err error) {
	op := c.service.name + " " + target[strings.LastIndexByte(target, '.')+1:]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", false, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.service.signing, c.cfg.Region, time.Now()); err != nil {
		return "", false, fmt.Errorf("signing the request: %w", err)
	}
	var client interface {
		Do(*http.Request) (*http.Response, error)
	} = http.DefaultClient
	if c.cfg.HTTPClient != nil {
		client = c.cfg.HTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", ctx.Err() == nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", ctx.Err() == nil, fmt.Errorf("%s: reading the response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		code = e.Type
		if code == "" {
			code = resp.Header.Get("X-Amzn-ErrorType")
		}
		code = code[strings.LastIndexByte(code, '#')+1:]
		if i := strings.IndexByte(code, ':'); i >= 0 {
			code = code[:i]
		}
		retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			strings.Contains(code, "Throttling") || code == "RequestLimitExceeded"
		return code, retry, fmt.Errorf("%s: %s (HTTP %d): %s", op, code, resp.StatusCode, e.Message)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return "", false, fmt.Errorf("%s: malformed response: %w", op, err)
	}
	return "", false, nil
}

// stripKeyOptions drops the MSK providers' "?ttl=…" key options: Sluice
// resolves configurations each time a lease runs, so a TTL has no use.
func stripKeyOptions(key string) string {
	k, _, _ := strings.Cut(key, "?")
	return k
}
