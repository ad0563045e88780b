package converter

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestStringConverter(t *testing.T) {
	st := mustBuild(t, data.StructBuilder().Field("a", data.Int32Schema).Field("b", data.OptionalStringSchema))
	tests := []struct {
		name  string
		props map[string]string
		value any
		want  []byte
	}{
		{name: "string", value: "héllo", want: []byte("héllo")},
		{name: "empty string", value: "", want: []byte{}},
		{name: "substring", value: "héllo, world"[:6], want: []byte("héllo")},
		{name: "invalid utf-8", value: "a\xffb", want: []byte("a\uFFFDb")},
		{name: "nil", value: nil, want: nil},
		{name: "int", value: int32(7), want: []byte("7")},
		{name: "double", value: 1.0, want: []byte("1.0")},
		{name: "list", value: []any{int32(1), "a"}, want: []byte("[1, a]")},
		{name: "struct", value: data.NewStruct(st).Set("a", int32(1)), want: []byte("Struct{a=1}")},
		{name: "date", value: time.Unix(0, 0), want: []byte("Thu Jan 01 00:00:00 UTC 1970")},
		{name: "latin1", props: map[string]string{StringEncoding: "ISO-8859-1"}, value: "é€", want: []byte{0xE9, '?'}},
		{name: "utf16le override", props: map[string]string{StringEncoding: "UTF8", "value.serializer.encoding": "UTF-16LE"}, value: "A", want: []byte{'A', 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewStringConverter()
			if err := c.Configure(tt.props, false); err != nil {
				t.Fatal(err)
			}
			got, err := c.FromConnectData("t", nil, tt.value)
			if err != nil || !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	c := NewStringConverter()
	s, v, err := c.ToConnectData("t", []byte("abc\xff"))
	if s != data.OptionalStringSchema || v != "abc\uFFFD" || err != nil {
		t.Errorf("ToConnectData = %v, %q, %v", s, v, err)
	}
	if _, v, _ := c.ToConnectData("t", nil); v != nil {
		t.Errorf("nil decoded to %q", v)
	}
	if err := c.Configure(map[string]string{StringEncoding: "EBCDIC-9"}, true); err == nil || !strings.Contains(err.Error(), "converter.encoding") {
		t.Errorf("error = %v", err)
	}
}

// TestStringConverterUTF8NoCopy: a valid UTF-8 string is written without
// being copied (the fast path of a source of text lines).
func TestStringConverterUTF8NoCopy(t *testing.T) {
	c := NewStringConverter()
	var value any = strings.Repeat("héllo ", 40)
	allocs := testing.AllocsPerRun(100, func() {
		if b, err := c.FromConnectData("t", data.StringSchema, value); err != nil || len(b) != len(value.(string)) {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per write, want 0", allocs)
	}
}

func TestByteArrayConverter(t *testing.T) {
	tests := []struct {
		name    string
		schema  *data.Schema
		value   any
		wantErr string
	}{
		{name: "bytes", schema: data.BytesSchema, value: []byte{1, 2}},
		{name: "no schema", value: []byte{1}},
		{name: "nil", schema: data.OptionalBytesSchema},
		{name: "wrong schema", schema: data.StringSchema, value: "x", wantErr: "Invalid schema type for ByteArrayConverter: STRING"},
		{name: "wrong value", value: "x", wantErr: "ByteArrayConverter is not compatible with objects of type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ByteArrayConverter{}.FromConnectData("t", tt.schema, tt.value)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v", err)
				}
				return
			}
			want, _ := tt.value.([]byte)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
	s, v, _ := ByteArrayConverter{}.ToConnectData("t", []byte{9})
	if s != data.OptionalBytesSchema || !bytes.Equal(v.([]byte), []byte{9}) {
		t.Errorf("ToConnectData = %v, %v", s, v)
	}
}

func TestSimpleHeaderConverterParse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		schema *data.Schema
		value  any
	}{
		{name: "true", in: "true", schema: data.BooleanSchema, value: true},
		{name: "int8", in: "12", schema: data.Int8Schema, value: int8(12)},
		{name: "int16", in: "-300", schema: data.Int16Schema, value: int16(-300)},
		{name: "int32", in: "70000", schema: data.Int32Schema, value: int32(70000)},
		{name: "int64", in: "5000000000", schema: data.Int64Schema, value: int64(5000000000)},
		{name: "whole decimal", in: "1.0", schema: data.Int8Schema, value: int8(1)},
		{name: "float32", in: "1.5", schema: data.Float32Schema, value: float32(1.5)},
		{name: "float64", in: "1.5E300", schema: data.Float64Schema, value: 1.5e300},
		{name: "string", in: "hello world", schema: data.StringSchema, value: "hello world"},
		{name: "true with more", in: "true}", schema: data.StringSchema, value: "true}"},
		{name: "array", in: "[1, 300]", schema: &data.Schema{Type: data.TypeArray, ValueSchema: data.Int16Schema}, value: []any{int16(1), int16(300)}},
		{name: "array mixed", in: `[1,"a"]`, schema: &data.Schema{Type: data.TypeArray}, value: []any{int8(1), "a"}},
		{name: "map", in: `{"a":1,"b":2}`, schema: &data.Schema{Type: data.TypeMap, KeySchema: data.StringSchema, ValueSchema: data.Int8Schema}, value: map[string]any{"a": int8(1), "b": int8(2)}},
		{name: "broken array is a string", in: "[1,", schema: data.StringSchema, value: "[1,"},
		{name: "date", in: "2020-01-02", schema: dateSchema, value: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)},
		{name: "time", in: "10:11:12.123Z", schema: timeSchema, value: time.Date(1970, 1, 1, 10, 11, 12, 123e6, time.UTC)},
		{name: "timestamp", in: "2020-01-02T10:11:12.123Z", schema: timestampSchema, value: time.Date(2020, 1, 2, 10, 11, 12, 123e6, time.UTC)},
		{name: "empty", in: "", schema: data.StringSchema, value: ""},
		{name: "null", in: "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, v, err := SimpleHeaderConverter{}.ToConnectHeader("t", "h", []byte(tt.in))
			if err != nil || !data.Equal(s, tt.schema) || !data.ValuesEqual(v, tt.value) {
				t.Fatalf("got %v %#v %v; want %v %#v", s, v, err, tt.schema, tt.value)
			}
		})
	}
}

