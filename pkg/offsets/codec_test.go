package offsets

import (
	"errors"
	"reflect"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		connector string
		partition map[string]any
		want      string
	}{
		{
			name:      "file source",
			connector: "file-source",
			partition: map[string]any{"filename": "/tmp/in.txt"},
			want:      `["file-source",{"filename":"/tmp/in.txt"}]`,
		},
		{
			name:      "sorted keys and numbers",
			connector: "jdbc",
			partition: map[string]any{"table": "orders", "shard": int64(3), "db": "x<y&z"},
			want:      `["jdbc",{"db":"x<y&z","shard":3,"table":"orders"}]`,
		},
		{
			name:      "nested",
			connector: "c",
			partition: map[string]any{"a": map[string]any{"z": []any{int64(1), 2.5, "s", nil, true}, "b": 1.0}},
			want:      `["c",{"a":{"b":1.0,"z":[1,2.5,"s",null,true]}}]`,
		},
		{
			name:      "nil partition",
			connector: "c",
			partition: nil,
			want:      `["c",null]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeKey(tt.connector, tt.partition)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("EncodeKey = %s, want %s", b, tt.want)
			}
			c, p, err := DecodeKey(b)
			if err != nil {
				t.Fatal(err)
			}
			if c != tt.connector || !reflect.DeepEqual(p, tt.partition) {
				t.Fatalf("DecodeKey = %q %#v, want %q %#v", c, p, tt.connector, tt.partition)
			}
		})
	}
}

func TestKeyDeterministic(t *testing.T) {
	p := map[string]any{}
	for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p"} {
		p[k] = k
	}
	first, err := EncodeKey("c", p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		b, err := EncodeKey("c", p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(first) {
			t.Fatalf("EncodeKey not deterministic: %s vs %s", b, first)
		}
	}
	// Equal partitions with different Go integer types share an ID.
	if a, b := PartitionID(map[string]any{"n": 1, "s": "x"}), PartitionID(map[string]any{"s": "x", "n": int64(1)}); a != b {
		t.Fatalf("PartitionID differs: %s vs %s", a, b)
	}
}

func TestDecodeKeyConnectBytes(t *testing.T) {
	// Bytes as Connect's JsonConverter writes them: HashMap order, spaces are
	// not produced but must be tolerated.
	c, p, err := DecodeKey([]byte(`["mysql-cdc", {"server":"db1","table":"t","part":12}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"server": "db1", "table": "t", "part": int64(12)}
	if c != "mysql-cdc" || !reflect.DeepEqual(p, want) {
		t.Fatalf("got %q %#v", c, p)
	}
}

func TestDecodeKeyInvalid(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"not json", `nope`},
		{"object", `{"a":1}`},
		{"one element", `["c"]`},
		{"three elements", `["c",{},1]`},
		{"connector not string", `[1,{}]`},
		{"partition not object", `["c",[1]]`},
		{"trailing data", `["c",{}] x`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := DecodeKey([]byte(tt.in)); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("DecodeKey(%s) error = %v, want ErrInvalidKey", tt.in, err)
			}
		})
	}
}

func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		offset map[string]any
		want   string
	}{
		{"nil is tombstone", nil, ""},
		{"empty", map[string]any{}, `{}`},
		{"long", map[string]any{"position": int64(1234)}, `{"position":1234}`},
		{"max long", map[string]any{"p": int64(9223372036854775807)}, `{"p":9223372036854775807}`},
		{"negative", map[string]any{"p": int64(-5)}, `{"p":-5}`},
		{"float", map[string]any{"ratio": 0.25}, `{"ratio":0.25}`},
		{"integral float stays float", map[string]any{"d": 3.0}, `{"d":3.0}`},
		{"big float", map[string]any{"d": 1e300}, `{"d":1e+300}`},
		{"nested", map[string]any{
			"gtid": map[string]any{"set": []any{"a:1-5", int64(7), []any{1.5}}, "ok": true},
			"file": "binlog.000001",
		}, `{"file":"binlog.000001","gtid":{"ok":true,"set":["a:1-5",7,[1.5]]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeValue(tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("EncodeValue = %q, want %q", b, tt.want)
			}
			got, err := DecodeValue(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.offset) {
				t.Fatalf("DecodeValue = %#v, want %#v", got, tt.offset)
			}
		})
	}
}

func TestDecodeValueNumbers(t *testing.T) {
	got, err := DecodeValue([]byte(`{"i":42,"f":4.2,"e":1e3,"huge":123456789012345678901234567890,"l":[1,2.0]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i":    int64(42),
		"f":    4.2,
		"e":    1000.0,
		"huge": 123456789012345678901234567890.0,
		"l":    []any{int64(1), 2.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeValue = %#v, want %#v", got, want)
	}
	for _, in := range []string{"", "null"} {
		if v, err := DecodeValue([]byte(in)); err != nil || v != nil {
			t.Fatalf("DecodeValue(%q) = %v, %v; want nil, nil", in, v, err)
		}
	}
	if _, err := DecodeValue([]byte(`[1]`)); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("DecodeValue([1]) error = %v, want ErrInvalidValue", err)
	}
}

func TestEncodeValueRejectsNaN(t *testing.T) {
	var zero float64
	if _, err := EncodeValue(map[string]any{"x": zero / zero}); err == nil {
		t.Fatal("EncodeValue(NaN) succeeded")
	}
}
