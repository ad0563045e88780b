package transforms

import (
	"errors"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestFieldPathV2(t *testing.T) {
	tests := []struct {
		name, path string
		want       []string
		wantErr    string
	}{
		{name: "single", path: "foo", want: []string{"foo"}},
		{name: "nested", path: "foo.bar.baz", want: []string{"foo", "bar", "baz"}},
		{name: "backticks around a dotted name", path: "`foo.bar`.baz", want: []string{"foo.bar", "baz"}},
		{name: "trailing dot", path: "foo.", want: []string{"foo", ""}},
		{name: "leading dot", path: ".foo", want: []string{"", "foo"}},
		{name: "backtick inside a name", path: "foo`bar.baz", want: []string{"foo`bar", "baz"}},
		{name: "backtick not before a dot", path: "`foo`bar`.baz", want: []string{"foo`bar", "baz"}},
		{name: "escaped backtick before a dot", path: "`foo\\`.bar`.baz", want: []string{"foo`.bar", "baz"}},
		{name: "backticks at the end", path: "foo.`bar.baz`", want: []string{"foo", "bar.baz"}},
		{name: "incomplete pair", path: "`foo", wantErr: "Incomplete backtick pair in path: [`foo], consider adding a backslash before backtick at position 0 to escape it"},
		{name: "escaped closing backtick", path: "foo.`bar\\`", wantErr: "Incomplete backtick pair in path: [foo.`bar\\`], consider adding a backslash before backtick at position 4 to escape it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseFieldPath(tt.path, "V2")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, errConfig) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(p.steps, tt.want) {
				t.Fatalf("steps = %q, %v; want %q", p.steps, err, tt.want)
			}
		})
	}
}

func TestExtractField(t *testing.T) {
	inner := data.StructBuilder().Field("foo", data.Int32Schema).MustBuild()
	def := data.NewBuilder(data.TypeInt32).Optional().Default(int32(42)).MustBuild()
	schema := data.StructBuilder().Field("magic", data.Int32Schema).Field("magic.dot", data.Int32Schema).
		Field("nested", inner).Field("opt", def).MustBuild()
	value := data.NewStruct(schema).Set("magic", int32(42)).Set("magic.dot", int32(7)).Set("nested", data.NewStruct(inner).Set("foo", int32(3)))
	tests := []struct {
		name       string
		props      map[string]string
		schema     *data.Schema
		value      any
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		{name: "schemaless", props: map[string]string{"field": "magic"}, value: map[string]any{"magic": int64(42)}, want: int64(42)},
		{name: "schemaless null", props: map[string]string{"field": "magic"}},
		{name: "schemaless missing", props: map[string]string{"field": "nonexistent"}, value: map[string]any{"magic": int64(42)}},
		{name: "schemaless V1 dotted name", props: map[string]string{"field": "magic.foo"}, value: map[string]any{"magic.foo": "x"}, want: "x"},
		{name: "schemaless V2 nested", props: map[string]string{"field": "magic.foo", "field.syntax.version": "v2"},
			value: map[string]any{"magic": map[string]any{"foo": int64(42)}}, want: int64(42)},
		{name: "schemaless V2 nested missing", props: map[string]string{"field": "magic.bar", "field.syntax.version": "V2"},
			value: map[string]any{"magic": map[string]any{"foo": int64(42)}}},
		{name: "schemaless V2 through a non-map", props: map[string]string{"field": "magic.foo", "field.syntax.version": "V2"},
			value: map[string]any{"magic": "str"}, wantErr: "Only Map objects supported in absence of schema for [nested field access], found: java.lang.String"},
		{name: "schemaless needs a map", props: map[string]string{"field": "magic"}, value: int64(1),
			wantErr: "Only Map objects supported in absence of schema for [field extraction], found: java.lang.Long"},
		{name: "with schema", props: map[string]string{"field": "magic"}, schema: schema, value: value, wantSchema: data.Int32Schema, want: int32(42)},
		{name: "with schema V1 dotted name", props: map[string]string{"field": "magic.dot"}, schema: schema, value: value, wantSchema: data.Int32Schema, want: int32(7)},
		{name: "with schema V2 nested", props: map[string]string{"field": "nested.foo", "field.syntax.version": "V2"}, schema: schema, value: value, wantSchema: data.Int32Schema, want: int32(3)},
		{name: "with schema V2 backticks", props: map[string]string{"field": "`magic.dot`", "field.syntax.version": "V2"}, schema: schema, value: value, wantSchema: data.Int32Schema, want: int32(7)},
		{name: "with schema null value", props: map[string]string{"field": "magic"}, schema: schema, wantSchema: data.Int32Schema},
		{name: "with schema default", props: map[string]string{"field": "opt"}, schema: schema, value: value, wantSchema: def, want: int32(42)},
		{name: "with schema keep null", props: map[string]string{"field": "opt", "replace.null.with.default": "false"}, schema: schema, value: value, wantSchema: def},
		{name: "with schema unknown field", props: map[string]string{"field": "nonexistent"}, schema: schema, value: value, wantErr: "Unknown field: nonexistent"},
		{name: "with schema unknown nested field", props: map[string]string{"field": "nested.bar", "field.syntax.version": "V2"}, schema: schema, value: value, wantErr: "Unknown field: nested.bar"},
	}
	for _, tt := range tests {
		for _, tg := range []target{keyTarget, valueTarget} {
			t.Run(tt.name+"/"+tg.String(), func(t *testing.T) {
				x := newField(t, newExtractField, tg, tt.props)
				r := valueRecord(nil, nil)
				tg.set(&r, tt.schema, tt.value)
				if tt.wantErr != "" {
					applyErr(t, x, r, tt.wantErr)
					return
				}
				out := applyOK(t, x, r)
				s, v := tg.get(&out)
				if !data.Equal(s, tt.wantSchema) || !equalValue(v, tt.want) {
					t.Fatalf("got %v %v, want %v %v", s, v, tt.wantSchema, tt.want)
				}
			})
		}
	}
}

func TestExtractFieldConfig(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{name: "missing field", props: map[string]string{}, want: `Missing required configuration "field" which has no default value.`},
		{name: "bad syntax version", props: map[string]string{"field": "a", "field.syntax.version": "V3"},
			want: "Invalid value V3 for configuration field.syntax.version: String must be one of (case insensitive): V1, V2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newExtractField(valueTarget).Configure(tt.props)
			if err == nil || !containsLine(err.Error(), tt.want) {
				t.Fatalf("error = %v, want a line %q", err, tt.want)
			}
		})
	}
	err := newExtractField(valueTarget).Configure(map[string]string{"field": "`a", "field.syntax.version": "V2"})
	if !errors.Is(err, errConfig) {
		t.Fatalf("incomplete backtick: error = %v", err)
	}
}
