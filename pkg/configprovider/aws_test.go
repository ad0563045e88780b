package configprovider

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secret values the fake AWS serves; no error may ever contain them.
const (
	fakeDBPassword  = "pa55-Wörd-secret-1"
	fakeAPIToken    = "tok-secret-2"
	fakeRawSecret   = "raw-secret-3"
	fakeSSMPassword = "ssm-secret-4"
	fakeSSMPlain    = "ssm-plain-5"
)

var fakeSecretValues = []string{fakeDBPassword, fakeAPIToken, fakeRawSecret, fakeSSMPassword, fakeSSMPlain}

// fakeAWS serves Secrets Manager GetSecretValue and SSM GetParameter over the
// AWS JSON 1.1 protocol (POST /, X-Amz-Target), as the AWS API references
// describe them, and records what it was asked.
type fakeAWS struct {
	t       *testing.T
	secrets map[string]string // SecretId -> SecretString
	params  map[string]string // Name -> Value
	binary  map[string]bool   // SecretIds that hold SecretBinary only

	mu       sync.Mutex
	requests []map[string]any
	failWith int // HTTP status for every request when non-zero
}

func newFakeAWS(t *testing.T) (*fakeAWS, string) {
	t.Helper()
	f := &fakeAWS{
		t: t,
		secrets: map[string]string{
			"prod/db": `{"username":"admin","password":"` + fakeDBPassword + `","port":5432,"tls":true,"nested":{"a":1},"gone":null}`,
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf": `{"token":"` + fakeAPIToken + `"}`,
			"plain":   fakeRawSecret,
			"notjson": "not json " + fakeRawSecret,
		},
		params: map[string]string{
			"/msk/db/password": fakeSSMPassword,
			"/msk/db/user":     fakeSSMPlain,
		},
		binary: map[string]bool{"binary": true},
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("Content-Type = %q", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKE/") {
		f.t.Errorf("request not signed with the static credentials: %q", r.Header.Get("Authorization"))
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("decoding request: %v", err)
	}
	body["X-Amz-Target"] = r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.requests = append(f.requests, body)
	failWith := f.failWith
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if failWith != 0 {
		writeAWSError(w, failWith, "AccessDeniedException", "User is not authorized to perform this operation")
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "secretsmanager.GetSecretValue":
		id, _ := body["SecretId"].(string)
		if f.binary[id] {
			writeJSON(w, map[string]any{"ARN": "arn:" + id, "Name": id, "SecretBinary": base64.StdEncoding.EncodeToString([]byte("bin")), "VersionId": "v1"})
			return
		}
		s, ok := f.secrets[id]
		if !ok {
			writeAWSError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		writeJSON(w, map[string]any{"ARN": "arn:" + id, "Name": id, "SecretString": s, "VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}})
	case "AmazonSSM.GetParameter":
		name, _ := body["Name"].(string)
		v, ok := f.params[name]
		if !ok {
			writeAWSError(w, http.StatusBadRequest, "ParameterNotFound", "")
			return
		}
		writeJSON(w, map[string]any{"Parameter": map[string]any{
			"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + name, "Name": name,
			"Type": "SecureString", "Value": v, "Version": 1, "DataType": "text",
		}})
	default:
		writeAWSError(w, http.StatusBadRequest, "UnknownOperationException", "")
	}
}

func (f *fakeAWS) reqs() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.requests...)
}

func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func writeAWSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	writeJSON(w, map[string]string{"__type": code, "message": msg})
}

// isolateAWS gives the default credential chain static credentials and no
// shared files, so tests never reach a real account.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

func awsResolver(t *testing.T, endpoint string, extra map[string]string) *Resolver {
	t.Helper()
	props := map[string]string{
		"config.providers":                                       "secretsmanager,ssm",
		"config.providers.secretsmanager.class":                  SecretsManagerMSKClass,
		"config.providers.secretsmanager.param.region":           "us-east-1",
		"config.providers.secretsmanager.param.endpoint":         endpoint,
		"config.providers.ssm.class":                             SSMMSKClass,
		"config.providers.ssm.param.region":                      "us-east-1",
		"config.providers.ssm.param.endpoint":                    endpoint,
		"config.providers.secretsmanager.param.allowed.prefixes": "*",
		"config.providers.ssm.param.allowed.prefixes":            "*",
	}
	for k, v := range extra {
		props[k] = v
	}
	r, err := NewResolver(props)
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	for _, v := range fakeSecretValues {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q contains a secret value", err)
		}
	}
}

