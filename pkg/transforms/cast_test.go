package transforms

import (
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestCastConfig(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{name: "empty", spec: "", want: "Invalid value [] for configuration spec: Must specify at least one field to cast."},
		{name: "invalid schema type", spec: "foo:faketype", want: "Invalid value [foo:faketype] for configuration spec: Invalid type found in casting spec: faketype"},
		{name: "invalid whole type", spec: "faketype", want: "Invalid value [faketype] for configuration spec: No enum constant org.apache.kafka.connect.data.Schema.Type.FAKETYPE"},
		{name: "invalid target type", spec: "foo:array", want: "Invalid value [foo:array] for configuration spec: Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"},
		{name: "unsupported target type", spec: "bytes", want: "Invalid value [bytes] for configuration spec: Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"},
		{name: "invalid map", spec: "foo:int8:extra", want: "Invalid value [foo:int8:extra] for configuration renames: Invalid rename mapping: foo:int8:extra"},
		{name: "whole and field", spec: "foo:int8,int32", want: "Invalid value [foo:int8, int32] for configuration spec: Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newCast(valueTarget).Configure(map[string]string{"spec": tt.spec})
			if err == nil || !containsLine(err.Error(), tt.want) {
				t.Fatalf("error = %v, want a line %q", err, tt.want)
			}
		})
	}
}

