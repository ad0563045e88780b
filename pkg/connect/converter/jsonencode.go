package converter

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// jsonTypeName is the "type" Connect's JsonSchema writes for t: Connect's
// names except FLOAT32 "float" and FLOAT64 "double".
func jsonTypeName(t data.Type) string {
	switch t {
	case data.TypeFloat32:
		return "float"
	case data.TypeFloat64:
		return "double"
	}
	return string(t)
}

// appendSchema renders s as Connect's JsonConverter.asJsonSchema does, in
// its key order: type, items|keys,values|fields, optional, name, version,
// doc, parameters, default; a struct field's schema ends with "field".
func (c *JSONConverter) appendSchema(b []byte, s *data.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if !s.Type.Valid() {
		return b, dataErrorf("Couldn't translate unsupported schema type %s.", s)
	}
	var err error
	b = append(b, `{"type":`...)
	b = appendJSONString(b, jsonTypeName(s.Type))
	switch s.Type {
	case data.TypeArray:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.ValueSchema); err != nil {
			return b, err
		}
	case data.TypeMap:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.KeySchema); err != nil {
			return b, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema); err != nil {
			return b, err
		}
	case data.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchema(b, f.Schema); err != nil {
				return b, err
			}
			if f.Schema == nil {
				return b, dataErrorf("Couldn't translate unsupported schema type %s.", f.Schema)
			}
			b = append(b[:len(b)-1], `,"field":`...)
			b = appendJSONString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
	}
	if s.Version != nil {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(*s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc)
	}
	if s.Parameters != nil {
		// Connect keeps insertion order (LinkedHashMap); Go maps have none,
		// so parameters are written sorted by key.
		b = append(b, `,"parameters":{`...)
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendValue writes v as Connect's JsonConverter.convertToJson does.
func (c *JSONConverter) appendValue(b []byte, s *data.Schema, v any) ([]byte, error) {
	if st, ok := v.(*data.Struct); ok && st == nil {
		v = nil
	}
	if v == nil {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default != nil && c.replaceNull:
			return c.appendValue(b, s, s.Default)
		case s.Optional:
			return append(b, "null"...), nil
		}
		return b, dataErrorf("Conversion error: null value for field that is required and has no default value")
	}
	if s != nil && s.Name != "" {
		if b, done, err := c.appendLogical(b, s, v); done {
			return b, err
		}
	}
	var t data.Type
	if s != nil {
		t = s.Type
	} else {
		t = data.TypeOf(v)
		if t == "" {
			return b, dataErrorf("Go type %T does not have corresponding schema type.", v)
		}
	}
	switch t {
	case data.TypeInt8:
		if x, ok := v.(int8); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case data.TypeInt16:
		if x, ok := v.(int16); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case data.TypeInt32:
		if x, ok := v.(int32); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case data.TypeInt64:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		case int:
			if s == nil {
				return strconv.AppendInt(b, int64(x), 10), nil
			}
		}
	case data.TypeFloat32:
		if x, ok := v.(float32); ok {
			return appendJSONFloat(b, float64(x), 32), nil
		}
	case data.TypeFloat64:
		if x, ok := v.(float64); ok {
			return appendJSONFloat(b, x, 64), nil
		}
	case data.TypeBoolean:
		if x, ok := v.(bool); ok {
			return strconv.AppendBool(b, x), nil
		}
	case data.TypeString:
		if x, ok := v.(string); ok {
			return appendJSONString(b, x), nil
		}
	case data.TypeBytes:
		if x, ok := v.([]byte); ok {
			return appendBase64(b, x), nil
		}
		return b, dataErrorf("Invalid type for bytes type: %T", v)
	case data.TypeArray:
		if x, ok := v.([]any); ok {
			return c.appendArray(b, s, x)
		}
	case data.TypeMap:
		switch x := v.(type) {
		case map[string]any:
			return c.appendStringMap(b, s, x)
		case map[any]any:
			return c.appendAnyMap(b, s, x)
		}
	case data.TypeStruct:
		if x, ok := v.(*data.Struct); ok {
			return c.appendStruct(b, s, x)
		}
	}
	what := "unknown schema"
	if s != nil {
		what = strings.ToUpper(string(s.Type))
	}
	return b, dataErrorf("Invalid type for %s: %T", what, v)
}

