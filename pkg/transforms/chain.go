package transforms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
)

// Chain is a connector's transformations, configured from its
// "transforms", "transforms.<alias>.*" and "predicates.<alias>.*" keys, in
// order (Connect's TransformationChain). A Chain is used by one goroutine.
type Chain struct {
	stages []stage
}

type stage struct {
	alias, class string
	t            connect.Transformation
	predicate    connect.Predicate
	negate       bool
}

// NewChain builds the chain a connector configuration names, looking its
// transformations and predicates up in r. The configuration should have
// been validated (Registry.ValidateConnector); errors here name the
// offending key.
func NewChain(r *connect.Registry, props map[string]string) (*Chain, error) {
	c := &Chain{}
	for _, alias := range connect.Aliases(props[connect.TransformsConfig]) {
		prefix := connect.TransformsConfig + "." + alias + "."
		class := strings.TrimSpace(props[prefix+"type"])
		p, err := r.Lookup(connect.KindTransformation, class)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("%stype: %w", prefix, err)
		}
		own := connect.WithPrefix(props, prefix)
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
			ppfx := connect.PredicatesConfig + "." + predAlias + "."
			pp, err := r.Lookup(connect.KindPredicate, strings.TrimSpace(props[ppfx+"type"]))
			if err != nil {
				_ = st.t.Close()
				c.Close()
				return nil, fmt.Errorf("%spredicate: predicate %q: %w", prefix, predAlias, err)
			}
			st.predicate = pp.NewPredicate()
			if err := st.predicate.Configure(connect.WithPrefix(props, ppfx)); err != nil {
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
// *Error.
func (c *Chain) Apply(r *connect.TransformRecord) (keep bool, err error) {
	for i := range c.stages {
		st := &c.stages[i]
		if st.predicate != nil && st.predicate.Test(r) == st.negate {
			continue
		}
		keep, err := st.t.Apply(r)
		if err != nil {
			return false, &Error{Alias: st.alias, Class: st.class, Err: err}
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
