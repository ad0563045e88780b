package configprovider

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// testProvider is ConfigTransformerTest.TestConfigProvider.
type testProvider struct {
	calls []string
}

func (p *testProvider) Configure(map[string]string) error { return nil }

func (p *testProvider) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	p.calls = append(p.calls, path+"|"+strings.Join(keys, ","))
	data := map[string]string{}
	if path == "testPath" {
		for _, k := range keys {
			switch k {
			case "testKey":
				data[k] = "testResult"
			case "testKeyWithTTL":
				data[k] = "testResultWithTTL"
			case "testIndirection":
				data[k] = "${test:testPath:testResult}"
			}
		}
	}
	if path == "" {
		for _, k := range keys {
			if k == "noPathKey" {
				data[k] = "noPathResult"
			}
		}
	}
	return data, nil
}

func (p *testProvider) Close() error { return nil }

// failingProvider fails every lookup with an error that, wrongly, would be
// harmless to print.
type failingProvider struct{}

func (failingProvider) Configure(map[string]string) error { return nil }
func (failingProvider) Get(context.Context, string, []string) (map[string]string, error) {
	return nil, errors.New("backend unavailable")
}
func (failingProvider) Close() error { return nil }

func newTestResolver(t *testing.T) (*Resolver, *testProvider) {
	t.Helper()
	tp := &testProvider{}
	classes := map[string]func() Provider{
		"Test": func() Provider { return tp },
		"Fail": func() Provider { return failingProvider{} },
	}
	r, err := newResolver(map[string]string{
		"config.providers":            "test, fail",
		"config.providers.test.class": "Test",
		"config.providers.fail.class": "Fail",
	}, classes)
	if err != nil {
		t.Fatalf("newResolver: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, tp
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestResolveSyntax(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{name: "replace variable", value: "${test:testPath:testKey}", want: "testResult"},
		{name: "replace variable with ttl", value: "${test:testPath:testKeyWithTTL}", want: "testResultWithTTL"},
		{
			name:  "multiple variables in value",
			value: "hello, ${test:testPath:testKey}; goodbye, ${test:testPath:testKeyWithTTL}!!!",
			want:  "hello, testResult; goodbye, testResultWithTTL!!!",
		},
		{name: "no replacement for missing key", value: "${test:testPath:missingKey}", want: "${test:testPath:missingKey}"},
		{name: "single level of indirection", value: "${test:testPath:testIndirection}", want: "${test:testPath:testResult}"},
		{name: "no path", value: "${test:noPathKey}", want: "noPathResult"},
		{name: "empty path is no path", value: "${test::noPathKey}", want: "noPathResult"},
		{name: "unknown provider left as is", value: "${vault:secret/db:password}", want: "${vault:secret/db:password}"},
		{
			name:  "unknown provider next to a known one",
			value: "${vault:a:b}/${test:testPath:testKey}",
			want:  "${vault:a:b}/testResult",
		},
		{name: "no reference", value: "plain value", want: "plain value"},
		{name: "unterminated", value: "${test:testPath:testKey", want: "${test:testPath:testKey"},
		{name: "dollar without brace", value: "$test:testPath:testKey}", want: "$test:testPath:testKey}"},
		{
			// The key ends at the first "}", so the inner reference is the key.
			name:  "nested braces",
			value: "${test:testPath:${test:testPath:testKey}}",
			want:  "${test:testPath:${test:testPath:testKey}}",
		},
		{
			// Kafka's lazy optional path group runs past the first "}" to the
			// next ":": one match, path "noPathKey} ${test", key "testPath:testKey".
			name:  "pathless reference before another reference",
			value: "${test:noPathKey} ${test:testPath:testKey}",
			want:  "${test:noPathKey} ${test:testPath:testKey}",
		},
		{
			name:  "line break inside is not a reference",
			value: "${test:testPath:test\nKey}",
			want:  "${test:testPath:test\nKey}",
		},
		{name: "text around", value: "pre-${test:testPath:testKey}-post", want: "pre-testResult-post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestResolver(t)
			props := map[string]string{"myKey": tt.value}
			got, err := r.Resolve(testContext(t), props)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got["myKey"] != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.value, got["myKey"], tt.want)
			}
			if props["myKey"] != tt.value {
				t.Errorf("Resolve modified its input: %q", props["myKey"])
			}
		})
	}
}

