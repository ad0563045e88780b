package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestInsertHeader(t *testing.T) {
	tests := []struct {
		name       string
		literal    string
		existing   connect.Headers
		wantSchema *data.Schema
		wantValue  any
	}{
		{name: "string (InsertHeaderTest)", literal: "inserted-value", wantSchema: data.StringSchema, wantValue: "inserted-value"},
		{name: "added after existing headers", literal: "inserted-value",
			existing:   connect.Headers{{Key: "existing", Schema: data.StringSchema, Value: "x"}, {Key: "inserted", Schema: data.StringSchema, Value: "old"}},
			wantSchema: data.StringSchema, wantValue: "inserted-value"},
		{name: "number literal", literal: "42", wantSchema: data.Int8Schema, wantValue: int8(42)},
		{name: "boolean literal", literal: "true", wantSchema: data.BooleanSchema, wantValue: true},
		{name: "empty literal", literal: "", wantSchema: data.StringSchema, wantValue: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewInsertHeader()
			routingConfigure(t, x, map[string]string{"header": "inserted", "value.literal": tt.literal})
			out, keep, err := routingApply(t, x, connect.TransformRecord{Record: connect.Record{Topic: "t", Value: "v", Headers: tt.existing}})
			if err != nil || !keep {
				t.Fatalf("Apply = %v, %v", keep, err)
			}
			if len(out.Headers) != len(tt.existing)+1 {
				t.Fatalf("headers = %v, want %d", out.Headers, len(tt.existing)+1)
			}
			h := out.Headers[len(out.Headers)-1]
			if h.Key != "inserted" || !data.Equal(h.Schema, tt.wantSchema) || !data.ValuesEqual(h.Value, tt.wantValue) {
				t.Errorf("header = %+v, want inserted %v %v", h, tt.wantSchema, tt.wantValue)
			}
			if len(tt.existing) > 0 && len(tt.existing) != 2 {
				t.Errorf("input headers changed: %v", tt.existing)
			}
		})
	}
}
