package transforms

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Filter is Connect's Filter: it drops every record, filtering it from the
// rest of the chain. It is meant to be used with a predicate
// (transforms.<alias>.predicate, optionally negate). It has no
// configuration and is safe for concurrent use.
type Filter struct{}

var _ connect.Transformation = Filter{}

// NewFilter returns a Filter.
func NewFilter() Filter { return Filter{} }

// Config returns an empty configuration.
func (Filter) Config() *config.Def { return config.NewDef() }

// Configure checks that props are valid (there are no keys).
func (f Filter) Configure(props map[string]string) error {
	_, err := f.Config().Parse(props)
	return err
}

// Apply drops the record.
func (Filter) Apply(*connect.TransformRecord) (bool, error) { return false, nil }

// Close does nothing.
func (Filter) Close() error { return nil }
