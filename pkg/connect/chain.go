package connect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Chain is a connector's transformations, configured from its
// "transforms", "transforms.<alias>.*" and "predicates.<alias>.*" keys, in
// order (Connect's TransformationChain). A Chain is used by one goroutine.
type Chain struct {
	stages []stage
}

type stage struct {
	alias, class string
	t            Transformation
	predicate    Predicate
	negate       bool
}

// TransformError is an error from one transformation of a chain.
type TransformError struct {
	Alias, Class string
	Err          error
}

func (e *TransformError) Error() string {
	return fmt.Sprintf("transformation %s (%s): %v", e.Alias, e.Class, e.Err)
}
func (e *TransformError) Unwrap() error { return e.Err }

// NewChain builds the chain a connector configuration names. The
// configuration should have been validated (ValidateConnector); errors here
// name the offending key.
func (r *Registry) NewChain(props map[string]string) (*Chain, error) {
	c := &Chain{}
	for _, alias := range aliases(props[TransformsConfig]) {
		prefix := TransformsConfig + "." + alias + "."
		class := strings.TrimSpace(props[prefix+"type"])
		p, err := r.Lookup(KindTransformation, class)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("%stype: %w", prefix, err)
		}
		own := WithPrefix(props, prefix)
		predAlias := strings.TrimSpace(own["predicate"])
		negate, _ := strconv.ParseBool(strings.TrimSpace(own["negate"]))
		delete(own, "predicate")
		delete(own, "negate")
		st := stage{alias: alias, class: p.Class, t: p.NewTransformation(), negate: negate}
		if err := st.t.Configure(own); err != nil {
			c.Close()
			return nil, fmt.Errorf("configuring transformation %s (%s): %w", alias, p.Class, err)
		}
		if predAlias != "" {
			ppfx := PredicatesConfig + "." + predAlias + "."
			pp, err := r.Lookup(KindPredicate, strings.TrimSpace(props[ppfx+"type"]))
			if err != nil {
				_ = st.t.Close()
				c.Close()
				return nil, fmt.Errorf("%spredicate: predicate %q: %w", prefix, predAlias, err)
			}
			st.predicate = pp.NewPredicate()
			if err := st.predicate.Configure(WithPrefix(props, ppfx)); err != nil {
				_ = st.t.Close()
				c.Close()
				return nil, fmt.Errorf("configuring predicate %s (%s): %w", predAlias, pp.Class, err)
			}
		}
		c.stages = append(c.stages, st)
	}
	return c, nil
}

// Len is the number of transformations.
func (c *Chain) Len() int { return len(c.stages) }

// Apply runs r through the transformations in order, each guarded by its
// predicate (applied when predicate XOR negate holds, as in Connect). It
// returns keep=false as soon as one drops the record. Errors are
// *TransformError.
func (c *Chain) Apply(r *TransformRecord) (keep bool, err error) {
	for i := range c.stages {
		st := &c.stages[i]
		if st.predicate != nil && st.predicate.Test(r) == st.negate {
			continue
		}
		keep, err := st.t.Apply(r)
		if err != nil {
			return false, &TransformError{Alias: st.alias, Class: st.class, Err: err}
		}
		if !keep {
			return false, nil
		}
	}
	return true, nil
}

// Close closes every transformation and predicate.
func (c *Chain) Close() error {
	var errs []error
	for _, st := range c.stages {
		errs = append(errs, st.t.Close())
		if st.predicate != nil {
			errs = append(errs, st.predicate.Close())
		}
	}
	return errors.Join(errs...)
}

// WithPrefix returns the properties under prefix with the prefix removed
// (Kafka's originalsWithPrefix).
func WithPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}
