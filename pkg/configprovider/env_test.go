package configprovider

import (
	"errors"
	"strings"
	"testing"
)

func TestEnvVarProvider(t *testing.T) {
	t.Setenv("SLUICE_TEST_DB_PASSWORD", "hunter2")
	t.Setenv("SLUICE_TEST_OTHER", "other")
	t.Setenv("SLUICE_TEST_EMPTY", "")

	tests := []struct {
		name    string
		params  map[string]string
		value   string
		want    string
		wantErr error
		wantMsg string
	}{
		{name: "variable", value: "${env:SLUICE_TEST_DB_PASSWORD}", want: "hunter2"},
		{name: "empty path", value: "${env::SLUICE_TEST_OTHER}", want: "other"},
		{name: "set but empty", value: "[${env:SLUICE_TEST_EMPTY}]", want: "[]"},
		{name: "unset left as is", value: "${env:SLUICE_TEST_UNSET}", want: "${env:SLUICE_TEST_UNSET}"},
		{
			name:   "allowlist matches",
			params: map[string]string{"allowlist.pattern": "SLUICE_TEST_DB_.*"},
			value:  "${env:SLUICE_TEST_DB_PASSWORD}",
			want:   "hunter2",
		},
		{
			name:    "allowlist refuses",
			params:  map[string]string{"allowlist.pattern": "SLUICE_TEST_DB_.*"},
			value:   "${env:SLUICE_TEST_OTHER}",
			wantErr: ErrNotAllowed,
			wantMsg: `environment variable "SLUICE_TEST_OTHER" is not allowed by config.providers.env.param.allowlist.pattern`,
		},
		{
			// Java's Matcher.matches: the whole name must match.
			name:    "allowlist is anchored",
			params:  map[string]string{"allowlist.pattern": "SLUICE_TEST"},
			value:   "${env:SLUICE_TEST_OTHER}",
			wantErr: ErrNotAllowed,
		},
		{
			name:    "empty allowlist allows nothing",
			params:  map[string]string{"allowlist.pattern": ""},
			value:   "${env:SLUICE_TEST_OTHER}",
			wantErr: ErrNotAllowed,
		},
		{
			// Kafka's default is ".*"; Sluice's is nothing.
			name:    "unset allowlist allows nothing",
			params:  map[string]string{},
			value:   "${env:SLUICE_TEST_DB_PASSWORD}",
			wantErr: ErrNotAllowed,
			wantMsg: "config.providers.env.param.allowlist.pattern is not set",
		},
		{
			name:   "allowlist .* allows all",
			params: map[string]string{"allowlist.pattern": ".*"},
			value:  "${env:SLUICE_TEST_OTHER}",
			want:   "other",
		},
		{name: "path is an error", value: "${env:/some/path:SLUICE_TEST_OTHER}", wantErr: ErrPathNotSupported},
		{
			// As in Kafka, the first reference's lazy path runs to the next
			// ":", giving path "SLUICE_TEST_OTHER} ${env"; write ${env::NAME}.
			name:    "two pathless references in one value",
			value:   "${env:SLUICE_TEST_OTHER} ${env:SLUICE_TEST_OTHER}",
			wantErr: ErrPathNotSupported,
		},
		{
			name:  "two references with empty paths in one value",
			value: "${env::SLUICE_TEST_OTHER} ${env::SLUICE_TEST_DB_PASSWORD}",
			want:  "other hunter2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params
			if params == nil {
				params = map[string]string{"allowlist.pattern": "SLUICE_TEST_.*"}
			}
			r := resolverFor(t, "env", EnvVarClass, params)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve error = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not contain %q", err, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "other\"") {
					t.Errorf("error %q leaks a value", err)
				}
				if !strings.Contains(err.Error(), `config "k"`) || !strings.Contains(err.Error(), `provider "env"`) {
					t.Errorf("error %q does not name the config key and provider", err)
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

	t.Run("get all filtered", func(t *testing.T) {
		var e EnvVar
		if err := e.Configure(map[string]string{"allowlist.pattern": "SLUICE_TEST_.*"}); err != nil {
			t.Fatal(err)
		}
		got, err := e.Get(testContext(t), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got["SLUICE_TEST_OTHER"] != "other" {
			t.Errorf("Get(nil keys) = %v", got)
		}
	})
	t.Run("get all without allowlist", func(t *testing.T) {
		var e EnvVar
		if err := e.Configure(nil); err != nil {
			t.Fatal(err)
		}
		got, err := e.Get(testContext(t), "", nil)
		if err != nil || len(got) != 0 {
			t.Errorf("Get(nil keys) = %v, %v; want nothing", got, err)
		}
	})
}
