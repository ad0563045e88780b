package coordinator_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins"
)

func TestValidateWithConfigProviders(t *testing.T) {
	reg := plugins.Registry()
	base := func(kv ...string) map[string]string {
		p := map[string]string{"name": "x", "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/f"}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name      string
		providers []string
		props     map[string]string
		wantErr   string
	}{
		{"reference to a configured provider is checked at run time", []string{"file"}, base("batch.size", "${file:/s.properties:n}"), ""},
		{"reference to an unknown provider", []string{"file"}, base("file", "${vault:/a:b}"), "config provider 'vault' is not configured"},
		{"no providers configured", nil, base("file", "${file:/a:b}"), "config provider 'file' is not configured"},
		{"ordinary errors still reported", []string{"file"}, base("batch.size", "many"), "Not a number of type INT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, infos, _ := coordinator.Validate(reg, tt.providers, tt.props)
			var all []string
			for _, c := range infos.Configs {
				all = append(all, c.Value.Errors...)
			}
			if tt.wantErr == "" && infos.ErrorCount != 0 {
				t.Fatalf("errors: %v", all)
			}
			if tt.wantErr != "" && !strings.Contains(strings.Join(all, "\n"), tt.wantErr) {
				t.Fatalf("errors %v do not mention %q", all, tt.wantErr)
			}
			if infos.ErrorCount != len(all) {
				t.Fatalf("error_count %d for %d errors", infos.ErrorCount, len(all))
			}
		})
	}
}

// ValidateReferences reports, on its key, each reference the worker's
// providers refuse, with the reason and without looking it up; the
// references they allow pass.
func TestValidateRefusedReferences(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLUICE_VALIDATE_SECRET", "validate-secret-value")
	resolver, err := configprovider.NewResolver(map[string]string{
		"config.providers":                             "file,env",
		"config.providers.file.class":                  configprovider.FileClass,
		"config.providers.file.param.allowed.paths":    dir,
		"config.providers.env.class":                   configprovider.EnvVarClass,
		"config.providers.env.param.allowlist.pattern": "SLUICE_ALLOWED_.*",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resolver.Close()
	reg := plugins.Registry()
	base := func(kv ...string) map[string]string {
		p := map[string]string{"name": "x", "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/f"}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name    string
		props   map[string]string
		wantKey string // "" for no error
		wantErr string
	}{
		{name: "allowed file", props: base("file", "${file:"+dir+"/in.properties:path}")},
		{name: "allowed variable", props: base("batch.size", "${env::SLUICE_ALLOWED_BATCH}")},
		{name: "file outside allowed.paths", props: base("file", "${file:/etc/passwd:root}"), wantKey: "file",
			wantErr: `Invalid value ${file:/etc/passwd:root} for configuration file: file "/etc/passwd" is not allowed by config.providers.file.param.allowed.paths`},
		{name: "variable outside the allowlist", props: base("batch.size", "${env::SLUICE_VALIDATE_SECRET}"), wantKey: "batch.size",
			wantErr: `Invalid value ${env::SLUICE_VALIDATE_SECRET} for configuration batch.size: environment variable "SLUICE_VALIDATE_SECRET" is not allowed by config.providers.env.param.allowlist.pattern`},
		{name: "a key the connector does not define", props: base("producer.override.sasl.jaas.config", "x ${env::SLUICE_VALIDATE_SECRET}"),
			wantKey: "producer.override.sasl.jaas.config", wantErr: `environment variable "SLUICE_VALIDATE_SECRET" is not allowed`},
		{name: "an unconfigured provider on a key the connector does not define", props: base("consumer.override.x", "${vault:a:b}"),
			wantKey: "consumer.override.x", wantErr: "config provider 'vault' is not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, infos, _ := coordinator.ValidateReferences(reg, resolver.Providers(), resolver, tt.props)
			got := map[string][]string{}
			n := 0
			for _, c := range infos.Configs {
				if len(c.Value.Errors) > 0 {
					got[c.Definition.Name] = c.Value.Errors
					n += len(c.Value.Errors)
				}
			}
			if infos.ErrorCount != n {
				t.Errorf("error_count %d for %d errors", infos.ErrorCount, n)
			}
			if tt.wantKey == "" {
				if n != 0 {
					t.Fatalf("errors: %v", got)
				}
				return
			}
			if n != 1 || len(got[tt.wantKey]) != 1 || !strings.Contains(got[tt.wantKey][0], tt.wantErr) {
				t.Fatalf("errors %v, want one on %s saying %q", got, tt.wantKey, tt.wantErr)
			}
			if strings.Contains(got[tt.wantKey][0], "validate-secret-value") {
				t.Fatalf("the error holds the variable's value: %s", got[tt.wantKey][0])
			}
		})
	}
}

// A connector whose file path comes from a FileConfigProvider: the
// reference is resolved only in the lease, and data flows.
func TestConfigProviderResolvedInTheLease(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "secrets.properties")
	if err := os.WriteFile(secrets, []byte("input="+input+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolver, err := configprovider.NewResolver(map[string]string{
		"config.providers": "file", "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.file.param.allowed.paths": dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resolver.Close()

	k := kafkatest.Start(t, 1)
	cfg := testConfig()
	cfg.ConfigProviders = resolver.Providers()
	coord := newCoordinatorWith(t, k, cfg, lease.Options{SafetyMargin: 500 * time.Millisecond, Resolver: resolver})
	err = coord.Add(map[string]string{"name": "fs", "connector.class": "FileStreamSource", "topic": "lines",
		"file": "${file:" + secrets + ":input}", "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the file's lines in the topic", func() bool {
		stored, err := k.Offsets.Load(context.Background(), "fs")
		if err != nil {
			return false
		}
		for _, e := range stored {
			return e.Partition["filename"] == input && e.Offset["position"] == int64(6)
		}
		return false
	})
}
