package configprovider

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Parameters of the AWS providers, named as in Amazon's MSK config providers
// (aws-samples/msk-config-providers, CommonConfigUtils and the providers'
// NotFoundStrategy).
const (
	RegionParam           = "region"
	EndpointParam         = "endpoint"
	NotFoundStrategyParam = "NotFoundStrategy"
)

// awsParams are the parameters both AWS providers take.
type awsParams struct {
	cfg            aws.Config
	endpoint       string
	ignoreNotFound bool
}

// configureAWS reads region, endpoint and NotFoundStrategy and loads the
// SDK configuration with the default credential chain (environment, shared
// files, web identity, ECS or Lambda role, EC2 instance role).
func configureAWS(params map[string]string) (awsParams, error) {
	var p awsParams
	switch s := params[NotFoundStrategyParam]; s {
	case "", "fail":
	case "ignore":
		p.ignoreNotFound = true
	default:
		return p, fmt.Errorf("%w: %s: %q is not fail or ignore", ErrInvalidParam, NotFoundStrategyParam, s)
	}
	if e := strings.TrimSpace(params[EndpointParam]); e != "" {
		u, err := url.Parse(e)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return p, fmt.Errorf("%w: %s: %q is not an absolute URL", ErrInvalidParam, EndpointParam, e)
		}
		p.endpoint = e
	}
	var opts []func(*config.LoadOptions) error
	if r := strings.TrimSpace(params[RegionParam]); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return p, fmt.Errorf("loading AWS configuration: %w", err)
	}
	p.cfg = cfg
	return p, nil
}

// baseEndpoint is the endpoint parameter as the SDK's BaseEndpoint option,
// nil for the service's default endpoint.
func (p awsParams) baseEndpoint() *string {
	if p.endpoint == "" {
		return nil
	}
	return aws.String(p.endpoint)
}

// stripKeyOptions drops the MSK providers' "?ttl=…" key options: Sluice
// resolves configurations each time a lease runs, so a TTL has no use.
func stripKeyOptions(key string) string {
	k, _, _ := strings.Cut(key, "?")
	return k
}
