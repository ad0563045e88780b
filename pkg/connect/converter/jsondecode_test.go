package converter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// plainRead decodes value as ToConnectData did before readers were pooled:
// a fresh reader that neither shares one copy of its input between the
// strings it reads nor interns keys. The pooled path must agree with it.
func plainRead(c *JSONConverter, value []byte) (*data.Schema, any, error) {
	if len(value) == 0 {
		return nil, nil, nil
	}
	r := &jsonReader{b: value}
	if !c.schemasEnabled {
		v, err := r.readAny()
		if err != nil {
			return nil, nil, serializationError(err)
		}
		return nil, v, nil
	}
	schemaRaw, payloadRaw, err := r.readEnvelope(nil)
	if err != nil {
		return nil, nil, err
	}
	var schema *data.Schema
	if !isNullLiteral(schemaRaw) {
		if schema, err = c.parseSchema(schemaRaw); err != nil {
			return nil, nil, err
		}
	}
	v, err := c.readValue(&jsonReader{b: payloadRaw}, schema)
	return schema, v, err
}

// referenceAny decodes schemaless JSON with encoding/json and applies
// Jackson's number rules: integral numbers to int64 (out of range wrapped
// to the low 64 bits, as longValue), others to float64.
func referenceAny(t *testing.T, in []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	var conv func(any) any
	conv = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if !strings.ContainsAny(string(x), ".eE") {
				n, ok := new(big.Int).SetString(string(x), 10)
				if !ok {
					t.Fatalf("integer %s", x)
				}
				return int64(new(big.Int).And(n, new(big.Int).SetUint64(math.MaxUint64)).Uint64())
			}
			f, _ := strconv.ParseFloat(string(x), 64)
			return f
		case map[string]any:
			for k, e := range x {
				x[k] = conv(e)
			}
		case []any:
			for i, e := range x {
				x[i] = conv(e)
			}
		}
		return v
	}
	return conv(v)
}

// manyKeys is an object with n distinct keys, more than a reader interns.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"key-%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

func TestJSONSchemalessDecode(t *testing.T) {
	long := strings.Repeat("x", maxSharedInput)
	longKey := strings.Repeat("k", maxInternedKeyLen+1)
	tests := []struct {
		name string
		in   string
	}{
		{name: "flat record", in: `{"order_id":1234,"customer_id":"85bd9cca-396d-4664","item":"Skillet, 12 inch","quantity":2,"price":39.95,"ordered_at":1704067200000}`},
		{name: "nested structs and arrays", in: `{"a":{"b":{"c":[1,{"d":"e"},[true,false,null]]}},"f":[],"g":{}}`},
		{name: "nulls", in: `{"a":null,"b":[null],"c":{"d":null}}`},
		{name: "whitespace", in: " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : \"c\" } "},
		{name: "escapes in keys and values", in: `{"a\"b":"c\\d","\u00e9t\u00e9":"\ud83d\ude00 \n\t\/","plain":"x"}`},
		{name: "key of the interned length and longer", in: `{"` + longKey[1:] + `":1,"` + longKey + `":2}`},
		{name: "repeated key keeps the last", in: `{"a":1,"a":"two"}`},
		{name: "empty strings", in: `{"":"","e":""}`},
		{name: "18 and 19 digits", in: `[999999999999999999,-999999999999999999,1000000000000000000,9223372036854775807,-9223372036854775808]`},
		{name: "integers past int64 wrap", in: `[9223372036854775808,-9223372036854775809,18446744073709551617,123456789012345678901234567890]`},
		{name: "zeros", in: `[0,-0,0.0,-0.0,0e0]`},
		{name: "decimals and exponents", in: `[39.95,1e-5,-2.5E+3,1.7976931348623157e308,1e400,-1e400,0.1000000000000000055511151231257827]`},
		{name: "top-level string", in: `"just a string"`},
		{name: "top-level number", in: `42`},
		{name: "top-level null", in: `null`},
		{name: "large input is not shared", in: `{"a":"` + long + `","b":["` + long[:10] + `"]}`},
		{name: "more keys than are interned", in: manyKeys(maxInternedKeys + 100)},
	}
	c := newJSON(t, map[string]string{JSONSchemasEnable: "false"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := referenceAny(t, []byte(tt.in))
			_, plain, err := plainRead(c, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !data.ValuesEqual(plain, want) {
				t.Fatalf("plain reader: %#v\nwant %#v", plain, want)
			}
			// Twice: the second read reuses a pooled reader and its keys.
			for range 2 {
				in := []byte(tt.in)
				s, v, err := c.ToConnectData("t", in)
				if err != nil || s != nil {
					t.Fatalf("schema %v, error %v", s, err)
				}
				// The value must not share memory with the input.
				for i := range in {
					in[i] = '#'
				}
				if !data.ValuesEqual(v, want) {
					t.Fatalf("got %#v\nwant %#v", v, want)
				}
			}
		})
	}
}

