package avro

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

// vector is one value that Confluent's Python AvroSerializer wrote
// (testdata/make_vectors.py).
type vector struct {
	Name, Subject, Schema, Hex string
	ID                         int
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Vectors
}

// seededRegistry is srfake holding the vectors' schemas under their ids,
// each as version 1 of its subject, as Confluent's mock registry held
// them when the Python serializer wrote them.
func seededRegistry(t testing.TB, vs []vector) *srfake.Registry {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, v := range vs {
		reg.SeedSchema(v.Subject, 1, v.ID, sr.Schema{Schema: v.Schema})
	}
	return reg
}

func newConverter(t testing.TB, url string, extra ...string) *Converter {
	t.Helper()
	props := map[string]string{schemaregistry.URLConfig: url}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i]] = extra[i+1]
	}
	c := New()
	if err := c.Configure(props, false); err != nil {
		t.Fatal(err)
	}
	return c
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func ver(v int32) *int32 { return &v }

// expected are the Connect schemas and values that Confluent's AvroData
// gives for the vectors (AvroData.toConnectSchema/toConnectData rules).
func expected() map[string]struct {
	schema *data.Schema
	value  func(*data.Schema) any
	// samePayload: writing the value back gives Python's payload bytes
	// (false where AvroData maps lossily: enum to string, fixed to bytes).
	samePayload bool
} {
	customer := data.StructBuilder().Name("sluice.test.Customer").
		Field("name", data.StringSchema).Field("tags", data.ArrayBuilder(data.StringSchema).MustBuild()).MustBuild()
	optCustomer := *customer
	optCustomer.Optional = true
	line := data.StructBuilder().Name("sluice.test.Line").Field("sku", data.StringSchema).Field("qty", data.Int32Schema).MustBuild()
	union := data.StructBuilder().Name(UnionName).Field("int", data.OptionalInt32Schema).Field("string", data.OptionalStringSchema).MustBuild()
	optUnion := data.StructBuilder().Name(UnionName).Optional().Field("int", data.OptionalInt32Schema).Field("string", data.OptionalStringSchema).MustBuild()
	enum := data.NewBuilder(data.TypeString).Name("sluice.test.Color").Parameter(EnumParam, "sluice.test.Color").
		Parameter(EnumParam+".RED", "RED").Parameter(EnumParam+".GREEN", "GREEN").Parameter(EnumParam+".BLUE", "BLUE").MustBuild()
	label := data.NewBuilder(data.TypeString).Name("sluice.Label").Version(3).Doc("a label").Parameter("k", "v").Default("none").MustBuild()
	return map[string]struct {
		schema      *data.Schema
		value       func(*data.Schema) any
		samePayload bool
	}{
		"primitives": {
			schema: data.StructBuilder().Name("sluice.test.Primitives").Version(1).
				Field("b", data.BooleanSchema).Field("i", data.Int32Schema).Field("l", data.Int64Schema).
				Field("f", data.Float32Schema).Field("d", data.Float64Schema).Field("s", data.StringSchema).
				Field("y", data.BytesSchema).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("b", true).Set("i", int32(-42)).Set("l", int64(1<<40)).Set("f", float32(1.5)).
					Set("d", -2.25).Set("s", "héllo").Set("y", []byte{0, 0xff})
			},
			samePayload: true,
		},
		"optional_and_defaults": {
			schema: data.StructBuilder().Name("sluice.test.Opt").Version(1).
				Field("a", data.OptionalStringSchema).Field("b", data.OptionalInt64Schema).
				Field("c", data.NewBuilder(data.TypeInt32).Default(int32(7)).MustBuild()).
				Field("d", data.NewBuilder(data.TypeString).Doc("a documented field").Default("x").MustBuild()).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("b", int64(5)).Set("c", int32(7)).Set("d", "y")
			},
			samePayload: true,
		},
		"nested_arrays_maps": {
			schema: data.StructBuilder().Name("sluice.test.Order").Version(1).
				Field("id", data.Int64Schema).Field("customer", customer).
				Field("lines", data.ArrayBuilder(line).MustBuild()).
				Field("attrs", data.MapBuilder(data.StringSchema, data.Int64Schema).MustBuild()).
				Field("note", &optCustomer).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("id", int64(1)).
					Set("customer", data.NewStruct(customer).Set("name", "ada").Set("tags", []any{"a", "b"})).
					Set("lines", []any{data.NewStruct(line).Set("sku", "x1").Set("qty", int32(2)), data.NewStruct(line).Set("sku", "y2").Set("qty", int32(1))}).
					Set("attrs", map[any]any{"k": int64(3)})
			},
			samePayload: true,
		},
		"logical_types": {
			schema: data.StructBuilder().Name("sluice.test.Logical").Version(1).
				Field("amount", data.DecimalSchema(2).Parameter(DecimalPrecisionParam, "10").MustBuild()).
				Field("day", data.DateSchema().MustBuild()).Field("at", data.TimeSchema().MustBuild()).
				Field("ts", data.TimestampSchema().MustBuild()).Field("maybe_ts", data.TimestampSchema().Optional().MustBuild()).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("amount", data.NewDecimal(-123450, 2)).Set("day", utc("2024-01-02T00:00:00Z")).
					Set("at", utc("1970-01-01T13:14:15.016Z")).Set("ts", utc("2024-01-02T03:04:05.006Z")).
					Set("maybe_ts", utc("1969-12-31T23:59:59.999Z"))
			},
			samePayload: true,
		},
		"enum_fixed_union": {
			schema: data.StructBuilder().Name("sluice.test.Kinds").Version(1).
				Field("color", enum).
				Field("hash", data.NewBuilder(data.TypeBytes).Name("sluice.test.Hash").Parameter(FixedSizeParam, "4").MustBuild()).
				Field("either", union).Field("either_null", optUnion).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("color", "GREEN").Set("hash", []byte{1, 2, 3, 4}).
					Set("either", data.NewStruct(union).Set("string", "two")).
					Set("either_null", data.NewStruct(optUnion).Set("int", int32(3)))
			},
		},
		"connect_schema": {
			schema: data.StructBuilder().Version(2).Doc("a Connect struct").
				Field("tiny", data.Int8Schema).Field("small", data.Int16Schema).
				Field("byid", data.MapBuilder(data.Int32Schema, data.StringSchema).MustBuild()).
				Field("price", data.DecimalSchema(3).MustBuild()).
				Field("day", data.DateSchema().Optional().MustBuild()).
				Field("label", label).MustBuild(),
			value: func(s *data.Schema) any {
				return data.NewStruct(s).Set("tiny", int8(-8)).Set("small", int16(300)).
					Set("byid", map[any]any{int32(1): "one", int32(2): "two"}).Set("price", data.NewDecimal(12345, 3)).
					Set("day", utc("1970-01-11T00:00:00Z")).Set("label", "L")
			},
			samePayload: true,
		},
		"primitive_value": {
			schema:      &data.Schema{Type: data.TypeString, Version: ver(1)},
			value:       func(*data.Schema) any { return "just a string" },
			samePayload: true,
		},
		"recursive_list": {
			schema: listNode,
			value: func(s *data.Schema) any {
				next := s.Field("next").Schema
				return data.NewStruct(s).Set("value", int32(1)).Set("next",
					data.NewStruct(next).Set("value", int32(2)).Set("next",
						data.NewStruct(next).Set("value", int32(3))))
			},
			samePayload: true,
		},
		"recursive_tree": {
			schema: tree,
			value: func(s *data.Schema) any {
				leaf := func(label string) *data.Struct {
					return data.NewStruct(s).Set("label", label).Set("children", []any{}).Set("byname", map[any]any{})
				}
				b := leaf("b").Set("children", []any{leaf("b1")})
				return leaf("root").Set("children", []any{leaf("a"), b}).Set("byname", map[any]any{"c": leaf("c")})
			},
			samePayload: true,
		},
		"recursive_mutual": {
			schema: person,
			value: func(s *data.Schema) any {
				company := s.Field("employer").Schema
				ceo := company.Field("ceo").Schema
				return data.NewStruct(s).Set("name", "ada").Set("employer",
					data.NewStruct(company).Set("title", "acme").Set("ceo", data.NewStruct(ceo).Set("name", "bob")))
			},
			samePayload: true,
		},
		"recursive_unrolled": {
			schema: unrolledA,
			value: func(s *data.Schema) any {
				b := s.Field("b").Schema
				a2 := b.Field("a").Schema
				return data.NewStruct(s).Set("name", "x").Set("b", data.NewStruct(b).Set("a",
					data.NewStruct(a2).Set("name", "y").Set("b", data.NewStruct(a2.Field("b").Schema).Set("a",
						data.NewStruct(a2).Set("name", "z")))))
			},
			samePayload: true,
		},
		"recursive_union": {
			schema: expr,
			value: func(s *data.Schema) any {
				u := s.Field("args").Schema.ValueSchema
				long := func(i int64) *data.Struct { return data.NewStruct(u).Set("long", i) }
				inner := data.NewStruct(u.Field("Expr").Schema).Set("op", "*").Set("args", []any{long(2), long(3)})
				return data.NewStruct(s).Set("op", "+").Set("args", []any{long(1), data.NewStruct(u).Set("Expr", inner)})
			},
			samePayload: true,
		},
	}
}

