package data

import (
	"strings"
	"testing"
)

func TestProject(t *testing.T) {
	v1 := StructBuilder().Name("o").Version(1).Field("id", Int32Schema).Field("gone", StringSchema).MustBuild()
	v2 := StructBuilder().Name("o").Version(2).Field("id", Int64Schema).
		Field("added", NewBuilder(TypeString).Default("d").MustBuild()).Field("opt", OptionalStringSchema).MustBuild()
	v3 := StructBuilder().Name("o").Version(3).Field("id", Int64Schema).Field("required", StringSchema).MustBuild()
	tests := []struct {
		name    string
		source  *Schema
		value   any
		target  *Schema
		want    any
		wantErr string
	}{
		{name: "field added with default, field removed, int promoted", source: v1,
			value: NewStruct(v1).Set("id", int32(7)).Set("gone", "x"), target: v2,
			want: NewStruct(v2).Set("id", int64(7)).Set("added", "d")},
		{name: "required field missing", source: v1, value: NewStruct(v1).Set("id", int32(7)).Set("gone", "x"), target: v3,
			wantErr: "Required field `required` is missing"},
		{name: "type mismatch", source: StringSchema, value: "x", target: Int32Schema, wantErr: "Schema type mismatch"},
		{name: "optional to required with default", source: OptionalInt32Schema, value: nil,
			target: NewBuilder(TypeInt32).Default(int32(3)).MustBuild(), want: int32(3)},
		{name: "optional to required without default", source: OptionalInt32Schema, value: int32(1), target: Int32Schema,
			wantErr: "does not provide a default"},
		{name: "array of promoted", source: ArrayBuilder(Int8Schema).MustBuild(), value: []any{int8(1)},
			target: ArrayBuilder(Float64Schema).MustBuild(), want: []any{float64(1)}},
		{name: "name mismatch", source: StructBuilder().Name("a").MustBuild(), value: nil, target: StructBuilder().Name("b").MustBuild(),
			wantErr: "Schema name mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Project(tt.source, tt.value, tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !ValuesEqual(got, tt.want) {
				t.Fatalf("Project = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
