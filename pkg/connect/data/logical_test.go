package data

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

func bigInt(t *testing.T, s string) *big.Int {
	t.Helper()
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad big.Int %q", s)
	}
	return x
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Builder values from Apache Kafka's DecimalTest, DateTest, TimeTest and
// TimestampTest (testBuilder).
func TestLogicalSchemas(t *testing.T) {
	tests := []struct {
		name   string
		schema *Schema
		typ    Type
		lname  string
		params map[string]string
	}{
		{name: "decimal", schema: DecimalSchema(2).MustBuild(), typ: TypeBytes, lname: DecimalName, params: map[string]string{"scale": "2"}},
		{name: "date", schema: DateSchema().MustBuild(), typ: TypeInt32, lname: DateName},
		{name: "time", schema: TimeSchema().MustBuild(), typ: TypeInt32, lname: TimeName},
		{name: "timestamp", schema: TimestampSchema().MustBuild(), typ: TypeInt64, lname: TimestampName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.schema
			if s.Type != tt.typ || s.Name != tt.lname || s.Version == nil || *s.Version != 1 || !maps.Equal(s.Parameters, tt.params) {
				t.Errorf("schema = %+v, want %s %s version 1 parameters %v", s, tt.typ, tt.lname, tt.params)
			}
			if !IsLogical(s) {
				t.Error("IsLogical = false")
			}
		})
	}
	if IsLogical(nil) || IsLogical(Int32Schema) || IsLogical(&Schema{Type: TypeInt64, Name: DateName}) {
		t.Error("IsLogical is true for a schema that is not logical")
	}
}

// The encodings are Java's BigInteger.toByteArray; 156 and -156 at scale 2
// are Apache Kafka's DecimalTest values.
func TestDecimalEncoding(t *testing.T) {
	tests := []struct {
		name     string
		unscaled string
		hex      string
	}{
		{name: "156", unscaled: "156", hex: "009c"},
		{name: "-156", unscaled: "-156", hex: "ff64"},
		{name: "0", unscaled: "0", hex: "00"},
		{name: "1", unscaled: "1", hex: "01"},
		{name: "-1", unscaled: "-1", hex: "ff"},
		{name: "127", unscaled: "127", hex: "7f"},
		{name: "128", unscaled: "128", hex: "0080"},
		{name: "255", unscaled: "255", hex: "00ff"},
		{name: "256", unscaled: "256", hex: "0100"},
		{name: "-128", unscaled: "-128", hex: "80"},
		{name: "-129", unscaled: "-129", hex: "ff7f"},
		{name: "-256", unscaled: "-256", hex: "ff00"},
		{name: "-257", unscaled: "-257", hex: "feff"},
		{name: "32767", unscaled: "32767", hex: "7fff"},
		{name: "-32768", unscaled: "-32768", hex: "8000"},
		{name: "-32769", unscaled: "-32769", hex: "ff7fff"},
		{name: "int64 max", unscaled: "9223372036854775807", hex: "7fffffffffffffff"},
		{name: "int64 min", unscaled: "-9223372036854775808", hex: "8000000000000000"},
		{name: "2^63", unscaled: "9223372036854775808", hex: "008000000000000000"},
		{name: "2^64-1", unscaled: "18446744073709551615", hex: "00ffffffffffffffff"},
		{name: "-2^64", unscaled: "-18446744073709551616", hex: "ff0000000000000000"},
		{name: "10^30", unscaled: "1000000000000000000000000000000", hex: "0c9f2c9cd04674edea40000000"},
		{name: "-10^30", unscaled: "-1000000000000000000000000000000", hex: "f360d3632fb98b1215c0000000"},
	}
	schema := DecimalSchema(2).MustBuild()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decimal{Unscaled: bigInt(t, tt.unscaled), Scale: 2}
			want := unhex(t, tt.hex)
			got, err := FromLogical(schema, d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.([]byte), want) {
				t.Fatalf("FromLogical(%s) = %x, want %x", tt.unscaled, got, want)
			}
			back, err := ToLogical(schema, want)
			if err != nil {
				t.Fatal(err)
			}
			if !ValuesEqual(back, d) {
				t.Errorf("ToLogical(%x) = %v, want %v", want, back, d)
			}
		})
	}
}

