package transforms

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// HoistField is Connect's HoistField$Key and HoistField$Value: it wraps
// the key or value in a Struct with one field (schema present) or a map
// with one entry (schemaless). Configure before Apply; use from one
// goroutine at a time.
type HoistField struct {
	target target

	field string
	cache schemaCache
}

var hoistFieldDef = config.NewDef().
	Define(config.Key{Name: "field", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
		Doc: "Field name for the single field that will be created in the resulting Struct or Map."})

func newHoistField(t target) connect.Transformation { return &HoistField{target: t} }

// Config returns HoistField's keys.
func (*HoistField) Config() *config.Def { return hoistFieldDef }

// Configure reads the keys.
func (x *HoistField) Configure(props map[string]string) error {
	vals, err := hoistFieldDef.Parse(props)
	if err != nil {
		return err
	}
	x.field = vals.String("field")
	x.cache = schemaCache{}
	return nil
}

// Apply wraps the key or value.
func (x *HoistField) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if schema == nil {
		x.target.set(r, nil, map[string]any{x.field: v})
		return true, nil
	}
	updatedSchema := x.cache.get(schema)
	if updatedSchema == nil {
		var err error
		if updatedSchema, err = data.StructBuilder().Field(x.field, schema).Build(); err != nil {
			return true, err
		}
		x.cache.put(schema, updatedSchema)
	}
	updated := data.NewStruct(updatedSchema)
	if err := updated.Put(x.field, v); err != nil {
		return true, err
	}
	x.target.set(r, updatedSchema, updated)
	return true, nil
}

// Close releases the schema cache.
func (x *HoistField) Close() error {
	x.cache = schemaCache{}
	return nil
}
