package transforms

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestMaskFieldNullValues(t *testing.T) {
	in := map[string]any{
		"magic": int64(42), "bool": true, "byte": int8(42), "short": int16(42), "int": int32(42), "long": int64(42),
		"float": float32(42), "double": float64(42), "string": "55.121.20.20", "date": time.Now(),
		"bigdec": data.NewDecimal(4200, 2), "list": []any{"a"}, "map": map[string]any{"k": "v"},
	}
	want := map[string]any{
		"magic": int64(42), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0), "long": int64(0),
		"float": float32(0), "double": float64(0), "string": "", "date": time.UnixMilli(0).UTC(),
		"bigdec": data.NewDecimal(0, 0), "list": []any{}, "map": map[string]any{}, "absent": nil,
	}
	x := newField(t, newMaskField, valueTarget, map[string]string{"fields": "bool,byte,short,int,long,float,double,string,date,bigdec,list,map,absent"})
	out := applyOK(t, x, valueRecord(nil, in))
	if !equalValue(out.Value, want) {
		t.Fatalf("value = %v, want %v", out.Value, want)
	}
}

func TestMaskFieldWithSchema(t *testing.T) {
	def := data.NewBuilder(data.TypeInt32).Optional().Default(int32(123)).MustBuild()
	dec := data.DecimalSchema(2).MustBuild()
	schema := data.StructBuilder().Field("magic", data.Int32Schema).Field("int", data.Int32Schema).
		Field("string", data.StringSchema).Field("dec", dec).Field("withDefault", def).Field("bytes", data.OptionalBytesSchema).MustBuild()
	value := data.NewStruct(schema).Set("magic", int32(42)).Set("int", int32(42)).Set("string", "x").Set("dec", data.NewDecimal(4200, 2))
	tests := []struct {
		name    string
		props   map[string]string
		want    *data.Struct
		wantErr string
	}{
		{name: "null values", props: map[string]string{"fields": "int,string,dec,withDefault"},
			want: data.NewStruct(schema).Set("magic", int32(42)).Set("int", int32(0)).Set("string", "").Set("dec", data.NewDecimal(0, 2)).Set("withDefault", int32(0))},
		{name: "keep null", props: map[string]string{"fields": "withDefault", "replace.null.with.default": "false"},
			want: data.NewStruct(schema).Set("magic", int32(42)).Set("int", int32(42)).Set("string", "x").Set("dec", data.NewDecimal(4200, 2))},
		{name: "replacement", props: map[string]string{"fields": "int,string,dec", "replacement": "123"},
			want: data.NewStruct(schema).Set("magic", int32(42)).Set("int", int32(123)).Set("string", "123").Set("dec", data.NewDecimal(123, 0)).Set("withDefault", int32(123))},
		{name: "unmaskable", props: map[string]string{"fields": "bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newMaskField, valueTarget, tt.props)
			v := value
			if tt.name == "unmaskable" {
				v = data.NewStruct(schema).Set("magic", int32(1)).Set("int", int32(1)).Set("string", "").Set("dec", data.NewDecimal(0, 2)).Set("bytes", []byte{1})
				applyErr(t, x, valueRecord(schema, v), "Cannot mask value of type: class [B")
				return
			}
			out := applyOK(t, x, valueRecord(schema, v))
			if out.ValueSchema != schema || !equalValue(out.Value, tt.want) {
				t.Fatalf("value = %v, want %v", out.Value, tt.want)
			}
		})
	}
}

func TestMaskFieldReplacement(t *testing.T) {
	tests := []struct {
		name        string
		value       any
		replacement string
		want        any
		wantErr     string
	}{
		{name: "byte", value: int8(42), replacement: "123", want: int8(123)},
		{name: "short", value: int16(42), replacement: "123", want: int16(123)},
		{name: "int", value: int32(42), replacement: "123", want: int32(123)},
		{name: "long", value: int64(42), replacement: "123", want: int64(123)},
		{name: "long from a decimal", value: int64(42), replacement: "123.9", want: int64(123)},
		{name: "float", value: float32(42), replacement: "123.0", want: float32(123)},
		{name: "double", value: float64(42), replacement: "123.0", want: float64(123)},
		{name: "string", value: "x", replacement: "***", want: "***"},
		{name: "decimal", value: data.NewDecimal(1, 0), replacement: "123.0", want: data.NewDecimal(1230, 1)},
		{name: "bad number", value: int32(42), replacement: "foo", wantErr: "Unable to convert foo (class java.lang.String) to number"},
		{name: "boolean", value: true, replacement: "false", wantErr: "Cannot mask value of type class java.lang.Boolean with custom replacement."},
		{name: "date", value: time.Now(), replacement: "123", wantErr: "Cannot mask value of type class java.util.Date with custom replacement."},
		{name: "list", value: []any{}, replacement: "123", wantErr: "Cannot mask value of type class java.util.ArrayList with custom replacement."},
		{name: "null stays null", value: nil, replacement: "123", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newMaskField, keyTarget, map[string]string{"fields": "f", "replacement": tt.replacement})
			r := keyRecord(nil, map[string]any{"f": tt.value})
			if tt.wantErr != "" {
				applyErr(t, x, r, tt.wantErr)
				return
			}
			out := applyOK(t, x, r)
			if got := out.Key.(map[string]any)["f"]; !equalValue(got, tt.want) {
				t.Fatalf("masked = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMaskFieldConfig(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{name: "empty fields", props: map[string]string{"fields": ""}, want: "Invalid value [] for configuration fields: Empty list"},
		{name: "empty replacement", props: map[string]string{"fields": "a", "replacement": ""}, want: "Invalid value  for configuration replacement: String must be non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newMaskField(valueTarget).Configure(tt.props)
			if err == nil || !containsLine(err.Error(), tt.want) {
				t.Fatalf("error = %v, want a line %q", err, tt.want)
			}
		})
	}
}
