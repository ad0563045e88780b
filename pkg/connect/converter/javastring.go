package converter

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

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
		return data.AppendJava(b, x), nil
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
