package converter

import (
	"testing"
)

// FuzzJSONConverterDecode: JsonConverter decodes any bytes (with and
// without schemas) to data or an error, never a panic; what it decodes it
// encodes again.
func FuzzJSONConverterDecode(f *testing.F) {
	for _, s := range []string{`{"schema":{"type":"int32"},"payload":5}`, `{"a":1}`, `null`, `"x"`, `[1,2]`,
		`{"schema":{"type":"struct","fields":[{"field":"f","type":"string","optional":true}]},"payload":{"f":"v"}}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":"AQ=="}`,
		`{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int64"}},"payload":{"k":1}}`} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, schemas bool) {
		c := NewJSONConverter()
		if err := c.Configure(map[string]string{"schemas.enable": map[bool]string{true: "true", false: "false"}[schemas]}, false); err != nil {
			t.Fatal(err)
		}
		s, v, err := c.ToConnectData("t", b)
		if err != nil {
			return
		}
		if _, err := c.FromConnectData("t", s, v); err != nil {
			t.Logf("re-encoding %q: %v", b, err) // a decoded value the encoder refuses: reported, not a crash
		}
	})
}

// FuzzHeaderConverter: SimpleHeaderConverter (Connect's default header
// converter, Values.parseString) reads any header bytes to a schema and
// value, never a panic; what it reads it writes again, and reading that
// gives a value it writes the same way.
func FuzzHeaderConverter(f *testing.F) {
	for _, s := range []string{"", "null", "true", "-128", "32768", "1.0", "3.4028235E39", "1e400", "2024-05-01",
		"12:30:00.000Z", "2024-05-01T12:30:00.000Z", "[1,2,3]", "[1,\"a\",null]", "{\"a\":1,\"b\":2}", "{a:[1,{b:c}]}",
		"\"quoted \\\" string\"", "[", "{", "{\"a\":}", "[[[[]]]]", "1,2", "  x  ", "\xff\xfe", "NaN", "-Infinity", "9223372036854775808",
		"6E66666666", "1.5E-66666666"} {
		f.Add([]byte(s))
	}
	var c SimpleHeaderConverter
	f.Fuzz(func(t *testing.T, b []byte) {
		s, v, err := c.ToConnectHeader("t", "h", b)
		if err != nil {
			return
		}
		out, err := c.FromConnectHeader("t", "h", s, v)
		if err != nil {
			t.Logf("re-encoding %q: %v", b, err) // a parsed value the writer refuses: reported, not a crash
			return
		}
		s2, v2, err := c.ToConnectHeader("t", "h", out)
		if err != nil {
			t.Fatalf("%q: reading back %q: %v", b, out, err)
		}
		if _, err := c.FromConnectHeader("t", "h", s2, v2); err != nil {
			t.Fatalf("%q: writing back %q: %v", b, out, err)
		}
	})
}
