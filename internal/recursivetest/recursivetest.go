// Package recursivetest builds recursive Connect schemas and values for
// tests: schemas as Confluent's AvroData maps recursive Avro records (its
// CyclicSchemaWrapper), where a field's schema is the record itself with
// its own optionality, sharing the record's fields.
package recursivetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Cyclic builds a STRUCT schema that refers to itself: build gets ref,
// which, once build returns, is the built schema with optionality
// optional.
func Cyclic(optional bool, build func(ref *data.Schema) *data.Schema) *data.Schema {
	ref := &data.Schema{}
	s := build(ref)
	*ref = *s
	ref.Optional = optional
	return s
}

// List is a linked list's node, the Avro record
// {"type":"record","name":"Node","namespace":"sluice.test","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}.
func List() *data.Schema {
	return Cyclic(true, func(ref *data.Schema) *data.Schema {
		return data.StructBuilder().Name("sluice.test.Node").
			Field("value", data.Int32Schema).Field("next", ref).MustBuild()
	})
}

// ListValue is the list of values on schema s (List's).
func ListValue(s *data.Schema, values ...int32) *data.Struct {
	next := s.Field("next").Schema
	var tail *data.Struct
	for i := len(values) - 1; i > 0; i-- {
		n := data.NewStruct(next).Set("value", values[i])
		if tail != nil {
			n.Set("next", tail)
		}
		tail = n
	}
	head := data.NewStruct(s).Set("value", values[0])
	if tail != nil {
		head.Set("next", tail)
	}
	return head
}

// Tree is a tree's node, the Avro record
// {"type":"record","name":"Tree","namespace":"sluice.test","fields":[{"name":"label","type":"string"},{"name":"children","type":{"type":"array","items":"Tree"}}]}.
func Tree() *data.Schema {
	return Cyclic(false, func(ref *data.Schema) *data.Schema {
		return data.StructBuilder().Name("sluice.test.Tree").Field("label", data.StringSchema).
			Field("children", data.ArrayBuilder(ref).MustBuild()).MustBuild()
	})
}

// TreeNode is a node of schema s (Tree's) with the given children.
func TreeNode(s *data.Schema, label string, children ...*data.Struct) *data.Struct {
	kids := make([]any, len(children))
	for i, c := range children {
		kids[i] = c
	}
	return data.NewStruct(s).Set("label", label).Set("children", kids)
}

// Writer is the converter side CheckWriteRefused writes through.
type Writer interface {
	FromConnectData(topic string, s *data.Schema, v any) ([]byte, error)
}

// CheckWriteRefused writes a List and a Tree value through w and checks
// that each is refused as a record error (*data.Error) whose message
// holds "the <converter> does not support recursive schemas: <name>".
func CheckWriteRefused(t testing.TB, w Writer, converter string) {
	t.Helper()
	for _, s := range []*data.Schema{List(), Tree()} {
		var v any
		if s.Field("next") != nil {
			v = ListValue(s, 1, 2)
		} else {
			v = TreeNode(s, "root", TreeNode(s, "leaf"))
		}
		_, err := w.FromConnectData("t", s, v)
		var de *data.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "the "+converter+" does not support recursive schemas: "+s.Name) {
			t.Fatalf("err = %v (%T), want a *data.Error naming the cycle", err, err)
		}
	}
}
