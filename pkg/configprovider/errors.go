package configprovider

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

var (
	// ErrUnknownClass is returned by NewResolver when
	// config.providers.<name>.class names no built-in provider.
	ErrUnknownClass = errors.New("unknown config provider class")
	// ErrInvalidParam is returned by Configure (and so NewResolver) for an
	// unknown or malformed config.providers.<name>.param.* setting.
	ErrInvalidParam = errors.New("invalid config provider parameter")
	// ErrNotFound is returned by the AWS providers, whose default
	// NotFoundStrategy is "fail", for a secret, parameter or JSON key that
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPathNotSupported is returned by EnvVar.Get for a reference with a
	// path, as Kafka's EnvVarConfigProvider does.
	ErrPathNotSupported = errors.New("path is not supported")
	// ErrNotAllowed is matched (errors.Is) by every *NotAllowedError: a
	// lookup outside what the provider's allow setting covers.
	ErrNotAllowed = errors.New("not allowed")
)

// NotAllowedError reports a lookup that the provider's allow setting
// (allowed.paths, allowed.prefixes, allowlist.pattern) does not cover.
// Providers deny by default: with the setting unset nothing may be read.
// It names what was refused (a path, a secret id, a variable name), never a
// value.
type NotAllowedError struct {
	// Param is the provider parameter that would allow it ("allowed.paths").
	Param string
	// Setting is Param as the worker writes it
	// ("config.providers.file.param.allowed.paths"); Resolver fills it in.
	Setting string
	// What is the refused lookup, quoted ("file \"/etc/passwd\"").
	What string
	// Unset is true when Param is not set at all, so nothing is allowed.
	Unset bool
}

func (e *NotAllowedError) Error() string {
	setting := e.Setting
	if setting == "" {
		setting = e.Param
	}
	if e.Unset {
		return fmt.Sprintf("%s is not allowed: %s is not set (config providers deny by default)", e.What, setting)
	}
	return fmt.Sprintf("%s is not allowed by %s", e.What, setting)
}

// Is makes errors.Is(err, ErrNotAllowed) true.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// ResolveError reports a provider that failed while Resolver.Resolve looked
// up a path. It names the provider, the path and the config keys whose
// values reference them; it never holds a resolved value.
type ResolveError struct {
	Provider   string   // provider name from config.providers
	Path       string   // "" for references without a path
	ConfigKeys []string // sorted config keys referencing Provider and Path
	Err        error
}

func (e *ResolveError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configprovider: config %s: provider %q", strings.Join(quoteAll(e.ConfigKeys), ", "), e.Provider)
	if e.Path != "" {
		fmt.Fprintf(&b, " path %q", e.Path)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *ResolveError) Unwrap() error { return e.Err }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// checkParams rejects parameters a provider does not know, naming the ones
// it accepts.
func checkParams(params map[string]string, known ...string) error {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ok := false
		for _, n := range known {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			if len(known) == 0 {
				return fmt.Errorf("%w: %q (this provider takes no parameters)", ErrInvalidParam, k)
			}
			return fmt.Errorf("%w: %q (known: %s)", ErrInvalidParam, k, strings.Join(known, ", "))
		}
	}
	return nil
}
