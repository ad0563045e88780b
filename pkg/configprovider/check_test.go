package configprovider

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Resolver.Check refuses exactly what Resolve refuses, for every built-in
// provider, without looking anything up: no AWS call, and no value in its
// messages.
func TestCheckAgreesWithResolve(t *testing.T) {
	isolateAWS(t)
	fake, endpoint := newFakeAWS(t)
	root := t.TempDir()
	allowed := filepath.Join(root, "allowed")
	outside := filepath.Join(root, "outside")
	writeFile(t, filepath.Join(allowed, "db.properties"), "password="+fakeDBPassword+"\n")
	writeFile(t, filepath.Join(allowed, "mount", "token"), fakeAPIToken)
	writeFile(t, filepath.Join(outside, "db.properties"), "password="+fakeRawSecret+"\n")
	if err := os.Symlink(filepath.Join(outside, "db.properties"), filepath.Join(allowed, "mount", "escape")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_CHECK_OK", fakeSSMPlain)
	t.Setenv("SLUICE_CHECK_DENIED", fakeSSMPassword)

	r := awsResolver(t, endpoint, map[string]string{
		"config.providers": "secretsmanager,ssm,env,file,directory,unset",
		"config.providers.secretsmanager.param.allowed.prefixes": "prod/",
		"config.providers.ssm.param.allowed.prefixes":            "/msk/db/user",
		"config.providers.env.class":                             EnvVarClass,
		"config.providers.env.param.allowlist.pattern":           "SLUICE_CHECK_OK",
		"config.providers.file.class":                            FileClass,
		"config.providers.file.param.allowed.paths":              allowed,
		"config.providers.directory.class":                       DirectoryClass,
		"config.providers.directory.param.allowed.paths":         allowed,
		"config.providers.unset.class":                           EnvVarClass,
	})

	tests := []struct {
		name    string
		value   string
		wantErr string // "" when allowed
	}{
		{name: "env allowed", value: "${env::SLUICE_CHECK_OK}"},
		{name: "env outside the allowlist", value: "${env::SLUICE_CHECK_DENIED}",
			wantErr: `environment variable "SLUICE_CHECK_DENIED" is not allowed by config.providers.env.param.allowlist.pattern`},
		{name: "env with a path", value: "${env:p:SLUICE_CHECK_OK}", wantErr: "path is not supported"},
		{name: "allowlist unset", value: "${unset::SLUICE_CHECK_OK}",
			wantErr: `environment variable "SLUICE_CHECK_OK" is not allowed: config.providers.unset.param.allowlist.pattern is not set (config providers deny by default)`},
		{name: "file allowed", value: "${file:" + filepath.Join(allowed, "db.properties") + ":password}"},
		{name: "file outside allowed.paths", value: "${file:" + filepath.Join(outside, "db.properties") + ":password}",
			wantErr: `file "` + filepath.Join(outside, "db.properties") + `" is not allowed by config.providers.file.param.allowed.paths`},
		{name: "file traversal", value: "${file:" + allowed + "/../outside/db.properties:password}",
			wantErr: "is not allowed by config.providers.file.param.allowed.paths"},
		{name: "directory allowed", value: "${directory:" + filepath.Join(allowed, "mount") + ":token}"},
		{name: "directory outside", value: "${directory:" + outside + ":db.properties}",
			wantErr: `directory "` + outside + `" is not allowed by config.providers.directory.param.allowed.paths`},
		{name: "directory link leading outside", value: "${directory:" + filepath.Join(allowed, "mount") + ":escape}",
			wantErr: "is not allowed by config.providers.directory.param.allowed.paths"},
		{name: "secret allowed", value: "${secretsmanager:prod/db:password}"},
		{name: "secret outside the prefixes", value: "${secretsmanager:plain}",
			wantErr: `secret "plain" is not allowed by config.providers.secretsmanager.param.allowed.prefixes`},
		{name: "secret by path outside the prefixes", value: "${secretsmanager:notjson:x}",
			wantErr: `secret "notjson" is not allowed by config.providers.secretsmanager.param.allowed.prefixes`},
		{name: "secret id badly encoded", value: "${secretsmanager:prod%zz:x}", wantErr: "is not validly URL-encoded"},
		{name: "parameter allowed", value: "${ssm::/msk/db/user?ttl=60000}"},
		{name: "parameter outside the prefixes", value: "${ssm::/msk/db/password}",
			wantErr: `parameter "/msk/db/password" is not allowed by config.providers.ssm.param.allowed.prefixes`},
		{name: "provider not configured", value: "${vault:secret/db:password}"},
		{name: "no reference", value: "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{"name": "c", "the.key": tt.value}
			before := len(fake.reqs())
			refusals := r.Check(props)
			if n := len(fake.reqs()) - before; n != 0 {
				t.Errorf("Check made %d AWS calls", n)
			}
			_, resolveErr := r.Resolve(testContext(t), props)
			if tt.wantErr == "" {
				if len(refusals) != 0 {
					t.Fatalf("Check refused: %v", refusals)
				}
				if resolveErr != nil {
					t.Fatalf("Check allowed what Resolve refuses: %v", resolveErr)
				}
				return
			}
			if len(refusals) != 1 {
				t.Fatalf("Check returned %d refusals, want 1: %v", len(refusals), refusals)
			}
			got := refusals[0]
			if got.ConfigKey != "the.key" || got.Text != tt.value {
				t.Errorf("refusal names config %q reference %q, want %q %q", got.ConfigKey, got.Text, "the.key", tt.value)
			}
			if !strings.Contains(got.Err.Error(), tt.wantErr) {
				t.Errorf("refusal %q does not say %q", got.Err, tt.wantErr)
			}
			if !strings.Contains(got.Error(), `config "the.key"`) {
				t.Errorf("refusal %q does not name the config key", got)
			}
			assertNoSecret(t, got)
			if resolveErr == nil {
				t.Fatalf("Check refused what Resolve allows")
			}
			if !errors.Is(resolveErr, got.Err) && !strings.Contains(resolveErr.Error(), got.Err.Error()) {
				t.Errorf("Resolve refused with %q, Check with %q", resolveErr, got.Err)
			}
		})
	}
}

// Check finds every refused reference of a configuration, one per
// reference, in References order; a nil Resolver refuses nothing.
func TestCheckReportsEachReference(t *testing.T) {
	r := resolverFor(t, "env", EnvVarClass, map[string]string{AllowlistPatternParam: "OK_.*"})
	props := map[string]string{
		"b": "${env::NO_1} and ${env::OK_1}",
		"a": "${env::NO_2}",
		"c": "${env::OK_2}",
	}
	var got []string
	for _, f := range r.Check(props) {
		got = append(got, f.ConfigKey+"="+f.Key)
		if !errors.Is(f, ErrNotAllowed) {
			t.Errorf("refusal %v is not ErrNotAllowed", f)
		}
	}
	if strings.Join(got, ",") != "a=NO_2,b=NO_1" {
		t.Errorf("refusals %v, want a=NO_2,b=NO_1", got)
	}
	var nilResolver *Resolver
	if f := nilResolver.Check(props); f != nil {
		t.Errorf("nil Resolver refused %v", f)
	}
}
