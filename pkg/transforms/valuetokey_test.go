package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestValueToKey(t *testing.T) {
	def := data.NewBuilder(data.TypeInt32).Optional().Default(int32(9)).MustBuild()
	schema := data.StructBuilder().Field("a", data.Int32Schema).Field("b", data.Int32Schema).Field("c", data.Int32Schema).Field("d", def).MustBuild()
	value := data.NewStruct(schema).Set("a", int32(1)).Set("b", int32(2)).Set("c", int32(3))
	keySchema := data.StructBuilder().Field("a", data.Int32Schema).Field("b", data.Int32Schema).Field("d", def).MustBuild()
	tests := []struct {
		name       string
		props      map[string]string
		schema     *data.Schema
		value      any
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		{name: "schemaless", props: map[string]string{"fields": "a,b"}, value: map[string]any{"a": int64(1), "b": int64(2), "c": int64(3)},
			want: map[string]any{"a": int64(1), "b": int64(2)}},
		{name: "schemaless missing field is null", props: map[string]string{"fields": "a,z"}, value: map[string]any{"a": int64(1)},
			want: map[string]any{"a": int64(1), "z": nil}},
		{name: "with schema", props: map[string]string{"fields": "a,b,d"}, schema: schema, value: value,
			wantSchema: keySchema, want: data.NewStruct(keySchema).Set("a", int32(1)).Set("b", int32(2)).Set("d", int32(9))},
		{name: "keep null", props: map[string]string{"fields": "a,b,d", "replace.null.with.default": "false"}, schema: schema, value: value,
			wantSchema: keySchema, want: data.NewStruct(keySchema).Set("a", int32(1)).Set("b", int32(2))},
		{name: "non-existent field", props: map[string]string{"fields": "not_exist"}, schema: schema, value: value,
			wantErr: "Field does not exist: not_exist"},
		{name: "schemaless tombstone", props: map[string]string{"fields": "a"}, value: nil,
			wantErr: "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"},
		{name: "struct required", props: map[string]string{"fields": "a"}, schema: data.Int32Schema, value: int32(1),
			wantErr: "Only Struct objects supported for [copying fields from value to key], found: java.lang.Integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, func(target) connectTransformation { return &ValueToKey{} }, valueTarget, tt.props)
			r := valueRecord(tt.schema, tt.value)
			if tt.wantErr != "" {
				applyErr(t, x, r, tt.wantErr)
				return
			}
			out := applyOK(t, x, r)
			if !data.Equal(out.KeySchema, tt.wantSchema) || !equalValue(out.Key, tt.want) {
				t.Fatalf("key = %v %v, want %v %v", out.KeySchema, out.Key, tt.wantSchema, tt.want)
			}
			if tt.schema != nil && out.Value != tt.value {
				t.Fatalf("value changed")
			}
		})
	}
}

func TestValueToKeyConfig(t *testing.T) {
	err := (&ValueToKey{}).Configure(map[string]string{"fields": ""})
	want := "Invalid value [] for configuration fields: Empty list"
	if err == nil || !containsLine(err.Error(), want) {
		t.Fatalf("error = %v, want a line %q", err, want)
	}
}