// awsCase is a reference resolved by the AWS providers, against the local
// fake (TestAWSProviders) and against moto's server
// (TestAWSProvidersAgainstMoto), which both hold the secrets and
// parameters of newFakeAWS.
type awsCase struct {
	name    string
	extra   map[string]string
	value   string
	want    string
	wantErr []string // substrings; the error must also name config "k"
	is      error
}

// awsCases are the cases; encodedARN is the URL-encoded ARN of the secret
// named "api" (moto gives its secrets ARNs of its own).
func awsCases(encodedARN string) []awsCase {
	return []awsCase{
		{name: "json key", value: "${secretsmanager:prod/db:password}", want: fakeDBPassword},
		{name: "two keys of one secret", value: "${secretsmanager:prod/db:username}:${secretsmanager:prod/db:password}", want: "admin:" + fakeDBPassword},
		{name: "number as written", value: "${secretsmanager:prod/db:port}", want: "5432"},
		{name: "boolean", value: "${secretsmanager:prod/db:tls}", want: "true"},
		{name: "url-encoded ARN", value: "${secretsmanager:" + encodedARN + ":token}", want: fakeAPIToken},
		{name: "ttl option ignored", value: "${secretsmanager:prod/db:password?ttl=300000}", want: fakeDBPassword},
		{name: "raw secret without path", value: "${secretsmanager:plain}", want: fakeRawSecret},
		{name: "raw json secret", value: "${secretsmanager:" + encodedARN + "}", want: `{"token":"` + fakeAPIToken + `"}`},
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
			name:    "missing raw secret",
			value:   "${secretsmanager:nope}",
			wantErr: []string{`provider "secretsmanager"`, `secret "nope"`},
			is:      ErrNotFound,
		},
		{
			name:    "missing json key",
			value:   "${secretsmanager:prod/db:nope}",
			wantErr: []string{`provider "secretsmanager"`, `key "nope"`},
			is:      ErrNotFound,
		},
		{
			name:    "null json key is missing",
			value:   "${secretsmanager:prod/db:gone}",
			wantErr: []string{`key "gone"`},
			is:      ErrNotFound,
		},
		{
			name:    "nested json value",
			value:   "${secretsmanager:prod/db:nested}",
			wantErr: []string{`key "nested"`, "not a string"},
		},
		{
			name:    "secret string not json",
			value:   "${secretsmanager:notjson:password}",
			wantErr: []string{`secret "notjson"`, "not a JSON object"},
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
		{
			name:  "missing json key ignored",
			extra: map[string]string{"config.providers.secretsmanager.param.NotFoundStrategy": "ignore"},
			value: "[${secretsmanager:prod/db:nope}]",
			want:  "[]",
		},
		{name: "ssm SecureString", value: "${ssm::/msk/db/password}", want: fakeSSMPassword},
		{name: "ssm without empty path", value: "${ssm:/msk/db/user}", want: fakeSSMPlain},
		{name: "ssm ttl option ignored", value: "${ssm::/msk/db/user?ttl=1000}", want: fakeSSMPlain},
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
}

func TestAWSProviders(t *testing.T) {
	isolateAWS(t)
	_, endpoint := newFakeAWS(t)
	runAWSCases(t, endpoint, awsCases("arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A123456789012%3Asecret%3Aapi-AbCdEf"))
}

// runAWSCases resolves each case with providers calling endpoint.
func runAWSCases(t *testing.T, endpoint string, cases []awsCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := awsResolver(t, endpoint, tt.extra)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value, "plain": "x"})
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

