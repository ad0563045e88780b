package data

import (
	"math/big"
	"testing"
	"time"
)

// Cases from Apache Kafka's ConnectSchemaTest (testValidateValue*), with
// Connect's Java types replaced by the Go types the package documents.
func TestValidate(t *testing.T) {
	mapIntString := MapBuilder(Int32Schema, StringSchema).MustBuild()
	flat := StructBuilder().Field("field", Int32Schema).MustBuild()
	full := StructBuilder().
		Field("first", Int32Schema).
		Field("second", StringSchema).
		Field("array", ArrayBuilder(Int32Schema).MustBuild()).
		Field("map", mapIntString).
		Field("nested", flat).
		MustBuild()
	parent := StructBuilder().Field("nested", flat).MustBuild()
	other := StructBuilder().Field("x", Int32Schema).MustBuild()
	stringMap := MapBuilder(StringSchema, Int32Schema).MustBuild()
	decimal := DecimalSchema(2).MustBuild()
	date := DateSchema().MustBuild()
	timeOfDay := TimeSchema().MustBuild()
	timestamp := TimestampSchema().MustBuild()

	tests := []struct {
		name      string
		schema    *Schema
		value     any
		wantField string
		wantErr   string // Error.Msg; empty for a valid value
	}{
		{name: "int8", schema: Int8Schema, value: int8(1)},
		{name: "int16", schema: Int16Schema, value: int16(1)},
		{name: "int32", schema: Int32Schema, value: int32(1)},
		{name: "int64", schema: Int64Schema, value: int64(1)},
		{name: "float32", schema: Float32Schema, value: float32(1)},
		{name: "float64", schema: Float64Schema, value: 1.0},
		{name: "boolean", schema: BooleanSchema, value: true},
		{name: "string", schema: StringSchema, value: "a string"},
		{name: "bytes", schema: BytesSchema, value: []byte("a byte array")},
		{name: "array", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []any{int32(1), int32(2), int32(3)}},
		{name: "empty array", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []any{}},
		{name: "map", schema: mapIntString, value: map[any]any{int32(1): "value"}},
		{name: "string-keyed map", schema: stringMap, value: map[string]any{"a": int32(1)}},
		{name: "string-keyed map as map[any]any", schema: stringMap, value: map[any]any{"a": int32(1)}},
		{
			name:   "struct",
			schema: full,
			value: NewStruct(full).
				Set("first", int32(1)).
				Set("second", "foo").
				Set("array", []any{int32(1), int32(2), int32(3)}).
				Set("map", map[any]any{int32(1): "value"}).
				Set("nested", NewStruct(flat).Set("field", int32(12))),
		},
		{name: "decimal", schema: decimal, value: NewDecimal(156, 2)},
		{name: "date", schema: date, value: time.UnixMilli(0)},
		{name: "time", schema: timeOfDay, value: time.UnixMilli(0)},
		{name: "timestamp", schema: timestamp, value: time.UnixMilli(0)},
		{name: "nil schema accepts anything", schema: nil, value: struct{}{}},
		{name: "optional null", schema: OptionalInt8Schema, value: nil},
		{name: "null with default", schema: NewBuilder(TypeInt8).Default(int8(0)).MustBuild(), value: nil},
		{name: "optional nil struct pointer", schema: NewBuilder(TypeStruct).Optional().MustBuild(), value: (*Struct)(nil)},

		{name: "required null", schema: Int8Schema, value: nil, wantErr: `Invalid value: null used for required field: "null", schema type: INT8`},
		{name: "required nil struct pointer", schema: flat, value: (*Struct)(nil), wantErr: `Invalid value: null used for required field: "null", schema type: STRUCT`},
		{name: "int8 given int", schema: Int8Schema, value: 1, wantErr: "Invalid Go object for schema Schema{INT8}: int"},
		{name: "int16 given int", schema: Int16Schema, value: 1, wantErr: "Invalid Go object for schema Schema{INT16}: int"},
		{name: "int32 given int64", schema: Int32Schema, value: int64(1), wantErr: "Invalid Go object for schema Schema{INT32}: int64"},
		{name: "int64 given int", schema: Int64Schema, value: 1, wantErr: "Invalid Go object for schema Schema{INT64}: int"},
		{name: "float32 given float64", schema: Float32Schema, value: 1.0, wantErr: "Invalid Go object for schema Schema{FLOAT32}: float64"},
		{name: "float64 given float32", schema: Float64Schema, value: float32(1), wantErr: "Invalid Go object for schema Schema{FLOAT64}: float32"},
		{name: "boolean given float32", schema: BooleanSchema, value: float32(1), wantErr: "Invalid Go object for schema Schema{BOOLEAN}: float32"},
		{name: "string given bytes", schema: StringSchema, value: []byte("abc"), wantErr: "Invalid Go object for schema Schema{STRING}: []uint8"},
		{name: "bytes given array", schema: BytesSchema, value: []any{1, "foo"}, wantErr: "Invalid Go object for schema Schema{BYTES}: []interface {}"},
		{name: "array given typed slice", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []int32{1}, wantErr: "Invalid Go object for schema Schema{ARRAY}: []int32"},
		{name: "array of wrong elements", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []any{"a", "b", "c"}, wantField: "[0]", wantErr: "Invalid Go object for schema Schema{INT32}: string"},
		{name: "array with one wrong element", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []any{int32(1), int32(2), "c"}, wantField: "[2]", wantErr: "Invalid Go object for schema Schema{INT32}: string"},
		{name: "array with null element", schema: ArrayBuilder(Int32Schema).MustBuild(), value: []any{int32(1), nil}, wantField: "[1]", wantErr: `Invalid value: null used for required field: "[1]", schema type: INT32`},
		{name: "map key", schema: mapIntString, value: map[any]any{"wrong key type": "value"}, wantField: "<key>", wantErr: "Invalid Go object for schema Schema{INT32}: string"},
		{name: "map value", schema: mapIntString, value: map[any]any{int32(1): int32(2)}, wantField: "[1]", wantErr: "Invalid Go object for schema Schema{STRING}: int32"},
		{name: "map some values", schema: mapIntString, value: map[any]any{int32(1): "abc", int32(2): []byte("wrong")}, wantField: "[2]", wantErr: "Invalid Go object for schema Schema{STRING}: []uint8"},
		{name: "string-keyed map value", schema: stringMap, value: map[string]any{"k": "v"}, wantField: ".k", wantErr: "Invalid Go object for schema Schema{INT32}: string"},
		{name: "map[string]any for int keys", schema: mapIntString, value: map[string]any{"1": "v"}, wantErr: "Invalid Go object for schema Schema{MAP}: map[string]interface {}"},
		{name: "map given typed map", schema: mapIntString, value: map[int32]string{1: "v"}, wantErr: "Invalid Go object for schema Schema{MAP}: map[int32]string"},
		{name: "struct of another schema", schema: flat, value: NewStruct(other).Set("x", int32(1)), wantErr: "Struct schemas do not match."},
		{
			name:      "nested struct of another schema",
			schema:    parent,
			value:     &Struct{schema: parent, values: []any{NewStruct(other).Set("x", int32(1))}},
			wantField: "nested",
			wantErr:   "Struct schemas do not match.",
		},
		{
			name:      "nested struct missing a field",
			schema:    parent,
			value:     &Struct{schema: parent, values: []any{NewStruct(flat)}},
			wantField: "nested.field",
			wantErr:   `Invalid value: null used for required field: "nested.field", schema type: INT32`,
		},
		{name: "struct given map", schema: flat, value: map[string]any{"field": int32(1)}, wantErr: "Invalid Go object for schema Schema{STRUCT}: map[string]interface {}"},
		{name: "decimal given big.Int", schema: decimal, value: big.NewInt(156), wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Decimal:BYTES}: *big.Int"},
		{name: "date given int64", schema: date, value: int64(1000), wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Date:INT32}: int64"},
		{name: "date given its encoding", schema: date, value: int32(1000), wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Date:INT32}: int32"},
		{name: "time given int64", schema: timeOfDay, value: int64(1000), wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Time:INT32}: int64"},
		{name: "timestamp given int64", schema: timestamp, value: int64(1000), wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Timestamp:INT64}: int64"},
		{name: "logical name on another type is not logical", schema: &Schema{Type: TypeString, Name: DateName}, value: "2020-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantDataError(t, Validate(tt.schema, tt.value), tt.wantField, tt.wantErr)
		})
	}
}