// appendLogical handles Decimal, Date, Time and Timestamp, which Connect
// recognises by schema name alone. done is false for other names.
func (c *JSONConverter) appendLogical(b []byte, s *data.Schema, v any) (_ []byte, done bool, _ error) {
	switch s.Name {
	case data.DecimalName:
		d, ok := v.(data.Decimal)
		if !ok {
			return b, true, dataErrorf("Invalid type for Decimal, expected data.Decimal but was %T", v)
		}
		if c.decimalNumeric {
			return data.AppendBigDecimal(b, d), true, nil
		}
		if d.Unscaled != nil && d.Unscaled.IsInt64() {
			// Most decimals: their bytes without big.Int's or boxing's
			// allocations, as FromLogical would give them.
			if scale, err := data.DecimalScale(s); err == nil && scale == d.Scale {
				var buf [8]byte
				return appendBase64(b, minimalTwosComplement(buf[:], d.Unscaled.Int64())), true, nil
			}
		}
		raw, err := data.FromLogical(s, d)
		if err != nil {
			return b, true, err
		}
		return appendBase64(b, raw.([]byte)), true, nil
	case data.DateName, data.TimeName, data.TimestampName:
		t, ok := v.(time.Time)
		if ok && s.Name == data.TimestampName {
			// FromLogical's conversion, without boxing the result.
			return strconv.AppendInt(b, t.UnixMilli(), 10), true, nil
		}
		if !ok {
			kind := s.Name[strings.LastIndexByte(s.Name, '.')+1:]
			return b, true, dataErrorf("Invalid type for %s, expected time.Time but was %T", kind, v)
		}
		raw, err := data.FromLogical(s, v)
		if err != nil {
			return b, true, err
		}
		switch n := raw.(type) {
		case int32:
			return strconv.AppendInt(b, int64(n), 10), true, nil
		case int64:
			return strconv.AppendInt(b, n, 10), true, nil
		}
	}
	return b, false, nil
}

func (c *JSONConverter) appendArray(b []byte, s *data.Schema, arr []any) ([]byte, error) {
	var elem *data.Schema
	if s != nil {
		elem = s.ValueSchema
	}
	b = append(b, '[')
	var err error
	for i, e := range arr {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = c.appendValue(b, elem, e); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendStringMap writes a map whose keys are strings. Connect's order is
// its HashMap's; Sluice sorts the keys so that output is deterministic.
func (c *JSONConverter) appendStringMap(b []byte, s *data.Schema, m map[string]any) ([]byte, error) {
	var ks, vs *data.Schema
	if s != nil {
		ks, vs = s.KeySchema, s.ValueSchema
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	objectMode := ks == nil || ks.Type == data.TypeString
	if objectMode {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if objectMode {
			b = appendJSONString(b, k)
			b = append(b, ':')
		} else {
			b = append(b, '[')
			if b, err = c.appendValue(b, ks, k); err != nil {
				return b, err
			}
			b = append(b, ',')
		}
		if b, err = c.appendValue(b, vs, m[k]); err != nil {
			return b, err
		}
		if !objectMode {
			b = append(b, ']')
		}
	}
	if objectMode {
		return append(b, '}'), nil
	}
	return append(b, ']'), nil
}

// appendAnyMap writes a map[any]any: as an object when the key schema is
// STRING (or, schemaless, when every key is a string), otherwise as an
// array of [key, value] pairs, sorted by the key's JSON.
func (c *JSONConverter) appendAnyMap(b []byte, s *data.Schema, m map[any]any) ([]byte, error) {
	var ks, vs *data.Schema
	objectMode := true
	if s != nil {
		ks, vs = s.KeySchema, s.ValueSchema
		objectMode = ks == nil || ks.Type == data.TypeString
	} else {
		for k := range m {
			if _, ok := k.(string); !ok {
				objectMode = false
				break
			}
		}
	}
	type entry struct {
		key  []byte
		body []byte
	}
	entries := make([]entry, 0, len(m))
	var err error
	for k, v := range m {
		var kb []byte
		if objectMode {
			str, ok := k.(string)
			if !ok {
				return b, dataErrorf("Invalid type for STRING: %T", k)
			}
			kb = appendJSONString(nil, str)
		} else if kb, err = c.appendValue(nil, ks, k); err != nil {
			return b, err
		}
		var vb []byte
		if vb, err = c.appendValue(nil, vs, v); err != nil {
			return b, err
		}
		entries = append(entries, entry{kb, vb})
	}
	slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.key, y.key) })
	if objectMode {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		if objectMode {
			b = append(b, e.key...)
			b = append(b, ':')
			b = append(b, e.body...)
		} else {
			b = append(b, '[')
			b = append(b, e.key...)
			b = append(b, ',')
			b = append(b, e.body...)
			b = append(b, ']')
		}
	}
	if objectMode {
		return append(b, '}'), nil
	}
	return append(b, ']'), nil
}

