package data

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Logical type names, as Connect's.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"

	// DecimalScaleParam is the Decimal schema parameter holding the scale.
	DecimalScaleParam = "scale"
)

type logicalType struct {
	typ     Type
	accepts func(any) bool
}

var logicalTypes = map[string]logicalType{
	DecimalName:   {TypeBytes, func(v any) bool { _, ok := v.(Decimal); return ok }},
	DateName:      {TypeInt32, isTime},
	TimeName:      {TypeInt32, isTime},
	TimestampName: {TypeInt64, isTime},
}

func isTime(v any) bool { _, ok := v.(time.Time); return ok }

// IsLogical reports whether s is one of Connect's logical types (Decimal,
// Date, Time, Timestamp), whose values are Decimal or time.Time.
func IsLogical(s *Schema) bool {
	if s == nil {
		return false
	}
	l, ok := logicalTypes[s.Name]
	return ok && l.typ == s.Type
}

// Decimal is an arbitrary-precision decimal number: Unscaled × 10^-Scale,
// as Java's BigDecimal. The zero value is 0.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// NewDecimal returns unscaled × 10^-scale.
func NewDecimal(unscaled int64, scale int32) Decimal {
	return Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// ParseDecimal parses a decimal such as "-12.340" keeping its scale (3 here).
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return Decimal{}, fmt.Errorf("invalid decimal %q", s)
		}
		mant, exp = s[:i], e
	}
	scale := int64(0)
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = int64(len(mant) - i - 1)
		mant = mant[:i] + mant[i+1:]
	}
	u, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return Decimal{}, fmt.Errorf("invalid decimal %q", s)
	}
	scale -= exp
	if scale < math.MinInt32 || scale > math.MaxInt32 {
		// BigDecimal's "Scale out of range": an int32 would wrap silently.
		return Decimal{}, fmt.Errorf("invalid decimal %q: scale out of range", s)
	}
	return Decimal{Unscaled: u, Scale: int32(scale)}, nil
}

func (d Decimal) unscaled() *big.Int {
	if d.Unscaled == nil {
		return new(big.Int)
	}
	return d.Unscaled
}

// String renders the decimal in plain notation, as BigDecimal.toPlainString.
func (d Decimal) String() string {
	u := d.unscaled()
	if d.Scale <= 0 {
		return new(big.Int).Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil)).String()
	}
	neg := u.Sign() < 0
	digits := new(big.Int).Abs(u).String()
	if len(digits) <= int(d.Scale) {
		digits = strings.Repeat("0", int(d.Scale)-len(digits)+1) + digits
	}
	cut := len(digits) - int(d.Scale)
	s := digits[:cut] + "." + digits[cut:]
	if neg {
		s = "-" + s
	}
	return s
}

// Rat returns the decimal as an exact rational.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.unscaled())
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 { f, _ := d.Rat().Float64(); return f }

// Equal reports whether d and o have the same value and scale (as BigDecimal.equals).
func (d Decimal) Equal(o Decimal) bool {
	return d.Scale == o.Scale && d.unscaled().Cmp(o.unscaled()) == 0
}

// Rescale returns d with the given scale; it fails if digits would be lost.
func (d Decimal) Rescale(scale int32) (Decimal, error) {
	if scale == d.Scale {
		return d, nil
	}
	if d.unscaled().Sign() == 0 {
		return Decimal{Unscaled: new(big.Int), Scale: scale}, nil
	}
	ten := big.NewInt(10)
	// The scale difference is taken in int64: in int32 it can wrap.
	if scale > d.Scale {
		if int64(scale)-int64(d.Scale) > maxRescaleDigits {
			// Such a value (a payload such as 6E999999999 for a scale of 2)
			// would take minutes and gigabytes to write out in full.
			return Decimal{}, fmt.Errorf("decimal %s rescaled to scale %d would have more than %d digits", AppendBigDecimal(nil, d), scale, maxRescaleDigits)
		}
		f := new(big.Int).Exp(ten, big.NewInt(int64(scale)-int64(d.Scale)), nil)
		return Decimal{Unscaled: new(big.Int).Mul(d.unscaled(), f), Scale: scale}, nil
	}
	if int64(d.Scale)-int64(scale) > int64(d.unscaled().BitLen())/3+1 {
		// |u| < 10^(difference): the remainder is u itself, and computing
		// that power of ten (a payload such as 1E-999999999) takes minutes.
		return Decimal{}, fmt.Errorf("decimal %s cannot be rescaled to scale %d without rounding", AppendBigDecimal(nil, d), scale)
	}
	f := new(big.Int).Exp(ten, big.NewInt(int64(d.Scale)-int64(scale)), nil)
	q, r := new(big.Int).QuoRem(d.unscaled(), f, new(big.Int))
	if r.Sign() != 0 {
		return Decimal{}, fmt.Errorf("decimal %s cannot be rescaled to scale %d without rounding", AppendBigDecimal(nil, d), scale)
	}
	return Decimal{Unscaled: q, Scale: scale}, nil
}

