package transforms

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestHeaderFrom(t *testing.T) {
	fieldSchema := data.StructBuilder().Field("a", data.StringSchema).Field("b", data.OptionalInt32Schema).MustBuild()
	full := data.StructBuilder().Field("field1", data.StringSchema).Field("field2", data.Int32Schema).Field("field3", fieldSchema).MustBuild()
	moved := data.StructBuilder().Field("field2", data.Int32Schema).MustBuild()
	inner := data.NewStruct(fieldSchema).Set("a", "x").Set("b", int32(1))
	fullValue := func() *data.Struct {
		return data.NewStruct(full).Set("field1", "field1-value").Set("field2", int32(2)).Set("field3", inner)
	}
	withDefault := data.StructBuilder().Field("f", data.NewBuilder(data.TypeString).Optional().Default("def").MustBuild()).MustBuild()
	type header struct {
		key    string
		schema *data.Schema
		value  any
	}
	tests := []struct {
		name        string
		props       map[string]string
		schema      *data.Schema
		value       any
		wantSchema  *data.Schema
		wantValue   any
		wantHeaders []header
		wantErr     string
	}{
		{name: "schemaless copy", props: map[string]string{"fields": "field1,field2", "headers": "inserted1,inserted2", "operation": "copy"},
			value:       map[string]any{"field1": "field1-value", "field2": "field2-value"},
			wantValue:   map[string]any{"field1": "field1-value", "field2": "field2-value"},
			wantHeaders: []header{{"inserted1", nil, "field1-value"}, {"inserted2", nil, "field2-value"}}},
		{name: "schemaless move", props: map[string]string{"fields": "field1,field2", "headers": "inserted1,inserted2", "operation": "move"},
			value:       map[string]any{"field1": "field1-value", "field2": "field2-value", "other": int64(1)},
			wantValue:   map[string]any{"other": int64(1)},
			wantHeaders: []header{{"inserted1", nil, "field1-value"}, {"inserted2", nil, "field2-value"}}},
		{name: "schemaless missing field gives a null header", props: map[string]string{"fields": "nope", "headers": "h", "operation": "copy"},
			value: map[string]any{"a": "b"}, wantValue: map[string]any{"a": "b"}, wantHeaders: []header{{"h", nil, nil}}},
		{name: "schemaless same field to two headers", props: map[string]string{"fields": "field1,field1", "headers": "h1,h2", "operation": "move"},
			value: map[string]any{"field1": "v"}, wantValue: map[string]any{}, wantHeaders: []header{{"h1", nil, "v"}, {"h2", nil, "v"}}},
		{name: "schemaless not a map", props: map[string]string{"fields": "a", "headers": "h", "operation": "move"}, value: "x",
			wantErr: "Only Map objects supported in absence of schema for [header move], found: java.lang.String"},
		{name: "schemaless null", props: map[string]string{"fields": "a", "headers": "h", "operation": "copy"},
			wantErr: "Only Map objects supported in absence of schema for [header copy], found: null"},
		{name: "schema copy", props: map[string]string{"fields": "field1,field3", "headers": "inserted1,inserted3", "operation": "copy"},
			schema: full, value: fullValue(), wantSchema: full, wantValue: fullValue(),
			wantHeaders: []header{{"inserted1", data.StringSchema, "field1-value"}, {"inserted3", fieldSchema, inner}}},
		{name: "schema move", props: map[string]string{"fields": "field1,field3", "headers": "inserted1,inserted3", "operation": "move"},
			schema: full, value: fullValue(), wantSchema: moved, wantValue: data.NewStruct(moved).Set("field2", int32(2)),
			wantHeaders: []header{{"inserted1", data.StringSchema, "field1-value"}, {"inserted3", fieldSchema, inner}}},
		{name: "schema default used", props: map[string]string{"fields": "f", "headers": "h", "operation": "copy"},
			schema: withDefault, value: data.NewStruct(withDefault), wantSchema: withDefault, wantValue: data.NewStruct(withDefault),
			wantHeaders: []header{{"h", withDefault.Fields[0].Schema, "def"}}},
		{name: "schema default not used", props: map[string]string{"fields": "f", "headers": "h", "operation": "copy", "replace.null.with.default": "false"},
			schema: withDefault, value: data.NewStruct(withDefault), wantSchema: withDefault, wantValue: data.NewStruct(withDefault),
			wantHeaders: []header{{"h", withDefault.Fields[0].Schema, nil}}},
		{name: "schema not a struct", props: map[string]string{"fields": "a", "headers": "h", "operation": "copy"},
			schema: data.StringSchema, value: "x", wantErr: "Only Struct objects supported for [header copy], found: java.lang.String"},
		{name: "schema missing field", props: map[string]string{"fields": "nope", "headers": "h", "operation": "copy"},
			schema: full, value: fullValue(), wantErr: "field nope not found"},
	}
	for _, tt := range tests {
		for _, tg := range []target{keyTarget, valueTarget} {
			t.Run(tt.name+"/"+tg.String(), func(t *testing.T) {
				x := NewHeaderFromValue()
				if tg == keyTarget {
					x = NewHeaderFromKey()
				}
				routingConfigure(t, x, tt.props)
				existing := connect.Headers{{Key: "existing", Schema: data.StringSchema, Value: "existing-value"}}
				r := connect.TransformRecord{Record: connect.Record{Topic: "t", Headers: existing}}
				tg.set(&r, tt.schema, tt.value)
				out, keep, err := routingApply(t, x, r)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Apply error = %v, want one containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil || !keep {
					t.Fatalf("Apply = %v, %v", keep, err)
				}
				gotSchema, got := tg.get(&out)
				if !data.Equal(gotSchema, tt.wantSchema) || !data.ValuesEqual(got, tt.wantValue) {
					t.Errorf("%s = %v %v, want %v %v", tg, gotSchema, got, tt.wantSchema, tt.wantValue)
				}
				if len(out.Headers) != len(tt.wantHeaders)+1 || out.Headers[0].Key != "existing" {
					t.Fatalf("headers = %v, want existing then %v", out.Headers, tt.wantHeaders)
				}
				for i, w := range tt.wantHeaders {
					h := out.Headers[i+1]
					if h.Key != w.key || !data.Equal(h.Schema, w.schema) || !data.ValuesEqual(h.Value, w.value) || h.Value == nil != (w.value == nil) {
						t.Errorf("header %d = %+v, want %+v", i, h, w)
					}
				}
				if len(existing) != 1 {
					t.Errorf("input headers changed: %v", existing)
				}
			})
		}
	}
}
