// Package data is Kafka Connect's data model in Go: schemas, structs and the
// logical types Decimal, Date, Time and Timestamp (Connect's
// org.apache.kafka.connect.data package).
//
// Values are represented by these Go types:
//
//	INT8 int8, INT16 int16, INT32 int32, INT64 int64,
//	FLOAT32 float32, FLOAT64 float64, BOOLEAN bool, STRING string, BYTES []byte,
//	ARRAY []any, MAP map[any]any (map[string]any is accepted where keys are strings),
//	STRUCT *Struct.
//
// Logical types use Decimal (for Decimal) and time.Time (for Date, Time and
// Timestamp), as Connect uses BigDecimal and java.util.Date.
//
// Schemas are immutable once built and safe for concurrent use.
package data

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Type is a schema type, spelled as Connect's Schema.Type prints in JSON ("int32", "struct", ...).
type Type string

// The schema types.
const (
	TypeInt8    Type = "int8"
	TypeInt16   Type = "int16"
	TypeInt32   Type = "int32"
	TypeInt64   Type = "int64"
	TypeFloat32 Type = "float32"
	TypeFloat64 Type = "float64"
	TypeBoolean Type = "boolean"
	TypeString  Type = "string"
	TypeBytes   Type = "bytes"
	TypeArray   Type = "array"
	TypeMap     Type = "map"
	TypeStruct  Type = "struct"
)

// Primitive reports whether t is neither ARRAY, MAP nor STRUCT.
func (t Type) Primitive() bool {
	switch t {
	case TypeArray, TypeMap, TypeStruct:
		return false
	}
	return true
}

// Valid reports whether t is one of Connect's types.
func (t Type) Valid() bool {
	switch t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeBoolean, TypeString, TypeBytes, TypeArray, TypeMap, TypeStruct:
		return true
	}
	return false
}

// Field is one field of a STRUCT schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Schema describes a value, as Connect's ConnectSchema does. Build one with
// a SchemaBuilder or use the predefined schemas; do not modify a Schema that
// may be shared.
type Schema struct {
	Type     Type
	Optional bool
	// Default is the default value; nil means none.
	Default any
	// Name is the fully qualified name, for example a logical type's.
	Name string
	// Version is the schema version; nil means none.
	Version *int32
	Doc     string
	// Parameters are extra string properties (Decimal's "scale", for example).
	Parameters map[string]string
	// Fields are a STRUCT's fields in order.
	Fields []Field
	// KeySchema is a MAP's key schema.
	KeySchema *Schema
	// ValueSchema is a MAP's value schema or an ARRAY's element schema.
	ValueSchema *Schema
}

// Field returns the STRUCT field with the given name, or nil.
func (s *Schema) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// String describes the schema briefly, for error messages.
func (s *Schema) String() string {
	if s == nil {
		return "<no schema>"
	}
	if s.Name != "" {
		return fmt.Sprintf("Schema{%s:%s}", s.Name, strings.ToUpper(string(s.Type)))
	}
	return fmt.Sprintf("Schema{%s}", strings.ToUpper(string(s.Type)))
}

// Equal reports whether two schemas are the same in every property, as
// Connect's ConnectSchema.equals. Recursive schemas (a STRUCT that refers
// to itself through a field, as a recursive Avro record maps to) compare
// structurally: two schemas are equal when no finite walk tells them apart,
// whether or not they share pointers.
func Equal(a, b *Schema) bool {
	if eq, decided := equalShallow(a, b, 0); decided {
		return eq
	}
	pairs := schemaPairs{}
	return pairs.equal(a, b)
}

// maxPlainDepth bounds the plain recursive comparison; a deeper (or
// cyclic) schema is compared again with the set of pairs already assumed
// equal.
const maxPlainDepth = 64

