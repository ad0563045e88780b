package protobuf

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
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

// textID is the id under which the tests register orders.proto as text,
// the form Confluent's registry returns schemas in.
const textID = 100

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
	text, err := os.ReadFile("testdata/orders.proto")
	if err != nil {
		t.Fatal(err)
	}
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, v := range f.Vectors {
		reg.SeedSchema(v.Subject, 1, v.ID, sr.Schema{Schema: v.Schema, Type: sr.TypeProtobuf})
	}
	reg.SeedSchema("text-value", 1, textID, sr.Schema{Schema: string(text), Type: sr.TypeProtobuf})
	c := New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		t.Fatal(err)
	}
	return f.Vectors, c
}

func opt(s *data.Schema) *data.Schema { return optional(s) }

// tag is s with ProtobufData's field number parameter.
func tag(s *data.Schema, n int) *data.Schema {
	c := *s
	c.Parameters = map[string]string{TagParam: strconv.Itoa(n)}
	for k, v := range s.Parameters {
		c.Parameters[k] = v
	}
	return &c
}

func expectedSchemas() (order, line, other, union *data.Schema) {
	line = data.StructBuilder().Name("sluice.test.Line").Field("sku", tag(data.OptionalStringSchema, 1)).Field("qty", tag(data.OptionalInt32Schema, 2)).MustBuild()
	status := data.NewBuilder(data.TypeString).Optional().Parameter(EnumParam, "sluice.test.Status").
		Parameter(EnumParam+".NEW", "0").Parameter(EnumParam+".PAID", "1").Parameter(EnumParam+".SHIPPED", "2").MustBuild()
	union = data.StructBuilder().Name(UnionName).Optional().Field("card", tag(data.OptionalStringSchema, 10)).Field("voucher", tag(data.OptionalInt64Schema, 11)).MustBuild()
	order = data.StructBuilder().Name("sluice.test.Order").Version(1).
		Field("id", tag(data.OptionalInt64Schema, 1)).Field("customer", tag(data.OptionalStringSchema, 2)).Field("amount", tag(data.OptionalFloat64Schema, 3)).
		Field("gift", tag(data.OptionalBooleanSchema, 4)).Field("status", tag(status, 5)).
		Field("lines", tag(data.ArrayBuilder(opt(line)).Optional().MustBuild(), 6)).
		Field("attrs", tag(data.MapBuilder(data.StringSchema, data.Int64Schema).Optional().MustBuild(), 7)).
		Field("created", tag(data.TimestampSchema().Optional().MustBuild(), 8)).Field("note", tag(data.OptionalStringSchema, 9)).
		Field("payment_0", union).Field("small", tag(data.OptionalInt64Schema, 12)).Field("ratio", tag(data.OptionalFloat32Schema, 13)).
		Field("blob", tag(data.OptionalBytesSchema, 14)).Field("delta", tag(data.OptionalInt32Schema, 15)).Field("main", tag(opt(line), 16)).MustBuild()
	other = data.StructBuilder().Name("sluice.test.Other").Version(1).Field("x", tag(data.OptionalStringSchema, 1)).MustBuild()
	return
}

// TestConfluentVectors reads what Confluent's ProtobufSerializer wrote
// (message indexes included) into the Connect values ProtobufData gives,
// with the schema as the Python client registered it (a base64
// descriptor) and as .proto text; values written back read the same.
func TestConfluentVectors(t *testing.T) {
	vs, c := setup(t)
	order, line, other, union := expectedSchemas()
	lineOf := func(sku string, qty int32) *data.Struct {
		return data.NewStruct(opt(line)).Set("sku", sku).Set("qty", qty)
	}
	want := map[string]struct {
		schema *data.Schema
		value  *data.Struct
	}{
		"full": {order, data.NewStruct(order).Set("id", int64(7)).Set("customer", "ada").Set("amount", 12.5).Set("gift", true).
			Set("status", "PAID").Set("lines", []any{lineOf("a", 2), lineOf("b", 1)}).Set("attrs", map[any]any{"k": int64(5)}).
			Set("created", time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)).Set("note", "hi").
			Set("payment_0", data.NewStruct(union).Set("card", "4111")).Set("small", int64(4_000_000_000)).
			Set("ratio", float32(0.25)).Set("blob", []byte{0, 1}).Set("delta", int32(-3)).Set("main", data.NewStruct(order.Field("main").Schema).Set("sku", "m").Set("qty", int32(9)))},
		"defaults": {order, data.NewStruct(order).Set("id", int64(0)).Set("customer", "").Set("amount", 0.0).Set("gift", false).
			Set("status", "NEW").Set("lines", []any{}).Set("attrs", map[any]any{}).
			Set("payment_0", data.NewStruct(union).Set("voucher", int64(3))).Set("small", int64(0)).
			Set("ratio", float32(0)).Set("blob", []byte{}).Set("delta", int32(0))},
		"second_message": {other, data.NewStruct(other).Set("x", "y")},
	}
	for _, v := range vs {
		if strings.HasPrefix(v.Name, "decimals") {
			continue // payments.proto: TestConfluentDecimalVectors
		}
		t.Run(v.Name, func(t *testing.T) {
			w, ok := want[v.Name]
			if !ok {
				t.Fatalf("no expected value for vector %s", v.Name)
			}
			raw, _ := hex.DecodeString(v.Hex)
			s, val, err := c.ToConnectData(v.Name, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !data.Equal(s, w.schema) {
				g, _ := json.Marshal(s)
				e, _ := json.Marshal(w.schema)
				t.Fatalf("schema:\n got %s\nwant %s", g, e)
			}
			if !data.ValuesEqual(val, w.value) {
				t.Fatalf("value:\n got %v\nwant %v", val, w.value)
			}
			// The same bytes under the .proto text of the schema.
			asText := append(schemaregistry.AppendHeader(nil, textID), raw[5:]...)
			_, tv, err := c.ToConnectData("text", asText)
			if err != nil {
				t.Fatal(err)
			}
			if tv.(*data.Struct).String() != val.(*data.Struct).String() {
				t.Fatalf("from the .proto text: %v, want %v", tv, val)
			}
			// Written back by Sluice (its own .proto of the Connect schema)
			// and read again.
			out, err := c.FromConnectData("rt-"+v.Name, s, val)
			if err != nil {
				t.Fatal(err)
			}
			_, back, err := c.ToConnectData("rt-"+v.Name, out)
			if err != nil {
				t.Fatal(err)
			}
			wantBack := val.(*data.Struct).String()
			if v.Name == "defaults" {
				// A null optional string is written as a plain proto3 field
				// (wrapper.for.nullables=false) and reads back as "".
				wantBack = strings.Replace(wantBack, "attrs=map[],", "attrs=map[],note=,", 1)
			}
			if back.(*data.Struct).String() != wantBack {
				t.Fatalf("written back:\n got %v\nwant %v", back, wantBack)
			}
		})
	}
}