func TestCastWholeValue(t *testing.T) {
	date := time.UnixMilli(msPerDay).UTC()
	tod := time.UnixMilli(3600000).UTC()
	ts := time.UnixMilli(1500000000123).UTC()
	tests := []struct {
		name    string
		spec    string
		schema  *data.Schema
		value   any
		want    any
		wantErr string
	}{
		{name: "int8 to int16", spec: "int16", schema: data.Int8Schema, value: int8(42), want: int16(42)},
		{name: "int32 to int8", spec: "int8", schema: data.Int32Schema, value: int32(42), want: int8(42)},
		{name: "int32 to int8 wraps", spec: "int8", schema: data.Int32Schema, value: int32(300), want: int8(44)},
		{name: "int32 to int64", spec: "int64", schema: data.Int32Schema, value: int32(42), want: int64(42)},
		{name: "int32 to float32", spec: "float32", schema: data.Int32Schema, value: int32(42), want: float32(42)},
		{name: "int32 to float64", spec: "float64", schema: data.Int32Schema, value: int32(42), want: float64(42)},
		{name: "int32 to boolean true", spec: "boolean", schema: data.Int32Schema, value: int32(42), want: true},
		{name: "int32 to boolean false", spec: "boolean", schema: data.Int32Schema, value: int32(0), want: false},
		{name: "int32 to string", spec: "string", schema: data.Int32Schema, value: int32(42), want: "42"},
		{name: "float64 to string", spec: "string", schema: data.Float64Schema, value: float64(42), want: "42.0"},
		{name: "float32 to int32", spec: "int32", schema: data.Float32Schema, value: float32(42.9), want: int32(42)},
		{name: "float64 NaN to int64", spec: "int64", schema: data.Float64Schema, value: math.NaN(), want: int64(0)},
		{name: "float64 huge to int32 saturates", spec: "int32", schema: data.Float64Schema, value: 1e20, want: int32(math.MaxInt32)},
		{name: "boolean to int32", spec: "int32", schema: data.BooleanSchema, value: true, want: int32(1)},
		{name: "boolean to float64", spec: "float64", schema: data.BooleanSchema, value: false, want: float64(0)},
		{name: "string to int32", spec: "int32", schema: data.StringSchema, value: "42", want: int32(42)},
		{name: "string to float64", spec: "float64", schema: data.StringSchema, value: "42.5", want: 42.5},
		{name: "string to boolean", spec: "boolean", schema: data.StringSchema, value: "TRUE", want: true},
		{name: "string to boolean false", spec: "boolean", schema: data.StringSchema, value: "yes", want: false},
		{name: "string out of range", spec: "int8", schema: data.StringSchema, value: "300", wantErr: "Value (300) was out of range for requested data type"},
		{name: "string not a number", spec: "int32", schema: data.StringSchema, value: "abc", wantErr: "Value (abc) was out of range for requested data type"},
		{name: "bytes to string", spec: "string", schema: data.BytesSchema, value: []byte{1, 2, 3}, want: "AQID"},
		{name: "bytes to int32", spec: "int32", schema: data.BytesSchema, value: []byte{1}, wantErr: "Unexpected type in Cast transformation: class [B"},
		{name: "decimal to string", spec: "string", schema: data.DecimalSchema(0).MustBuild(), value: data.NewDecimal(42, 0), want: "42"},
		{name: "decimal to float64", spec: "float64", schema: data.DecimalSchema(2).MustBuild(), value: data.NewDecimal(4250, 2), want: 42.5},
		{name: "decimal to int32", spec: "int32", schema: data.DecimalSchema(2).MustBuild(), value: data.NewDecimal(-4250, 2), want: int32(-42)},
		{name: "date to string", spec: "string", schema: data.DateSchema().MustBuild(), value: date, want: "1970-01-02"},
		{name: "time to string", spec: "string", schema: data.TimeSchema().MustBuild(), value: tod, want: "01:00:00.000Z"},
		{name: "timestamp to string", spec: "string", schema: data.TimestampSchema().MustBuild(), value: ts, want: "2017-07-14T02:40:00.123Z"},
		{name: "date to int32", spec: "int32", schema: data.DateSchema().MustBuild(), value: date, want: int32(1)},
		{name: "time to int32", spec: "int32", schema: data.TimeSchema().MustBuild(), value: tod, want: int32(3600000)},
		{name: "timestamp to int64", spec: "int64", schema: data.TimestampSchema().MustBuild(), value: ts, want: int64(1500000000123)},
		{name: "struct unsupported", spec: "string", schema: data.StructBuilder().MustBuild(), value: data.NewStruct(data.StructBuilder().MustBuild()),
			wantErr: "Cast transformation does not support casting from STRUCT; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"},
		{name: "schemaless int64 to int32", spec: "int32", value: int64(42), want: int32(42)},
		{name: "schemaless string to int64", spec: "int64", value: "42", want: int64(42)},
		{name: "schemaless float64 to string", spec: "string", value: 1e10, want: "1.0E10"},
		{name: "schemaless map unsupported", spec: "int32", value: map[string]any{},
			wantErr: "Cast transformation does not support casting from MAP; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"},
		{name: "schemaless unknown type", spec: "int32", value: time.Now(),
			wantErr: "Cast transformation was passed a value of type class java.util.Date which is not supported by Connect's data API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newCast, valueTarget, map[string]string{"spec": tt.spec})
			r := valueRecord(tt.schema, tt.value)
			if tt.wantErr != "" {
				applyErr(t, x, r, tt.wantErr)
				return
			}
			out := applyOK(t, x, r)
			if !equalValue(out.Value, tt.want) {
				t.Fatalf("value = %#v, want %#v", out.Value, tt.want)
			}
			if tt.schema != nil {
				if out.ValueSchema.Type != data.Type(tt.spec) || (out.ValueSchema.Name != tt.schema.Name && !data.IsLogical(tt.schema)) {
					t.Fatalf("schema = %+v", out.ValueSchema)
				}
				if err := data.Validate(out.ValueSchema, out.Value); err != nil {
					t.Fatalf("value does not fit its schema: %v", err)
				}
			}
		})
	}
}