// equalShallow compares a and b by plain recursion; decided is false when
// it went deeper than maxPlainDepth (which a recursive schema always does).
func equalShallow(a, b *Schema, depth int) (eq, decided bool) {
	if a == b {
		return true, true
	}
	if a == nil || b == nil || !sameProperties(a, b) {
		return false, true
	}
	if depth >= maxPlainDepth {
		return false, false
	}
	if eq, decided := equalShallow(a.KeySchema, b.KeySchema, depth+1); !eq || !decided {
		return eq, decided
	}
	if eq, decided := equalShallow(a.ValueSchema, b.ValueSchema, depth+1); !eq || !decided {
		return eq, decided
	}
	for i := range a.Fields {
		if eq, decided := equalShallow(a.Fields[i].Schema, b.Fields[i].Schema, depth+1); !eq || !decided {
			return eq, decided
		}
	}
	return true, true
}

// sameProperties compares everything but the nested schemas.
func sameProperties(a, b *Schema) bool {
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Doc != b.Doc ||
		!equalVersion(a.Version, b.Version) || !maps.Equal(a.Parameters, b.Parameters) ||
		!ValuesEqual(a.Default, b.Default) || len(a.Fields) != len(b.Fields) ||
		(a.KeySchema == nil) != (b.KeySchema == nil) || (a.ValueSchema == nil) != (b.ValueSchema == nil) {
		return false
	}
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Name != fb.Name || fa.Index != fb.Index {
			return false
		}
	}
	return true
}

// schemaPairs compares cyclic schemas: a pair met again while it is being
// compared is assumed equal (the comparison is a bisimulation), so the
// walk ends on every cycle.
type schemaPairs map[[2]*Schema]bool

func (p schemaPairs) equal(a, b *Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || !sameProperties(a, b) {
		return false
	}
	key := [2]*Schema{a, b}
	if p[key] {
		return true
	}
	p[key] = true
	if !p.equal(a.KeySchema, b.KeySchema) || !p.equal(a.ValueSchema, b.ValueSchema) {
		return false
	}
	for i := range a.Fields {
		if !p.equal(a.Fields[i].Schema, b.Fields[i].Schema) {
			return false
		}
	}
	return true
}

