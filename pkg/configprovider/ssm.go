package configprovider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
//
// It makes SSM's one GetParameter call itself, signed with the SDK's SigV4
// signer and default credential chain, instead of linking the SSM client:
// that client is 2 MB of code in every function binary, for one call.
type SSMParameterStore struct {
	cfg            aws.Config
	endpoint       string
	ignoreNotFound bool
}

var _ Provider = (*SSMParameterStore)(nil)

// Configure reads the parameters and the AWS configuration.
func (p *SSMParameterStore) Configure(params map[string]string) error {
	if err := checkParams(params, RegionParam, EndpointParam, NotFoundStrategyParam); err != nil {
		return err
	}
	a, err := configureAWS(params)
	if err != nil {
		return err
	}
	p.cfg, p.ignoreNotFound = a.cfg, a.ignoreNotFound
	p.endpoint = a.endpoint
	if p.endpoint == "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(p.cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		p.endpoint = "https://ssm." + p.cfg.Region + "." + suffix
	}
	return nil
}

// Get returns the values of the parameters named by keys.
func (p *SSMParameterStore) Get(ctx context.Context, _ string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	for _, k := range keys {
		name := stripKeyOptions(k)
		var out struct {
			Parameter *struct {
				Value *string `json:"Value"`
			} `json:"Parameter"`
		}
		code, err := p.call(ctx, "AmazonSSM.GetParameter", map[string]any{"Name": name, "WithDecryption": true}, &out)
		if err != nil {
			if code == "ParameterNotFound" {
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

// call makes one AWS JSON 1.1 request to SSM and decodes its answer. On an
// AWS error it returns the error code (ParameterNotFound, AccessDenied...)
// and an error naming it; the response body never holds the parameter's
// value then.
func (p *SSMParameterStore) call(ctx context.Context, target string, in, out any) (code string, err error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	creds, err := p.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", p.cfg.Region, time.Now()); err != nil {
		return "", fmt.Errorf("signing the request: %w", err)
	}
	var client interface {
		Do(*http.Request) (*http.Response, error)
	} = http.DefaultClient
	if p.cfg.HTTPClient != nil {
		client = p.cfg.HTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
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
		return code, fmt.Errorf("SSM %s: %s (HTTP %d): %s", target, code, resp.StatusCode, e.Message)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return "", fmt.Errorf("SSM %s: malformed response: %w", target, err)
	}
	return "", nil
}

// Close does nothing: nothing is held open.
func (p *SSMParameterStore) Close() error { return nil }
