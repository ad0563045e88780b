package data

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// cyclicList is a linked list's node as Confluent's AvroData maps a
// recursive Avro record: "next" is the node itself, optional, sharing its
// fields.
func cyclicList(t *testing.T, nextName string) *Schema {
	t.Helper()
	ref := &Schema{}
	s := mustBuild(t, StructBuilder().Name("sluice.test.Node").Field("value", Int32Schema).Field(nextName, ref))
	*ref = *s
	ref.Optional = true
	return s
}

// cyclicTree is a tree's node whose children are an array of nodes.
func cyclicTree(t *testing.T) *Schema {
	t.Helper()
	ref := &Schema{}
	s := mustBuild(t, StructBuilder().Name("sluice.test.Tree").Field("label", StringSchema).
		Field("children", mustBuild(t, ArrayBuilder(ref))))
	*ref = *s
	return s
}

// unrolled is the list's schema written out depth levels deep before it
// closes the cycle: structurally the same schema.
func unrolled(t *testing.T, depth int) *Schema {
	t.Helper()
	tail := cyclicList(t, "next").Field("next").Schema
	for range depth {
		tail = mustBuild(t, StructBuilder().Name("sluice.test.Node").Optional().Field("value", Int32Schema).Field("next", tail))
	}
	s := *tail
	s.Optional = false
	return &s
}

// nested is a non-recursive chain of depth structs, the innermost with a
// field of schema leaf.
func nested(t *testing.T, depth int, leaf *Schema) *Schema {
	t.Helper()
	s := mustBuild(t, StructBuilder().Field("leaf", leaf))
	for range depth {
		s = mustBuild(t, StructBuilder().Field("inner", s))
	}
	return s
}

func TestEqualRecursive(t *testing.T) {
	list := cyclicList(t, "next")
	tests := []struct {
		name string
		a, b *Schema
		want bool
	}{
		{"same pointer", list, list, true},
		{"built twice", list, cyclicList(t, "next"), true},
		{"field renamed", list, cyclicList(t, "tail"), false},
		{"rolled and unrolled", list, unrolled(t, 100), true},
		{"unrolled twice", unrolled(t, 3), unrolled(t, 70), true},
		{"list and tree", list, cyclicTree(t), false},
		{"trees built twice", cyclicTree(t), cyclicTree(t), true},
		{"deep acyclic equal", nested(t, 200, Int32Schema), nested(t, 200, Int32Schema), true},
		{"deep acyclic differing at the bottom", nested(t, 200, Int32Schema), nested(t, 200, Int64Schema), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal = %v, want %v", got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Fatalf("Equal (swapped) = %v, want %v", got, tt.want)
			}
		})
	}
	// The field's schema is the node made optional: not the node itself.
	if Equal(list, list.Field("next").Schema) {
		t.Fatal("the node and its optional reference compare equal")
	}
}

func TestCycle(t *testing.T) {
	mutualRef := &Schema{}
	company := mustBuild(t, StructBuilder().Name("Company").Optional().Field("ceo", mutualRef))
	person := mustBuild(t, StructBuilder().Name("Person").Field("employer", company))
	*mutualRef = *person
	mutualRef.Optional = true
	mapRef := &Schema{}
	byName := mustBuild(t, StructBuilder().Name("Dir").Field("entries", mustBuild(t, MapBuilder(StringSchema, mapRef))))
	*mapRef = *byName
	tests := []struct {
		name       string
		s          *Schema
		found      bool
		cycle, via string
	}{
		{"list", cyclicList(t, "next"), true, "sluice.test.Node", "next"},
		{"tree", cyclicTree(t), true, "sluice.test.Tree", "children[]"},
		{"mutual", person, true, "Person", "employer.ceo"},
		{"map", byName, true, "Dir", "entries{}"},
		{"inside an array", mustBuild(t, ArrayBuilder(cyclicTree(t))), true, "sluice.test.Tree", "[].children[]"},
		{"acyclic", nested(t, 5, Int32Schema), false, "", ""},
		{"shared but acyclic", mustBuild(t, StructBuilder().Field("a", person.Field("employer").Schema.Field("ceo").Schema).
			Field("b", Int8Schema)), true, "Person", "a.employer.ceo"},
		{"primitive", Int32Schema, false, "", ""},
		{"nil", nil, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, path, found := Cycle(tt.s)
			if found != tt.found || name != tt.cycle || path != tt.via {
				t.Fatalf("Cycle = %q, %q, %v; want %q, %q, %v", name, path, found, tt.cycle, tt.via, tt.found)
			}
			err := RecursiveError(tt.s, "Parquet")
			if (err != nil) != tt.found {
				t.Fatalf("RecursiveError = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "Parquet does not support recursive schemas: "+tt.cycle) {
				t.Fatalf("RecursiveError = %v", err)
			}
		})
	}
}

// listValue builds a list of the given values.
func listValue(s *Schema, values []int32) *Struct {
	var next *Struct
	for i := len(values) - 1; i > 0; i-- {
		n := NewStruct(s.Field("next").Schema).Set("value", values[i])
		if next != nil {
			n.Set("next", next)
		}
		next = n
	}
	head := NewStruct(s).Set("value", values[0])
	if next != nil {
		head.Set("next", next)
	}
	return head
}

// TestRecursiveValues is a property test: lists of random lengths built
// against two separately built recursive schemas are equal exactly when
// their elements are, and valid.
func TestRecursiveValues(t *testing.T) {
	a, b := cyclicList(t, "next"), cyclicList(t, "next")
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		vals := make([]int32, 1+r.IntN(50))
		for i := range vals {
			vals[i] = r.Int32N(3)
		}
		x := listValue(a, vals)
		if err := Validate(a, x); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if err := Validate(b, x); err != nil {
			t.Fatalf("Validate against the schema built again: %v", err)
		}
		same := listValue(b, vals)
		if !ValuesEqual(x, same) {
			t.Fatalf("lists %v differ", vals)
		}
		other := append([]int32(nil), vals...)
		i := r.IntN(len(other))
		other[i] = (other[i] + 1) % 3
		if ValuesEqual(x, listValue(b, other)) {
			t.Fatalf("lists %v and %v compare equal", vals, other)
		}
		if len(vals) > 1 && ValuesEqual(x, listValue(b, vals[:len(vals)-1])) {
			t.Fatalf("list %v and its copy without the last element compare equal", vals)
		}
	}
}

// Projecting a recursive value to a newer recursive schema (a field added
// with a default, as BACKWARD compatibility projects an older record)
// projects every node: the walk follows the value, which is finite.
func TestProjectRecursive(t *testing.T) {
	v1 := cyclicList(t, "next")
	ref := &Schema{}
	v2 := mustBuild(t, StructBuilder().Name("sluice.test.Node").Version(2).Field("value", Int32Schema).Field("next", ref).
		Field("label", mustBuild(t, NewBuilder(TypeString).Default("x"))))
	*ref = *v2
	ref.Optional = true
	got, err := Project(v1, listValue(v1, []int32{1, 2, 3}), v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(v2, got); err != nil {
		t.Fatal(err)
	}
	n := 0
	for st, _ := got.(*Struct); st != nil; st, _ = st.Get("next").(*Struct) {
		n++
		if st.Get("value") != int32(n) || st.Get("label") != "x" {
			t.Fatalf("node %d: %v", n, st)
		}
	}
	if n != 3 {
		t.Fatalf("%d nodes, want 3", n)
	}
}