func (c *JSONConverter) appendStruct(b []byte, s *data.Schema, st *data.Struct) ([]byte, error) {
	if s == nil || st.Schema() != s && !data.Equal(st.Schema(), s) {
		return b, dataErrorf("Mismatching schema.")
	}
	if len(s.Fields) == 0 {
		return append(b, '{', '}'), nil
	}
	names := c.structNames(s)
	if names == nil {
		b = append(b, '{')
	}
	var err error
	for i, f := range s.Fields {
		if names != nil {
			b = append(b, names.name(i)...)
		} else {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
		}
		// By index: s and the struct's schema are equal, and looking each
		// field up by name costs a scan of the fields per field.
		fv := st.At(f.Index)
		if fv == nil && c.replaceNull {
			fv = f.Schema.Default
		}
		if b, err = c.appendValue(b, f.Schema, fv); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// nameBits sets the number of struct schemas whose field names a
// JSONConverter keeps written: 1<<nameBits.
const nameBits = 6

// fieldNames is a struct schema's field names as appendStruct writes them
// before each value: `{"first":`, then `,"second":` and so on, one after
// the other in text, field i's from end[i-1] (0 for the first) to end[i].
// Written once per schema instead of for every record, they save escaping
// each name again (a Debezium change event has some 25 fields, its source
// block alone 15).
type fieldNames struct {
	schema *data.Schema
	text   []byte
	end    []int // nil until the schema is met a second time
}

// name returns field i's name as written.
func (n *fieldNames) name(i int) []byte {
	start := 0
	if i > 0 {
		start = n.end[i-1]
	}
	return n.text[start:n.end[i]]
}

// structNames returns the field names of s as written, or nil when s is
// not kept (yet). s may be in either of two slots chosen by its pointer.
// The first time s is met only its pointer is noted, so that schemas that
// change with every record cost a small allocation each rather than their
// names written twice.
func (c *JSONConverter) structNames(s *data.Schema) *fieldNames {
	h := uint64(uintptr(unsafe.Pointer(s))) * 0x9E3779B97F4A7C15 >> (64 - nameBits)
	first, second := &c.names[h], &c.names[h^1]
	slot := first
	n := first.Load()
	if n == nil || n.schema != s {
		if n2 := second.Load(); n2 != nil && n2.schema == s || n != nil && n2 == nil {
			slot, n = second, n2
		}
	}
	switch {
	case n != nil && n.schema == s && n.end != nil:
		return n
	case n == nil || n.schema != s:
		slot.Store(&fieldNames{schema: s})
		return nil
	}
	// Met again: write the names once.
	names := &fieldNames{schema: s, end: make([]int, len(s.Fields))}
	for i, f := range s.Fields {
		if i == 0 {
			names.text = append(names.text, '{')
		} else {
			names.text = append(names.text, ',')
		}
		names.text = appendJSONString(names.text, f.Name)
		names.text = append(names.text, ':')
		names.end[i] = len(names.text)
	}
	slot.Store(names)
	return names
}

// minimalTwosComplement writes n into buf (8 bytes) as the shortest
// big-endian two's complement that keeps its sign, as Java's
// BigInteger.toByteArray (and data.FromLogical for a Decimal) does, and
// returns that part of buf.
func minimalTwosComplement(buf []byte, n int64) []byte {
	binary.BigEndian.PutUint64(buf, uint64(n))
	lead := byte(0)
	if n < 0 {
		lead = 0xff
	}
	i := 0
	for i < 7 && buf[i] == lead && buf[i+1]&0x80 == lead&0x80 {
		i++
	}
	return buf[i:]
}

func appendBase64(b []byte, raw []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '"')
}

const hexDigits = "0123456789ABCDEF"

// appendJSONString writes s quoted as Jackson does: '"' and '\\' escaped,
// \b \t \n \f \r for those controls, \u00XX (upper-case hex) for the other
// controls, everything else (including non-ASCII and '/') as it is. Invalid
// UTF-8 becomes U+FFFD, as it cannot occur in a Java string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look (most text).
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain8 reports whether the 8 bytes of s are all printable ASCII other
// than '"' and '\\', which appendJSONString copies as they are. (A byte
// test per SWAR: x has a zero byte iff (x-0x01..01) &^ x & 0x80..80 != 0;
// a byte below n <= 0x80 iff (x-n*0x01..01) &^ x & 0x80..80 != 0.)
func plain8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	bad := x | (x-ones*0x20)&^x | (quote-ones)&^quote | (backslash-ones)&^backslash
	return bad&highs == 0
}

// appendJSONFloat writes f as Jackson does: Java's Float/Double.toString,
// and NaN and the infinities as the strings "NaN", "Infinity", "-Infinity".
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, '"')
		b = data.AppendJavaFloat(b, f, bits)
		return append(b, '"')
	}
	return data.AppendJavaFloat(b, f, bits)
}
