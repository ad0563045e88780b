package avro

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	havro "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// TestRecursiveRandomValues is a property test against an independent
// Avro implementation (github.com/hamba/avro/v2): random trees of a
// recursive record (children through an array, a map, a union with long
// and an optional field) are encoded by hamba/avro (which writes array
// and map blocks with negative counts and byte sizes); the AvroConverter
// reads each into a Connect value that holds the same labels in the same
// order, and writes it (with positive block counts, as Avro's Java
// encoder and fastavro) to bytes that hamba/avro decodes to the value it
// was given.
func TestRecursiveRandomValues(t *testing.T) {
	const schema = `{"type":"record","name":"Tree","namespace":"sluice.test","fields":[
		{"name":"label","type":"string"},
		{"name":"children","type":{"type":"array","items":"Tree"}},
		{"name":"byname","type":{"type":"map","values":"Tree"}},
		{"name":"parts","type":{"type":"array","items":["long","Tree"]}},
		{"name":"next","type":["null","Tree"],"default":null}]}`
	hs, err := havro.Parse(schema)
	if err != nil {
		t.Fatal(err)
	}
	reg := srfake.New()
	t.Cleanup(reg.Close)
	reg.SeedSchema("trees-value", 1, 1, sr.Schema{Schema: schema})
	c := newConverter(t, reg.URL(), "auto.register.schemas", "false", "use.latest.version", "true")

	r := rand.New(rand.NewPCG(7, 11))
	var labels []string
	var gen func(depth int) map[string]any
	gen = func(depth int) map[string]any {
		label := fmt.Sprint("n", len(labels))
		labels = append(labels, label)
		node := map[string]any{"label": label, "children": []any{}, "byname": map[string]any{}, "parts": []any{}, "next": nil}
		if depth <= 0 {
			return node
		}
		var kids []any
		for range r.IntN(3) {
			kids = append(kids, gen(depth-1))
		}
		if kids != nil {
			node["children"] = kids
		}
		if r.IntN(3) == 0 {
			node["byname"] = map[string]any{"only": gen(depth - 1)} // one key: map order is the encoder's
		}
		var parts []any
		for range r.IntN(3) {
			if r.IntN(2) == 0 {
				parts = append(parts, map[string]any{"long": r.Int64N(1000) - 500})
			} else {
				parts = append(parts, map[string]any{"sluice.test.Tree": gen(depth - 1)})
			}
		}
		if parts != nil {
			node["parts"] = parts
		}
		if r.IntN(2) == 0 {
			node["next"] = map[string]any{"sluice.test.Tree": gen(depth - 1)}
		}
		return node
	}
	// walk lists a Connect tree's labels in the order gen made them.
	var walk func(v any, out []string) []string
	walk = func(v any, out []string) []string {
		st := v.(*data.Struct)
		out = append(out, st.Get("label").(string))
		for _, k := range st.Get("children").([]any) {
			out = walk(k, out)
		}
		for _, k := range st.Get("byname").(map[any]any) {
			out = walk(k, out)
		}
		for _, p := range st.Get("parts").([]any) {
			if tree := p.(*data.Struct).Get("Tree"); tree != nil {
				out = walk(tree, out)
			}
		}
		if next := st.Get("next"); next != nil {
			out = walk(next, out)
		}
		return out
	}
	for i := range 300 {
		labels = labels[:0]
		want, err := havro.Marshal(hs, gen(1+r.IntN(5)))
		if err != nil {
			t.Fatal(err)
		}
		in := append(schemaregistry.AppendHeader(nil, 1), want...)
		s, v, err := c.ToConnectData("trees", in)
		if err != nil {
			t.Fatalf("tree %d: reading: %v", i, err)
		}
		if got := walk(v, nil); fmt.Sprint(got) != fmt.Sprint(labels) {
			t.Fatalf("tree %d: labels %v, want %v", i, got, labels)
		}
		out, err := c.FromConnectData("trees", s, v)
		if err != nil {
			t.Fatalf("tree %d: writing: %v", i, err)
		}
		var back any
		if err := havro.Unmarshal(hs, out[schemaregistry.HeaderSize:], &back); err != nil {
			t.Fatalf("tree %d: hamba/avro reads what Sluice wrote: %v", i, err)
		}
		again, err := havro.Marshal(hs, back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, want) {
			t.Fatalf("tree %d: hamba/avro read back a different value", i)
		}
		s2, v2, err := c.ToConnectData("trees", out)
		if err != nil || !data.Equal(s2, s) || !data.ValuesEqual(v2, v) {
			t.Fatalf("tree %d: Sluice reads back %v (%v)", i, v2, err)
		}
	}
}
