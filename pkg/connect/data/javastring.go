package data

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// JavaString renders a Connect value as Java's toString does for the value
// Connect would hold: numbers as Integer/Double.toString ("1.0", "1.0E10"),
// Decimal as BigDecimal.toString, lists "[a, b]", maps "{k=v, k2=v2}"
// (sorted by key, where Java's HashMap order is arbitrary), structs
// "Struct{a=1,b=x}", times as java.util.Date.toString in UTC
// ("Thu Jan 01 00:00:00 UTC 1970"). A []byte is rendered as its bytes (Java
// prints the array's identity, "[B@1b6d3586", which means nothing).
func JavaString(v any) string {
	return string(AppendJava(nil, v))
}

// AppendJava appends v rendered as JavaString does.
func AppendJava(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float32:
		return AppendJavaFloat(b, float64(x), 32)
	case float64:
		return AppendJavaFloat(b, x, 64)
	case []byte:
		return append(b, x...)
	case Decimal:
		return AppendBigDecimal(b, x)
	case time.Time:
		return x.UTC().AppendFormat(b, "Mon Jan 02 15:04:05 MST 2006")
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendJava(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, k...)
			b = append(b, '=')
			b = AppendJava(b, x[k])
		}
		return append(b, '}')
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, string(AppendJava(AppendJava(nil, k), "="))+JavaString(e))
		}
		slices.Sort(parts)
		return append(append(append(b, '{'), strings.Join(parts, ", ")...), '}')
	case *Struct:
		if x == nil {
			return append(b, "null"...)
		}
		b = append(b, "Struct{"...)
		first := true
		for _, f := range x.Schema().Fields {
			fv := x.GetWithoutDefault(f.Name)
			if fv == nil {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.Name...)
			b = append(b, '=')
			b = AppendJava(b, fv)
		}
		return append(b, '}')
	}
	return fmt.Append(b, v)
}

// AppendJavaFloat formats f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) do since JDK 19: the shortest digits that
// round-trip, in plain notation for 1e-3 <= |f| < 1e7 with at least one
// fractional digit ("1.0"), otherwise as d.dddE±n ("1.0E10", "1.5E-5").
func AppendJavaFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	// e is d[.ddd]e±XX
	ePos := bytes.IndexByte(e, 'e')
	mant, expText := e[:ePos], e[ePos+1:]
	exp, _ := strconv.Atoi(string(expText))
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	if exp >= -3 && exp < 7 {
		if exp >= 0 {
			if nd > exp+1 {
				b = append(b, d[:exp+1]...)
				b = append(b, '.')
				return append(b, d[exp+1:]...)
			}
			b = append(b, d...)
			for i := nd; i < exp+1; i++ {
				b = append(b, '0')
			}
			return append(b, '.', '0')
		}
		b = append(b, '0', '.')
		for i := 0; i < -exp-1; i++ {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	b = append(b, d[0], '.')
	if nd > 1 {
		b = append(b, d[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// AppendBigDecimal writes d as Java's BigDecimal.toString: plain notation
// when the scale is not negative and the adjusted exponent is at least -6,
// otherwise scientific ("1.23E+5", "1E-7").
func AppendBigDecimal(b []byte, d Decimal) []byte {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	if u.Sign() < 0 {
		b = append(b, '-')
	}
	digits := new(big.Int).Abs(u).Append(nil, 10)
	scale := int64(d.Scale)
	adjusted := -scale + int64(len(digits)-1)
	if scale >= 0 && adjusted >= -6 {
		switch {
		case scale == 0:
			return append(b, digits...)
		case int64(len(digits)) > scale:
			cut := int64(len(digits)) - scale
			b = append(b, digits[:cut]...)
			b = append(b, '.')
			return append(b, digits[cut:]...)
		default:
			b = append(b, '0', '.')
			for i := int64(len(digits)); i < scale; i++ {
				b = append(b, '0')
			}
			return append(b, digits...)
		}
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'E')
	if adjusted > 0 {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, adjusted, 10)
}