// cyclic builds a recursive STRUCT schema as Confluent's AvroData maps a
// recursive record (its CyclicSchemaWrapper): build gets a reference
// that, once the schema is built, is the schema itself with optionality
// optional.
func cyclic(optional bool, build func(ref *data.Schema) *data.Schema) *data.Schema {
	ref := &data.Schema{}
	s := build(ref)
	*ref = *s
	ref.Optional = optional
	return s
}

// The Connect schemas of the recursive vectors, as AvroData gives them.
var (
	listNode = cyclic(true, func(ref *data.Schema) *data.Schema {
		return data.StructBuilder().Name("sluice.test.Node").Version(1).
			Field("value", data.Int32Schema).Field("next", ref).MustBuild()
	})
	tree = cyclic(false, func(ref *data.Schema) *data.Schema {
		return data.StructBuilder().Name("sluice.test.Tree").Version(1).Field("label", data.StringSchema).
			Field("children", data.ArrayBuilder(ref).MustBuild()).
			Field("byname", data.MapBuilder(data.StringSchema, ref).MustBuild()).MustBuild()
	})
	person = cyclic(true, func(ref *data.Schema) *data.Schema {
		company := data.StructBuilder().Name("sluice.test.Company").Optional().
			Field("title", data.StringSchema).Field("ceo", ref).MustBuild()
		return data.StructBuilder().Name("sluice.test.Person").Version(1).
			Field("name", data.StringSchema).Field("employer", company).MustBuild()
	})
	// A{name, b: [null, B{a: A}]}: the required field a compiles A again
	// (without the registry's version), whose b closes the cycle at B.
	unrolledA = data.StructBuilder().Name("sluice.test.A").Version(1).Field("name", data.StringSchema).
			Field("b", cyclic(true, func(ref *data.Schema) *data.Schema {
			a := data.StructBuilder().Name("sluice.test.A").Field("name", data.StringSchema).Field("b", ref).MustBuild()
			return data.StructBuilder().Name("sluice.test.B").Optional().Field("a", a).MustBuild()
		})).MustBuild()
	expr = cyclic(true, func(ref *data.Schema) *data.Schema {
		u := data.StructBuilder().Name(UnionName).Field("long", data.OptionalInt64Schema).Field("Expr", ref).MustBuild()
		return data.StructBuilder().Name("sluice.test.Expr").Version(1).
			Field("op", data.StringSchema).Field("args", data.ArrayBuilder(u).MustBuild()).MustBuild()
	})
)