func TestResolveOneCallPerPath(t *testing.T) {
	r, tp := newTestResolver(t)
	_, err := r.Resolve(testContext(t), map[string]string{
		"a": "${test:testPath:testKey}",
		"b": "${test:testPath:testKeyWithTTL} ${test:testPath:testKey}",
		"c": "${test:noPathKey}",
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	want := []string{"|noPathKey", "testPath|testKey,testKeyWithTTL"}
	if !reflect.DeepEqual(tp.calls, want) {
		t.Errorf("provider calls = %q, want %q", tp.calls, want)
	}
}

func TestResolveProviderFailure(t *testing.T) {
	r, _ := newTestResolver(t)
	_, err := r.Resolve(testContext(t), map[string]string{
		"db.password": "${fail:/vault/db:password}",
		"db.user":     "${fail:/vault/db:user}",
		"ok":          "${test:testPath:testKey}",
	})
	var re *ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("Resolve error = %v, want a *ResolveError", err)
	}
	if re.Provider != "fail" || re.Path != "/vault/db" || !reflect.DeepEqual(re.ConfigKeys, []string{"db.password", "db.user"}) {
		t.Errorf("ResolveError = %+v", re)
	}
	for _, s := range []string{`"db.password"`, `"db.user"`, `provider "fail"`, `path "/vault/db"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %s", err, s)
		}
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  []Reference
	}{
		{
			name:  "path and no path",
			props: map[string]string{"b": "${file:/etc/x.properties:user}", "a": "${env:HOME}"},
			want: []Reference{
				{ConfigKey: "a", Provider: "env", Key: "HOME", Text: "${env:HOME}"},
				{ConfigKey: "b", Provider: "file", Path: "/etc/x.properties", Key: "user", Text: "${file:/etc/x.properties:user}"},
			},
		},
		{
			name:  "several in one value",
			props: map[string]string{"url": "jdbc://${env::HOST}:${directory:/run/secrets:port}/db"},
			want: []Reference{
				{ConfigKey: "url", Provider: "env", Key: "HOST", Text: "${env::HOST}"},
				{ConfigKey: "url", Provider: "directory", Path: "/run/secrets", Key: "port", Text: "${directory:/run/secrets:port}"},
			},
		},
		{
			name:  "ssm parameter name keeps its slashes",
			props: map[string]string{"p": "${ssm::/msk/db/password}"},
			want:  []Reference{{ConfigKey: "p", Provider: "ssm", Key: "/msk/db/password", Text: "${ssm::/msk/db/password}"}},
		},
		{name: "none", props: map[string]string{"a": "$ {env:X}", "b": "${noColon}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := References(tt.props); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("References = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewResolverErrors(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantErr []string
		is      error
	}{
		{
			name:    "unknown class",
			props:   map[string]string{"config.providers": "vault", "config.providers.vault.class": "com.example.VaultConfigProvider"},
			wantErr: []string{`provider "vault"`, "com.example.VaultConfigProvider"},
			is:      ErrUnknownClass,
		},
		{
			name:    "missing class",
			props:   map[string]string{"config.providers": "file"},
			wantErr: []string{`provider "file"`, "config.providers.file.class"},
		},
		{
			name: "unknown param",
			props: map[string]string{
				"config.providers":                 "file",
				"config.providers.file.class":      FileClass,
				"config.providers.file.param.path": "/x",
			},
			wantErr: []string{`provider "file"`, `"path"`, "allowed.paths"},
			is:      ErrInvalidParam,
		},
		{
			name: "bad allowlist pattern",
			props: map[string]string{
				"config.providers":                             "env",
				"config.providers.env.class":                   EnvVarClass,
				"config.providers.env.param.allowlist.pattern": "(",
			},
			wantErr: []string{`provider "env"`, "allowlist.pattern"},
			is:      ErrInvalidParam,
		},
		{
			name: "bad NotFoundStrategy",
			props: map[string]string{
				"config.providers":                            "ssm",
				"config.providers.ssm.class":                  SSMMSKClass,
				"config.providers.ssm.param.NotFoundStrategy": "skip",
				"config.providers.ssm.param.region":           "us-east-1",
			},
			wantErr: []string{`provider "ssm"`, "NotFoundStrategy"},
			is:      ErrInvalidParam,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewResolver(tt.props)
			if err == nil {
				t.Fatal("NewResolver succeeded, want an error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestNewResolverBuiltins(t *testing.T) {
	r, err := NewResolver(map[string]string{
		"config.providers":                             "env,file, directory,secretsmanager,ssm",
		"config.providers.env.class":                   EnvVarClass,
		"config.providers.file.class":                  FileClass,
		"config.providers.directory.class":             DirectoryClass,
		"config.providers.secretsmanager.class":        SecretsManagerMSKClass,
		"config.providers.secretsmanager.param.region": "us-east-1",
		"config.providers.ssm.class":                   SSMClass,
		"config.providers.ssm.param.region":            "us-east-1",
	})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	defer r.Close()
	want := []string{"directory", "env", "file", "secretsmanager", "ssm"}
	if got := r.Providers(); !reflect.DeepEqual(got, want) {
		t.Errorf("Providers = %q, want %q", got, want)
	}

	empty, err := NewResolver(map[string]string{})
	if err != nil {
		t.Fatalf("NewResolver without providers: %v", err)
	}
	got, err := empty.Resolve(testContext(t), map[string]string{"k": "${env:HOME}"})
	if err != nil || got["k"] != "${env:HOME}" {
		t.Errorf("Resolve without providers = %q, %v", got["k"], err)
	}
}

// ResolveAll asks each provider once per path for the keys of every
// configuration, and resolves each in order.
func TestResolveAllAsksOnce(t *testing.T) {
	r, tp := newTestResolver(t)
	connector := map[string]string{"a": "${test:testPath:testKey}", "b": "plain"}
	task := map[string]string{"a": "${test:testPath:testKey}", "c": "${test:testPath:testKeyWithTTL}"}
	got, err := r.ResolveAll(testContext(t), connector, task)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"testPath|testKey,testKeyWithTTL"}; !slices.Equal(tp.calls, want) {
		t.Errorf("provider calls = %q, want %q", tp.calls, want)
	}
	if len(got) != 2 || !maps.Equal(got[0], map[string]string{"a": "testResult", "b": "plain"}) ||
		!maps.Equal(got[1], map[string]string{"a": "testResult", "c": "testResultWithTTL"}) {
		t.Errorf("ResolveAll = %v", got)
	}
	if connector["a"] != "${test:testPath:testKey}" {
		t.Error("ResolveAll modified its input")
	}
}
