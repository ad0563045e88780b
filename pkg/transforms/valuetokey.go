package transforms

import (
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ValueToKey is Connect's ValueToKey: it replaces the record key with a
// Struct (schema present) or map (schemaless) of the listed value fields.
// The value is left as it is. Configure before Apply; use from one
// goroutine at a time.
type ValueToKey struct {
	fields                 []string
	replaceNullWithDefault bool
	cache                  schemaCache
}

const valueToKeyPurpose = "copying fields from value to key"

var valueToKeyDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault, Validator: nonEmptyList,
		Importance: config.High, Doc: "Field names on the record value to extract as the record key."}))

// Config returns ValueToKey's keys.
func (*ValueToKey) Config() *config.Def { return valueToKeyDef }

// Configure reads the keys.
func (x *ValueToKey) Configure(props map[string]string) error {
	vals, err := valueToKeyDef.Parse(props)
	if err != nil {
		return err
	}
	x.fields = vals.List("fields")
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	x.cache = schemaCache{}
	return nil
}

// Apply builds the key.
func (x *ValueToKey) Apply(r *connect.TransformRecord) (bool, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, valueToKeyPurpose)
		if err != nil {
			return true, err
		}
		key := make(map[string]any, len(x.fields))
		for _, f := range x.fields {
			key[f] = m[f]
		}
		r.KeySchema, r.Key = nil, key
		return true, nil
	}
	value, err := requireStruct(r.Value, valueToKeyPurpose)
	if err != nil {
		return true, err
	}
	keySchema := x.cache.get(value.Schema())
	if keySchema == nil {
		b := data.StructBuilder()
		for _, name := range x.fields {
			f := value.Schema().Field(name)
			if f == nil {
				return true, fmt.Errorf("Field does not exist: %s", name)
			}
			b.Field(name, f.Schema)
		}
		if keySchema, err = b.Build(); err != nil {
			return true, err
		}
		x.cache.put(value.Schema(), keySchema)
	}
	key := data.NewStruct(keySchema)
	for _, name := range x.fields {
		if err := key.Put(name, structField(value, name, x.replaceNullWithDefault)); err != nil {
			return true, err
		}
	}
	r.KeySchema, r.Key = keySchema, key
	return true, nil
}

// Close releases the schema cache.
func (x *ValueToKey) Close() error {
	x.cache = schemaCache{}
	return nil
}
