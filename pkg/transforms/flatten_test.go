package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestFlattenSchemaless(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		in      any
		want    any
		wantErr string
	}{
		{name: "Kafka docs example", props: map[string]string{},
			in:   map[string]any{"content": map[string]any{"id": int64(42), "name": map[string]any{"first": "David", "middle": nil, "last": "Wong"}}},
			want: map[string]any{"content.id": int64(42), "content.name.first": "David", "content.name.middle": nil, "content.name.last": "Wong"}},
		{name: "delimiter", props: map[string]string{"delimiter": "#"},
			in:   map[string]any{"A": map[string]any{"B": map[string]any{"int8": int8(8), "bytes": []byte("b")}}, "top": true},
			want: map[string]any{"A#B#int8": int8(8), "A#B#bytes": []byte("b"), "top": true}},
		{name: "arrays untouched", props: map[string]string{},
			in:   map[string]any{"A": map[string]any{"list": []any{map[string]any{"x": int64(1)}}}},
			want: map[string]any{"A.list": []any{map[string]any{"x": int64(1)}}}},
		{name: "tombstone", props: map[string]string{}, in: nil, want: nil},
		{name: "top level map required", props: map[string]string{}, in: int32(42),
			wantErr: "Only Map objects supported in absence of schema for [flattening], found: java.lang.Integer"},
		{name: "unsupported type", props: map[string]string{}, in: map[string]any{"A": struct{}{}},
			wantErr: "Flatten transformation was passed a value of type class struct {} which is not supported by Connect's data API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newFlatten, valueTarget, tt.props)
			if tt.wantErr != "" {
				applyErr(t, x, valueRecord(nil, tt.in), tt.wantErr)
				return
			}
			out := applyOK(t, x, valueRecord(nil, tt.in))
			if !equalValue(out.Value, tt.want) {
				t.Fatalf("value = %v, want %v", out.Value, tt.want)
			}
		})
	}
}

func TestFlattenWithSchema(t *testing.T) {
	supported := data.StructBuilder().Field("int8", data.Int8Schema).Field("string", data.StringSchema).
		Field("array", data.ArrayBuilder(data.Int32Schema).MustBuild()).MustBuild()
	oneLevel := data.StructBuilder().Field("B", supported).MustBuild()
	twoLevel := data.StructBuilder().Name("top").Version(2).Field("A", oneLevel).MustBuild()
	value := data.NewStruct(twoLevel).Set("A", data.NewStruct(oneLevel).Set("B",
		data.NewStruct(supported).Set("int8", int8(8)).Set("string", "s").Set("array", []any{int32(1)})))

	x := newField(t, newFlatten, keyTarget, map[string]string{})
	out := applyOK(t, x, keyRecord(twoLevel, value))
	want := data.StructBuilder().Name("top").Version(2).Field("A.B.int8", data.Int8Schema).Field("A.B.string", data.StringSchema).
		Field("A.B.array", data.ArrayBuilder(data.Int32Schema).MustBuild()).MustBuild()
	if !data.Equal(out.KeySchema, want) {
		t.Fatalf("schema = %+v", out.KeySchema)
	}
	got := out.Key.(*data.Struct)
	if got.Get("A.B.int8") != int8(8) || got.Get("A.B.string") != "s" || !equalValue(got.Get("A.B.array"), []any{int32(1)}) {
		t.Fatalf("value = %v", got)
	}
	if again := applyOK(t, x, keyRecord(twoLevel, value)); again.KeySchema != out.KeySchema {
		t.Fatalf("schema not cached")
	}
	if tomb := applyOK(t, x, keyRecord(twoLevel, nil)); tomb.KeySchema != twoLevel || tomb.Key != nil {
		t.Fatalf("tombstone not passed through")
	}
}

func TestFlattenOptionalAndDefaults(t *testing.T) {
	// FlattenTest.testOptionalAndDefaultValuesNested: an optional parent
	// makes its children optional, and the parent's default gives the
	// children their defaults unless they have their own.
	child := data.StructBuilder().Optional().
		Field("req_field", data.StringSchema).
		Field("opt_field", data.NewBuilder(data.TypeString).Optional().Default("child_default").MustBuild()).MustBuild()
	// A struct default refers to its own schema, so it is set once built.
	child.Default = data.NewStruct(child).Set("req_field", "req_default")
	schema := data.StructBuilder().Field("nested", child).MustBuild()

	x := newField(t, newFlatten, valueTarget, map[string]string{})
	out := applyOK(t, x, valueRecord(schema, data.NewStruct(schema)))
	tests := []struct {
		name, field string
		wantDefault any
	}{
		{name: "required child takes the parent default", field: "nested.req_field", wantDefault: "req_default"},
		{name: "optional child keeps its own default", field: "nested.opt_field", wantDefault: "child_default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := out.ValueSchema.Field(tt.field)
			if f == nil || !f.Schema.Optional || f.Schema.Default != tt.wantDefault {
				t.Fatalf("field %s = %+v", tt.field, f)
			}
		})
	}
	if got := out.Value.(*data.Struct).Get("nested.req_field"); got != "req_default" {
		t.Fatalf("nested.req_field = %v", got)
	}
}

func TestFlattenErrors(t *testing.T) {
	withMap := data.StructBuilder().Field("B", data.MapBuilder(data.StringSchema, data.StringSchema).MustBuild()).MustBuild()
	tests := []struct {
		name    string
		schema  *data.Schema
		value   any
		wantErr string
	}{
		{name: "top level struct required", schema: data.Int32Schema, value: int32(42),
			wantErr: "Only Struct objects supported for [flattening], found: java.lang.Integer"},
		{name: "map with schema", schema: withMap, value: data.NewStruct(withMap).Set("B", map[string]any{}),
			wantErr: "Flatten transformation does not support MAP for record with schemas (for field B)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newFlatten, valueTarget, map[string]string{})
			applyErr(t, x, valueRecord(tt.schema, tt.value), tt.wantErr)
		})
	}
}