func TestCastKeepsOptionalityAndDefault(t *testing.T) {
	x := newField(t, newCast, keyTarget, map[string]string{"spec": "int64"})
	s := data.NewBuilder(data.TypeInt32).Optional().Default(int32(42)).MustBuild()
	out := applyOK(t, x, keyRecord(s, int32(7)))
	if !out.KeySchema.Optional || out.KeySchema.Default != int64(42) || out.Key != int64(7) {
		t.Fatalf("got %+v %v", out.KeySchema, out.Key)
	}
	if again := applyOK(t, x, keyRecord(s, int32(8))); again.KeySchema != out.KeySchema {
		t.Fatalf("schema not cached")
	}
	if tomb := applyOK(t, x, keyRecord(s, nil)); tomb.KeySchema != s || tomb.Key != nil {
		t.Fatalf("null key not passed through")
	}
}

func TestCastFields(t *testing.T) {
	optDefault := data.NewBuilder(data.TypeInt32).Optional().Default(int32(12)).MustBuild()
	schema := data.StructBuilder().Name("rec").
		Field("int8", data.Int8Schema).Field("int16", data.Int16Schema).Field("int32", data.Int32Schema).
		Field("int64", data.Int64Schema).Field("float32", data.Float32Schema).Field("float64", data.Float64Schema).
		Field("boolean", data.BooleanSchema).Field("string", data.StringSchema).
		Field("bigdecimal", data.DecimalSchema(0).MustBuild()).Field("date", data.DateSchema().MustBuild()).
		Field("optional", data.OptionalFloat32Schema).Field("timestamp", data.TimestampSchema().MustBuild()).
		Field("withDefault", optDefault).Field("untouched", data.StringSchema).MustBuild()
	value := data.NewStruct(schema).Set("int8", int8(8)).Set("int16", int16(16)).Set("int32", int32(32)).Set("int64", int64(64)).
		Set("float32", float32(32)).Set("float64", float64(-64)).Set("boolean", true).Set("string", "42").
		Set("bigdecimal", data.NewDecimal(42, 0)).Set("date", time.UnixMilli(0).UTC()).Set("timestamp", time.UnixMilli(0).UTC()).Set("untouched", "u")
	spec := "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,timestamp:string,withDefault:string"
	x := newField(t, newCast, valueTarget, map[string]string{"spec": spec})
	out := applyOK(t, x, valueRecord(schema, value))
	got := out.Value.(*data.Struct)
	want := map[string]any{
		"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": float64(32), "float64": true,
		"boolean": int8(1), "string": int32(42), "bigdecimal": "42", "date": "00:00:00.000Z", "optional": nil,
		"timestamp": "00:00:00.000Z", "withDefault": "12", "untouched": "u",
	}
	for name, w := range want {
		if g := got.Get(name); !equalValue(g, w) {
			t.Errorf("%s = %#v, want %#v", name, g, w)
		}
	}
	s := out.ValueSchema
	if s.Name != "rec" || !s.Field("optional").Schema.Optional || s.Field("withDefault").Schema.Default != "12" ||
		s.Field("untouched").Schema != data.StringSchema || s.Field("int8").Schema.Type != data.TypeInt16 {
		t.Fatalf("schema = %+v", s)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("struct invalid: %v", err)
	}
}

func TestCastFieldsSchemaless(t *testing.T) {
	in := map[string]any{"int8": int8(8), "int16": int16(16), "int32": int32(32), "int64": int64(64), "float32": float32(32),
		"float64": float64(-64), "boolean": true, "string": "42", "other": "o"}
	x := newField(t, newCast, valueTarget, map[string]string{"spec": "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,absent:int8"})
	out := applyOK(t, x, valueRecord(nil, in))
	want := map[string]any{"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": float64(32),
		"float64": true, "boolean": int8(1), "string": int32(42), "other": "o", "absent": nil}
	if !equalValue(out.Value, want) {
		t.Fatalf("value = %v, want %v", out.Value, want)
	}
	applyErr(t, x, valueRecord(nil, "x"), "Only Map objects supported in absence of schema for [cast types], found: java.lang.String")
	applyErr(t, x, valueRecord(data.Int32Schema, int32(1)), "Cannot list fields on non-struct type")
}