func equalVersion(a, b *int32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Predefined schemas, as Connect's Schema.INT8_SCHEMA and friends.
var (
	Int8Schema    = &Schema{Type: TypeInt8}
	Int16Schema   = &Schema{Type: TypeInt16}
	Int32Schema   = &Schema{Type: TypeInt32}
	Int64Schema   = &Schema{Type: TypeInt64}
	Float32Schema = &Schema{Type: TypeFloat32}
	Float64Schema = &Schema{Type: TypeFloat64}
	BooleanSchema = &Schema{Type: TypeBoolean}
	StringSchema  = &Schema{Type: TypeString}
	BytesSchema   = &Schema{Type: TypeBytes}

	OptionalInt8Schema    = &Schema{Type: TypeInt8, Optional: true}
	OptionalInt16Schema   = &Schema{Type: TypeInt16, Optional: true}
	OptionalInt32Schema   = &Schema{Type: TypeInt32, Optional: true}
	OptionalInt64Schema   = &Schema{Type: TypeInt64, Optional: true}
	OptionalFloat32Schema = &Schema{Type: TypeFloat32, Optional: true}
	OptionalFloat64Schema = &Schema{Type: TypeFloat64, Optional: true}
	OptionalBooleanSchema = &Schema{Type: TypeBoolean, Optional: true}
	OptionalStringSchema  = &Schema{Type: TypeString, Optional: true}
	OptionalBytesSchema   = &Schema{Type: TypeBytes, Optional: true}
)

// SchemaBuilder builds a Schema fluently, as Connect's SchemaBuilder. Its
// methods record the first error (a duplicate field, a default that does not
// fit), which Build returns.
type SchemaBuilder struct {
	s   Schema
	err error
}

// NewBuilder starts a schema of the given type.
func NewBuilder(t Type) *SchemaBuilder { return &SchemaBuilder{s: Schema{Type: t}} }

// StructBuilder starts a STRUCT schema.
func StructBuilder() *SchemaBuilder { return NewBuilder(TypeStruct) }

// ArrayBuilder starts an ARRAY schema of elem.
func ArrayBuilder(elem *Schema) *SchemaBuilder {
	b := NewBuilder(TypeArray)
	b.s.ValueSchema = elem
	return b
}

// MapBuilder starts a MAP schema.
func MapBuilder(key, value *Schema) *SchemaBuilder {
	b := NewBuilder(TypeMap)
	b.s.KeySchema, b.s.ValueSchema = key, value
	return b
}

// Optional marks the schema optional.
func (b *SchemaBuilder) Optional() *SchemaBuilder { b.s.Optional = true; return b }

// Required marks the schema required (the default).
func (b *SchemaBuilder) Required() *SchemaBuilder { b.s.Optional = false; return b }

// Name sets the schema's name.
func (b *SchemaBuilder) Name(n string) *SchemaBuilder { b.s.Name = n; return b }

// Version sets the schema's version.
func (b *SchemaBuilder) Version(v int32) *SchemaBuilder { b.s.Version = &v; return b }

// Doc sets the schema's documentation.
func (b *SchemaBuilder) Doc(d string) *SchemaBuilder { b.s.Doc = d; return b }

// Parameter sets one parameter.
func (b *SchemaBuilder) Parameter(k, v string) *SchemaBuilder {
	if b.s.Parameters == nil {
		b.s.Parameters = map[string]string{}
	}
	b.s.Parameters[k] = v
	return b
}

// Default sets the default value; Build checks that it fits the schema.
func (b *SchemaBuilder) Default(v any) *SchemaBuilder { b.s.Default = v; return b }

// Field appends a STRUCT field.
func (b *SchemaBuilder) Field(name string, s *Schema) *SchemaBuilder {
	if b.err != nil {
		return b
	}
	switch {
	case b.s.Type != TypeStruct:
		b.err = fmt.Errorf("cannot create fields on type %s", b.s.Type)
	case name == "":
		b.err = fmt.Errorf("field name cannot be empty")
	case s == nil:
		b.err = fmt.Errorf("field %q has no schema", name)
	case slices.ContainsFunc(b.s.Fields, func(f Field) bool { return f.Name == name }):
		b.err = fmt.Errorf("cannot create field because of field name duplication %s", name)
	default:
		b.s.Fields = append(b.s.Fields, Field{Name: name, Index: len(b.s.Fields), Schema: s})
	}
	return b
}

// Build returns the schema, or the first error met while building it.
func (b *SchemaBuilder) Build() (*Schema, error) {
	if b.err != nil {
		return nil, b.err
	}
	if !b.s.Type.Valid() {
		return nil, fmt.Errorf("unknown schema type %q", b.s.Type)
	}
	if (b.s.Type == TypeArray || b.s.Type == TypeMap) && b.s.ValueSchema == nil ||
		b.s.Type == TypeMap && b.s.KeySchema == nil {
		return nil, fmt.Errorf("%s schema needs its key/value schemas", b.s.Type)
	}
	s := b.s
	s.Parameters = maps.Clone(s.Parameters)
	s.Fields = slices.Clone(s.Fields)
	if s.Default != nil {
		if err := Validate(&s, s.Default); err != nil {
			return nil, fmt.Errorf("invalid default value: %w", err)
		}
	}
	return &s, nil
}

// MustBuild is Build for schemas known to be valid at compile time; it
// panics on error.
func (b *SchemaBuilder) MustBuild() *Schema {
	s, err := b.Build()
	if err != nil {
		panic(err)
	}
	return s
}

// TypeOf returns the schema type of a Go value of Connect's data model
// (int maps to INT64), or "" for nil, logical values and other types.
func TypeOf(v any) Type {
	switch v.(type) {
	case int8:
		return TypeInt8
	case int16:
		return TypeInt16
	case int32:
		return TypeInt32
	case int64, int:
		return TypeInt64
	case float32:
		return TypeFloat32
	case float64:
		return TypeFloat64
	case bool:
		return TypeBoolean
	case string:
		return TypeString
	case []byte:
		return TypeBytes
	case []any:
		return TypeArray
	case map[string]any, map[any]any:
		return TypeMap
	case *Struct:
		return TypeStruct
	}
	return ""
}