func TestRecordErrors(t *testing.T) {
	vs, c := setup(t)
	raw, _ := hex.DecodeString(vs[0].Hex)
	tests := []struct {
		name string
		in   []byte
		is   error
	}{
		{"wrong magic byte", append([]byte{1}, raw[1:]...), nil},
		{"unknown schema id", append(schemaregistry.AppendHeader(nil, 999), raw[5:]...), schemaregistry.ErrSchemaNotFound},
		{"message index out of range", append(append(schemaregistry.AppendHeader(nil, vs[0].ID), 2, 18), raw[7:]...), nil},
		{"payload that is not the message", append(append(schemaregistry.AppendHeader(nil, vs[0].ID), 2, 2), 0xff, 0xff, 0xff), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.ToConnectData("full", tt.in)
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

// TestConfluentDecimalVectors reads what Confluent's serializer wrote for
// payments.proto: decimals whose precision and scale are in the fields'
// confluent.field_meta, an int32 marked as a Connect INT8, a proto3
// optional field and an enum; then writes them back and reads them again.
func TestConfluentDecimalVectors(t *testing.T) {
	vs, c := setup(t)
	kind := data.NewBuilder(data.TypeString).Optional().Parameter(EnumParam, "sluice.test.Kind").
		Parameter(EnumParam+".CARD", "0").Parameter(EnumParam+".CASH", "1").MustBuild()
	payment := data.StructBuilder().Name("sluice.test.Payment").Version(1).
		Field("price", tag(data.DecimalSchema(2).Optional().Parameter(precisionParam, "10").MustBuild(), 1)).
		Field("rate", tag(data.DecimalSchema(4).Optional().MustBuild(), 2)).
		Field("tiny", tag(data.OptionalInt8Schema, 3)).Field("memo", tag(data.OptionalStringSchema, 4)).Field("kind", tag(kind, 5)).MustBuild()
	want := map[string]*data.Struct{
		"decimals": data.NewStruct(payment).Set("price", data.NewDecimal(-123450, 2)).Set("rate", data.NewDecimal(725, 4)).
			Set("tiny", int8(-7)).Set("memo", "").Set("kind", "CASH"),
		"decimals_unset": data.NewStruct(payment).Set("tiny", int8(0)).Set("kind", "CARD"),
	}
	seen := 0
	for _, v := range vs {
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		seen++
		t.Run(v.Name, func(t *testing.T) {
			raw, _ := hex.DecodeString(v.Hex)
			s, val, err := c.ToConnectData(v.Name, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !data.Equal(s, payment) {
				g, _ := json.Marshal(s)
				e, _ := json.Marshal(payment)
				t.Fatalf("schema:\n got %s\nwant %s", g, e)
			}
			if !data.ValuesEqual(val, w) {
				t.Fatalf("value:\n got %v\nwant %v", val, w)
			}
			out, err := c.FromConnectData("rt-"+v.Name, s, val)
			if err != nil {
				t.Fatal(err)
			}
			bs, back, err := c.ToConnectData("rt-"+v.Name, out)
			if err != nil {
				t.Fatal(err)
			}
			wantBack := w
			if v.Name == "decimals_unset" {
				// The null memo is written as a plain proto3 string
				// (optional.for.nullables=false) and reads back as "".
				wantBack = data.NewStruct(payment).Set("tiny", int8(0)).Set("memo", "").Set("kind", "CARD")
			}
			if !data.ValuesEqual(back, wantBack) {
				t.Fatalf("written back:\n got %v\nwant %v", back, wantBack)
			}
			for _, f := range []string{"price", "rate", "tiny"} {
				if g, w := bs.Field(f).Schema, s.Field(f).Schema; g.Type != w.Type || g.Parameters[data.DecimalScaleParam] != w.Parameters[data.DecimalScaleParam] ||
					g.Parameters[precisionParam] != w.Parameters[precisionParam] {
					t.Fatalf("field %s written back reads as %v, want %v", f, g, w)
				}
			}
		})
	}
	if seen != len(want) {
		t.Fatalf("%d of the %d decimal vectors in testdata/vectors.json", seen, len(want))
	}
}
