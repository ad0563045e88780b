package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestHoistField(t *testing.T) {
	hoisted := data.StructBuilder().Field("magic", data.Int32Schema).MustBuild()
	tests := []struct {
		name       string
		schema     *data.Schema
		value      any
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		{name: "schemaless", value: int64(42), want: map[string]any{"magic": int64(42)}},
		{name: "schemaless null", value: nil, want: map[string]any{"magic": nil}},
		{name: "with schema", schema: data.Int32Schema, value: int32(42), wantSchema: hoisted, want: data.NewStruct(hoisted).Set("magic", int32(42))},
		{name: "with schema null for required", schema: data.Int32Schema, value: nil,
			wantErr: `Invalid value: null used for required field: "magic", schema type: INT32 (field magic)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newHoistField, keyTarget, map[string]string{"field": "magic"})
			r := keyRecord(tt.schema, tt.value)
			if tt.wantErr != "" {
				applyErr(t, x, r, tt.wantErr)
				return
			}
			out := applyOK(t, x, r)
			if !data.Equal(out.KeySchema, tt.wantSchema) || !equalValue(out.Key, tt.want) {
				t.Fatalf("got %v %v, want %v %v", out.KeySchema, out.Key, tt.wantSchema, tt.want)
			}
			if tt.schema != nil {
				again := applyOK(t, x, r)
				if again.KeySchema != out.KeySchema {
					t.Fatalf("schema not cached")
				}
			}
		})
	}
}
