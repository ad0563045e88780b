package configprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// RawSecretEncodingParam is the MSK Secrets Manager provider's
// RawSecretEncoding: "none" (default) or "base64".
const RawSecretEncodingParam = "RawSecretEncoding"

// SecretsManager reads AWS Secrets Manager secrets, with the syntax of
// Amazon's MSK SecretsManagerConfigProvider:
//
//   - ${secretsmanager:<secret-id>:<json-key>} is the value of json-key in a
//     secret whose SecretString is a JSON object (a string value as is; a
//     number or boolean as written in the JSON; null counts as missing; an
//     object or array is an error);
//   - ${secretsmanager:<secret-id>} (no path) is the whole SecretString,
//     JSON or not, Base64-encoded when RawSecretEncoding=base64.
//
// A secret id that contains ":" (an ARN) must be URL-encoded
// (arn%3Aaws%3Asecretsmanager%3A…), since ":" separates the reference's
// parts; the id is URL-decoded before use ("+" is kept, since no secret name
// holds a space). A "?ttl=…" suffix on the key is ignored.
//
// Parameters: allowed.prefixes, the secret names or ARNs it may read
// (comma-separated prefixes, "*" for all; unset, it reads nothing: see
// namePrefixes), region (default: the SDK's, from AWS_REGION or the shared
// config file) and endpoint (default https://secretsmanager.<region>.amazonaws.com;
// set it for VPC or FIPS endpoints and tests) and NotFoundStrategy: "fail"
// (default), a missing secret or JSON key is an error (ErrNotFound) naming
// them, or "ignore", it resolves to "". Credentials come from the SDK's
// default chain. Binary secrets (SecretBinary) are not supported.
//
// It makes Secrets Manager's one GetSecretValue call itself (see
// awsClient), as SSMParameterStore does, instead of linking the Secrets
// Manager client.
type SecretsManager struct {
	aws       *awsClient
	allowed   namePrefixes
	base64Raw bool
}

var (
	_ Provider = (*SecretsManager)(nil)
	_ Checker  = (*SecretsManager)(nil)
)

// Configure reads the parameters and the AWS configuration.
func (s *SecretsManager) Configure(params map[string]string) error {
	if err := checkParams(params, AllowedPrefixesParam, RegionParam, EndpointParam, NotFoundStrategyParam, RawSecretEncodingParam); err != nil {
		return err
	}
	s.allowed = parsePrefixes(params)
	switch e := params[RawSecretEncodingParam]; e {
	case "", "none":
	case "base64":
		s.base64Raw = true
	default:
		return fmt.Errorf("%w: %s: %q is not none or base64", ErrInvalidParam, RawSecretEncodingParam, e)
	}
	c, err := configureAWS(params, serviceSecretsManager)
	if err != nil {
		return err
	}
	s.aws = c
	return nil
}

// Get looks up keys of the JSON secret path (all its keys when keys is nil)
// or, when path is "", the whole secrets named by keys.
func (s *SecretsManager) Get(ctx context.Context, path string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	if path == "" {
		for _, k := range keys {
			v, err := s.secretString(ctx, stripKeyOptions(k))
			if errors.Is(err, ErrNotFound) && s.aws.ignoreNotFound {
				data[k] = ""
				continue
			}
			if err != nil {
				return nil, err
			}
			if s.base64Raw {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			data[k] = v
		}
		return data, nil
	}

	raw, err := s.secretString(ctx, path)
	if errors.Is(err, ErrNotFound) && s.aws.ignoreNotFound {
		for _, k := range keys {
			data[k] = ""
		}
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &fields) != nil || fields == nil {
		// json's message may quote part of the secret: do not wrap it.
		return nil, fmt.Errorf("secret %q: SecretString is not a JSON object", path)
	}
	if keys == nil {
		for k := range fields {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		name := stripKeyOptions(k)
		v, ok, err := jsonScalar(fields[name])
		if err != nil {
			return nil, fmt.Errorf("secret %q key %q: %w", path, name, err)
		}
		if !ok {
			if s.aws.ignoreNotFound {
				data[k] = ""
				continue
			}
			return nil, fmt.Errorf("secret %q has no key %q: %w", path, name, ErrNotFound)
		}
		data[k] = v
	}
	return data, nil
}

// secretString fetches the SecretString of the (URL-encoded) secret id.
func (s *SecretsManager) secretString(ctx context.Context, encodedID string) (string, error) {
	id, err := s.secretID(encodedID)
	if err != nil {
		return "", err
	}
	var out struct {
		SecretString *string `json:"SecretString"`
	}
	code, err := s.aws.call(ctx, "secretsmanager.GetSecretValue", map[string]string{"SecretId": id}, &out)
	if err != nil {
		if code == "ResourceNotFoundException" {
			return "", fmt.Errorf("secret %q %w: %w", id, ErrNotFound, err)
		}
		return "", fmt.Errorf("getting secret %q: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %q has no SecretString (binary secrets are not supported)", id)
	}
	return *out.SecretString, nil
}

// secretID is the URL-decoded secret id, if allowed.prefixes allows it.
func (s *SecretsManager) secretID(encodedID string) (string, error) {
	id, err := url.PathUnescape(encodedID)
	if err != nil {
		return "", fmt.Errorf("%w: secret id %q is not validly URL-encoded", ErrInvalidParam, encodedID)
	}
	if err := s.allowed.check("secret", id); err != nil {
		return "", err
	}
	return id, nil
}

// Check refuses, as Get does, a secret id that allowed.prefixes does not
// allow (*NotAllowedError) or that is not validly URL-encoded, without
// calling Secrets Manager.
func (s *SecretsManager) Check(path string, keys []string) error {
	if path != "" {
		_, err := s.secretID(path)
		return err
	}
	for _, k := range keys {
		if _, err := s.secretID(stripKeyOptions(k)); err != nil {
			return err
		}
	}
	return nil
}

// jsonScalar renders a JSON value as Jackson's Map<String, String> does:
// strings unquoted, numbers and booleans as written. Absent and null are
// not found.
func jsonScalar(v json.RawMessage) (string, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", false, nil
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false, errors.New("malformed JSON string")
		}
		return s, true, nil
	case '{', '[':
		return "", false, errors.New("value is a JSON object or array, not a string")
	default:
		return string(v), true, nil
	}
}

// Close does nothing: nothing is held open.
func (s *SecretsManager) Close() error { return nil }

// SecretsManagerValue reads one secret for Sluice's own settings (not a
// connector's configuration, so no allowed.prefixes applies): the
// SecretString of the secret id (a name or an ARN) or, with key, the value
// of key in the SecretString's JSON object. region and endpoint are the
// provider's parameters ("" for the SDK's region and the region's
// endpoint). Errors name the secret and the key, never the value.
func SecretsManagerValue(ctx context.Context, region, endpoint, id, key string) (string, error) {
	params := map[string]string{AllowedPrefixesParam: "*"}
	if region != "" {
		params[RegionParam] = region
	}
	if endpoint != "" {
		params[EndpointParam] = endpoint
	}
	s := &SecretsManager{}
	if err := s.Configure(params); err != nil {
		return "", err
	}
	encoded := url.PathEscape(id) // Get URL-decodes the id
	if key == "" {
		m, err := s.Get(ctx, "", []string{encoded})
		if err != nil {
			return "", err
		}
		return m[encoded], nil
	}
	m, err := s.Get(ctx, encoded, []string{key})
	if err != nil {
		return "", err
	}
	return m[key], nil
}
