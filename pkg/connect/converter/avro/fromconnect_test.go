package avro

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// STRUCTs without a Connect name become Avro records named
// ConnectDefault, ConnectDefault2, ... in the order met, as Confluent's
// AvroData names them; an unnamed struct met again (equal but for
// optionality) is referred to by its name; and they read back without a
// name. (One name for all of them would make a nested unnamed struct a
// reference to its parent: a recursive schema that misreads the data.)
func TestUnnamedStructs(t *testing.T) {
	inner := data.StructBuilder().Field("x", data.Int32Schema).MustBuild()
	optInner := data.StructBuilder().Optional().Field("x", data.Int32Schema).MustBuild()
	other := data.StructBuilder().Field("z", data.StringSchema).MustBuild()
	outer := data.StructBuilder().Field("a", inner).Field("b", optInner).Field("c", other).MustBuild()
	text, err := (&options{connectMetaData: true}).fromConnectSchema(outer)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[` +
		`{"name":"a","type":{"type":"record","name":"ConnectDefault2","namespace":"io.confluent.connect.avro","fields":[{"name":"x","type":"int"}]}},` +
		`{"name":"b","type":["null","io.confluent.connect.avro.ConnectDefault2"],"default":null},` +
		`{"name":"c","type":{"type":"record","name":"ConnectDefault3","namespace":"io.confluent.connect.avro","fields":[{"name":"z","type":"string"}]}}]}`
	if text != want {
		t.Fatalf("Avro schema\n got %s\nwant %s", text, want)
	}

	reg := srfake.New()
	t.Cleanup(reg.Close)
	c := newConverter(t, reg.URL())
	v := data.NewStruct(outer).Set("a", data.NewStruct(inner).Set("x", int32(1))).
		Set("b", data.NewStruct(optInner).Set("x", int32(2))).Set("c", data.NewStruct(other).Set("z", "z"))
	b, err := c.FromConnectData("unnamed", outer, v)
	if err != nil {
		t.Fatal(err)
	}
	s2, v2, err := c.ToConnectData("unnamed", b)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range outer.Fields {
		if got := s2.Field(f.Name).Schema; !data.Equal(got, f.Schema) {
			t.Fatalf("field %s read back as %+v, want %+v", f.Name, got, f.Schema)
		}
	}
	if s2.Name != "" || v2.(*data.Struct).Get("b").(*data.Struct).Get("x") != int32(2) {
		t.Fatalf("read back %s %v", s2, v2)
	}
}

// An unnamed recursive struct (one a Go program builds; Avro's are
// named) refers to itself by its default name and reads back as the same
// cyclic schema.
func TestUnnamedRecursiveStruct(t *testing.T) {
	list := recursivetest.Cyclic(true, func(ref *data.Schema) *data.Schema {
		return data.StructBuilder().Version(1).Field("value", data.Int32Schema).Field("next", ref).MustBuild()
	})
	text, err := (&options{connectMetaData: true}).fromConnectSchema(list)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `{"name":"next","type":["null","io.confluent.connect.avro.ConnectDefault"],"default":null}`) {
		t.Fatalf("Avro schema %s", text)
	}
	reg := srfake.New()
	t.Cleanup(reg.Close)
	c := newConverter(t, reg.URL())
	next := list.Field("next").Schema
	v := data.NewStruct(list).Set("value", int32(1)).Set("next", data.NewStruct(next).Set("value", int32(2)))
	b, err := c.FromConnectData("unnamed-list", list, v)
	if err != nil {
		t.Fatal(err)
	}
	s2, v2, err := c.ToConnectData("unnamed-list", b)
	if err != nil {
		t.Fatal(err)
	}
	if !data.Equal(s2, list) || !data.ValuesEqual(v2, v) {
		t.Fatalf("read back %v, want %v", v2, v)
	}
}
