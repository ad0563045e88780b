package configprovider

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMParameterStore reads AWS Systems Manager Parameter Store parameters,
// with the syntax of Amazon's MSK SsmParamStoreConfigProvider:
// ${ssm::/param/name} (or ${ssm:/param/name}) is the parameter's value,
// SecureString parameters decrypted (WithDecryption). As in MSK, the key is
// the full parameter name and the path is ignored; write ${ssm::<arn>} for a
// parameter ARN. A "?ttl=…" suffix on the key is ignored.
//
// Parameters: region, endpoint and NotFoundStrategy, as for SecretsManager.
// Get with nil keys returns nothing: parameters are not enumerated.
type SSMParameterStore struct {
	client         *ssm.Client
	ignoreNotFound bool
}

var _ Provider = (*SSMParameterStore)(nil)

// Configure reads the parameters and builds the SSM client.
func (p *SSMParameterStore) Configure(params map[string]string) error {
	if err := checkParams(params, RegionParam, EndpointParam, NotFoundStrategyParam); err != nil {
		return err
	}
	a, err := configureAWS(params)
	if err != nil {
		return err
	}
	p.ignoreNotFound = a.ignoreNotFound
	p.client = ssm.NewFromConfig(a.cfg, func(o *ssm.Options) {
		o.BaseEndpoint = a.baseEndpoint()
	})
	return nil
}

// Get returns the values of the parameters named by keys.
func (p *SSMParameterStore) Get(ctx context.Context, _ string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	for _, k := range keys {
		name := stripKeyOptions(k)
		out, err := p.client.GetParameter(ctx, &ssm.GetParameterInput{
			Name:           aws.String(name),
			WithDecryption: aws.Bool(true),
		})
		if err != nil {
			var nf *types.ParameterNotFound
			if errors.As(err, &nf) {
				if p.ignoreNotFound {
					data[k] = ""
					continue
				}
				return nil, fmt.Errorf("parameter %q %w: %w", name, ErrNotFound, err)
			}
			return nil, fmt.Errorf("getting parameter %q: %w", name, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return nil, fmt.Errorf("parameter %q: response has no value", name)
		}
		data[k] = *out.Parameter.Value
	}
	return data, nil
}

// Close does nothing: the SDK client holds no resources to release.
func (p *SSMParameterStore) Close() error { return nil }
