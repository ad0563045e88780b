package transforms

import (
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Flatten is Connect's Flatten$Key and Flatten$Value: it flattens nested
// Structs (schema present) or maps (schemaless) into one level, naming each
// field by joining the names on its path with the delimiter. Arrays and
// their contents are not modified. A flattened field is optional when any
// struct on its path is, and takes its default from the nearest default on
// its path. A null key or value passes through unchanged. Configure before
// Apply; use from one goroutine at a time.
type Flatten struct {
	target target

	delimiter string
	cache     schemaCache
}

const flattenPurpose = "flattening"

var flattenDef = config.NewDef().
	Define(config.Key{Name: "delimiter", Type: config.String, Default: ".", Importance: config.Medium,
		Doc: "Delimiter to insert between field names from the input record when generating field names for the output record"})

func newFlatten(t target) connect.Transformation { return &Flatten{target: t} }

// Config returns Flatten's keys.
func (*Flatten) Config() *config.Def { return flattenDef }

// Configure reads the keys.
func (x *Flatten) Configure(props map[string]string) error {
	vals, err := flattenDef.Parse(props)
	if err != nil {
		return err
	}
	x.delimiter = vals.String("delimiter")
	x.cache = schemaCache{}
	return nil
}

// Apply flattens the key or value.
func (x *Flatten) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if v == nil {
		return true, nil
	}
	if schema == nil {
		m, err := requireMap(v, flattenPurpose)
		if err != nil {
			return true, err
		}
		out := make(map[string]any, len(m))
		if err := x.flattenMap(m, "", out); err != nil {
			return true, err
		}
		x.target.set(r, nil, out)
		return true, nil
	}
	value, err := requireStructOrNull(v, flattenPurpose)
	if err != nil {
		return true, err
	}
	updatedSchema := x.cache.get(schema)
	if updatedSchema == nil {
		b := copySchemaBasics(schema, data.StructBuilder())
		def, _ := schema.Default.(*data.Struct)
		if err := x.flattenSchema(schema, "", b, schema.Optional, def, nil); err != nil {
			return true, err
		}
		if updatedSchema, err = b.Build(); err != nil {
			return true, err
		}
		x.cache.put(schema, updatedSchema)
	}
	updated := data.NewStruct(updatedSchema)
	if err := x.flattenStruct(value, "", updated); err != nil {
		return true, err
	}
	x.target.set(r, updatedSchema, updated)
	return true, nil
}

func (x *Flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + x.delimiter + field
}

func (x *Flatten) flattenMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := x.name(prefix, k)
		if v == nil {
			out[name] = nil
			continue
		}
		switch t := data.TypeOf(v); t {
		case "":
			return fmt.Errorf("Flatten transformation was passed a value of type %s which is not supported by Connect's data API", javaClass(v))
		case data.TypeMap:
			nested, err := requireMap(v, flattenPurpose)
			if err != nil {
				return err
			}
			if err := x.flattenMap(nested, name, out); err != nil {
				return err
			}
		case data.TypeStruct:
			return fmt.Errorf("Flatten transformation does not support %s for record without schemas (for field %s).", javaClass(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

// flattenSchema adds the flattened fields of s to b. inside are the
// structs being flattened around s: a struct field that is one of them (a
// recursive record's, as the AvroConverter reads it) would flatten without
// end, so it is an error (Connect's Flatten overflows the stack). A
// recursive struct inside an array is copied with the array, as Connect
// does.
func (x *Flatten) flattenSchema(s *data.Schema, prefix string, b *data.SchemaBuilder, optional bool, parentDefault *data.Struct, inside []*data.Schema) error {
	inside = append(inside, s)
	for _, f := range s.Fields {
		name := x.name(prefix, f.Name)
		fieldOptional := optional || f.Schema.Optional
		fieldDefault := f.Schema.Default
		if fieldDefault == nil && parentDefault != nil {
			fieldDefault = parentDefault.Get(f.Name)
		}
		switch f.Schema.Type {
		case data.TypeStruct:
			for _, outer := range inside {
				if data.SameRecord(outer, f.Schema) {
					return fmt.Errorf("Flatten transformation does not support recursive schemas (for field %s: %s contains itself)", name, f.Schema)
				}
			}
			def, _ := fieldDefault.(*data.Struct)
			if err := x.flattenSchema(f.Schema, name, b, fieldOptional, def, inside); err != nil {
				return err
			}
		case data.TypeMap:
			return fmt.Errorf("Flatten transformation does not support %s for record with schemas (for field %s).", upperType(f.Schema.Type), name)
		default:
			// A primitive or an array: copied with the optionality and
			// default its ancestors give it.
			fs := *f.Schema
			fs.Optional = fs.Optional || fieldOptional
			if fieldDefault != nil {
				fs.Default = fieldDefault
			}
			b.Field(name, &fs)
		}
	}
	return nil
}

func (x *Flatten) flattenStruct(s *data.Struct, prefix string, out *data.Struct) error {
	if s == nil {
		return nil
	}
	for _, f := range s.Schema().Fields {
		name := x.name(prefix, f.Name)
		switch f.Schema.Type {
		case data.TypeStruct:
			nested, err := requireStructOrNull(s.Get(f.Name), flattenPurpose)
			if err != nil {
				return err
			}
			if err := x.flattenStruct(nested, name, out); err != nil {
				return err
			}
		case data.TypeMap:
			return fmt.Errorf("Flatten transformation does not support %s for record with schemas (for field %s).", upperType(f.Schema.Type), name)
		default:
			if err := out.Put(name, s.Get(f.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close releases the schema cache.
func (x *Flatten) Close() error {
	x.cache = schemaCache{}
	return nil
}