// maxRescaleDigits bounds the digits Rescale adds to a non-zero decimal.
const maxRescaleDigits = 1 << 20

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// DecimalSchema returns a builder for a Decimal schema of the given scale.
func DecimalSchema(scale int32) *SchemaBuilder {
	return NewBuilder(TypeBytes).Name(DecimalName).Version(1).Parameter(DecimalScaleParam, strconv.Itoa(int(scale)))
}

// DateSchema returns a builder for a Date schema.
func DateSchema() *SchemaBuilder { return NewBuilder(TypeInt32).Name(DateName).Version(1) }

// TimeSchema returns a builder for a Time schema.
func TimeSchema() *SchemaBuilder { return NewBuilder(TypeInt32).Name(TimeName).Version(1) }

// TimestampSchema returns a builder for a Timestamp schema.
func TimestampSchema() *SchemaBuilder { return NewBuilder(TypeInt64).Name(TimestampName).Version(1) }

// DecimalScale returns the scale parameter of a Decimal schema.
func DecimalScale(s *Schema) (int32, error) {
	v, ok := s.Parameters[DecimalScaleParam]
	if !ok {
		return 0, &Error{Msg: "Invalid Decimal schema: scale parameter not found."}
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, &Error{Msg: "Invalid scale parameter found in Decimal schema: " + v}
	}
	return int32(n), nil
}

const msPerDay = 24 * 60 * 60 * 1000

// FromLogical converts a logical value (Decimal or time.Time) to its
// underlying representation: Decimal to two's-complement big-endian bytes of
// the unscaled value, Date to INT32 days since the epoch, Time to INT32
// milliseconds since midnight, Timestamp to INT64 milliseconds since the
// epoch. The errors are Connect's.
func FromLogical(s *Schema, v any) (any, error) {
	if v == nil {
		return nullLogical(s)
	}
	switch s.Name {
	case DecimalName:
		d, ok := v.(Decimal)
		if !ok {
			return nil, mismatch(s, v)
		}
		scale, err := DecimalScale(s)
		if err != nil {
			return nil, err
		}
		if d.Scale != scale {
			return nil, &Error{Msg: "BigDecimal has mismatching scale value for given Decimal schema"}
		}
		return twosComplement(d.unscaled()), nil
	case DateName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch(s, v)
		}
		ms := t.UnixMilli()
		// Sub-millisecond digits are time fields too; UnixMilli would drop them.
		if ms%msPerDay != 0 || t.Nanosecond()%int(time.Millisecond) != 0 {
			return nil, &Error{Msg: "Kafka Connect Date type should not have any time fields set to non-zero values."}
		}
		return int32(ms / msPerDay), nil
	case TimeName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch(s, v)
		}
		ms := t.UnixMilli()
		if ms < 0 || ms >= msPerDay {
			return nil, &Error{Msg: "Kafka Connect Time type should not have any date fields set to non-zero values."}
		}
		return int32(ms), nil
	case TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch(s, v)
		}
		return t.UnixMilli(), nil
	}
	return v, nil
}

// ToLogical converts an underlying value to its logical value; it is the
// inverse of FromLogical. Values of other schemas are returned as they are.
func ToLogical(s *Schema, v any) (any, error) {
	if v == nil {
		return nullLogical(s)
	}
	switch s.Name {
	case DecimalName:
		b, ok := v.([]byte)
		if !ok {
			return nil, mismatch(s, v)
		}
		if len(b) == 0 {
			// Java's new BigInteger(byte[0]) rejects this rather than reading 0.
			return nil, &Error{Msg: "Zero length BigInteger"}
		}
		scale, err := DecimalScale(s)
		if err != nil {
			return nil, err
		}
		return Decimal{Unscaled: fromTwosComplement(b), Scale: scale}, nil
	case DateName:
		n, ok := v.(int32)
		if !ok {
			return nil, mismatch(s, v)
		}
		return time.UnixMilli(int64(n) * msPerDay).UTC(), nil
	case TimeName:
		n, ok := v.(int32)
		if !ok {
			return nil, mismatch(s, v)
		}
		if n < 0 || n >= msPerDay {
			return nil, &Error{Msg: "Time values must use number of milliseconds greater than 0 and less than 86400000"}
		}
		return time.UnixMilli(int64(n)).UTC(), nil
	case TimestampName:
		n, ok := v.(int64)
		if !ok {
			return nil, mismatch(s, v)
		}
		return time.UnixMilli(n).UTC(), nil
	}
	return v, nil
}

// nullLogical is FromLogical and ToLogical of nil: nil for an optional
// schema or one that is not logical, and Connect's error for a required
// logical schema.
func nullLogical(s *Schema) (any, error) {
	if s.Optional || !IsLogical(s) {
		return nil, nil
	}
	kind := s.Name[strings.LastIndexByte(s.Name, '.')+1:]
	return nil, &Error{Msg: "Requested conversion of " + kind + " object but the schema is not nullable and a null was supplied."}
}

// twosComplement encodes x as Java's BigInteger.toByteArray: minimal
// big-endian two's complement.
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// For negative x: 2^(8n) + x with n the smallest byte count whose sign bit is set.
	n := (x.BitLen() + 8) / 8
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	b := m.Add(m, x).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	// Drop redundant leading 0xff bytes, keeping the sign bit.
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}
