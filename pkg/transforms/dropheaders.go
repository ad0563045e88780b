package transforms

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// dropHeadersConfig is DropHeaders' ConfigDef.
func dropHeadersConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "headers", Type: config.List, Default: config.NoDefault,
			Validator: headerNonEmptyList{}, Importance: config.High,
			Doc: "The name of the headers to be removed."})
}

// DropHeaders is Connect's DropHeaders: it removes every header whose key
// is listed in headers. A configured DropHeaders is safe for concurrent
// use.
type DropHeaders struct {
	headers map[string]bool
}

var _ connect.Transformation = (*DropHeaders)(nil)

// NewDropHeaders returns an unconfigured DropHeaders.
func NewDropHeaders() *DropHeaders { return &DropHeaders{} }

// Config returns the transformation's configuration keys.
func (t *DropHeaders) Config() *config.Def { return dropHeadersConfig() }

// Configure reads headers.
func (t *DropHeaders) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	t.headers = make(map[string]bool)
	for _, h := range vals.List("headers") {
		t.headers[h] = true
	}
	return nil
}

// Apply removes the headers.
func (t *DropHeaders) Apply(r *connect.TransformRecord) (bool, error) {
	// A new list: the record's may be shared.
	kept := make(connect.Headers, 0, len(r.Headers))
	for _, h := range r.Headers {
		if !t.headers[h.Key] {
			kept = append(kept, h)
		}
	}
	r.Headers = kept
	return true, nil
}

// Close does nothing.
func (t *DropHeaders) Close() error { return nil }

// headerNonEmptyList is Connect's transforms.util.NonEmptyListValidator.
type headerNonEmptyList struct{}

// Validate returns "Empty list" for a null or empty list.
func (headerNonEmptyList) Validate(name string, value any) error {
	if l, _ := value.([]string); len(l) == 0 {
		return config.InvalidValue(name, value, "Empty list")
	}
	return nil
}

// String returns "non-empty list".
func (headerNonEmptyList) String() string { return "non-empty list" }
