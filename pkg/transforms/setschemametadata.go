package transforms

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SetSchemaMetadata is Connect's SetSchemaMetadata$Key and
// SetSchemaMetadata$Value: it sets the name, the version or both of the
// key or value schema, and rebuilds a Struct so that it refers to the new
// schema. Records without a schema are rejected. Configure before Apply;
// use from one goroutine at a time.
type SetSchemaMetadata struct {
	target target

	name                   *string
	version                *int32
	replaceNullWithDefault bool
}

var setSchemaMetadataDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "schema.name", Type: config.String, Importance: config.High, Doc: "Schema name to set."}).
	Define(config.Key{Name: "schema.version", Type: config.Int, Importance: config.High, Doc: "Schema version to set."}))

func newSetSchemaMetadata(t target) connect.Transformation { return &SetSchemaMetadata{target: t} }

// Config returns SetSchemaMetadata's keys.
func (*SetSchemaMetadata) Config() *config.Def { return setSchemaMetadataDef }

// Configure reads the keys; at least one of schema.name and schema.version
// must be set.
func (x *SetSchemaMetadata) Configure(props map[string]string) error {
	vals, err := setSchemaMetadataDef.Parse(props)
	if err != nil {
		return err
	}
	x.name, x.version = nil, nil
	if s, ok := vals.Get("schema.name").(string); ok {
		x.name = &s
	}
	if n, ok := vals.Get("schema.version").(int); ok {
		v := int32(n)
		x.version = &v
	}
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	if x.name == nil && x.version == nil {
		return &configError{msg: "Neither schema name nor version configured"}
	}
	return nil
}

// Apply replaces the schema's metadata.
func (x *SetSchemaMetadata) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if err := requireSchema(schema, "updating schema metadata"); err != nil {
		return true, err
	}
	updated := *schema
	if x.name != nil {
		updated.Name = *x.name
	}
	if x.version != nil {
		v := *x.version
		updated.Version = &v
	}
	updatedSchema := &updated
	value := v
	if s, ok := v.(*data.Struct); ok && s != nil {
		ns := data.NewStruct(updatedSchema)
		for _, f := range updatedSchema.Fields {
			// Both schemas have the same fields.
			if err := ns.Put(f.Name, structField(s, f.Name, x.replaceNullWithDefault)); err != nil {
				return true, err
			}
		}
		value = ns
	}
	x.target.set(r, updatedSchema, value)
	return true, nil
}

// Close does nothing.
func (*SetSchemaMetadata) Close() error { return nil }