// TestConfluentVectors reads what Confluent's serializer wrote into the
// Connect schemas and values AvroData gives, and writes those values back:
// the payload is byte for byte Confluent's (except where AvroData's
// mapping is lossy), and reading it again gives the same value.
func TestConfluentVectors(t *testing.T) {
	vs := loadVectors(t)
	reg := seededRegistry(t, vs)
	want := expected()
	if len(want) != len(vs) {
		t.Fatalf("%d vectors, %d expectations", len(vs), len(want))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			w, ok := want[v.Name]
			if !ok {
				t.Fatalf("no expectation for %s", v.Name)
			}
			c := newConverter(t, reg.URL())
			raw, _ := hex.DecodeString(v.Hex)
			s, val, err := c.ToConnectData(v.Name, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !data.Equal(s, w.schema) {
				t.Fatalf("schema:\n got %s\nwant %s", dump(s), dump(w.schema))
			}
			if wv := w.value(w.schema); !data.ValuesEqual(val, wv) {
				t.Fatalf("value:\n got %v\nwant %v", val, wv)
			}
			out, err := c.FromConnectData(v.Name, s, val)
			if err != nil {
				t.Fatal(err)
			}
			if w.samePayload && hex.EncodeToString(out[5:]) != hex.EncodeToString(raw[5:]) {
				t.Fatalf("payload written back:\n got %x\nwant %x", out[5:], raw[5:])
			}
			s2, val2, err := c.ToConnectData(v.Name, out)
			if err != nil {
				t.Fatal(err)
			}
			if s2.Type != s.Type {
				t.Fatalf("read back a %s, want a %s", s2.Type, s.Type)
			}
			if !data.ValuesEqual(val2, val) {
				// Only where the schema Sluice registered reads back with
				// other metadata: a record compiled again inside itself
				// (recursive_unrolled) takes the record's connect.version,
				// as AvroData does. The values must encode alike.
				again, err := c.FromConnectData(v.Name, s2, val2)
				if err != nil || v.Name != "recursive_unrolled" || hex.EncodeToString(again[5:]) != hex.EncodeToString(out[5:]) {
					t.Fatalf("read back %v, want %v (%v)", val2, val, err)
				}
			}
		})
	}
}

