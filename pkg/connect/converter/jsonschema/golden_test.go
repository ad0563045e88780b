package jsonschema

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

type vector struct {
	Name, Subject, Schema, Hex string
	ID                         int
}

func setup(t testing.TB) ([]vector, *Converter) {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, v := range f.Vectors {
		reg.SeedSchema(v.Subject, 1, v.ID, sr.Schema{Schema: v.Schema, Type: sr.TypeJSON})
	}
	c := New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		t.Fatal(err)
	}
	return f.Vectors, c
}

// TestConfluentVectors reads what Confluent's JSONSerializer wrote into the
// Connect values JsonSchemaData gives, and writes them back byte for byte.
func TestConfluentVectors(t *testing.T) {
	vs, c := setup(t)
	customer := data.StructBuilder().Name("sluice.test.Customer").Field("first", data.StringSchema).MustBuild()
	addr := data.StructBuilder().Name("sluice.test.Address").Field("city", data.StringSchema).MustBuild()
	want := map[string]struct {
		schema *data.Schema
		value  func(*data.Schema) any
	}{
		"draft7_object": {
			schema: data.StructBuilder().Name("sluice.test.Order").Version(1).Field("id", data.Int64Schema).
				Field("price", data.Float64Schema).Field("name", data.NewBuilder(data.TypeString).Doc("who").MustBuild()).
				Field("paid", data.BooleanSchema).Field("note", data.OptionalStringSchema).
				Field("tags", data.ArrayBuilder(data.StringSchema).MustBuild()).Field("customer", customer).
				Field("attrs", data.MapBuilder(data.StringSchema, data.Int64Schema).MustBuild()).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("id", int64(42)).Set("price", 9.5).Set("name", "ada").Set("paid", true).
					Set("tags", []any{"a", "b"}).Set("customer", data.NewStruct(customer).Set("first", "Ada")).
					Set("attrs", map[any]any{"k": int64(1)})
			},
		},
		"draft2020_refs": {
			schema: data.StructBuilder().Name("sluice.test.Shipment").Version(1).Field("from", addr).Field("to", addr).
				Field("weight", data.OptionalFloat64Schema).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("from", data.NewStruct(addr).Set("city", "Paris")).Set("to", data.NewStruct(addr).Set("city", "Oslo"))
			},
		},
		"connect_schema": {
			schema: data.StructBuilder().Name("sluice.test.Connect").Version(1).Field("tiny", data.Int8Schema).
				Field("blob", data.BytesSchema).Field("amount", data.DecimalSchema(2).MustBuild()).
				Field("day", data.DateSchema().Optional().MustBuild()).Field("f", data.Float32Schema).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("tiny", int8(-3)).Set("blob", []byte{0, 1}).Set("amount", data.NewDecimal(1234, 2)).
					Set("day", time.UnixMilli(19000*86400000).UTC()).Set("f", float32(1.5))
			},
		},
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			w := want[v.Name]
			raw, _ := hex.DecodeString(v.Hex)
			s, val, err := c.ToConnectData(v.Name, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !data.Equal(s, w.schema) {
				got, _ := json.Marshal(s)
				exp, _ := json.Marshal(w.schema)
				t.Fatalf("schema:\n got %s\nwant %s", got, exp)
			}
			if wv := w.value(w.schema); !data.ValuesEqual(val, wv) {
				t.Fatalf("value:\n got %v\nwant %v", val, wv)
			}
			out, err := c.FromConnectData(v.Name, s, val)
			if err != nil {
				t.Fatal(err)
			}
			if string(out[5:]) != string(raw[5:]) {
				t.Fatalf("written back:\n got %s\nwant %s", out[5:], raw[5:])
			}
			if _, val2, err := c.ToConnectData(v.Name, out); err != nil || !data.ValuesEqual(val2, val) {
				t.Fatalf("read back %v, %v", val2, err)
			}
		})
	}
}

func TestRecordErrors(t *testing.T) {
	vs, c := setup(t)
	id := vs[0].ID
	hdr := schemaregistry.AppendHeader(nil, id)
	tests := []struct {
		name string
		in   []byte
		is   error
	}{
		{"wrong magic byte", []byte(`{"id":1}`), nil},
		{"unknown schema id", append(schemaregistry.AppendHeader(nil, 999), `{}`...), schemaregistry.ErrSchemaNotFound},
		{"payload that does not match its schema", append(hdr, `{"id":"x","price":1,"name":"a","paid":true,"tags":[],"customer":{"first":"a"},"attrs":{}}`...), nil},
		{"missing required property", append(hdr, `{"id":1}`...), nil},
		{"not JSON", append(hdr, `{"id":`...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.ToConnectData("draft7_object", tt.in)
			var de *data.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *data.Error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

// TestWriteReadBack: Connect schemas Sluice registers read back unchanged.
func TestWriteReadBack(t *testing.T) {
	_, c := setup(t)
	inner := data.StructBuilder().Name("x.Inner").Field("a", data.Int16Schema).MustBuild()
	s := data.StructBuilder().Name("x.Outer").Version(3).Field("i", data.Int32Schema).Field("inner", inner).
		Field("byid", data.MapBuilder(data.Int32Schema, data.StringSchema).MustBuild()).
		Field("ts", data.TimestampSchema().MustBuild()).Field("opt", data.OptionalStringSchema).
		Field("d", data.NewBuilder(data.TypeString).Default("z").MustBuild()).MustBuild()
	v := data.NewStruct(s).Set("i", int32(5)).Set("inner", data.NewStruct(inner).Set("a", int16(2))).
		Set("byid", map[any]any{int32(1): "one"}).Set("ts", time.UnixMilli(1700000000123).UTC())
	b, err := c.FromConnectData("rt", s, v)
	if err != nil {
		t.Fatal(err)
	}
	got, gv, err := c.ToConnectData("rt", b)
	if err != nil {
		t.Fatal(err)
	}
	if !data.Equal(got, s) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(s)
		t.Fatalf("schema:\n got %s\nwant %s", g, w)
	}
	v.Set("d", "z") // written as the default
	if !data.ValuesEqual(gv, v) {
		t.Fatalf("value %v, want %v", gv, v)
	}
}
