package converter

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// byteByByteJSONString is appendJSONString without its eight-byte skip:
// Jackson's escaping, one byte at a time.
func byteByByteJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// TestAppendJSONStringEveryByteAnywhere puts every byte value at every
// position of plain text of lengths around the eight-byte skip, and runs
// random text, through appendJSONString and the byte-by-byte reference.
func TestAppendJSONStringEveryByteAnywhere(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := appendJSONString(nil, s), byteByByteJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	for n := range 26 {
		plain := bytes.Repeat([]byte("aZ9 ~!#/"), 4)[:n]
		check(string(plain))
		for pos := range n {
			for c := range 256 {
				s := bytes.Clone(plain)
				s[pos] = byte(c)
				check(string(s))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\xff", "\xc3", " "}
	for range 20000 {
		var s []byte
		for range r.IntN(40) {
			if r.IntN(4) == 0 {
				s = append(s, alphabet[r.IntN(len(alphabet))]...)
			} else {
				s = append(s, byte(0x20+r.IntN(0x5f)))
			}
		}
		check(string(s))
	}
}

// TestDecimalBytesAsFromLogical: the JsonConverter's int64 shortcut for
// Decimal bytes gives what data.FromLogical gives (Java's
// BigInteger.toByteArray) at every byte-length boundary.
func TestDecimalBytesAsFromLogical(t *testing.T) {
	schema := data.DecimalSchema(2).MustBuild()
	values := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	for shift := range 64 {
		p := int64(1) << shift
		values = append(values, p, p-1, p+1, -p, -p-1, -p+1)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		values = append(values, r.Int64()>>r.IntN(64))
	}
	for _, n := range values {
		raw, err := data.FromLogical(schema, data.Decimal{Unscaled: big.NewInt(n), Scale: 2})
		if err != nil {
			t.Fatal(err)
		}
		var buf [8]byte
		if got := minimalTwosComplement(buf[:], n); !bytes.Equal(got, raw.([]byte)) {
			t.Fatalf("%d: % x, FromLogical gives % x", n, got, raw)
		}
	}
}

// BenchmarkJSONFromConnectJDBCRow converts the key and value of a row of
// make bench-jdbc's table (bigint key, two strings, a Decimal of scale 2, a
// Timestamp), as the JDBC source's leases do.
func BenchmarkJSONFromConnectJDBCRow(b *testing.B) {
	vs := data.NewBuilder(data.TypeStruct).Name("bench_rows").
		Field("id", data.Int64Schema).Field("name", data.StringSchema).Field("note", data.StringSchema).
		Field("amount", data.DecimalSchema(2).MustBuild()).Field("created_at", data.TimestampSchema().MustBuild()).MustBuild()
	ks := data.NewBuilder(data.TypeStruct).Field("id", data.Int64Schema).MustBuild()
	v := data.NewStruct(vs).Set("id", int64(123456)).Set("name", "customer-123456").
		Set("note", strings.Repeat("x", 100)+"123456").Set("amount", data.NewDecimal(123456, 2)).
		Set("created_at", time.Date(2026, 1, 1, 0, 2, 3, 456e6, time.UTC))
	k := data.NewStruct(ks).Set("id", int64(123456))
	for _, enabled := range []string{"true", "false"} {
		b.Run("schemas.enable="+enabled, func(b *testing.B) {
			kc := newJSON(b, map[string]string{JSONSchemasEnable: enabled})
			vc := newJSON(b, map[string]string{JSONSchemasEnable: enabled})
			kb, _ := kc.FromConnectData("t", ks, k)
			vb, _ := vc.FromConnectData("t", vs, v)
			b.SetBytes(int64(len(kb) + len(vb)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kc.FromConnectData("t", ks, k); err != nil {
					b.Fatal(err)
				}
				if _, err := vc.FromConnectData("t", vs, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A struct's field names are written from the converter's copy once its
// schema is met a second time: the JSON is the same every time, for names
// that need escaping, nested structs, an empty struct, and more schemas
// than the converter keeps (met in turn, so that they evict each other).
func TestJSONStructNamesKept(t *testing.T) {
	inner := data.NewBuilder(data.TypeStruct).Name("inner").
		Field("a\"b", data.StringSchema).Field("tab\there", data.OptionalInt32Schema).Field("ü/ŝ", data.BooleanSchema).MustBuild()
	empty := data.NewBuilder(data.TypeStruct).Name("empty").MustBuild()
	var schemas []*data.Schema
	var values []*data.Struct
	var want []string
	for i := range 3 << nameBits {
		name := strings.Repeat("n", i%7+1) + "\\" + string(rune('a'+i%26))
		s := data.NewBuilder(data.TypeStruct).Field(name, data.Int64Schema).Field("in", inner).Field("e", empty).MustBuild()
		v := data.NewStruct(s).Set(name, int64(i)).
			Set("in", data.NewStruct(inner).Set("a\"b", "x").Set("ü/ŝ", true)).Set("e", data.NewStruct(empty))
		schemas, values = append(schemas, s), append(values, v)
		want = append(want, `{"`+strings.ReplaceAll(name, `\`, `\\`)+`":`+strconv.Itoa(i)+
			`,"in":{"a\"b":"x","tab\there":null,"ü/ŝ":true},"e":{}}`)
	}
	c := newJSON(t, map[string]string{JSONSchemasEnable: "false"})
	for round := range 3 {
		for i, s := range schemas {
			for range 3 { // the first, second and a kept writing of s
				got, err := c.FromConnectData("t", s, values[i])
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want[i] {
					t.Fatalf("round %d, schema %d: %s, want %s", round, i, got, want[i])
				}
			}
		}
	}
}

// Goroutines sharing a converter keep and use struct names at once (run
// with -race): each gets its own schema's JSON.
func TestJSONStructNamesConcurrent(t *testing.T) {
	c := newJSON(t, map[string]string{JSONSchemasEnable: "false"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				name := "f" + strconv.Itoa((g*200+i)%(3<<nameBits))
				s := data.NewBuilder(data.TypeStruct).Field(name, data.Int32Schema).Field("x", data.StringSchema).MustBuild()
				v := data.NewStruct(s).Set(name, int32(i)).Set("x", "y")
				want := `{"` + name + `":` + strconv.Itoa(i) + `,"x":"y"}`
				for range 3 {
					got, err := c.FromConnectData("t", s, v)
					if err == nil && string(got) != want {
						err = fmt.Errorf("%s, want %s", got, want)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