func dump(s *data.Schema) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestRecordErrors(t *testing.T) {
	vs := loadVectors(t)
	reg := seededRegistry(t, vs)
	c := newConverter(t, reg.URL())
	raw, _ := hex.DecodeString(vs[0].Hex)
	tests := []struct {
		name      string
		in        []byte
		retriable bool
		is        error
	}{
		{"wrong magic byte", append([]byte{1}, raw[1:]...), false, nil},
		{"plain JSON", []byte(`{"id":1}`), false, nil},
		{"unknown schema id", append([]byte{0, 0, 0, 0x7f, 0x7f}, raw[5:]...), false, schemaregistry.ErrSchemaNotFound},
		{"payload that does not match", raw[:8], false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.ToConnectData("primitives", tt.in)
			var de *data.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *data.Error", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

// A record that refers to itself through required record fields only (no
// union, array or map on the way round) has no finite value; Confluent's
// AvroData recurses until the JVM's stack overflows. Sluice refuses the schema with
// a record error, which errors.tolerance may send to the dead letter queue.
func TestRecursiveRequiredFieldIsARecordError(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for i, schema := range []string{
		`{"type":"record","name":"Loop","fields":[{"name":"self","type":"Loop"}]}`,
		`{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"a","type":"A"}]}}]}`,
	} {
		reg.SeedSchema("loop"+strconv.Itoa(i)+"-value", 1, 9000+i, sr.Schema{Schema: schema})
	}
	c := newConverter(t, reg.URL())
	for i := range 2 {
		_, _, err := c.ToConnectData("loop"+strconv.Itoa(i), schemaregistry.AppendHeader(nil, 9000+i))
		var de *data.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "refers to itself through required record fields only") {
			t.Fatalf("err = %v (%T), want a *data.Error naming the required field", err, err)
		}
	}
}

// TestRecursiveDepth reads and writes back linked lists of growing
// length: the cost grows linearly (each level is validated once, by the
// node that reads it), and a value nested deeper than maxNesting is a
// record error, not unbounded recursion.
func TestRecursiveDepth(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	reg.SeedSchema("list-value", 1, 5, sr.Schema{Schema: `{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}`})
	c := newConverter(t, reg.URL())
	list := func(n int) []byte {
		b := schemaregistry.AppendHeader(nil, 5)
		for range n - 1 {
			b = append(b, 2, 2) // value 1, next: branch 1 (a node)
		}
		return append(b, 2, 0) // value 1, next: null
	}
	for _, n := range []int{1, 10, 1000, maxNesting} {
		in := list(n)
		s, v, err := c.ToConnectData("list", in)
		if err != nil {
			t.Fatalf("%d nodes: %v", n, err)
		}
		depth := 0
		for st, _ := v.(*data.Struct); st != nil; st, _ = st.Get("next").(*data.Struct) {
			depth++
		}
		if depth != n {
			t.Fatalf("read %d nodes, want %d", depth, n)
		}
		if err := data.Validate(s, v); err != nil {
			t.Fatalf("%d nodes: %v", n, err)
		}
		out, err := c.FromConnectData("list", s, v)
		if err != nil {
			t.Fatalf("%d nodes: writing: %v", n, err)
		}
		if hex.EncodeToString(out[5:]) != hex.EncodeToString(in[5:]) {
			t.Fatalf("%d nodes: written back differently", n)
		}
	}
	_, _, err := c.ToConnectData("list", list(maxNesting+1))
	var de *data.Error
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("err = %v, want a record error for nesting", err)
	}
}
