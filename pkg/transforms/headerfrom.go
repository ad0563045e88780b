package transforms

import (
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// headerFromConfig is HeaderFrom's ConfigDef.
func headerFromConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault,
			Validator: headerNonEmptyList{}, Importance: config.High,
			Doc: "Field names in the record whose values are to be copied or moved to headers."}).
		Define(config.Key{Name: "headers", Type: config.List, Default: config.NoDefault,
			Validator: headerNonEmptyList{}, Importance: config.High,
			Doc: "Header names, in the same order as the field names listed in the fields configuration property."}).
		Define(config.Key{Name: "operation", Type: config.String, Default: config.NoDefault,
			Validator: config.ValidString("move", "copy"), Importance: config.High,
			Doc: "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), " +
				"or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."}).
		Define(config.Key{Name: "replace.null.with.default", Type: config.Boolean, Default: true, Importance: config.Medium,
			Doc: "Whether to replace fields that have a default value and that are null to the default value. " +
				"When set to true, the default value is used, otherwise null is used."})
}

// HeaderFrom is Connect's HeaderFrom$Key and HeaderFrom$Value: it adds a
// header for each listed field of the key or value, holding the field's
// value (and, with a schema, the field's schema), and with operation=move
// also removes the fields. The key or value must be a struct (with a
// schema) or a map (without). A configured HeaderFrom is safe for
// concurrent use.
type HeaderFrom struct {
	target                 target
	fields, headers        []string
	move                   bool
	replaceNullWithDefault bool
	cache                  schemaCache
}

var _ connect.Transformation = (*HeaderFrom)(nil)

// NewHeaderFromKey returns HeaderFrom$Key.
func NewHeaderFromKey() *HeaderFrom { return &HeaderFrom{target: keyTarget} }

// NewHeaderFromValue returns HeaderFrom$Value.
func NewHeaderFromValue() *HeaderFrom { return &HeaderFrom{target: valueTarget} }

// Config returns the transformation's configuration keys.
func (t *HeaderFrom) Config() *config.Def { return headerFromConfig() }

// Configure reads fields, headers, operation and replace.null.with.default.
func (t *HeaderFrom) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	t.fields = vals.List("fields")
	t.headers = vals.List("headers")
	if len(t.fields) != len(t.headers) {
		return fmt.Errorf("'fields' config must have the same number of elements as 'headers' config.")
	}
	t.move = vals.String("operation") == "move"
	t.replaceNullWithDefault = vals.Bool("replace.null.with.default")
	t.cache = schemaCache{}
	return nil
}

func (t *HeaderFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

// Apply copies or moves the fields to headers.
func (t *HeaderFrom) Apply(r *connect.TransformRecord) (bool, error) {
	schema, value := t.target.get(r)
	headers := r.Headers.Clone()
	if schema == nil {
		m, err := requireMap(value, t.purpose())
		if err != nil {
			return false, err
		}
		updated := make(map[string]any, len(m))
		for k, v := range m {
			updated[k] = v
		}
		for i, f := range t.fields {
			if t.move {
				delete(updated, f)
			}
			headers.Add(t.headers[i], nil, m[f])
		}
		t.target.set(r, nil, updated)
		r.Headers = headers
		return true, nil
	}

	s, err := requireStruct(value, t.purpose())
	if err != nil {
		return false, err
	}
	updatedSchema, updated := schema, s
	if t.move {
		if updatedSchema, err = t.moveSchema(schema); err != nil {
			return false, err
		}
		updated = data.NewStruct(updatedSchema)
		for _, f := range updatedSchema.Fields {
			if err := updated.Put(f.Name, t.get(s, f.Name)); err != nil {
				return false, err
			}
		}
	}
	for i, name := range t.fields {
		f := schema.Field(name)
		if f == nil {
			// Connect fails here with a NullPointerException.
			return false, fmt.Errorf("HeaderFrom: field %s not found in the %s schema", name, t.target)
		}
		var v any
		if s.Schema().Field(name) != nil {
			v = t.get(s, name)
		}
		headers.Add(t.headers[i], f.Schema, v)
	}
	t.target.set(r, updatedSchema, updated)
	r.Headers = headers
	return true, nil
}

func (t *HeaderFrom) get(s *data.Struct, field string) any {
	if t.replaceNullWithDefault {
		return s.Get(field)
	}
	return s.GetWithoutDefault(field)
}

func (t *HeaderFrom) moveSchema(schema *data.Schema) (*data.Schema, error) {
	if s := t.cache.get(schema); s != nil {
		return s, nil
	}
	b := copySchemaBasics(schema, data.StructBuilder())
	for _, f := range schema.Fields {
		if !slices.Contains(t.fields, f.Name) {
			b.Field(f.Name, f.Schema)
		}
	}
	s, err := b.Build()
	if err != nil {
		return nil, err
	}
	t.cache.put(schema, s)
	return s, nil
}

// Close does nothing.
func (t *HeaderFrom) Close() error { return nil }
