package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Transformations of records whose schema is recursive (a recursive Avro
// record's, as the AvroConverter reads it).

func TestFlattenRecursiveSchema(t *testing.T) {
	list := recursivetest.List()
	// Person{name, employer: Company{title, ceo: Person}}: a cycle through
	// two struct fields.
	person := recursivetest.Cyclic(true, func(ref *data.Schema) *data.Schema {
		company := data.StructBuilder().Name("sluice.test.Company").Optional().
			Field("title", data.StringSchema).Field("ceo", ref).MustBuild()
		return data.StructBuilder().Name("sluice.test.Person").Field("name", data.StringSchema).Field("employer", company).MustBuild()
	})
	company := person.Field("employer").Schema
	t.Run("cycle through struct fields", func(t *testing.T) {
		x := newField(t, newFlatten, valueTarget, map[string]string{})
		applyErr(t, x, valueRecord(list, recursivetest.ListValue(list, 1, 2)),
			"Flatten transformation does not support recursive schemas (for field next: Schema{sluice.test.Node:STRUCT} contains itself)")
		applyErr(t, x, valueRecord(person, data.NewStruct(person).Set("name", "ada").Set("employer",
			data.NewStruct(company).Set("title", "acme"))),
			"Flatten transformation does not support recursive schemas (for field employer.ceo: Schema{sluice.test.Person:STRUCT} contains itself)")
	})
	t.Run("cycle through an array", func(t *testing.T) {
		// The recursive struct inside the array is copied with the array,
		// as Connect's Flatten copies arrays.
		tree := recursivetest.Tree()
		outer := data.StructBuilder().Name("outer").Field("id", data.Int64Schema).Field("tree", tree).MustBuild()
		v := data.NewStruct(outer).Set("id", int64(7)).Set("tree",
			recursivetest.TreeNode(tree, "root", recursivetest.TreeNode(tree, "leaf")))
		x := newField(t, newFlatten, valueTarget, map[string]string{})
		out := applyOK(t, x, valueRecord(outer, v))
		want := data.StructBuilder().Name("outer").Field("id", data.Int64Schema).Field("tree.label", data.StringSchema).
			Field("tree.children", tree.Field("children").Schema).MustBuild()
		if !data.Equal(out.ValueSchema, want) {
			t.Fatalf("schema = %+v", out.ValueSchema)
		}
		got := out.Value.(*data.Struct)
		kids, _ := got.Get("tree.children").([]any)
		if got.Get("tree.label") != "root" || len(kids) != 1 || kids[0].(*data.Struct).Get("label") != "leaf" {
			t.Fatalf("value = %v", got)
		}
		if err := got.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the same struct twice is no cycle", func(t *testing.T) {
		p := data.StructBuilder().Name("P").Field("x", data.Int32Schema).MustBuild()
		pair := data.StructBuilder().Field("a", p).Field("b", p).MustBuild()
		x := newField(t, newFlatten, valueTarget, map[string]string{})
		out := applyOK(t, x, valueRecord(pair, data.NewStruct(pair).Set("a", data.NewStruct(p).Set("x", int32(1))).
			Set("b", data.NewStruct(p).Set("x", int32(2)))))
		if got := out.Value.(*data.Struct); got.Get("a.x") != int32(1) || got.Get("b.x") != int32(2) {
			t.Fatalf("value = %v", got)
		}
	})
}

// Cast and ReplaceField change a struct's own fields and keep the others'
// schemas as they are, so a recursive field passes through unchanged.
func TestCastAndReplaceFieldRecursiveSchema(t *testing.T) {
	list := recursivetest.List()
	v := recursivetest.ListValue(list, 1, 2, 3)
	next := list.Field("next").Schema

	cast := newField(t, newCast, valueTarget, map[string]string{"spec": "value:string"})
	out := applyOK(t, cast, valueRecord(list, v))
	got := out.Value.(*data.Struct)
	if got.Get("value") != "1" || out.ValueSchema.Field("value").Schema.Type != data.TypeString ||
		out.ValueSchema.Field("next").Schema != next || !data.ValuesEqual(got.Get("next"), v.Get("next")) {
		t.Fatalf("Cast: %v %+v", got, out.ValueSchema)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	applyErr(t, newField(t, newCast, valueTarget, map[string]string{"spec": "next:string"}), valueRecord(list, v),
		"Cast transformation does not support casting from STRUCT; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]")

	rename := newField(t, newReplaceField, valueTarget, map[string]string{"renames": "next:tail"})
	out = applyOK(t, rename, valueRecord(list, v))
	got = out.Value.(*data.Struct)
	if out.ValueSchema.Field("tail").Schema != next || !data.ValuesEqual(got.Get("tail"), v.Get("next")) {
		t.Fatalf("ReplaceField renames: %v %+v", got, out.ValueSchema)
	}
	exclude := newField(t, newReplaceField, valueTarget, map[string]string{"exclude": "next"})
	out = applyOK(t, exclude, valueRecord(list, v))
	if len(out.ValueSchema.Fields) != 1 || data.Recursive(out.ValueSchema) {
		t.Fatalf("ReplaceField exclude: %+v", out.ValueSchema)
	}
}