func TestAWSRequests(t *testing.T) {
	isolateAWS(t)
	f, endpoint := newFakeAWS(t)
	r := awsResolver(t, endpoint, nil)
	_, err := r.Resolve(testContext(t), map[string]string{
		"a": "${secretsmanager:prod/db:username}",
		"b": "${secretsmanager:prod/db:password}",
		"c": "${ssm::/msk/db/password}",
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	reqs := f.reqs()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2 (one per secret, one per parameter): %v", len(reqs), reqs)
	}
	if reqs[0]["X-Amz-Target"] != "secretsmanager.GetSecretValue" || reqs[0]["SecretId"] != "prod/db" {
		t.Errorf("Secrets Manager request = %v", reqs[0])
	}
	if reqs[1]["X-Amz-Target"] != "AmazonSSM.GetParameter" || reqs[1]["Name"] != "/msk/db/password" || reqs[1]["WithDecryption"] != true {
		t.Errorf("SSM request = %v, want WithDecryption true", reqs[1])
	}
}

// TestErrorsNeverContainValues resolves configurations in which some
// references succeed (so their values are in hand) and others fail, and
// checks that no error string contains any value.
func TestErrorsNeverContainValues(t *testing.T) {
	isolateAWS(t)
	tests := []struct {
		name     string
		failWith int
		props    map[string]string
	}{
		{
			name: "failure next to resolved values",
			props: map[string]string{
				"ok1":  "${secretsmanager:prod/db:password}",
				"ok2":  "${ssm::/msk/db/password}",
				"bad1": "${secretsmanager:prod/db:nope}",
				"bad2": "${ssm::/nope}",
				"bad3": "${secretsmanager:notjson:x}",
			},
		},
		{
			name:     "service error",
			failWith: http.StatusForbidden,
			props:    map[string]string{"a": "${secretsmanager:prod/db:password}", "b": "${ssm::/msk/db/password}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, endpoint := newFakeAWS(t)
			f.failWith = tt.failWith
			r := awsResolver(t, endpoint, nil)
			got, err := r.Resolve(testContext(t), tt.props)
			if err == nil {
				t.Fatalf("Resolve = %v, want an error", got)
			}
			if got != nil {
				t.Errorf("Resolve returned values with an error")
			}
			assertNoSecret(t, err)
			var re *ResolveError
			if !errors.As(err, &re) {
				t.Errorf("error %v is not a *ResolveError", err)
			}
		})
	}
}

// Throttling, 5xx answers and failed connections are tried again, up to
// three attempts in all, as the SDK's standard retryer does; other errors
// are not.
func TestAWSRetries(t *testing.T) {
	isolateAWS(t)
	defer func(d time.Duration) { awsBackoff = d }(awsBackoff)
	awsBackoff = time.Millisecond
	tests := []struct {
		name     string
		answers  []int // status of the first answers; 200 after them
		code     string
		want     string // "" for an error
		attempts int
	}{
		{name: "503 twice, then the value", answers: []int{503, 503}, code: "ServiceUnavailable", want: fakeDBPassword, attempts: 3},
		{name: "throttled once", answers: []int{400}, code: "ThrottlingException", want: fakeDBPassword, attempts: 2},
		{name: "500 every time", answers: []int{500, 500, 500}, code: "InternalServiceError", attempts: 3},
		{name: "access denied is final", answers: []int{400}, code: "AccessDeniedException", attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFakeAWS(t)
			var mu sync.Mutex
			attempts := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := attempts
				attempts++
				mu.Unlock()
				if n < len(tt.answers) {
					writeAWSError(w, tt.answers[n], tt.code, "try later")
					return
				}
				f.serve(w, r)
			}))
			t.Cleanup(srv.Close)
			sm := &SecretsManager{}
			if err := sm.Configure(map[string]string{RegionParam: "us-east-1", EndpointParam: srv.URL, AllowedPrefixesParam: "prod/"}); err != nil {
				t.Fatal(err)
			}
			got, err := sm.Get(testContext(t), "prod/db", []string{"password"})
			if tt.want != "" && (err != nil || got["password"] != tt.want) {
				t.Errorf("Get = %v, %v; want %q", got, err, tt.want)
			}
			if tt.want == "" && (err == nil || !strings.Contains(err.Error(), tt.code)) {
				t.Errorf("Get = %v, %v; want an error naming %s", got, err, tt.code)
			}
			mu.Lock()
			defer mu.Unlock()
			if attempts != tt.attempts {
				t.Errorf("%d attempts, want %d", attempts, tt.attempts)
			}
		})
	}
}

// Without an endpoint parameter, the providers call the service's regional
// endpoint.
func TestAWSDefaultEndpoint(t *testing.T) {
	isolateAWS(t)
	tests := []struct {
		name    string
		service awsService
		region  string
		want    string
	}{
		{name: "secrets manager", service: serviceSecretsManager, region: "eu-west-1", want: "https://secretsmanager.eu-west-1.amazonaws.com"},
		{name: "ssm", service: serviceSSM, region: "us-east-1", want: "https://ssm.us-east-1.amazonaws.com"},
		{name: "china", service: serviceSSM, region: "cn-north-1", want: "https://ssm.cn-north-1.amazonaws.com.cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configureAWS(map[string]string{RegionParam: tt.region}, tt.service)
			if err != nil {
				t.Fatal(err)
			}
			if c.endpoint != tt.want {
				t.Errorf("endpoint %q, want %q", c.endpoint, tt.want)
			}
		})
	}
}

