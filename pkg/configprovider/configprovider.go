// Package configprovider implements Kafka Connect's config providers
// (KIP-297, the worker's config.providers setting): values written in a
// connector configuration as ${provider:[path:]key} and replaced, where a
// task runs, by what a Provider looks up.
//
// Resolved configurations are never stored and never logged: the lease
// executor calls Resolver.Resolve just before it starts a task, and every
// error this package returns names only the config key, the provider and the
// path, never a looked-up value.
//
// Providers deny by default, unlike Kafka's: each reads only what its allow
// setting names (EnvVar's allowlist.pattern, File's and Directory's
// allowed.paths, the AWS providers' allowed.prefixes), nothing when the
// setting is unset, and refuses anything else with a *NotAllowedError
// naming the worker setting. Resolver.Check finds the references of a
// configuration that Resolve would refuse without looking anything up, so
// that they are reported when the configuration is submitted.
//
// Built-in providers, under the class names Kafka Connect and Amazon MSK
// Connect users already write:
//
//   - org.apache.kafka.common.config.provider.EnvVarConfigProvider (EnvVar)
//   - org.apache.kafka.common.config.provider.FileConfigProvider (File)
//   - org.apache.kafka.common.config.provider.DirectoryConfigProvider (Directory)
//   - io.sluice.config.provider.SecretsManagerConfigProvider, alias
//     com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider (SecretsManager)
//   - io.sluice.config.provider.SsmParameterStoreConfigProvider, alias
//     com.amazonaws.kafka.config.providers.SsmParamStoreConfigProvider (SSMParameterStore)
//
// References follow Kafka's ConfigTransformer to the letter, including one
// surprise: in a value holding several references, a reference without a
// path swallows the text up to the next ":" as its path, so
// "${env:A} ${env:B}" is one reference with path "A} ${env". Write an empty
// path, "${env::A} ${env::B}", to put several path-less references in one
// value.
//
// Time-to-live (ConfigData.ttl, and the MSK providers' "?ttl=" key option)
// is not supported: a lease resolves its configuration afresh each time it
// runs, so there is nothing to expire. The "?ttl=…" suffix is accepted and
// ignored by the AWS providers so that MSK configurations keep working.
package configprovider

import (
	"context"
	"regexp"
	"sort"
)

// Provider is Kafka's org.apache.kafka.common.config.provider.ConfigProvider.
//
// Configure is called once, before any Get, with the worker's
// config.providers.<name>.param.* settings (the prefix removed). Get and
// Close may be called from several goroutines once Configure has returned.
type Provider interface {
	// Configure validates and applies the provider's parameters.
	Configure(params map[string]string) error
	// Get returns the values of keys at path. A nil keys asks for every key
	// at path (Kafka's get(path)). A key that does not exist is left out of
	// the result, not reported as an error; an error means the lookup itself
	// failed (I/O, a remote service) and must never contain a value.
	Get(ctx context.Context, path string, keys []string) (map[string]string, error)
	// Close releases the provider's resources.
	Close() error
}

// Class names of the built-in providers, as written in
// config.providers.<name>.class.
const (
	EnvVarClass            = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	FileClass              = "org.apache.kafka.common.config.provider.FileConfigProvider"
	DirectoryClass         = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
	SecretsManagerClass    = "io.sluice.config.provider.SecretsManagerConfigProvider"
	SecretsManagerMSKClass = "com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider"
	SSMClass               = "io.sluice.config.provider.SsmParameterStoreConfigProvider"
	SSMMSKClass            = "com.amazonaws.kafka.config.providers.SsmParamStoreConfigProvider"
)

// builtins is the registry of provider classes: every class name Sluice
// accepts, with the constructor of a fresh, unconfigured provider.
func builtins() map[string]func() Provider {
	secrets := func() Provider { return &SecretsManager{} }
	ssm := func() Provider { return &SSMParameterStore{} }
	return map[string]func() Provider{
		EnvVarClass:            func() Provider { return &EnvVar{} },
		FileClass:              func() Provider { return &File{} },
		DirectoryClass:         func() Provider { return &Directory{} },
		SecretsManagerClass:    secrets,
		SecretsManagerMSKClass: secrets,
		SSMClass:               ssm,
		SSMMSKClass:            ssm,
	}
}

// Reference is one ${provider:[path:]key} found in a configuration value.
type Reference struct {
	ConfigKey string // the property whose value holds the reference
	Provider  string // the provider name, as listed in config.providers
	Path      string // "" when the reference has no path
	Key       string // the key looked up at Path
	Text      string // the reference exactly as written, "${…}"
}

// javaDot is what "." matches in a java.util.regex.Pattern compiled without
// DOTALL: any character but the line terminators.
const javaDot = `[^\n\r\x{85}\x{2028}\x{2029}]`

// referencePattern is ConfigTransformer.DEFAULT_PATTERN,
// \$\{(.*?):((.*?):)?(.*?)\}, with Java's "." spelled out. Go's regexp uses
// leftmost-first (backtracking-preference) matching, so submatches are the
// ones Java's engine finds, quirks included: the optional path group is
// tried first, and its lazy ".*?" may run past a "}" to reach a ":", so in
// "${a:x} ${b:p:y}" the single match has provider "a", path "x} ${b" and
// key "p:y", exactly as in Kafka.
var referencePattern = regexp.MustCompile(
	`\$\{(` + javaDot + `*?):((` + javaDot + `*?):)?(` + javaDot + `*?)\}`)

// References returns every reference in props, ordered by config key and
// then by position in the value. Use it at validation time, for example to
// report references to providers the worker does not configure
// (Resolver.Providers).
func References(props map[string]string) []Reference {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var refs []Reference
	for _, k := range keys {
		refs = append(refs, findReferences(k, props[k])...)
	}
	return refs
}

// findReferences is ConfigTransformer.getVars.
func findReferences(configKey, value string) []Reference {
	var refs []Reference
	for _, m := range referencePattern.FindAllStringSubmatchIndex(value, -1) {
		refs = append(refs, Reference{
			ConfigKey: configKey,
			Provider:  value[m[2]:m[3]],
			Path:      group(value, m, 3),
			Key:       value[m[8]:m[9]],
			Text:      value[m[0]:m[1]],
		})
	}
	return refs
}

// group returns submatch n of m, or "" when it did not participate (Kafka's
// EMPTY_PATH for a null group 3).
func group(s string, m []int, n int) string {
	if m[2*n] < 0 {
		return ""
	}
	return s[m[2*n]:m[2*n+1]]
}
