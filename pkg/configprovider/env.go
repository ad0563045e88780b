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
// whole name must match (Java's Matcher.matches) for the provider to read
// it; a name it does not match is an error (*NotAllowedError) naming the
// variable and the setting. Kafka's default pattern ".*" allows every
// variable (in a function, the Kafka password too); Sluice denies by
// default: with allowlist.pattern unset no variable may be read, and ".*"
// must be written to allow all. An allowed variable that is not set leaves
// the reference as written. The pattern is Go (RE2) syntax, which covers the
// usual Java patterns but not back-references or look-arounds.
type EnvVar struct {
	allow *regexp.Regexp // nil: allowlist.pattern unset, nothing allowed
}

var (
	_ Provider = (*EnvVar)(nil)
	_ Checker  = (*EnvVar)(nil)
)

// Configure reads allowlist.pattern.
func (e *EnvVar) Configure(params map[string]string) error {
	if err := checkParams(params, AllowlistPatternParam); err != nil {
		return err
	}
	pattern, ok := params[AllowlistPatternParam]
	if !ok {
		e.allow = nil
		return nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidParam, AllowlistPatternParam, err)
	}
	e.allow = re
	return nil
}

// Get returns the environment variables named by keys, or all the allowed
// ones when keys is nil. A path is an error (ErrPathNotSupported), as in
// Kafka, and so is a name the allowlist does not match.
func (e *EnvVar) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	if err := e.Check(path, keys); err != nil {
		return nil, err
	}
	data := map[string]string{}
	if keys == nil {
		if e.allow == nil {
			return data, nil
		}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if e.allow.MatchString(k) {
				data[k] = v
			}
		}
		return data, nil
	}
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			data[k] = v
		}
	}
	return data, nil
}

// Check refuses a path (ErrPathNotSupported) and a name the allowlist does
// not match (*NotAllowedError), as Get does, without reading the
// environment.
func (e *EnvVar) Check(path string, keys []string) error {
	if path != "" {
		return fmt.Errorf("%w by EnvVarConfigProvider, invalid value %q", ErrPathNotSupported, path)
	}
	for _, k := range keys {
		if e.allow == nil || !e.allow.MatchString(k) {
			return &NotAllowedError{Param: AllowlistPatternParam, What: fmt.Sprintf("environment variable %q", k), Unset: e.allow == nil}
		}
	}
	return nil
}

// Close does nothing.
func (e *EnvVar) Close() error { return nil }