// TestValidatePaths pins the dotted paths Error.Field names, which the
// lazy path rendering must spell exactly as the eager one did.
func TestValidatePaths(t *testing.T) {
	leaf := StructBuilder().Field("x", Int32Schema).MustBuild()
	schema := StructBuilder().
		Field("list", ArrayBuilder(ArrayBuilder(leaf).MustBuild()).MustBuild()).
		Field("byKey", MapBuilder(StringSchema, leaf).MustBuild()).
		Field("byName", MapBuilder(StringSchema, Int32Schema).MustBuild()).
		Field("last", StringSchema).
		MustBuild()
	bad := &Struct{schema: leaf, values: []any{"not an int"}}
	good := NewStruct(leaf).Set("x", int32(1))
	value := func(list, byKey, byName any) *Struct {
		return &Struct{schema: schema, values: []any{list, byKey, byName, "s"}}
	}
	tests := []struct {
		name      string
		value     *Struct
		wantField string
		wantErr   string
	}{
		{
			name:      "array of arrays of structs",
			value:     value([]any{[]any{good}, []any{good, bad}}, map[any]any{}, map[string]any{}),
			wantField: "list[1][1].x",
			wantErr:   "Invalid Go object for schema Schema{INT32}: string",
		},
		{
			name:      "map[any]any value",
			value:     value([]any{}, map[any]any{"k1": bad}, map[string]any{}),
			wantField: "byKey[k1].x",
			wantErr:   "Invalid Go object for schema Schema{INT32}: string",
		},
		{
			name:      "map[any]any key",
			value:     value([]any{}, map[any]any{7: good}, map[string]any{}),
			wantField: "byKey<key>",
			wantErr:   "Invalid Go object for schema Schema{STRING}: int",
		},
		{
			name:      "map[string]any value",
			value:     value([]any{}, map[string]any{"k2": bad}, map[string]any{"n": nil}),
			wantField: "byKey.k2.x",
			wantErr:   "Invalid Go object for schema Schema{INT32}: string",
		},
		{
			name:      "null in map[string]any",
			value:     value([]any{}, map[any]any{}, map[string]any{"n": nil}),
			wantField: "byName.n",
			wantErr:   `Invalid value: null used for required field: "byName.n", schema type: INT32`,
		},
		{
			name:      "missing top-level field",
			value:     &Struct{schema: schema, values: []any{[]any{}, map[any]any{}, map[string]any{}, nil}},
			wantField: "last",
			wantErr:   `Invalid value: null used for required field: "last", schema type: STRING`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantDataError(t, Validate(schema, tt.value), tt.wantField, tt.wantErr)
			wantDataError(t, tt.value.Validate(), tt.wantField, tt.wantErr)
		})
	}
}

func TestDataErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "top level", err: &Error{Msg: "Struct schemas do not match."}, want: "Struct schemas do not match."},
		{name: "with field", err: &Error{Field: "a[1]", Msg: "bad"}, want: "bad (field a[1])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValuesEqual(t *testing.T) {
	schema := StructBuilder().Field("s", StringSchema).Field("b", BytesSchema).MustBuild()
	other := StructBuilder().Field("s", StringSchema).Field("b", OptionalBytesSchema).MustBuild()
	st := func(s *Schema, str string, b []byte) *Struct { return NewStruct(s).Set("s", str).Set("b", b) }
	utc := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{name: "nil", want: true},
		{name: "nil and value", a: nil, b: int32(0)},
		{name: "same ints", a: int32(1), b: int32(1), want: true},
		{name: "ints of different width", a: int32(1), b: int64(1)},
		{name: "bytes by content", a: []byte("foobar"), b: []byte("foobar"), want: true},
		{name: "different bytes", a: []byte("foobar"), b: []byte("mismatching_string")},
		{name: "bytes and string", a: []byte("x"), b: "x"},
		{name: "equal structs", a: st(schema, "foobar", []byte("foobar")), b: st(schema, "foobar", []byte("foobar")), want: true},
		{name: "structs with different strings", a: st(schema, "foobar", []byte("x")), b: st(schema, "mismatching string", []byte("x"))},
		{name: "structs with different bytes", a: st(schema, "foobar", []byte("foobar")), b: st(schema, "foobar", []byte("mismatching_string"))},
		{name: "structs of different schemas", a: st(schema, "a", []byte("b")), b: st(other, "a", []byte("b"))},
		{name: "nil structs", a: (*Struct)(nil), b: (*Struct)(nil), want: true},
		{name: "nil and non-nil struct", a: (*Struct)(nil), b: st(schema, "a", nil)},
		{name: "same instant in two zones", a: utc, b: utc.In(time.FixedZone("x", 3600)), want: true},
		{name: "different instants", a: utc, b: utc.Add(time.Millisecond)},
		{name: "equal decimals", a: NewDecimal(156, 2), b: NewDecimal(156, 2), want: true},
		{name: "decimals of different scale", a: NewDecimal(156, 2), b: NewDecimal(1560, 3)},
		{name: "zero decimal and zero value", a: Decimal{}, b: NewDecimal(0, 0), want: true},
		{name: "arrays", a: []any{[]byte("a"), int8(1)}, b: []any{[]byte("a"), int8(1)}, want: true},
		{name: "arrays of different length", a: []any{int8(1), int8(2)}, b: []any{int8(1), int8(2), int8(3)}},
		{name: "string maps", a: map[string]any{"k": []byte("v")}, b: map[string]any{"k": []byte("v")}, want: true},
		{name: "string maps with different keys", a: map[string]any{"k": int8(1)}, b: map[string]any{"j": int8(1)}},
		{name: "maps", a: map[any]any{int32(1): "string"}, b: map[any]any{int32(1): "string"}, want: true},
		{name: "maps with different keys", a: map[any]any{int32(1): "string"}, b: map[any]any{int32(2): "string"}},
		{name: "map kinds differ", a: map[any]any{"k": int8(1)}, b: map[string]any{"k": int8(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValuesEqual(tt.a, tt.b); got != tt.want {
				t.Errorf("ValuesEqual(a, b) = %v, want %v", got, tt.want)
			}
			if got := ValuesEqual(tt.b, tt.a); got != tt.want {
				t.Errorf("ValuesEqual(b, a) = %v, want %v", got, tt.want)
			}
		})
	}
}
