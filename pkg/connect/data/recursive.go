package data

import (
	"strings"
)

// Recursive schemas
//
// A recursive Avro record (a linked list's node whose "next" field is an
// optional node, a tree's node with an array of children) maps, as
// Confluent's AvroData maps it, to a STRUCT schema that refers to itself:
// the field's schema shares the record's fields but has its own
// optionality. Such a schema is a cyclic graph of *Schema, not a tree, so
// code that walks a schema's fields recursively must either remember the
// schemas it is inside (and stop at one met again) or refuse a recursive
// schema with RecursiveError before it walks. Values are always finite
// trees; only schemas are cyclic.

// Cycle reports whether s refers to itself: whether a walk from s through
// fields, array elements and map keys and values meets a schema it is
// already inside. name is that schema's name (or type) and path the field
// path from s down to where it repeats ("next", "children[]", "byname{}").
func Cycle(s *Schema) (name, path string, found bool) {
	var stack []*Schema
	var steps []string
	var walk func(*Schema) bool
	walk = func(x *Schema) bool {
		if x == nil || x.Type.Primitive() {
			return false
		}
		for _, y := range stack {
			if y == x || sharesFields(y, x) {
				name = x.Name
				if name == "" {
					name = strings.ToUpper(string(x.Type))
				}
				path = joinPath(steps)
				return true
			}
		}
		stack = append(stack, x)
		defer func() { stack = stack[:len(stack)-1] }()
		step := func(label string, c *Schema) bool {
			steps = append(steps, label)
			if walk(c) {
				return true
			}
			steps = steps[:len(steps)-1]
			return false
		}
		switch x.Type {
		case TypeArray:
			return step("[]", x.ValueSchema)
		case TypeMap:
			return step("{key}", x.KeySchema) || step("{}", x.ValueSchema)
		case TypeStruct:
			for _, f := range x.Fields {
				if step(f.Name, f.Schema) {
					return true
				}
			}
		}
		return false
	}
	found = walk(s)
	return name, path, found
}

// joinPath joins field names with dots and appends element steps ("[]",
// "{}", "{key}") to the step before: "children[].next".
func joinPath(steps []string) string {
	var b strings.Builder
	for i, st := range steps {
		if i > 0 && !strings.HasPrefix(st, "[") && !strings.HasPrefix(st, "{") {
			b.WriteByte('.')
		}
		b.WriteString(st)
	}
	return b.String()
}

// sharesFields reports whether two STRUCT schemas are views of one
// recursive record: the same fields with different optionality.
func sharesFields(a, b *Schema) bool {
	return a.Type == TypeStruct && b.Type == TypeStruct && len(a.Fields) > 0 &&
		len(a.Fields) == len(b.Fields) && &a.Fields[0] == &b.Fields[0]
}

// SameRecord reports whether a and b are one STRUCT schema or two views of
// one recursive record (its fields, with other optionality): what a walk
// that remembers the structs it is inside compares to stop at a cycle.
func SameRecord(a, b *Schema) bool { return a == b || a != nil && b != nil && sharesFields(a, b) }

// Recursive reports whether s refers to itself (see Cycle).
func Recursive(s *Schema) bool {
	_, _, found := Cycle(s)
	return found
}

// RecursiveError returns nil for a schema that does not refer to itself,
// and otherwise an error saying that what (for example "Parquet") does
// not support recursive schemas and where s repeats.
func RecursiveError(s *Schema, what string) error {
	name, path, found := Cycle(s)
	if !found {
		return nil
	}
	return &Error{Msg: what + " does not support recursive schemas: " + name +
		" refers to itself (through " + path + ")"}
}
