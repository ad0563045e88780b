package configprovider

import (
	"context"
	"fmt"
)

// SSMParameterStore reads AWS Systems Manager Parameter Store parameters,
// with the syntax of Amazon's MSK SsmParamStoreConfigProvider:
// ${ssm::/param/name} (or ${ssm:/param/name}) is the parameter's value,
// SecureString parameters decrypted (WithDecryption). As in MSK, the key is
// the full parameter name and the path is ignored; write ${ssm::<arn>} for a
// parameter ARN. A "?ttl=…" suffix on the key is ignored.
//
// Parameters: allowed.prefixes, the parameter names or ARNs it may read
// (unset, it reads nothing), region, endpoint and NotFoundStrategy, as for
// SecretsManager.
// Get with nil keys returns nothing: parameters are not enumerated.
//
// It makes SSM's one GetParameter call itself (see awsClient) instead of
// linking the SSM client: that client is 2 MB of code in every function
// binary, for one call.
type SSMParameterStore struct {
	aws     *awsClient
	allowed namePrefixes
}

var (
	_ Provider = (*SSMParameterStore)(nil)
	_ Checker  = (*SSMParameterStore)(nil)
)

// Configure reads the parameters and the AWS configuration.
func (p *SSMParameterStore) Configure(params map[string]string) error {
	if err := checkParams(params, AllowedPrefixesParam, RegionParam, EndpointParam, NotFoundStrategyParam); err != nil {
		return err
	}
	p.allowed = parsePrefixes(params)
	c, err := configureAWS(params, serviceSSM)
	if err != nil {
		return err
	}
	p.aws = c
	return nil
}

// Get returns the values of the parameters named by keys.
func (p *SSMParameterStore) Get(ctx context.Context, _ string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	for _, k := range keys {
		name := stripKeyOptions(k)
		if err := p.allowed.check("parameter", name); err != nil {
			return nil, err
		}
		var out struct {
			Parameter *struct {
				Value *string `json:"Value"`
			} `json:"Parameter"`
		}
		code, err := p.aws.call(ctx, "AmazonSSM.GetParameter", map[string]any{"Name": name, "WithDecryption": true}, &out)
		if err != nil {
			if code == "ParameterNotFound" {
				if p.aws.ignoreNotFound {
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

// Check refuses, as Get does, a parameter name that allowed.prefixes does
// not allow (*NotAllowedError), without calling SSM.
func (p *SSMParameterStore) Check(_ string, keys []string) error {
	for _, k := range keys {
		if err := p.allowed.check("parameter", stripKeyOptions(k)); err != nil {
			return err
		}
	}
	return nil
}

// Close does nothing: nothing is held open.
func (p *SSMParameterStore) Close() error { return nil }
