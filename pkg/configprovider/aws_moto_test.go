package configprovider

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mototest"
)

// TestAWSProvidersAgainstMoto resolves Secrets Manager and SSM references
// against moto's server, an AWS implementation Sluice did not write: the
// requests Sluice builds itself (awsClient) are understood, and moto's
// answers and error codes are read as the fake of TestAWSProviders answers.
func TestAWSProvidersAgainstMoto(t *testing.T) {
	isolateAWS(t)
	m := mototest.Start(t)
	m.CreateSecret("prod/db", `{"username":"admin","password":"`+fakeDBPassword+`","port":5432,"tls":true,"nested":{"a":1},"gone":null}`)
	arn := m.CreateSecret("api", `{"token":"`+fakeAPIToken+`"}`)
	m.CreateSecret("plain", fakeRawSecret)
	m.CreateSecret("rotated", "old-value")
	m.PutSecretValue("rotated", "new-"+fakeRawSecret)
	m.CreateBinarySecret("binary", []byte("bin"))
	m.PutParameter("/msk/db/password", fakeSSMPassword, true)
	m.PutParameter("/msk/db/user", fakeSSMPlain, false)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:") {
		t.Fatalf("moto gave ARN %q", arn)
	}
	encodedARN := url.QueryEscape(arn)

	tests := []struct {
		name    string
		extra   map[string]string
		value   string
		want    string
		wantErr []string
		is      error
	}{
		{name: "json key", value: "${secretsmanager:prod/db:password}", want: fakeDBPassword},
		{name: "two keys of one secret", value: "${secretsmanager:prod/db:username}:${secretsmanager:prod/db:password}", want: "admin:" + fakeDBPassword},
		{name: "number as written", value: "${secretsmanager:prod/db:port}", want: "5432"},
		{name: "boolean", value: "${secretsmanager:prod/db:tls}", want: "true"},
		{name: "url-encoded ARN", value: "${secretsmanager:" + encodedARN + ":token}", want: fakeAPIToken},
		{name: "raw secret without path", value: "${secretsmanager:plain}", want: fakeRawSecret},
		{name: "current version after PutSecretValue", value: "${secretsmanager:rotated}", want: "new-" + fakeRawSecret},
		{
			name:  "raw secret base64",
			extra: map[string]string{"config.providers.secretsmanager.param.RawSecretEncoding": "base64"},
			value: "${secretsmanager:plain}",
			want:  base64.StdEncoding.EncodeToString([]byte(fakeRawSecret)),
		},
		{
			name:    "missing secret",
			value:   "${secretsmanager:prod/nope:password}",
			wantErr: []string{`provider "secretsmanager"`, `path "prod/nope"`, "ResourceNotFoundException"},
			is:      ErrNotFound,
		},
		{
			name:    "missing json key",
			value:   "${secretsmanager:prod/db:nope}",
			wantErr: []string{`key "nope"`},
			is:      ErrNotFound,
		},
		{
			name:    "null json key is missing",
			value:   "${secretsmanager:prod/db:gone}",
			wantErr: []string{`key "gone"`},
			is:      ErrNotFound,
		},
		{
			name:    "binary secret",
			value:   "${secretsmanager:binary:password}",
			wantErr: []string{"binary secrets are not supported"},
		},
		{
			name:  "missing secret ignored",
			extra: map[string]string{"config.providers.secretsmanager.param.NotFoundStrategy": "ignore"},
			value: "[${secretsmanager:prod/nope:password}]",
			want:  "[]",
		},
		{name: "ssm SecureString decrypted", value: "${ssm::/msk/db/password}", want: fakeSSMPassword},
		{name: "ssm String", value: "${ssm:/msk/db/user}", want: fakeSSMPlain},
		{
			name:    "ssm missing parameter",
			value:   "${ssm::/msk/db/nope}",
			wantErr: []string{`provider "ssm"`, `parameter "/msk/db/nope"`, "ParameterNotFound"},
			is:      ErrNotFound,
		},
		{
			name:  "ssm missing parameter ignored",
			extra: map[string]string{"config.providers.ssm.param.NotFoundStrategy": "ignore"},
			value: "[${ssm::/msk/db/nope}]",
			want:  "[]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awsResolver(t, m.Endpoint, tt.extra)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Resolve = %q, want an error", got["k"])
				}
				assertNoSecret(t, err)
				for _, s := range append(tt.wantErr, `config "k"`) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("error %v is not %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got["k"] != tt.want {
				t.Errorf("Resolve = %q, want %q", got["k"], tt.want)
			}
		})
	}
}
