package data

import (
	"maps"
	"testing"
)

// Values from Apache Kafka's SchemaBuilderTest.
func TestSchemaBuilderTypes(t *testing.T) {
	tests := []struct {
		name       string
		builder    func() *SchemaBuilder
		typ        Type
		def        any
		badDefault any
	}{
		{name: "int8", builder: func() *SchemaBuilder { return NewBuilder(TypeInt8) }, typ: TypeInt8, def: int8(12), badDefault: "invalid"},
		{name: "int16", builder: func() *SchemaBuilder { return NewBuilder(TypeInt16) }, typ: TypeInt16, def: int16(12), badDefault: "invalid"},
		{name: "int32", builder: func() *SchemaBuilder { return NewBuilder(TypeInt32) }, typ: TypeInt32, def: int32(12), badDefault: "invalid"},
		{name: "int64", builder: func() *SchemaBuilder { return NewBuilder(TypeInt64) }, typ: TypeInt64, def: int64(12), badDefault: "invalid"},
		{name: "float32", builder: func() *SchemaBuilder { return NewBuilder(TypeFloat32) }, typ: TypeFloat32, def: float32(12), badDefault: "invalid"},
		{name: "float64", builder: func() *SchemaBuilder { return NewBuilder(TypeFloat64) }, typ: TypeFloat64, def: 12.0, badDefault: "invalid"},
		{name: "boolean", builder: func() *SchemaBuilder { return NewBuilder(TypeBoolean) }, typ: TypeBoolean, def: true, badDefault: "invalid"},
		{name: "string", builder: func() *SchemaBuilder { return NewBuilder(TypeString) }, typ: TypeString, def: "a default string", badDefault: true},
		{name: "bytes", builder: func() *SchemaBuilder { return NewBuilder(TypeBytes) }, typ: TypeBytes, def: []byte("a default byte array"), badDefault: "a string, not bytes"},
		{name: "array", builder: func() *SchemaBuilder { return ArrayBuilder(Int8Schema) }, typ: TypeArray, def: []any{int8(1), int8(2)}, badDefault: []any{"string"}},
		{name: "map", builder: func() *SchemaBuilder { return MapBuilder(Int8Schema, Int8Schema) }, typ: TypeMap, def: map[any]any{int8(5): int8(10)}, badDefault: map[any]any{int8(5): "foo"}},
		{name: "struct", builder: func() *SchemaBuilder { return StructBuilder().Field("f", Int8Schema) }, typ: TypeStruct, badDefault: int8(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := mustBuild(t, tt.builder())
			if plain.Type != tt.typ || plain.Optional || plain.Default != nil {
				t.Errorf("plain = {%s optional=%v default=%v}, want {%s false <nil>}", plain.Type, plain.Optional, plain.Default, tt.typ)
			}
			if plain.Name != "" || plain.Version != nil || plain.Doc != "" || plain.Parameters != nil {
				t.Errorf("plain has metadata: %+v", plain)
			}

			if tt.def != nil {
				full := mustBuild(t, tt.builder().Name("name").Optional().Default(tt.def).Version(2).Doc("doc"))
				if !full.Optional || !ValuesEqual(full.Default, tt.def) {
					t.Errorf("full = {optional=%v default=%v}, want {true %v}", full.Optional, full.Default, tt.def)
				}
				if full.Name != "name" || full.Version == nil || *full.Version != 2 || full.Doc != "doc" {
					t.Errorf("full metadata = {%q %v %q}, want {name 2 doc}", full.Name, full.Version, full.Doc)
				}
			}

			s, err := tt.builder().Default(tt.badDefault).Build()
			if err == nil {
				t.Fatalf("Build with default %#v = %v, want error", tt.badDefault, s)
			}
		})
	}
}

