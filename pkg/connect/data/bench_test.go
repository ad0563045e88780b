package data

import (
	"fmt"
	"testing"
)

// benchStruct returns a struct with a 20-element array and a 10-entry map,
// the shape BenchmarkValidateStruct validates.
func benchStruct(b *testing.B) *Struct {
	b.Helper()
	schema := StructBuilder().
		Field("id", Int64Schema).
		Field("name", StringSchema).
		Field("tags", ArrayBuilder(StringSchema).MustBuild()).
		Field("attrs", MapBuilder(StringSchema, Int32Schema).MustBuild()).
		MustBuild()
	tags := make([]any, 20)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag-%d", i)
	}
	attrs := make(map[any]any, 10)
	for i := range 10 {
		attrs[fmt.Sprintf("attr-%d", i)] = int32(i)
	}
	return NewStruct(schema).Set("id", int64(42)).Set("name", "widget").Set("tags", tags).Set("attrs", attrs)
}

func BenchmarkValidateStruct(b *testing.B) {
	st := benchStruct(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(st.Schema(), st); err != nil {
			b.Fatal(err)
		}
	}
}
