package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		name string
		got  fmt.Stringer
		want string
	}{
		{name: "boolean", got: Boolean, want: "BOOLEAN"},
		{name: "string", got: String, want: "STRING"},
		{name: "int", got: Int, want: "INT"},
		{name: "long", got: Long, want: "LONG"},
		{name: "double", got: Double, want: "DOUBLE"},
		{name: "list", got: List, want: "LIST"},
		{name: "class", got: Class, want: "CLASS"},
		{name: "password", got: Password, want: "PASSWORD"},
		{name: "unknown type", got: Type(42), want: "Type(42)"},
		{name: "high", got: High, want: "HIGH"},
		{name: "medium", got: Medium, want: "MEDIUM"},
		{name: "low", got: Low, want: "LOW"},
		{name: "width none", got: WidthNone, want: "NONE"},
		{name: "width short", got: WidthShort, want: "SHORT"},
		{name: "width medium", got: WidthMedium, want: "MEDIUM"},
		{name: "width long", got: WidthLong, want: "LONG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, tt.got.String(), tt.want)
		})
	}
}

func TestParseTypes(t *testing.T) {
	tests := []struct {
		name    string
		typ     Type
		raw     string
		want    any
		wantErr string
	}{
		{name: "boolean true", typ: Boolean, raw: "true", want: true},
		{name: "boolean mixed case and spaces", typ: Boolean, raw: " FaLsE ", want: false},
		{name: "boolean bad", typ: Boolean, raw: "yes",
			wantErr: "Invalid value yes for configuration k: Expected value to be either true or false"},
		{name: "boolean empty", typ: Boolean, raw: "",
			wantErr: "Invalid value  for configuration k: Expected value to be either true or false"},
		{name: "string trimmed", typ: String, raw: "  hello world \t", want: "hello world"},
		{name: "string empty", typ: String, raw: "", want: ""},
		{name: "int", typ: Int, raw: "42", want: 42},
		{name: "int trimmed and signed", typ: Int, raw: " -7 ", want: -7},
		{name: "int plus sign", typ: Int, raw: "+7", want: 7},
		{name: "int max", typ: Int, raw: "2147483647", want: math.MaxInt32},
		{name: "int overflow", typ: Int, raw: "2147483648",
			wantErr: "Invalid value 2147483648 for configuration k: Not a number of type INT"},
		{name: "int not a number", typ: Int, raw: "abc",
			wantErr: "Invalid value abc for configuration k: Not a number of type INT"},
		{name: "int decimal", typ: Int, raw: "1.5",
			wantErr: "Invalid value 1.5 for configuration k: Not a number of type INT"},
		{name: "int raw value kept in message", typ: Int, raw: " x ",
			wantErr: "Invalid value  x  for configuration k: Not a number of type INT"},
		{name: "long", typ: Long, raw: "9223372036854775807", want: int64(math.MaxInt64)},
		{name: "long bad", typ: Long, raw: "1e3",
			wantErr: "Invalid value 1e3 for configuration k: Not a number of type LONG"},
		{name: "double", typ: Double, raw: "0.25", want: 0.25},
		{name: "double exponent", typ: Double, raw: " 1e3 ", want: 1000.0},
		{name: "double integer", typ: Double, raw: "3", want: 3.0},
		{name: "double infinity", typ: Double, raw: "-Infinity", want: math.Inf(-1)},
		{name: "double go-only inf", typ: Double, raw: "inf",
			wantErr: "Invalid value inf for configuration k: Not a number of type DOUBLE"},
		{name: "double bad", typ: Double, raw: "one",
			wantErr: "Invalid value one for configuration k: Not a number of type DOUBLE"},
		{name: "list", typ: List, raw: "a,b,c", want: []string{"a", "b", "c"}},
		{name: "list items trimmed", typ: List, raw: " a , b\t,c ", want: []string{"a", "b", "c"}},
		{name: "list empty", typ: List, raw: "", want: []string{}},
		{name: "list blank", typ: List, raw: "   ", want: []string{}},
		{name: "list keeps empty items", typ: List, raw: "a,,b,", want: []string{"a", "", "b", ""}},
		{name: "class", typ: Class, raw: " com.example.MyConnector ", want: "com.example.MyConnector"},
		{name: "class empty", typ: Class, raw: " ",
			wantErr: "Invalid value   for configuration k: Class   could not be found."},
		{name: "password", typ: Password, raw: "s3cr3t", want: Secret("s3cr3t")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := oneKey(Key{Name: "k", Type: tt.typ, Default: NoDefault})
			vals, err := def.Parse(map[string]string{"k": tt.raw})
			if tt.wantErr != "" {
				requireEqual(t, problemMessages(t, err), []string{tt.wantErr})
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			requireEqual(t, vals.Get("k"), tt.want)
		})
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name        string
		typ         Type
		def         any
		want        any
		wantDefault *string // as KeyInfo renders it
	}{
		{name: "nil is null", typ: String, def: nil, want: nil, wantDefault: nil},
		{name: "string parsed", typ: Int, def: "5", want: 5, wantDefault: ptr("5")},
		{name: "typed int", typ: Int, def: 5, want: 5, wantDefault: ptr("5")},
		{name: "int32", typ: Int, def: int32(5), want: 5, wantDefault: ptr("5")},
		{name: "long from int", typ: Long, def: 60000, want: int64(60000), wantDefault: ptr("60000")},
		{name: "double from int", typ: Double, def: 1, want: 1.0, wantDefault: ptr("1.0")},
		{name: "double", typ: Double, def: 0.5, want: 0.5, wantDefault: ptr("0.5")},
		{name: "double large", typ: Double, def: 1e7, want: 1e7, wantDefault: ptr("1.0E7")},
		{name: "boolean", typ: Boolean, def: true, want: true, wantDefault: ptr("true")},
		{name: "list", typ: List, def: []string{"a", "b"}, want: []string{"a", "b"}, wantDefault: ptr("a,b")},
		{name: "list from string", typ: List, def: "a, b", want: []string{"a", "b"}, wantDefault: ptr("a,b")},
		{name: "empty list", typ: List, def: "", want: []string{}, wantDefault: ptr("")},
		{name: "password", typ: Password, def: "pw", want: Secret("pw"), wantDefault: ptr("[hidden]")},
		{name: "secret", typ: Password, def: Secret("pw"), want: Secret("pw"), wantDefault: ptr("[hidden]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := oneKey(Key{Name: "k", Type: tt.typ, Default: tt.def})
			vals, err := def.Parse(map[string]string{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			requireEqual(t, vals.Get("k"), tt.want)
			requireEqual(t, def.KeyInfos()[0].DefaultValue, tt.wantDefault)
		})
	}
}

func TestJavaDouble(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{name: "whole", in: 1, want: "1.0"},
		{name: "fraction", in: 0.5, want: "0.5"},
		{name: "negative", in: -2.25, want: "-2.25"},
		{name: "zero", in: 0, want: "0.0"},
		{name: "small", in: 0.0001, want: "1.0E-4"},
		{name: "large", in: 12345678, want: "1.2345678E7"},
		{name: "nan", in: math.NaN(), want: "NaN"},
		{name: "infinity", in: math.Inf(1), want: "Infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, string(data.AppendJavaFloat(nil, tt.in, 64)), tt.want)
		})
	}
}

func TestSecretIsHidden(t *testing.T) {
	s := Secret("hunter2")
	requireEqual(t, s.Value(), "hunter2")

	tests := []struct {
		name string
		got  string
	}{
		{name: "%s", got: fmt.Sprintf("%s", s)},
		{name: "%v", got: fmt.Sprintf("%v", s)},
		{name: "%#v", got: fmt.Sprintf("%#v", s)},
		{name: "%q", got: fmt.Sprintf("%q", s)},
		{name: "in a struct", got: fmt.Sprintf("%+v", struct{ P Secret }{s})},
		{name: "json", got: func() string {
			b, err := json.Marshal(map[string]any{"p": s})
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}()},
		{name: "slog json", got: func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "p", s)
			return buf.String()
		}()},
		{name: "slog text", got: func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "p", s)
			return buf.String()
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.got, "hunter2") {
				t.Fatalf("secret leaked: %s", tt.got)
			}
			if !strings.Contains(tt.got, "[hidden]") {
				t.Fatalf("%s does not say [hidden]", tt.got)
			}
		})
	}
}
