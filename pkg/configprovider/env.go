package configprovider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// AllowlistPatternParam is EnvVarConfigProvider's allowlist.pattern.
const AllowlistPatternParam = "allowlist.pattern"

// EnvVar is Kafka's EnvVarConfigProvider: ${env:NAME} is the environment
// variable NAME of the process running the task. References take no path.
//
// Parameter allowlist.pattern is a regular expression that a variable's
// whole name must match (Java's Matcher.matches) for the provider to return
// it; the default ".*" allows every variable, and an empty pattern allows
// none. The pattern is Go (RE2) syntax, which covers the usual Java
// patterns but not back-references or look-arounds.
type EnvVar struct {
	allow *regexp.Regexp
}

var _ Provider = (*EnvVar)(nil)

// Configure reads allowlist.pattern.
func (e *EnvVar) Configure(params map[string]string) error {
	if err := checkParams(params, AllowlistPatternParam); err != nil {
		return err
	}
	pattern, ok := params[AllowlistPatternParam]
	if !ok {
		pattern = ".*"
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidParam, AllowlistPatternParam, err)
	}
	e.allow = re
	return nil
}

// Get returns the allowed environment variables named by keys, or all the
// allowed ones when keys is nil. A path is an error (ErrPathNotSupported),
// as in Kafka.
func (e *EnvVar) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	if path != "" {
		return nil, fmt.Errorf("%w by EnvVarConfigProvider, invalid value %q", ErrPathNotSupported, path)
	}
	allow := e.allow
	if allow == nil {
		allow = regexp.MustCompile(`^(?:.*)$`)
	}
	data := map[string]string{}
	if keys == nil {
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if allow.MatchString(k) {
				data[k] = v
			}
		}
		return data, nil
	}
	for _, k := range keys {
		if !allow.MatchString(k) {
			continue
		}
		if v, ok := os.LookupEnv(k); ok {
			data[k] = v
		}
	}
	return data, nil
}

// Close does nothing.
func (e *EnvVar) Close() error { return nil }
