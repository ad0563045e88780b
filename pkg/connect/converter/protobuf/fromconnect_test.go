package protobuf

import (
	"context"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// newConverter returns a converter on a registry of its own.
func newConverter(t *testing.T, extra map[string]string) (*Converter, *srfake.Registry) {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	props := map[string]string{schemaregistry.URLConfig: reg.URL()}
	for k, v := range extra {
		props[k] = v
	}
	c := New()
	if err := c.Configure(props, false); err != nil {
		t.Fatal(err)
	}
	return c, reg
}

// registered returns the .proto text the converter registered for topic.
func registered(t *testing.T, reg *srfake.Registry, topic string) string {
	t.Helper()
	cl, err := schemaregistry.New(schemaregistry.Settings{URLs: []string{reg.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.Latest(context.Background(), topic+"-value")
	if err != nil {
		t.Fatal(err)
	}
	return ss.Schema.Schema
}

func TestWriteKeepsEnumsDecimalsAndSmallInts(t *testing.T) {
	status := data.NewBuilder(data.TypeString).Optional().Parameter(EnumParam, "sluice.test.Status").
		Parameter(EnumParam+".NEW", "0").Parameter(EnumParam+".PAID", "1").Parameter(EnumParam+".SHIPPED", "2").MustBuild()
	price := data.DecimalSchema(2).Optional().Parameter(precisionParam, "10").MustBuild()
	s := data.StructBuilder().Name("sluice.test.Payment").
		Field("status", status).Field("price", price).
		Field("tiny", data.OptionalInt8Schema).Field("short", data.OptionalInt16Schema).
		Field("at", data.TimeSchema().Optional().MustBuild()).
		Field("history", data.ArrayBuilder(status).Optional().MustBuild()).MustBuild()
	c, reg := newConverter(t, nil)
	at := time.UnixMilli(13*3600_000 + 4*60_000 + 5_678).UTC()
	tests := []struct {
		name  string
		value *data.Struct
	}{
		{"positive", data.NewStruct(s).Set("status", "PAID").Set("price", data.NewDecimal(12345, 2)).
			Set("tiny", int8(-7)).Set("short", int16(3000)).Set("at", at).Set("history", []any{"NEW", "SHIPPED"})},
		{"negative", data.NewStruct(s).Set("status", "SHIPPED").Set("price", data.NewDecimal(-100, 2)).
			Set("tiny", int8(127)).Set("short", int16(-32768))},
		{"zero enum and zero decimal", data.NewStruct(s).Set("status", "NEW").Set("price", data.NewDecimal(0, 2))},
		{"large decimal", data.NewStruct(s).Set("price", data.Decimal{Unscaled: new(big.Int).Lsh(big.NewInt(-1), 70), Scale: 2})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := c.FromConnectData("payments", s, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			gs, gv, err := c.ToConnectData("payments", b)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range s.Fields {
				got := gs.Field(f.Name)
				if got == nil {
					t.Fatalf("no field %s in %v", f.Name, gs)
				}
				if got.Schema.Type != f.Schema.Type || got.Schema.Name != f.Schema.Name {
					t.Errorf("field %s reads back as %v, want %v", f.Name, got.Schema, f.Schema)
				}
				for k, v := range f.Schema.Parameters {
					if got.Schema.Parameters[k] != v {
						t.Errorf("field %s: parameter %s = %q, want %q", f.Name, k, got.Schema.Parameters[k], v)
					}
				}
				want := tt.value.Get(f.Name)
				if w, ok := want.(data.Decimal); ok {
					g, ok := gv.(*data.Struct).Get(f.Name).(data.Decimal)
					if !ok || g.Scale != w.Scale || g.Unscaled.Cmp(w.Unscaled) != 0 {
						t.Errorf("%s = %v, want %v", f.Name, gv.(*data.Struct).Get(f.Name), w)
					}
					continue
				}
				if want == nil {
					continue // plain proto3 fields: null reads back as the default
				}
				if got := gv.(*data.Struct).Get(f.Name); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", f.Name, got, want)
				}
			}
		})
	}
	text := registered(t, reg, "payments")
	for _, want := range []string{
		"\nenum Status {\n  NEW = 0;\n  PAID = 1;\n  SHIPPED = 2;\n}",
		"Status status = 1;",
		`confluent.type.Decimal price = 2 [(confluent.field_meta) = { params: [{ key: "precision", value: "10" }, { key: "scale", value: "2" }] }];`,
		`int32 tiny = 3 [(confluent.field_meta) = { params: [{ key: "connect.type", value: "int8" }] }];`,
		"google.type.TimeOfDay at = 5;",
		"repeated Status history = 6;",
		`import "confluent/meta.proto";`, `import "confluent/type/decimal.proto";`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the registered .proto lacks %q:\n%s", want, text)
		}
	}
	// On the wire the enum is a varint (field 1), the decimal a message of
	// its unscaled two's complement, precision and scale (field 2).
	b, err := c.FromConnectData("payments", s, data.NewStruct(s).Set("status", "PAID").Set("price", data.NewDecimal(-12345, 2)))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := schemaregistry.Decode(b)
	_, payload, _ := schemaregistry.DecodeMessageIndexes(rest)
	want := protowire.AppendTag(nil, 1, protowire.VarintType)
	want = protowire.AppendVarint(want, 1)
	dec := protowire.AppendTag(nil, 1, protowire.BytesType)
	dec = protowire.AppendBytes(dec, []byte{0xcf, 0xc7}) // -12345
	dec = protowire.AppendTag(dec, 2, protowire.VarintType)
	dec = protowire.AppendVarint(dec, 5)
	dec = protowire.AppendTag(dec, 3, protowire.VarintType)
	dec = protowire.AppendVarint(dec, 2)
	want = protowire.AppendTag(want, 2, protowire.BytesType)
	want = protowire.AppendBytes(want, dec)
	if !reflect.DeepEqual(payload, want) {
		t.Fatalf("payload % x, want % x", payload, want)
	}
	if _, err := c.FromConnectData("payments", s, data.NewStruct(s).Set("status", "LOST")); err == nil {
		t.Fatal("a symbol the enum lacks was written")
	}
}

func TestWriteOptionalFields(t *testing.T) {
	s := data.StructBuilder().Name("sluice.test.Item").
		Field("id", data.Int64Schema).Field("note", data.OptionalStringSchema).
		Field("qty", data.OptionalInt32Schema).Field("ok", data.OptionalBooleanSchema).MustBuild()
	tests := []struct {
		name  string
		props map[string]string
		decl  []string
		// nulls: whether an absent optional value reads back as null
		// (else as the proto3 default).
		nulls bool
	}{
		{"Confluent's default: plain proto3 fields", nil, []string{"string note = 2;", "int32 qty = 3;"}, false},
		{"optional.for.nullables", map[string]string{OptionalForNullablesConfig: "true"},
			[]string{"int64 id = 1;", "optional string note = 2;", "optional int32 qty = 3;", "optional bool ok = 4;"}, true},
		{"wrapper.for.nullables", map[string]string{WrapperForNullablesConfig: "true"},
			[]string{"int64 id = 1;", "google.protobuf.StringValue note = 2;", "google.protobuf.Int32Value qty = 3;", "google.protobuf.BoolValue ok = 4;"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, reg := newConverter(t, tt.props)
			for _, v := range []*data.Struct{
				data.NewStruct(s).Set("id", int64(1)),
				data.NewStruct(s).Set("id", int64(2)).Set("note", "").Set("qty", int32(0)).Set("ok", false),
				data.NewStruct(s).Set("id", int64(3)).Set("note", "x").Set("qty", int32(-4)).Set("ok", true),
			} {
				b, err := c.FromConnectData("items", s, v)
				if err != nil {
					t.Fatal(err)
				}
				_, gv, err := c.ToConnectData("items", b)
				if err != nil {
					t.Fatal(err)
				}
				got := gv.(*data.Struct)
				for _, f := range []string{"note", "qty", "ok"} {
					want := v.Get(f)
					if want == nil && !tt.nulls {
						want = map[string]any{"note": "", "qty": int32(0), "ok": false}[f]
					}
					if g := got.Get(f); !reflect.DeepEqual(g, want) {
						t.Errorf("id %d: %s = %#v, want %#v", v.Get("id"), f, g, want)
					}
				}
			}
			text := registered(t, reg, "items")
			for _, d := range tt.decl {
				if !strings.Contains(text, d) {
					t.Errorf("the registered .proto lacks %q:\n%s", d, text)
				}
			}
		})
	}
	if err := New().Configure(map[string]string{schemaregistry.URLConfig: "http://127.0.0.1:1", OptionalForNullablesConfig: "yes"}, false); err == nil {
		t.Fatal("optional.for.nullables=yes was accepted")
	}
}

// A message read from Protobuf keeps its field numbers when written back
// (ProtobufData's io.confluent.connect.protobuf.Tag parameters): the same
// payload bytes, under a .proto with the same numbers.
func TestWriteKeepsFieldNumbers(t *testing.T) {
	const sparse = "syntax = \"proto3\";\npackage sluice.test;\nmessage Sparse {\n  int64 id = 1;\n  string name = 5;\n  oneof pick {\n    string a = 7;\n    int32 b = 9;\n  }\n}\n"
	c, reg := newConverter(t, nil)
	reg.SeedSchema("sparse-value", 1, 77, sr.Schema{Schema: sparse, Type: sr.TypeProtobuf})
	payload := protowire.AppendTag(nil, 1, protowire.VarintType)
	payload = protowire.AppendVarint(payload, 3)
	payload = protowire.AppendTag(payload, 5, protowire.BytesType)
	payload = protowire.AppendString(payload, "x")
	payload = protowire.AppendTag(payload, 9, protowire.VarintType)
	payload = protowire.AppendVarint(payload, 4)
	in := append(schemaregistry.AppendHeader(nil, 77), 0)
	in = append(in, payload...)
	s, v, err := c.ToConnectData("sparse", in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.FromConnectData("sparse-copy", s, v)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := schemaregistry.Decode(out)
	_, got, _ := schemaregistry.DecodeMessageIndexes(rest)
	if !reflect.DeepEqual(got, payload) {
		t.Fatalf("written back % x, want % x", got, payload)
	}
	text := registered(t, reg, "sparse-copy")
	for _, want := range []string{"int64 id = 1;", "string name = 5;", "string a = 7;", "int32 b = 9;"} {
		if !strings.Contains(text, want) {
			t.Errorf("the registered .proto lacks %q:\n%s", want, text)
		}
	}
}
