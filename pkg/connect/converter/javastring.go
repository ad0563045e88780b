package converter

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// JavaString renders a Connect value as Java's toString does for the value
// Connect would hold: numbers as Integer/Double.toString ("1.0", "1.0E10"),
// Decimal as BigDecimal.toString, lists "[a, b]", maps "{k=v, k2=v2}"
// (sorted by key, where Java's HashMap order is arbitrary), structs
// "Struct{a=1,b=x}", times as java.util.Date.toString in UTC
// ("Thu Jan 01 00:00:00 UTC 1970"). A []byte is rendered as its bytes (Java
// prints the array's identity, "[B@1b6d3586", which means nothing).
func JavaString(v any) string {
	var b []byte
	return string(appendJava(b, v))
}

func appendJava(b []byte, v any) []byte {
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
		return appendJavaFloat(b, float64(x), 32)
	case float64:
		return appendJavaFloat(b, x, 64)
	case []byte:
		return append(b, x...)
	case data.Decimal:
		return appendBigDecimal(b, x)
	case time.Time:
		return x.UTC().AppendFormat(b, "Mon Jan 02 15:04:05 MST 2006")
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJava(b, e)
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
			b = appendJava(b, x[k])
		}
		return append(b, '}')
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, string(appendJava(appendJava(nil, k), "="))+JavaString(e))
		}
		slices.Sort(parts)
		return append(append(append(b, '{'), strings.Join(parts, ", ")...), '}')
	case *data.Struct:
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
			b = appendJava(b, fv)
		}
		return append(b, '}')
	}
	return fmt.Append(b, v)
}

// Values' ISO 8601 layouts (Connect's Values.ISO_8601_*_FORMAT_PATTERN).
const (
	isoDate      = "2006-01-02"
	isoTime      = "15:04:05.000Z"
	isoTimestamp = "2006-01-02T15:04:05.000Z"
	msPerDay     = 24 * 60 * 60 * 1000
)

// appendValuesString renders v as Connect's Values.convertToString does (the
// SimpleHeaderConverter's format): strings bare at the top and quoted (with
// '\\' and '"' escaped) inside lists, maps and structs; bytes in base64;
// lists "[a,b]"; maps and structs {"k":v}; times by their instant: before
// 1970-01-02 as a time, on a day boundary as a date, else as a timestamp.
func appendValuesString(b []byte, v any, embedded bool) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int8, int16, int32, int64, int, float32, float64, bool, data.Decimal:
		return appendJava(b, x), nil
	case string:
		if !embedded {
			return append(b, x...), nil
		}
		b = append(b, '"')
		b = append(b, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x)...)
		return append(b, '"'), nil
	case []byte:
		if embedded {
			b = append(b, '"')
		}
		b = base64.StdEncoding.AppendEncode(b, x)
		if embedded {
			b = append(b, '"')
		}
		return b, nil
	case time.Time:
		ms := x.UnixMilli()
		t := time.UnixMilli(ms).UTC()
		switch {
		case ms < msPerDay:
			return t.AppendFormat(b, isoTime), nil
		case ms%msPerDay == 0:
			return t.AppendFormat(b, isoDate), nil
		}
		return t.AppendFormat(b, isoTimestamp), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValuesString(b, e, true); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = appendValuesString(b, k, true)
			b = append(b, ':')
			if b, err = appendValuesString(b, x[k], true); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			kb, err := appendValuesString(nil, k, true)
			if err != nil {
				return b, err
			}
			kb = append(kb, ':')
			if kb, err = appendValuesString(kb, e, true); err != nil {
				return b, err
			}
			parts = append(parts, string(kb))
		}
		slices.Sort(parts)
		return append(append(append(b, '{'), strings.Join(parts, ",")...), '}'), nil
	case *data.Struct:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		for i, f := range x.Schema().Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = appendValuesString(b, f.Name, true)
			b = append(b, ':')
			if b, err = appendValuesString(b, x.Get(f.Name), true); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, dataErrorf("Failed to serialize unexpected value type %T: %v", v, v)
}