func TestJSONSchemalessDecodeErrors(t *testing.T) {
	c := newJSON(t, map[string]string{JSONSchemasEnable: "false"})
	for _, in := range []string{`{"a":1`, `{"a" 1}`, `{"a":1,}`, `{a:1}`, `{"a":"\x01"}`, `{"a\x01":1}`, `{"a":"b`, `[1,2`, `{"a":01}`,
		`{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":"\u12"}`, `{"a":"\q"}`, `{"` + strings.Repeat("k", 100) + `":1`, `tru`, `nul`} {
		_, want, wantErr := plainRead(c, []byte(in))
		_, got, err := c.ToConnectData("t", []byte(in))
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Errorf("%q: error %v, want %v (%v)", in, err, wantErr, want)
		}
		_ = got
	}
}

func TestJSONEnvelopeDecode(t *testing.T) {
	envelope := func(schema, payload string) string { return `{"schema":` + schema + `,"payload":` + payload + `}` }
	order := `{"type":"struct","name":"Order","fields":[` +
		`{"field":"id","type":"int64"},` +
		`{"field":"customer","type":"struct","optional":true,"fields":[{"field":"name","type":"string"},{"field":"tags","type":"array","items":{"type":"string"},"optional":true}]},` +
		`{"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"optional":true},` +
		`{"field":"total","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"optional":true},` +
		`{"field":"note","type":"string","optional":true,"default":"none"},` +
		`{"field":"counts","type":"map","keys":{"type":"string"},"values":{"type":"int32"},"optional":true},` +
		`{"field":"big","type":"int64","optional":true}]}`
	tests := []struct {
		name, in string
	}{
		{name: "struct with nested struct, array, decimals, map", in: envelope(order,
			`{"id":12345678901,"customer":{"name":"Ann \"A\"","tags":["x","y"]},"price":"D5w=","total":1234.56,"counts":{"a":1,"b":-2},"big":9223372036854775807}`)},
		{name: "nulls and defaults", in: envelope(order, `{"id":1,"customer":null,"price":null,"note":null}`)},
		{name: "missing optional fields", in: envelope(order, `{"id":-1}`)},
		{name: "big integer wraps", in: envelope(`{"type":"int64"}`, `18446744073709551617`)},
		{name: "schemaless payload", in: envelope(`null`, `{"a":[1,"b",null]}`)},
		{name: "string", in: envelope(`{"type":"string"}`, `"s\u00e9"`)},
	}
	c := newJSON(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, wv, werr := plainRead(c, []byte(tt.in))
			if werr != nil {
				t.Fatal(werr)
			}
			for range 2 {
				in := []byte(tt.in)
				s, v, err := c.ToConnectData("t", in)
				if err != nil {
					t.Fatal(err)
				}
				for i := range in {
					in[i] = '#'
				}
				if !data.Equal(s, ws) || !data.ValuesEqual(v, wv) {
					t.Fatalf("got %v %#v\nwant %v %#v", s, v, ws, wv)
				}
			}
		})
	}
	// Decimals, both ways of writing them, read as the same value.
	_, v, err := c.ToConnectData("t", []byte(tests[0].in))
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*data.Struct)
	if !data.ValuesEqual(st.Get("price"), data.NewDecimal(3996, 2)) || !data.ValuesEqual(st.Get("total"), data.NewDecimal(123456, 2)) {
		t.Fatalf("decimals %v, %v", st.Get("price"), st.Get("total"))
	}
	if st.Get("big") != int64(math.MaxInt64) {
		t.Fatalf("big = %v", st.Get("big"))
	}
}

// TestJSONDecodeConcurrent reads records with the same keys from many
// goroutines at once (run with -race): pooled readers are not shared.
func TestJSONDecodeConcurrent(t *testing.T) {
	c := newJSON(t, map[string]string{JSONSchemasEnable: "false"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				in := fmt.Sprintf(`{"g":%d,"i":%d,"s":"v%d-%d","n":{"x":[%d]}}`, g, i, g, i, i)
				_, v, err := c.ToConnectData("t", []byte(in))
				want := map[string]any{"g": int64(g), "i": int64(i), "s": fmt.Sprintf("v%d-%d", g, i), "n": map[string]any{"x": []any{int64(i)}}}
				if err != nil || !data.ValuesEqual(v, want) {
					t.Errorf("%s: %#v, %v", in, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzJSONDecodePooled: the pooled reader (shared strings, interned keys)
// reads any input exactly as a plain reader does: the same schema and
// value, or the same error.
func FuzzJSONDecodePooled(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"c","a":[1.5,null,{"d":true}]}`, `{"a\"":"\u00e9"}`, `[18446744073709551617,-0,1e400]`,
		`{"schema":{"type":"struct","fields":[{"field":"f","type":"string","optional":true}]},"payload":{"f":"v"}}`,
		`{"schema":null,"payload":{"k":[1,2]}}`, `{"a":"b`, `{"a":1,}`} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, schemas bool) {
		c := NewJSONConverter()
		if err := c.Configure(map[string]string{"schemas.enable": strconv.FormatBool(schemas)}, false); err != nil {
			t.Fatal(err)
		}
		ws, wv, werr := plainRead(c, b)
		for range 2 {
			s, v, err := c.ToConnectData("t", bytes.Clone(b))
			if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
				t.Fatalf("%q: error %v, want %v", b, err, werr)
			}
			if err == nil && (!data.Equal(s, ws) || !data.ValuesEqual(v, wv)) {
				t.Fatalf("%q: got %v %#v, want %v %#v", b, s, v, ws, wv)
			}
		}
	})
}
