package filestream

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// javaDateLayout is java.util.Date.toString's format, "EEE MMM dd HH:mm:ss zzz yyyy".
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// AppendValue appends v, a value of Connect's data model, rendered as Java's
// String.valueOf renders the corresponding Connect value, which is what
// Connect's FileStreamSinkTask writes:
//
//   - nil is "null"; strings are written as they are; booleans and integers
//     as Java prints them;
//   - FLOAT32 and FLOAT64 as Float.toString and Double.toString ("1.0",
//     "1.0E7", "NaN", "Infinity");
//   - Decimal as BigDecimal.toString ("12.30", "1.23E+5");
//   - Date, Time and Timestamp values (time.Time) as java.util.Date.toString
//     in UTC ("Mon Jan 01 00:00:00 UTC 2024");
//   - ARRAY as List.toString ("[a, b]") and MAP as Map.toString ("{k=v, k2=v2}");
//     map entries are sorted by their rendered key, where Java's HashMap
//     order is unspecified;
//   - STRUCT as Struct.toString ("Struct{a=1,b=x}"), leaving null fields out,
//     with field values rendered by these same rules;
//   - BYTES as the raw bytes. Java would print the array's identity
//     ("[B@1b6d3586"), which is of no use; raw bytes let the sink copy
//     payloads read with the ByteArrayConverter.
//
// Other values use their String method, or fmt's %v.
func AppendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return append(dst, v...)
	case []byte:
		return append(dst, v...)
	case bool:
		return strconv.AppendBool(dst, v)
	case int8:
		return strconv.AppendInt(dst, int64(v), 10)
	case int16:
		return strconv.AppendInt(dst, int64(v), 10)
	case int32:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case float32:
		return appendJavaFloat(dst, float64(v), 32)
	case float64:
		return appendJavaFloat(dst, v, 64)
	case data.Decimal:
		return append(dst, javaBigDecimal(v)...)
	case time.Time:
		return v.UTC().AppendFormat(dst, javaDateLayout)
	case *data.Struct:
		return appendStruct(dst, v)
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendValue(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		return appendMap(dst, len(v), func(yield func(k, v any) bool) {
			for k, e := range v {
				if !yield(k, e) {
					return
				}
			}
		})
	case map[any]any:
		return appendMap(dst, len(v), func(yield func(k, v any) bool) {
			for k, e := range v {
				if !yield(k, e) {
					return
				}
			}
		})
	case fmt.Stringer:
		return append(dst, v.String()...)
	}
	return fmt.Append(dst, v)
}

func appendStruct(dst []byte, s *data.Struct) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, "Struct{"...)
	first := true
	for _, f := range s.Schema().Fields {
		v := s.GetWithoutDefault(f.Name)
		if v == nil {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		dst = AppendValue(dst, v)
	}
	return append(dst, '}')
}

func appendMap(dst []byte, n int, entries func(yield func(k, v any) bool)) []byte {
	type entry struct{ k, v string }
	rendered := make([]entry, 0, n)
	for k, v := range entries {
		rendered = append(rendered, entry{string(AppendValue(nil, k)), string(AppendValue(nil, v))})
	}
	slices.SortFunc(rendered, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	dst = append(dst, '{')
	for i, e := range rendered {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, e.k...)
		dst = append(dst, '=')
		dst = append(dst, e.v...)
	}
	return append(dst, '}')
}

// appendJavaFloat formats f as Java's Double.toString (bits 64) or
// Float.toString (bits 32): plain notation with at least one fraction digit
// for magnitudes in [1e-3, 1e7), computerized scientific notation otherwise.
func appendJavaFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, bits)
		if !slices.Contains(dst[start:], '.') {
			dst = append(dst, ".0"...)
		}
		return dst
	}
	s := strconv.FormatFloat(f, 'E', -1, bits)
	mantissa, exp, _ := strings.Cut(s, "E")
	dst = append(dst, mantissa...)
	if !strings.Contains(mantissa, ".") {
		dst = append(dst, ".0"...)
	}
	e, _ := strconv.Atoi(exp)
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(e), 10)
}

// javaBigDecimal renders d as BigDecimal.toString: plain notation unless the
// scale is negative or the adjusted exponent is below -6.
func javaBigDecimal(d data.Decimal) string {
	if d.Unscaled == nil {
		return d.String()
	}
	coeff := strings.TrimPrefix(d.Unscaled.String(), "-")
	adjusted := -int64(d.Scale) + int64(len(coeff)-1)
	if d.Scale >= 0 && adjusted >= -6 {
		return d.String()
	}
	var b strings.Builder
	if d.Unscaled.Sign() < 0 {
		b.WriteByte('-')
	}
	b.WriteString(coeff[:1])
	if len(coeff) > 1 {
		b.WriteByte('.')
		b.WriteString(coeff[1:])
	}
	b.WriteByte('E')
	if adjusted > 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.FormatInt(adjusted, 10))
	return b.String()
}