func TestDecimalBase64(t *testing.T) {
	// 1.56 in Connect's JSON is "AJw=".
	got, err := FromLogical(DecimalSchema(2).MustBuild(), NewDecimal(156, 2))
	if err != nil {
		t.Fatal(err)
	}
	if s := base64.StdEncoding.EncodeToString(got.([]byte)); s != "AJw=" {
		t.Errorf("base64 = %q, want AJw=", s)
	}
	zero, err := FromLogical(DecimalSchema(0).MustBuild(), Decimal{})
	if err != nil || !bytes.Equal(zero.([]byte), []byte{0}) {
		t.Errorf("zero Decimal = %x, %v, want 00", zero, err)
	}
}

func TestDecimalErrors(t *testing.T) {
	tests := []struct {
		name    string
		convert func() (any, error)
		wantErr string
	}{
		{
			name:    "mismatched scale",
			convert: func() (any, error) { return FromLogical(DecimalSchema(2).MustBuild(), NewDecimal(156, 3)) },
			wantErr: "BigDecimal has mismatching scale value for given Decimal schema",
		},
		{
			name: "no scale parameter",
			convert: func() (any, error) {
				return FromLogical(NewBuilder(TypeBytes).Name(DecimalName).MustBuild(), NewDecimal(1, 0))
			},
			wantErr: "Invalid Decimal schema: scale parameter not found.",
		},
		{
			name: "bad scale parameter",
			convert: func() (any, error) {
				return ToLogical(NewBuilder(TypeBytes).Name(DecimalName).Parameter("scale", "two").MustBuild(), []byte{1})
			},
			wantErr: "Invalid scale parameter found in Decimal schema: two",
		},
		{
			name:    "wrong logical value",
			convert: func() (any, error) { return FromLogical(DecimalSchema(2).MustBuild(), 1.56) },
			wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Decimal:BYTES}: float64",
		},
		{
			name:    "wrong encoded value",
			convert: func() (any, error) { return ToLogical(DecimalSchema(2).MustBuild(), "AJw=") },
			wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Decimal:BYTES}: string",
		},
		{
			name:    "zero-length bytes",
			convert: func() (any, error) { return ToLogical(DecimalSchema(2).MustBuild(), []byte{}) },
			wantErr: "Zero length BigInteger",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.convert()
			wantDataError(t, err, "", tt.wantErr)
			if v != nil {
				t.Errorf("value = %v, want nil", v)
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		unscaled string
		scale    int32
		str      string
		wantErr  string
	}{
		{name: "negative with trailing zero", in: "-12.340", unscaled: "-12340", scale: 3, str: "-12.340"},
		{name: "integer", in: "156", unscaled: "156", scale: 0, str: "156"},
		{name: "fraction", in: "1.56", unscaled: "156", scale: 2, str: "1.56"},
		{name: "leading dot", in: ".5", unscaled: "5", scale: 1, str: "0.5"},
		{name: "negative small", in: "-0.001", unscaled: "-1", scale: 3, str: "-0.001"},
		{name: "plus sign and spaces", in: " +1.5 ", unscaled: "15", scale: 1, str: "1.5"},
		{name: "exponent", in: "1.5E3", unscaled: "15", scale: -2, str: "1500"},
		{name: "negative exponent", in: "1.5e-3", unscaled: "15", scale: 4, str: "0.0015"},
		{name: "zero with scale", in: "0.00", unscaled: "0", scale: 2, str: "0.00"},
		{name: "big", in: "123456789012345678901234567890.123456789", unscaled: "123456789012345678901234567890123456789", scale: 9, str: "123456789012345678901234567890.123456789"},
		{name: "empty", in: "", wantErr: `invalid decimal ""`},
		{name: "letters", in: "abc", wantErr: `invalid decimal "abc"`},
		{name: "two dots", in: "1.2.3", wantErr: `invalid decimal "1.2.3"`},
		{name: "bad exponent", in: "1e", wantErr: `invalid decimal "1e"`},
		{name: "hex", in: "0x10", wantErr: `invalid decimal "0x10"`},
		{name: "scale out of range", in: "1e-2147483648", wantErr: `invalid decimal "1e-2147483648": scale out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDecimal(tt.in)
			wantErrText(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if d.Unscaled.String() != tt.unscaled || d.Scale != tt.scale {
				t.Errorf("ParseDecimal(%q) = %s×10^-%d, want %s×10^-%d", tt.in, d.Unscaled, d.Scale, tt.unscaled, tt.scale)
			}
			if got := d.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestDecimalRescale(t *testing.T) {
	tests := []struct {
		name    string
		d       Decimal
		scale   int32
		want    Decimal
		wantErr string
	}{
		{name: "same", d: NewDecimal(156, 2), scale: 2, want: NewDecimal(156, 2)},
		{name: "up", d: NewDecimal(156, 2), scale: 4, want: NewDecimal(15600, 4)},
		{name: "down exactly", d: NewDecimal(15600, 4), scale: 2, want: NewDecimal(156, 2)},
		{name: "down to negative scale", d: NewDecimal(1500, 0), scale: -2, want: NewDecimal(15, -2)},
		{name: "negative value", d: NewDecimal(-1500, 3), scale: 1, want: NewDecimal(-15, 1)},
		{name: "zero value", d: Decimal{}, scale: 3, want: NewDecimal(0, 3)},
		{name: "would round", d: NewDecimal(156, 2), scale: 1, wantErr: "decimal 1.56 cannot be rescaled to scale 1 without rounding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.d.Rescale(tt.scale)
			wantErrText(t, err, tt.wantErr)
			if tt.wantErr == "" && !got.Equal(tt.want) {
				t.Errorf("Rescale(%d) = %v (scale %d), want %v (scale %d)", tt.scale, got, got.Scale, tt.want, tt.want.Scale)
			}
		})
	}
}

func TestDecimalNumbers(t *testing.T) {
	tests := []struct {
		name  string
		d     Decimal
		str   string
		float float64
		rat   string
	}{
		{name: "positive", d: NewDecimal(156, 2), str: "1.56", float: 1.56, rat: "39/25"},
		{name: "negative", d: NewDecimal(-156, 2), str: "-1.56", float: -1.56, rat: "-39/25"},
		{name: "small", d: NewDecimal(5, 3), str: "0.005", float: 0.005, rat: "1/200"},
		{name: "negative scale", d: NewDecimal(15, -2), str: "1500", float: 1500, rat: "1500/1"},
		{name: "zero value", d: Decimal{}, str: "0", float: 0, rat: "0/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.d.Float64(); got != tt.float {
				t.Errorf("Float64() = %v, want %v", got, tt.float)
			}
			if got := tt.d.Rat().String(); got != tt.rat {
				t.Errorf("Rat() = %s, want %s", got, tt.rat)
			}
		})
	}
}

var epoch = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)

// Values from Apache Kafka's DateTest, TimeTest and TimestampTest, plus
// dates and timestamps before 1970.
func TestTimeLogicalRoundTrip(t *testing.T) {
	date := DateSchema().MustBuild()
	timeOfDay := TimeSchema().MustBuild()
	timestamp := TimestampSchema().MustBuild()
	tests := []struct {
		name    string
		schema  *Schema
		logical time.Time
		encoded any
	}{
		{name: "date epoch", schema: date, logical: epoch, encoded: int32(0)},
		{name: "date epoch plus 10000 days", schema: date, logical: epoch.AddDate(0, 0, 10000), encoded: int32(10000)},
		{name: "date before epoch", schema: date, logical: time.Date(1969, time.December, 31, 0, 0, 0, 0, time.UTC), encoded: int32(-1)},
		{name: "date long ago", schema: date, logical: time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC), encoded: int32(-25567)},
		{name: "time midnight", schema: timeOfDay, logical: epoch, encoded: int32(0)},
		{name: "time plus 10000 millis", schema: timeOfDay, logical: epoch.Add(10000 * time.Millisecond), encoded: int32(10000)},
		{name: "time last milli", schema: timeOfDay, logical: epoch.Add(24*time.Hour - time.Millisecond), encoded: int32(86399999)},
		{name: "timestamp epoch", schema: timestamp, logical: epoch, encoded: int64(0)},
		{name: "timestamp 4000000000 millis", schema: timestamp, logical: epoch.Add(4000000000 * time.Millisecond), encoded: int64(4000000000)},
		{name: "timestamp before epoch", schema: timestamp, logical: time.Date(1969, time.December, 31, 23, 59, 59, 999e6, time.UTC), encoded: int64(-1)},
		{name: "timestamp long ago", schema: timestamp, logical: time.Date(1900, time.January, 1, 0, 0, 0, 1e6, time.UTC), encoded: int64(-2208988799999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromLogical(tt.schema, tt.logical)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.encoded {
				t.Errorf("FromLogical = %#v, want %#v", got, tt.encoded)
			}
			back, err := ToLogical(tt.schema, tt.encoded)
			if err != nil {
				t.Fatal(err)
			}
			if bt := back.(time.Time); !bt.Equal(tt.logical) || bt.Location() != time.UTC {
				t.Errorf("ToLogical = %v, want %v in UTC", bt, tt.logical)
			}
		})
	}
}

func TestTimeLogicalErrors(t *testing.T) {
	date := DateSchema().MustBuild()
	timeOfDay := TimeSchema().MustBuild()
	timestamp := TimestampSchema().MustBuild()
	tests := []struct {
		name    string
		convert func() (any, error)
		wantErr string
	}{
		{
			name:    "date with time fields",
			convert: func() (any, error) { return FromLogical(date, epoch.Add(time.Second)) },
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values.",
		},
		{
			name:    "date before epoch with time fields",
			convert: func() (any, error) { return FromLogical(date, epoch.Add(-time.Millisecond)) },
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values.",
		},
		{
			name:    "date with nanoseconds",
			convert: func() (any, error) { return FromLogical(date, epoch.Add(time.Nanosecond)) },
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values.",
		},
		{
			name: "date in another zone is not midnight UTC",
			convert: func() (any, error) {
				return FromLogical(date, time.Date(1970, 1, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600)))
			},
			wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values.",
		},
		{
			name:    "time with date fields",
			convert: func() (any, error) { return FromLogical(timeOfDay, epoch.AddDate(0, 0, 10000)) },
			wantErr: "Kafka Connect Time type should not have any date fields set to non-zero values.",
		},
		{
			name:    "time before epoch",
			convert: func() (any, error) { return FromLogical(timeOfDay, epoch.Add(-time.Millisecond)) },
			wantErr: "Kafka Connect Time type should not have any date fields set to non-zero values.",
		},
		{
			name:    "time encoding negative",
			convert: func() (any, error) { return ToLogical(timeOfDay, int32(-1)) },
			wantErr: "Time values must use number of milliseconds greater than 0 and less than 86400000",
		},
		{
			// Java accepts exactly 86400000 (its check is "> MILLIS_PER_DAY");
			// that is the next day's midnight, so it is rejected here.
			name:    "time encoding a full day",
			convert: func() (any, error) { return ToLogical(timeOfDay, int32(86400000)) },
			wantErr: "Time values must use number of milliseconds greater than 0 and less than 86400000",
		},
		{
			name:    "date given int64",
			convert: func() (any, error) { return ToLogical(date, int64(1)) },
			wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Date:INT32}: int64",
		},
		{
			name:    "timestamp given int32",
			convert: func() (any, error) { return ToLogical(timestamp, int32(1)) },
			wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Timestamp:INT64}: int32",
		},
		{
			name:    "time given string",
			convert: func() (any, error) { return FromLogical(timeOfDay, "00:00") },
			wantErr: "Invalid Go object for schema Schema{org.apache.kafka.connect.data.Time:INT32}: string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.convert()
			wantDataError(t, err, "", tt.wantErr)
			if v != nil {
				t.Errorf("value = %v, want nil", v)
			}
		})
	}
}

// Null handling from Apache Kafka's *Test.test{From,To}LogicalNull*: nil for
// an optional schema, an error for a required one.
func TestLogicalNull(t *testing.T) {
	tests := []struct {
		name    string
		builder func() *SchemaBuilder
		kind    string
	}{
		{name: "decimal", builder: func() *SchemaBuilder { return DecimalSchema(2) }, kind: "Decimal"},
		{name: "date", builder: DateSchema, kind: "Date"},
		{name: "time", builder: TimeSchema, kind: "Time"},
		{name: "timestamp", builder: TimestampSchema, kind: "Timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			optional := tt.builder().Optional().MustBuild()
			required := tt.builder().MustBuild()
			wantMsg := "Requested conversion of " + tt.kind + " object but the schema is not nullable and a null was supplied."
			for _, conv := range []struct {
				name string
				f    func(*Schema, any) (any, error)
			}{{"FromLogical", FromLogical}, {"ToLogical", ToLogical}} {
				if v, err := conv.f(optional, nil); v != nil || err != nil {
					t.Errorf("%s(optional, nil) = %v, %v, want nil, nil", conv.name, v, err)
				}
				v, err := conv.f(required, nil)
				if v != nil {
					t.Errorf("%s(required, nil) = %v, want nil", conv.name, v)
				}
				wantDataError(t, err, "", wantMsg)
			}
		})
	}
}

// Schemas that are not logical pass values through, nil included.
func TestLogicalPassThrough(t *testing.T) {
	tests := []struct {
		name   string
		schema *Schema
		value  any
	}{
		{name: "int32", schema: Int32Schema, value: int32(7)},
		{name: "renamed date", schema: DateSchema().Name("invalid").MustBuild(), value: int32(0)},
		{name: "nil", schema: Int32Schema, value: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func(*Schema, any) (any, error){FromLogical, ToLogical} {
				got, err := f(tt.schema, tt.value)
				if err != nil || got != tt.value {
					t.Errorf("got %v, %v, want %v, nil", got, err, tt.value)
				}
			}
		})
	}
}

// FuzzDecimalTwosComplement checks that Decimal encodes as Java's
// BigInteger.toByteArray (the shortest two's complement, bitLength/8+1 bytes)
// and decodes back. The seeds run in every go test.
func FuzzDecimalTwosComplement(f *testing.F) {
	for _, seed := range []struct {
		mag   []byte
		neg   bool
		scale int32
	}{
		{nil, false, 0},
		{[]byte{0x9c}, false, 2},
		{[]byte{0x9c}, true, 2},
		{[]byte{0x01}, true, 0},
		{[]byte{0x80}, false, 0},
		{[]byte{0x80}, true, 0},
		{[]byte{0x81}, true, 0},
		{[]byte{0xff, 0xff}, true, 5},
		{[]byte{0x01, 0x00, 0x00}, true, -3},
		{bytes.Repeat([]byte{0xff}, 40), false, 38},
		{append([]byte{0x80}, make([]byte, 31)...), true, 10},
	} {
		f.Add(seed.mag, seed.neg, seed.scale)
	}
	f.Fuzz(func(t *testing.T, mag []byte, neg bool, scale int32) {
		x := new(big.Int).SetBytes(mag)
		if neg {
			x.Neg(x)
		}
		schema := DecimalSchema(scale).MustBuild()
		if s := schema.Parameters[DecimalScaleParam]; s != strconv.Itoa(int(scale)) {
			t.Fatalf("scale parameter = %q", s)
		}
		enc, err := FromLogical(schema, Decimal{Unscaled: x, Scale: scale})
		if err != nil {
			t.Fatal(err)
		}
		b := enc.([]byte)
		// Java's bitLength leaves out the sign bit: for x < 0 it is that of -x-1.
		bitLen := x.BitLen()
		if x.Sign() < 0 {
			bitLen = new(big.Int).Not(x).BitLen()
		}
		if want := bitLen/8 + 1; len(b) != want {
			t.Fatalf("%s encodes to %d bytes %x, want %d", x, len(b), b, want)
		}
		if gotNeg := b[0]&0x80 != 0; gotNeg != (x.Sign() < 0) {
			t.Fatalf("%s encodes to %x with the wrong sign bit", x, b)
		}
		dec, err := ToLogical(schema, b)
		if err != nil {
			t.Fatal(err)
		}
		if d := dec.(Decimal); d.Scale != scale || d.Unscaled.Cmp(x) != 0 {
			t.Fatalf("%s round trips to %s (scale %d)", x, d.Unscaled, d.Scale)
		}
	})
}

// Huge exponents in untrusted input (a header, a JSON payload) are answered
// without writing out their power of ten, which took minutes and gigabytes.
func TestDecimalHugeScalesAnswerAtOnce(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tiny, err := ParseDecimal("1E-999999999")
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := tiny.Rescale(2); err == nil || !strings.Contains(err.Error(), "1E-999999999 cannot be rescaled to scale 2 without rounding") {
			t.Errorf("1E-999999999 to scale 2: %v", err)
		}
		huge, _ := ParseDecimal("6E999999999")
		if _, err := huge.Rescale(2); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("6E999999999 to scale 2: %v", err)
		}
		zero, _ := ParseDecimal("0E999999999")
		if r, err := zero.Rescale(2); err != nil || r.Unscaled.Sign() != 0 || r.Scale != 2 {
			t.Errorf("0E999999999 to scale 2: %v %v", r, err)
		}
		if r, err := NewDecimal(1200, 0).Rescale(-2); err != nil || r.Unscaled.Int64() != 12 {
			t.Errorf("1200 to scale -2: %v %v", r, err)
		}
		if s := NewDecimal(-5, 2000000).String(); len(s) != 2000003 || !strings.HasPrefix(s, "-0.000") || !strings.HasSuffix(s, "05") {
			t.Errorf("-5E-2000000 in plain notation: %.20s… (%d characters)", s, len(s))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("huge scales still computed in full (no answer within 30 s)")
	}
}