func TestSimpleHeaderConverterString(t *testing.T) {
	st := mustBuild(t, data.StructBuilder().Field("a", data.Int32Schema).Field("b", data.OptionalStringSchema))
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{name: "string", value: `a"b`, want: `a"b`},
		{name: "empty string", value: "", want: ""},
		{name: "double", value: 2.0, want: "2.0"},
		{name: "list", value: []any{"x", int8(1), nil}, want: `["x",1,null]`},
		{name: "map", value: map[string]any{"b": true, "a": `q"`}, want: `{"a":"q\"","b":true}`},
		{name: "struct", value: data.NewStruct(st).Set("a", int32(1)), want: `{"a":1,"b":null}`},
		{name: "bytes", value: []byte("hi"), want: "aGk="},
		{name: "date", value: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), want: "2020-01-02"},
		{name: "timestamp", value: time.Date(2020, 1, 2, 3, 4, 5, 6e6, time.UTC), want: "2020-01-02T03:04:05.006Z"},
		{name: "time", value: time.Date(1970, 1, 1, 3, 4, 5, 0, time.UTC), want: "03:04:05.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SimpleHeaderConverter{}.FromConnectHeader("t", "h", nil, tt.value)
			if err != nil || got == nil || string(got) != tt.want {
				t.Fatalf("got %q (nil: %t), %v; want %q", got, got == nil, err, tt.want)
			}
		})
	}
}

func TestPlugins(t *testing.T) {
	r, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"JsonConverter", "org.apache.kafka.connect.storage.StringConverter", "ByteArrayConverter"} {
		p, err := r.Lookup(connect.KindConverter, name)
		if err != nil || p.NewConverter() == nil {
			t.Errorf("converter %s: %v", name, err)
		}
	}
	for _, name := range []string{"SimpleHeaderConverter", "JsonConverter", "StringConverter"} {
		p, err := r.Lookup(connect.KindHeaderConverter, name)
		if err != nil || p.NewHeaderConverter().Configure(nil) != nil {
			t.Errorf("header converter %s: %v", name, err)
		}
	}
}
