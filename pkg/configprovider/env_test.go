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
			name:   "allowlist filters",
			params: map[string]string{"allowlist.pattern": "SLUICE_TEST_DB_.*"},
			value:  "${env:SLUICE_TEST_OTHER}",
			want:   "${env:SLUICE_TEST_OTHER}",
		},
		{
			// Java's Matcher.matches: the whole name must match.
			name:   "allowlist is anchored",
			params: map[string]string{"allowlist.pattern": "SLUICE_TEST"},
			value:  "${env:SLUICE_TEST_OTHER}",
			want:   "${env:SLUICE_TEST_OTHER}",
		},
		{
			name:   "empty allowlist allows nothing",
			params: map[string]string{"allowlist.pattern": ""},
			value:  "${env:SLUICE_TEST_OTHER}",
			want:   "${env:SLUICE_TEST_OTHER}",
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
			r := resolverFor(t, "env", EnvVarClass, tt.params)
			got, err := r.Resolve(testContext(t), map[string]string{"k": tt.value})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve error = %v, want %v", err, tt.wantErr)
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
}
