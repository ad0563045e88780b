package converter

import (
	"math"
	"reflect"
	"testing"
)

// rawInputs are schemaless values, valid and not, that CheckRaw and
// JSONScanner must read as ToConnectData does.
var rawInputs = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":1,"b":"x","c":true,"d":false,"e":null,"f":1.5,"g":-0,"h":-0.0}`,
	`{"n":{"m":{"k":[1,2,{"x":[]}]}},"e":{}}`, `{"big":123456789012345678901234567890,"neg":-9223372036854775809}`,
	`{"f":1e400,"g":-1e400,"h":1E-400,"i":2.5e+3,"j":12345678901234567890.5}`, `{"dup":1,"dup":"two"}`,
	`{"esc":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"}`, `{"k\u00e9y":1,"k\"q":2}`,
	"{\"ws\" \t\r\n: \n 1 \n}", `{"a":1} trailing`, `{"a":1}}`, `{"a":"é"}`,
	// Not objects: read without error, but not as an object.
	`[]`, `[1,2]`, `null`, `1`, `"s"`, `true`, ` `,
	// Malformed.
	`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`, `{a:1}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":"x\q"}`, `{"a":"x\u12"}`, "{\"a\":\"x\x01\"}",
	`{"a":"unterminated}`, `{"a":[1,2}`, `{"a":[1,]}`, `{"a\q":1}`, "{\"a\x01\":1}", `{"a":{"b":1}`, `{"a":+1}`,
}

func schemalessJSON(t testing.TB) *JSONConverter {
	t.Helper()
	c := NewJSONConverter()
	if err := c.Configure(map[string]string{JSONSchemasEnable: "false"}, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkRawOracle is what CheckRaw must answer: ToConnectData reads b
// without error to an object.
func checkRawOracle(c *JSONConverter, b []byte) bool {
	_, v, err := c.ToConnectData("t", b)
	_, isObject := v.(map[string]any)
	return err == nil && isObject
}

func TestJSONCheckRaw(t *testing.T) {
	c := schemalessJSON(t)
	accepted := 0
	for _, in := range rawInputs {
		want := checkRawOracle(c, []byte(in))
		if got := c.CheckRaw("t", []byte(in)); got != want {
			t.Errorf("CheckRaw(%q) = %v, ToConnectData reads it without error to an object: %v", in, got, want)
		}
		if want {
			accepted++
		}
	}
	if accepted < 10 || accepted == len(rawInputs) {
		t.Fatalf("%d of %d inputs accepted: the table must hold both kinds", accepted, len(rawInputs))
	}
	enveloped := NewJSONConverter()
	if enveloped.CheckRaw("t", []byte(`{"a":1}`)) {
		t.Error("CheckRaw with schemas.enable=true accepted a value")
	}
}

// scanAny reads a value with the scanner as readAny does, to compare the
// two.
func scanAny(s *JSONScanner) (any, error) {
	switch c := s.Peek(); {
	case c == '{':
		if err := s.BeginObject(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for first := true; ; first = false {
			k, more, err := s.NextKey(first)
			if err != nil {
				return nil, err
			}
			if !more {
				return m, nil
			}
			key := string(k)
			v, err := scanAny(s)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
	case c == '[':
		// The scanner has no array reader: skip it, checking it.
		return "array", s.Skip()
	case c == '"':
		b, err := s.AppendString(nil)
		return string(b), err
	case c == 't' || c == 'f':
		return s.Bool()
	case c == 'n':
		return nil, s.Null()
	}
	i, f, integral, err := s.Number()
	if integral {
		return i, err
	}
	return f, err
}

// replaceArrays replaces the arrays in a decoded value by "array", as
// scanAny reads them.
func replaceArrays(v any) any {
	switch x := v.(type) {
	case []any:
		return "array"
	case map[string]any:
		for k, e := range x {
			x[k] = replaceArrays(e)
		}
	}
	return v
}

func TestJSONScannerReadsAsToConnectData(t *testing.T) {
	c := schemalessJSON(t)
	compared := 0
	for _, in := range rawInputs {
		if !c.CheckRaw("t", []byte(in)) {
			continue
		}
		_, want, err := c.ToConnectData("t", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		var s JSONScanner
		s.Reset([]byte(in))
		got, err := scanAny(&s)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if want := replaceArrays(want); !equalNaN(got, want) {
			t.Errorf("%q: scanned %#v, ToConnectData read %#v", in, got, want)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}

// TestJSONScannerErrors: the scanner fails on every malformed object (the
// inputs CheckRaw refuses that start with '{').
func TestJSONScannerErrors(t *testing.T) {
	c := schemalessJSON(t)
	for _, in := range rawInputs {
		if c.CheckRaw("t", []byte(in)) || (len(in) > 0 && in[0] != '{') || checkRawOracle(c, []byte(in)) {
			continue
		}
		var s JSONScanner
		s.Reset([]byte(in))
		if v, err := scanAny(&s); err == nil {
			t.Errorf("%q: scanned %#v without error", in, v)
		}
	}
}

func equalNaN(a, b any) bool {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok && math.IsNaN(x) && math.IsNaN(y) {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// FuzzJSONCheckRaw: CheckRaw accepts exactly the values ToConnectData reads
// without error to an object, and the scanner reads those as it does.
func FuzzJSONCheckRaw(f *testing.F) {
	for _, in := range rawInputs {
		f.Add([]byte(in))
	}
	c := schemalessJSON(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		want := checkRawOracle(c, b)
		if got := c.CheckRaw("t", b); got != want {
			t.Fatalf("CheckRaw(%q) = %v, want %v", b, got, want)
		}
		if !want {
			return
		}
		_, v, _ := c.ToConnectData("t", b)
		var s JSONScanner
		s.Reset(b)
		got, err := scanAny(&s)
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if want := replaceArrays(v); !equalNaN(got, want) {
			t.Fatalf("%q: scanned %#v, ToConnectData read %#v", b, got, want)
		}
	})
}
