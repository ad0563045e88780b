package configprovider

import (
	"errors"
	"fmt"
)

// Checker is implemented by providers that can tell, without looking
// anything up, whether Get would refuse a lookup: a path or name outside
// their allow setting, or a reference shape they do not support. Check
// reads no value (at most file metadata, to resolve symbolic links), so it
// may run where a configuration is submitted, not only where a task runs.
// Every built-in provider implements it.
type Checker interface {
	// Check returns the error Get(ctx, path, keys) would return for a
	// refused lookup (a *NotAllowedError, ErrPathNotSupported, an invalid
	// secret id), or nil when the lookup is allowed.
	Check(path string, keys []string) error
}

// Refusal is a reference that Resolve would refuse, found by
// Resolver.Check before anything is looked up.
type Refusal struct {
	Reference
	// Err says why, naming the refused path, variable or secret and the
	// worker setting that would allow it; never a value.
	Err error
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("configprovider: config %q: %s: %v", r.ConfigKey, r.Text, r.Err)
}

func (r *Refusal) Unwrap() error { return r.Err }

// Check returns the references in props that Resolve would refuse, in
// References order, without looking any of them up: each configured
// provider that is a Checker is asked about each reference on its own. A
// reference to a provider that is not configured is not a refusal (Resolve
// leaves it as written). Use it when a configuration is submitted, so that
// a refused reference is reported at once rather than when its task runs.
// Check on a nil Resolver returns nil.
func (r *Resolver) Check(props map[string]string) []*Refusal {
	if r == nil {
		return nil
	}
	var out []*Refusal
	for _, ref := range References(props) {
		p, ok := r.providers[ref.Provider]
		if !ok {
			continue
		}
		c, ok := p.(Checker)
		if !ok {
			continue
		}
		if err := c.Check(ref.Path, []string{ref.Key}); err != nil {
			r.nameSetting(ref.Provider, err)
			out = append(out, &Refusal{Reference: ref, Err: err})
		}
	}
	return out
}

// nameSetting fills in the worker setting of a *NotAllowedError from
// provider name.
func (r *Resolver) nameSetting(name string, err error) {
	var na *NotAllowedError
	if errors.As(err, &na) && na.Setting == "" {
		na.Setting = providersPrefix + name + ".param." + na.Param
	}
}
