package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestReplaceFieldSchemaless(t *testing.T) {
	in := map[string]any{"dont": "whatever", "abc": int64(42), "foo": true, "etc": "etc"}
	tests := []struct {
		name  string
		props map[string]string
		want  map[string]any
	}{
		{name: "tombstone", props: map[string]string{"exclude": "dont"}},
		{name: "exclude and renames", props: map[string]string{"exclude": "dont", "renames": "abc:xyz,foo:bar"},
			want: map[string]any{"xyz": int64(42), "bar": true, "etc": "etc"}},
		{name: "include and renames", props: map[string]string{"include": "abc,foo", "renames": "abc:xyz,foo:bar"},
			want: map[string]any{"xyz": int64(42), "bar": true}},
		{name: "exclude wins over include", props: map[string]string{"include": "abc,foo", "exclude": "foo"},
			want: map[string]any{"abc": int64(42)}},
		{name: "deprecated blacklist", props: map[string]string{"blacklist": "dont,etc"},
			want: map[string]any{"abc": int64(42), "foo": true}},
		{name: "deprecated whitelist", props: map[string]string{"whitelist": "abc"},
			want: map[string]any{"abc": int64(42)}},
		{name: "include beats whitelist", props: map[string]string{"include": "foo", "whitelist": "abc"},
			want: map[string]any{"foo": true}},
		{name: "trailing colon is dropped", props: map[string]string{"include": "abc", "renames": "abc:xyz:"},
			want: map[string]any{"xyz": int64(42)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newReplaceField, valueTarget, tt.props)
			var v any = in
			if tt.name == "tombstone" {
				v = nil
			}
			out := applyOK(t, x, valueRecord(nil, v))
			if tt.want == nil {
				if out.Value != nil {
					t.Fatalf("tombstone became %v", out.Value)
				}
				return
			}
			if !equalValue(out.Value, tt.want) {
				t.Fatalf("value = %v, want %v", out.Value, tt.want)
			}
		})
	}
}

func TestReplaceFieldWithSchema(t *testing.T) {
	def := data.NewBuilder(data.TypeInt32).Optional().Default(int32(123)).MustBuild()
	schema := data.StructBuilder().Name("n").Version(3).
		Field("dont", data.StringSchema).Field("abc", data.Int32Schema).Field("foo", data.BooleanSchema).
		Field("etc", data.StringSchema).Field("opt", def).MustBuild()
	value := data.NewStruct(schema).Set("dont", "whatever").Set("abc", int32(42)).Set("foo", true).Set("etc", "etc")
	tests := []struct {
		name  string
		props map[string]string
		want  *data.Struct
	}{
		{name: "include and renames", props: map[string]string{"include": "abc,foo,opt", "renames": "abc:xyz,foo:bar"},
			want: func() *data.Struct {
				s := data.StructBuilder().Name("n").Version(3).Field("xyz", data.Int32Schema).Field("bar", data.BooleanSchema).Field("opt", def).MustBuild()
				return data.NewStruct(s).Set("xyz", int32(42)).Set("bar", true).Set("opt", int32(123))
			}()},
		{name: "keep null", props: map[string]string{"include": "opt", "replace.null.with.default": "false"},
			want: data.NewStruct(data.StructBuilder().Name("n").Version(3).Field("opt", def).MustBuild())},
		{name: "exclude", props: map[string]string{"exclude": "dont,etc,opt"},
			want: func() *data.Struct {
				s := data.StructBuilder().Name("n").Version(3).Field("abc", data.Int32Schema).Field("foo", data.BooleanSchema).MustBuild()
				return data.NewStruct(s).Set("abc", int32(42)).Set("foo", true)
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newReplaceField, keyTarget, tt.props)
			out := applyOK(t, x, keyRecord(schema, value))
			if !data.Equal(out.KeySchema, tt.want.Schema()) || !equalValue(out.Key, tt.want) {
				t.Fatalf("key = %v %v, want %v", out.KeySchema, out.Key, tt.want)
			}
		})
	}
}

func TestReplaceFieldErrors(t *testing.T) {
	tests := []struct {
		name      string
		props     map[string]string
		in        any
		configErr string
		applyErr  string
	}{
		{name: "bad rename", props: map[string]string{"renames": "a:b,c"},
			configErr: "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value [a:b, c] for configuration renames: Invalid rename mapping: c\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"},
		{name: "too many colons", props: map[string]string{"renames": "a:b:c"},
			configErr: "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"},
		{name: "schemaless needs a map", props: map[string]string{}, in: int64(1),
			applyErr: "Only Map objects supported in absence of schema for [field replacement], found: java.lang.Long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newReplaceField(valueTarget)
			err := x.Configure(tt.props)
			if tt.configErr != "" {
				if err == nil || err.Error() != tt.configErr {
					t.Fatalf("Configure error = %v, want %q", err, tt.configErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			applyErr(t, x, valueRecord(nil, tt.in), tt.applyErr)
		})
	}
}
