package transforms

import (
	"errors"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestSetSchemaMetadata(t *testing.T) {
	def := data.NewBuilder(data.TypeInt32).Optional().Default(int32(42)).MustBuild()
	schema := data.StructBuilder().Name("old").Version(1).Field("stringField", data.StringSchema).Field("intField", def).MustBuild()
	value := data.NewStruct(schema).Set("stringField", "value")
	tests := []struct {
		name        string
		props       map[string]string
		schema      *data.Schema
		value       any
		wantName    string
		wantVersion *int32
		wantInt     any
		wantErr     string
	}{
		{name: "name", props: map[string]string{"schema.name": "foo"}, schema: data.StructBuilder().MustBuild(), wantName: "foo"},
		{name: "version", props: map[string]string{"schema.version": "42"}, schema: data.StructBuilder().MustBuild(), wantVersion: ptr32(42)},
		{name: "name and version", props: map[string]string{"schema.name": "foo", "schema.version": "42"}, schema: data.StructBuilder().MustBuild(), wantName: "foo", wantVersion: ptr32(42)},
		{name: "struct updated", props: map[string]string{"schema.name": "foo", "schema.version": "2"}, schema: schema, value: value,
			wantName: "foo", wantVersion: ptr32(2), wantInt: int32(42)},
		{name: "struct keep null", props: map[string]string{"schema.name": "foo", "replace.null.with.default": "false"}, schema: schema, value: value,
			wantName: "foo", wantVersion: ptr32(1)},
		{name: "non-struct", props: map[string]string{"schema.version": "3"}, schema: data.Int32Schema, value: int32(1), wantVersion: ptr32(3)},
		{name: "no schema", props: map[string]string{"schema.name": "foo"}, value: "x", wantErr: "Schema required for [updating schema metadata]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newSetSchemaMetadata, valueTarget, tt.props)
			r := valueRecord(tt.schema, tt.value)
			if tt.wantErr != "" {
				applyErr(t, x, r, tt.wantErr)
				return
			}
			out := applyOK(t, x, r)
			s := out.ValueSchema
			if s.Name != tt.wantName || !equalVersion32(s.Version, tt.wantVersion) {
				t.Fatalf("schema %v version %v", s, s.Version)
			}
			if st, ok := out.Value.(*data.Struct); ok {
				if st.Schema() != s {
					t.Fatalf("struct refers to the old schema")
				}
				if got := st.GetWithoutDefault("intField"); !equalValue(got, tt.wantInt) {
					t.Fatalf("intField = %v, want %v", got, tt.wantInt)
				}
				if st.Get("stringField") != "value" {
					t.Fatalf("stringField lost")
				}
			} else if out.Value != tt.value {
				t.Fatalf("value = %v", out.Value)
			}
		})
	}
}

func TestSetSchemaMetadataNothingConfigured(t *testing.T) {
	err := newSetSchemaMetadata(keyTarget).Configure(map[string]string{})
	if err == nil || err.Error() != "Neither schema name nor version configured" || !errors.Is(err, errConfig) {
		t.Fatalf("error = %v", err)
	}
}

func ptr32(v int32) *int32 { return &v }

func equalVersion32(a, b *int32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