// Without a region a call fails, saying so, and Configure does not: a
// declared provider that no reference uses does not need one.
func TestAWSNoRegion(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, endpoint := newFakeAWS(t)
	for _, p := range []Provider{&SecretsManager{}, &SSMParameterStore{}} {
		if err := p.Configure(map[string]string{EndpointParam: endpoint, AllowedPrefixesParam: "*"}); err != nil {
			t.Fatalf("%T.Configure: %v", p, err)
		}
		_, err := p.Get(testContext(t), "", []string{"prod/db"})
		if err == nil || !strings.Contains(err.Error(), "no AWS region") {
			t.Errorf("%T.Get without a region: %v, want an error naming the missing region", p, err)
		}
	}
}

// The AWS providers read only names under allowed.prefixes, and nothing
// when it is unset; a refused name never reaches AWS.
func TestAWSAllowedPrefixes(t *testing.T) {
	isolateAWS(t)
	fake, endpoint := newFakeAWS(t)
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf"
	encodedARN := strings.ReplaceAll(arn, ":", "%3A")
	tests := []struct {
		name     string
		prefixes map[string]string // provider -> allowed.prefixes; absent: unset
		value    string
		want     string
		wantErr  string
	}{
		{
			name:    "secrets manager unset allows nothing",
			value:   "${secretsmanager:prod/db:password}",
			wantErr: `secret "prod/db" is not allowed: config.providers.secretsmanager.param.allowed.prefixes is not set`,
		},
		{
			name:    "ssm unset allows nothing",
			value:   "${ssm::/msk/db/password}",
			wantErr: `parameter "/msk/db/password" is not allowed: config.providers.ssm.param.allowed.prefixes is not set`,
		},
		{
			name:     "secret name under a prefix",
			prefixes: map[string]string{"secretsmanager": "other/, prod/"},
			value:    "${secretsmanager:prod/db:password}",
			want:     fakeDBPassword,
		},
		{
			name:     "secret name outside the prefixes",
			prefixes: map[string]string{"secretsmanager": "prod/"},
			value:    "${secretsmanager:plain}",
			wantErr:  `secret "plain" is not allowed by config.providers.secretsmanager.param.allowed.prefixes`,
		},
		{
			name:     "empty prefixes allow nothing",
			prefixes: map[string]string{"secretsmanager": ""},
			value:    "${secretsmanager:prod/db:password}",
			wantErr:  "is not allowed by config.providers.secretsmanager.param.allowed.prefixes",
		},
		{
			name:     "ARN under an ARN prefix (URL-decoded first)",
			prefixes: map[string]string{"secretsmanager": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-"},
			value:    "${secretsmanager:" + encodedARN + ":token}",
			want:     fakeAPIToken,
		},
		{
			name:     "ARN is not matched by a name prefix",
			prefixes: map[string]string{"secretsmanager": "api-"},
			value:    "${secretsmanager:" + encodedARN + ":token}",
			wantErr:  "is not allowed by config.providers.secretsmanager.param.allowed.prefixes",
		},
		{
			name:     "ssm parameter under a prefix",
			prefixes: map[string]string{"ssm": "/msk/db/"},
			value:    "${ssm::/msk/db/user}",
			want:     fakeSSMPlain,
		},
		{
			name:     "ssm parameter outside the prefixes",
			prefixes: map[string]string{"ssm": "/msk/db/user"},
			value:    "${ssm::/msk/db/password}",
			wantErr:  `parameter "/msk/db/password" is not allowed by config.providers.ssm.param.allowed.prefixes`,
		},
		{
			name:     "star allows all",
			prefixes: map[string]string{"ssm": "*"},
			value:    "${ssm::/msk/db/password}",
			want:     fakeSSMPassword,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{
				"config.providers":                               "secretsmanager,ssm",
				"config.providers.secretsmanager.class":          SecretsManagerClass,
				"config.providers.secretsmanager.param.region":   "us-east-1",
				"config.providers.secretsmanager.param.endpoint": endpoint,
				"config.providers.ssm.class":                     SSMClass,
				"config.providers.ssm.param.region":              "us-east-1",
				"config.providers.ssm.param.endpoint":            endpoint,
			}
			for p, v := range tt.prefixes {
				props["config.providers."+p+".param.allowed.prefixes"] = v
			}
			r, err := NewResolver(props)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			before := len(fake.reqs())
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error = %v, want ErrNotAllowed containing %q", err, tt.wantErr)
				}
				assertNoSecret(t, err)
				if n := len(fake.reqs()) - before; n != 0 {
					t.Errorf("a refused reference made %d AWS requests", n)
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