func TestSchemaBuilderErrors(t *testing.T) {
	tests := []struct {
		name    string
		builder *SchemaBuilder
		wantErr string
	}{
		{
			name:    "invalid default names the schema and Go type",
			builder: NewBuilder(TypeInt8).Default("invalid"),
			wantErr: "invalid default value: Invalid Go object for schema Schema{INT8}: string",
		},
		{
			name:    "invalid nested default names the element",
			builder: ArrayBuilder(Int8Schema).Default([]any{int8(1), "string"}),
			wantErr: "invalid default value: Invalid Go object for schema Schema{INT8}: string (field [1])",
		},
		{
			name:    "fields only on structs",
			builder: NewBuilder(TypeInt8).Field("field", Int8Schema),
			wantErr: "cannot create fields on type int8",
		},
		{
			name: "duplicate field",
			builder: StructBuilder().Name("testing").
				Field("id", mustBuild(t, NewBuilder(TypeString).Doc(""))).
				Field("id", mustBuild(t, NewBuilder(TypeString).Doc(""))),
			wantErr: "cannot create field because of field name duplication id",
		},
		{
			name:    "first error wins",
			builder: StructBuilder().Field("", StringSchema).Field("a", nil),
			wantErr: "field name cannot be empty",
		},
		{name: "empty field name", builder: StructBuilder().Field("", StringSchema), wantErr: "field name cannot be empty"},
		{name: "nil field schema", builder: StructBuilder().Field("fieldName", nil), wantErr: `field "fieldName" has no schema`},
		{name: "array without element schema", builder: ArrayBuilder(nil), wantErr: "array schema needs its key/value schemas"},
		{name: "map without key schema", builder: MapBuilder(nil, StringSchema), wantErr: "map schema needs its key/value schemas"},
		{name: "map without value schema", builder: MapBuilder(StringSchema, nil), wantErr: "map schema needs its key/value schemas"},
		{name: "unknown type", builder: NewBuilder("decimal"), wantErr: `unknown schema type "decimal"`},
		{name: "empty type", builder: NewBuilder(""), wantErr: `unknown schema type ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.builder.Build()
			wantErrText(t, err, tt.wantErr)
			if s != nil {
				t.Errorf("schema = %v, want nil", s)
			}
		})
	}
}

func TestSchemaBuilderStruct(t *testing.T) {
	s := mustBuild(t, StructBuilder().Field("field1", Int8Schema).Field("field2", Int8Schema))
	if s.Type != TypeStruct || len(s.Fields) != 2 {
		t.Fatalf("schema = %+v, want a struct of 2 fields", s)
	}
	for i, name := range []string{"field1", "field2"} {
		f := s.Field(name)
		if f == nil || f.Index != i || f.Name != name || !Equal(f.Schema, Int8Schema) {
			t.Errorf("Field(%q) = %+v, want index %d of INT8", name, f, i)
		}
	}
	if f := s.Field("other"); f != nil {
		t.Errorf("Field(other) = %+v, want nil", f)
	}

	empty := mustBuild(t, StructBuilder())
	if len(empty.Fields) != 0 {
		t.Errorf("empty struct has %d fields", len(empty.Fields))
	}
	_ = NewStruct(empty)
}

func TestSchemaBuilderParameters(t *testing.T) {
	want := map[string]string{"foo": "val", "bar": "baz"}
	b := NewBuilder(TypeString).Parameter("foo", "val").Parameter("bar", "baz")
	s := mustBuild(t, b)
	if !maps.Equal(s.Parameters, want) {
		t.Fatalf("parameters = %v, want %v", s.Parameters, want)
	}
	// A built schema is immutable: later builder calls do not reach it.
	b.Parameter("foo", "changed").Parameter("new", "x")
	if !maps.Equal(s.Parameters, want) {
		t.Errorf("parameters after reusing the builder = %v, want %v", s.Parameters, want)
	}
}

func TestSchemaBuilderOverwrite(t *testing.T) {
	s := mustBuild(t, NewBuilder(TypeString).Name("a").Name("testing").Version(1).Version(123).Optional().Required())
	if s.Name != "testing" || *s.Version != 123 || s.Optional {
		t.Errorf("schema = {%q %d optional=%v}, want {testing 123 false}", s.Name, *s.Version, s.Optional)
	}
}

func TestMustBuildPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustBuild of an invalid schema did not panic")
		}
	}()
	ArrayBuilder(nil).MustBuild()
}

func TestSchemaString(t *testing.T) {
	tests := []struct {
		name   string
		schema *Schema
		want   string
	}{
		{name: "nil", schema: nil, want: "<no schema>"},
		{name: "primitive", schema: Int32Schema, want: "Schema{INT32}"},
		{name: "named", schema: DecimalSchema(2).MustBuild(), want: "Schema{org.apache.kafka.connect.data.Decimal:BYTES}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.schema.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTypePredicates(t *testing.T) {
	tests := []struct {
		name      string
		typ       Type
		valid     bool
		primitive bool
	}{
		{name: "int8", typ: TypeInt8, valid: true, primitive: true},
		{name: "bytes", typ: TypeBytes, valid: true, primitive: true},
		{name: "array", typ: TypeArray, valid: true},
		{name: "map", typ: TypeMap, valid: true},
		{name: "struct", typ: TypeStruct, valid: true},
		{name: "unknown", typ: "INT8", primitive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.typ.Valid(); got != tt.valid {
				t.Errorf("Valid() = %v, want %v", got, tt.valid)
			}
			if got := tt.typ.Primitive(); got != tt.primitive {
				t.Errorf("Primitive() = %v, want %v", got, tt.primitive)
			}
		})
	}
}

// Cases from Apache Kafka's ConnectSchemaTest (testPrimitiveEquality,
// testArrayEquality, testArrayDefaultValueEquality, testMapEquality,
// testStructEquality).
func TestEqual(t *testing.T) {
	base := func() *Schema {
		return &Schema{Type: TypeInt8, Name: "name", Version: version(2), Doc: "doc"}
	}
	with := func(f func(*Schema)) *Schema { s := base(); f(s); return s }
	array := func(elem Type, def any) *Schema {
		return &Schema{Type: TypeArray, Default: def, ValueSchema: &Schema{Type: elem}}
	}
	mapOf := func(k, v Type) *Schema {
		return &Schema{Type: TypeMap, KeySchema: &Schema{Type: k}, ValueSchema: &Schema{Type: v}}
	}
	structOf := func(second string) *Schema {
		return &Schema{Type: TypeStruct, Fields: []Field{
			{Name: "field", Index: 0, Schema: &Schema{Type: TypeInt8}},
			{Name: second, Index: 1, Schema: &Schema{Type: TypeInt16}},
		}}
	}
	tests := []struct {
		name string
		a, b *Schema
		want bool
	}{
		{name: "same primitive", a: base(), b: base(), want: true},
		{name: "different type", a: base(), b: with(func(s *Schema) { s.Type = TypeInt16 })},
		{name: "different optional", a: base(), b: with(func(s *Schema) { s.Optional = true })},
		{name: "different default", a: base(), b: with(func(s *Schema) { s.Default = true })},
		{name: "different name", a: base(), b: with(func(s *Schema) { s.Name = "otherName" })},
		{name: "different version", a: base(), b: with(func(s *Schema) { s.Version = version(4) })},
		{name: "missing version", a: base(), b: with(func(s *Schema) { s.Version = nil })},
		{name: "different doc", a: base(), b: with(func(s *Schema) { s.Doc = "other doc" })},
		{name: "different parameters", a: base(), b: with(func(s *Schema) { s.Parameters = map[string]string{"param": "value"} })},
		{name: "empty and nil parameters", a: base(), b: with(func(s *Schema) { s.Parameters = map[string]string{} }), want: true},
		{name: "same array", a: array(TypeInt8, nil), b: array(TypeInt8, nil), want: true},
		{name: "different array element", a: array(TypeInt8, nil), b: array(TypeInt16, nil)},
		{name: "same array default", a: array(TypeInt8, []any{"a", "b"}), b: array(TypeInt8, []any{"a", "b"}), want: true},
		{name: "different array default", a: array(TypeInt8, []any{"a", "b"}), b: array(TypeInt8, []any{"b", "c"})},
		{name: "same bytes default", a: &Schema{Type: TypeBytes, Default: []byte("x")}, b: &Schema{Type: TypeBytes, Default: []byte("x")}, want: true},
		{name: "same map", a: mapOf(TypeInt8, TypeInt16), b: mapOf(TypeInt8, TypeInt16), want: true},
		{name: "different map key", a: mapOf(TypeInt8, TypeInt16), b: mapOf(TypeString, TypeInt16)},
		{name: "different map value", a: mapOf(TypeInt8, TypeInt16), b: mapOf(TypeInt8, TypeString)},
		{name: "same struct", a: structOf("field2"), b: structOf("field2"), want: true},
		{name: "different field name", a: structOf("field2"), b: structOf("different field name")},
		{name: "both nil", want: true},
		{name: "one nil", a: base()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(a, b) = %v, want %v", got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal(b, a) = %v, want %v", got, tt.want)
			}
		})
	}
}
