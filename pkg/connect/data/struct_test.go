package data

import (
	"testing"
)

// Schemas and values from Apache Kafka's StructTest.
var (
	flatStructSchema = StructBuilder().
				Field("int8", Int8Schema).
				Field("int16", Int16Schema).
				Field("int32", Int32Schema).
				Field("int64", Int64Schema).
				Field("float32", Float32Schema).
				Field("float64", Float64Schema).
				Field("boolean", BooleanSchema).
				Field("string", StringSchema).
				Field("bytes", BytesSchema).
				MustBuild()
	nestedChildSchema = StructBuilder().Field("int8", Int8Schema).MustBuild()
	nestedSchema      = StructBuilder().
				Field("array", ArrayBuilder(Int8Schema).MustBuild()).
				Field("map", MapBuilder(Int32Schema, StringSchema).MustBuild()).
				Field("nested", nestedChildSchema).
				MustBuild()
)

func TestStructPutGet(t *testing.T) {
	st := NewStruct(flatStructSchema).
		Set("int8", int8(12)).
		Set("int16", int16(12)).
		Set("int32", int32(12)).
		Set("int64", int64(12)).
		Set("float32", float32(12)).
		Set("float64", 12.0).
		Set("boolean", true).
		Set("string", "foobar").
		Set("bytes", []byte("foobar"))
	tests := []struct {
		name  string
		field string
		want  any
	}{
		{name: "int8", field: "int8", want: int8(12)},
		{name: "int16", field: "int16", want: int16(12)},
		{name: "int32", field: "int32", want: int32(12)},
		{name: "int64", field: "int64", want: int64(12)},
		{name: "float32", field: "float32", want: float32(12)},
		{name: "float64", field: "float64", want: 12.0},
		{name: "boolean", field: "boolean", want: true},
		{name: "string", field: "string", want: "foobar"},
		{name: "bytes", field: "bytes", want: []byte("foobar")},
		{name: "unknown field", field: "nope", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := st.Get(tt.field); !ValuesEqual(got, tt.want) {
				t.Errorf("Get(%q) = %#v, want %#v", tt.field, got, tt.want)
			}
			if got := st.GetWithoutDefault(tt.field); !ValuesEqual(got, tt.want) {
				t.Errorf("GetWithoutDefault(%q) = %#v, want %#v", tt.field, got, tt.want)
			}
		})
	}
	if err := st.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if st.Schema() != flatStructSchema {
		t.Error("Schema() is not the schema the struct was made with")
	}
}

func TestStructComplex(t *testing.T) {
	st := NewStruct(nestedSchema).
		Set("array", []any{int8(1), int8(2)}).
		Set("map", map[any]any{int32(1): "string"}).
		Set("nested", NewStruct(nestedChildSchema).Set("int8", int8(12)))
	if got := st.Get("nested").(*Struct).Get("int8"); got != int8(12) {
		t.Errorf("nested int8 = %v, want 12", got)
	}
	if err := st.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestStructPutErrors(t *testing.T) {
	other := StructBuilder().Field("x", Int32Schema).MustBuild()
	tests := []struct {
		name      string
		schema    *Schema
		field     string
		value     any
		wantField string
		wantErr   string
	}{
		{
			name: "invalid field type", schema: flatStructSchema, field: "int8",
			value:     "should fail because this is a string, not int8",
			wantField: "int8", wantErr: "Invalid Go object for schema Schema{INT8}: string",
		},
		{
			name: "invalid array elements", schema: nestedSchema, field: "array",
			value:     []any{"should fail since elements should be int8s"},
			wantField: "array[0]", wantErr: "Invalid Go object for schema Schema{INT8}: string",
		},
		{
			name: "invalid map key", schema: nestedSchema, field: "map",
			value:     map[any]any{"should fail because keys should be int8s": int8(12)},
			wantField: "map<key>", wantErr: "Invalid Go object for schema Schema{INT32}: string",
		},
		{
			name: "invalid struct field schema", schema: nestedSchema, field: "nested",
			value:     NewStruct(other),
			wantField: "nested", wantErr: "Struct schemas do not match.",
		},
		{
			name: "invalid struct field value", schema: nestedSchema, field: "nested",
			value:     NewStruct(nestedChildSchema),
			wantField: "nested.int8", wantErr: `Invalid value: null used for required field: "nested.int8", schema type: INT8`,
		},
		{
			name: "null includes field name", schema: StructBuilder().Field("fieldName", StringSchema).MustBuild(), field: "fieldName",
			value:     nil,
			wantField: "fieldName", wantErr: `Invalid value: null used for required field: "fieldName", schema type: STRING`,
		},
		{
			name: "unknown field", schema: flatStructSchema, field: "nope",
			value:     int8(1),
			wantField: "nope", wantErr: "nope is not a valid field name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewStruct(tt.schema)
			wantDataError(t, st.Put(tt.field, tt.value), tt.wantField, tt.wantErr)
			// PutAt, the same by the field's index, fails the same way.
			if f := tt.schema.Field(tt.field); f != nil {
				wantDataError(t, st.PutAt(f.Index, tt.value), tt.wantField, tt.wantErr)
			}
			for _, f := range tt.schema.Fields {
				if v := st.GetWithoutDefault(f.Name); v != nil {
					t.Errorf("a failed Put left %s = %v", f.Name, v)
				}
			}
		})
	}
}

func TestStructSetPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Set of an invalid value did not panic")
		}
	}()
	NewStruct(flatStructSchema).Set("int8", 1)
}

func TestNewStructPanicsForNonStruct(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewStruct of a MAP schema did not panic")
		}
	}()
	NewStruct(MapBuilder(Int32Schema, StringSchema).MustBuild())
}

// Cases from Apache Kafka's StructTest (testMissing*).
func TestStructDefaultsAndValidate(t *testing.T) {
	required := Int8Schema
	optional := OptionalInt8Schema
	withDefault := NewBuilder(TypeInt8).Default(int8(0)).MustBuild()
	tests := []struct {
		name        string
		field       *Schema
		wantGet     any
		wantErrMsg  string
		wantErrPath string
	}{
		{name: "required", field: required, wantErrPath: "field", wantErrMsg: `Invalid value: null used for required field: "field", schema type: INT8`},
		{name: "optional", field: optional},
		{name: "default", field: withDefault, wantGet: int8(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewStruct(StructBuilder().Field("field", tt.field).MustBuild())
			wantDataError(t, st.Validate(), tt.wantErrPath, tt.wantErrMsg)
			if got := st.Get("field"); got != tt.wantGet {
				t.Errorf("Get = %v, want %v", got, tt.wantGet)
			}
			if got := st.GetWithoutDefault("field"); got != nil {
				t.Errorf("GetWithoutDefault = %v, want nil", got)
			}
		})
	}
}

func TestStructValidateReportsFirstMissingField(t *testing.T) {
	schema := StructBuilder().Field("one", StringSchema).Field("two", StringSchema).Field("three", StringSchema).MustBuild()
	err := NewStruct(schema).Validate()
	wantDataError(t, err, "one", `Invalid value: null used for required field: "one", schema type: STRING`)
	wantErrText(t, err, `Invalid value: null used for required field: "one", schema type: STRING (field one)`)
}

func TestStructValidateNested(t *testing.T) {
	outer := StructBuilder().Field("id", Int32Schema).Field("nested", nestedChildSchema).MustBuild()
	tests := []struct {
		name      string
		nested    any
		wantField string
		wantErr   string
	}{
		{name: "nested unset", nested: nil, wantField: "nested", wantErr: `Invalid value: null used for required field: "nested", schema type: STRUCT`},
		// Put validates, so only a struct changed behind Put's back can hold a
		// nested struct that lacks a required field.
		{name: "nested field missing", nested: NewStruct(nestedChildSchema), wantField: "nested.int8", wantErr: `Invalid value: null used for required field: "nested.int8", schema type: INT8`},
		{name: "nested valid", nested: NewStruct(nestedChildSchema).Set("int8", int8(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewStruct(outer).Set("id", int32(1))
			st.values[1] = tt.nested
			wantDataError(t, st.Validate(), tt.wantField, tt.wantErr)
		})
	}
}

func TestStructString(t *testing.T) {
	tests := []struct {
		name string
		st   *Struct
		want string
	}{
		{name: "empty", st: NewStruct(flatStructSchema), want: "Struct{}"},
		{name: "unset fields are skipped", st: NewStruct(flatStructSchema).Set("int16", int16(12)).Set("string", "foobar"), want: "Struct{int16=12,string=foobar}"},
		{name: "default is not rendered", st: NewStruct(StructBuilder().Field("d", NewBuilder(TypeInt8).Default(int8(3)).MustBuild()).MustBuild()), want: "Struct{}"},
		{
			name: "nested",
			st: NewStruct(nestedSchema).
				Set("array", []any{int8(1), int8(2)}).
				Set("nested", NewStruct(nestedChildSchema).Set("int8", int8(12))),
			want: "Struct{array=[1 2],nested=Struct{int8=12}}",
		},
		{name: "decimal", st: NewStruct(StructBuilder().Field("d", DecimalSchema(2).MustBuild()).MustBuild()).Set("d", NewDecimal(156, 2)), want: "Struct{d=1.56}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStructCloneAndAt(t *testing.T) {
	s := StructBuilder().Field("a", Int32Schema).Field("b", OptionalStringSchema).Field("c", nestedChildSchema).MustBuild()
	child := NewStruct(nestedChildSchema).Set("int8", int8(1))
	orig := NewStruct(s).Set("a", int32(1)).Set("c", child)
	cp := orig.Clone()
	if !ValuesEqual(cp, orig) || cp.Schema() != s {
		t.Fatalf("clone %v differs from %v", cp, orig)
	}
	cp.Set("a", int32(2)).Set("b", "x")
	if orig.Get("a") != int32(1) || orig.Get("b") != nil {
		t.Errorf("setting the clone changed the original: %v", orig)
	}
	if cp.Get("c") != child {
		t.Errorf("nested struct copied, want shared")
	}
	for i, want := range []any{int32(2), "x", child} {
		if got := cp.At(i); got != want {
			t.Errorf("At(%d) = %v, want %v", i, got, want)
		}
	}
	if err := cp.PutAt(1, "y"); err != nil || cp.Get("b") != "y" || orig.Get("b") != nil {
		t.Errorf("PutAt(1, y): %v, b = %v, original's b = %v", err, cp.Get("b"), orig.Get("b"))
	}
}
