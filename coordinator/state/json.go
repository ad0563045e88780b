package state

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The values of both topics are written as Connect's JsonConverter with
// schemas.enable=false writes them through Jackson: struct fields in schema
// order, null fields written as null, no whitespace, and strings escaped as
// Jackson escapes them (only '"', '\\' and control characters; \b \t \n \f
// \r in short form, the rest as \u00XX in upper-case hex; '<', '>', '&',
// '/' and non-ASCII written as they are). encoding/json escapes differently
// (HTML characters, U+2028), hence this small writer.

const upperHex = "0123456789ABCDEF"

// appendString appends s as a JSON string, escaped as Jackson does.
// Invalid UTF-8 bytes become U+FFFD, as a Java String cannot hold them.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
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
				b = append(b, '\\', 'u', '0', '0', upperHex[c>>4], upperHex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendProperties appends {"properties":{...}} with the keys sorted.
func appendProperties(b []byte, props map[string]string) []byte {
	b = append(b, `{"properties":{`...)
	for i, k := range slices.Sorted(maps.Keys(props)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, props[k])
	}
	return append(b, "}}"...)
}

// object is a decoded JSON object, its values left raw so that each field is
// checked for the type Connect expects, with exact (case-sensitive) names.
type object map[string]json.RawMessage

// decodeValue decodes a record value as Connect's JsonConverter would:
// ok is false when the bytes are not JSON (Connect logs and skips the record
// without moving its offset), null is true for a tombstone or a JSON null,
// and obj is nil when the value is JSON but not an object.
func decodeValue(v []byte) (obj object, null, ok bool) {
	if v == nil {
		return nil, true, true
	}
	trimmed := bytes.TrimSpace(v)
	if !json.Valid(trimmed) {
		return nil, false, false
	}
	if bytes.Equal(trimmed, []byte("null")) {
		return nil, true, true
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false, true
	}
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, false, false
	}
	return obj, false, true
}

// isNull reports whether a field is absent or JSON null.
func (o object) isNull(name string) bool {
	raw, ok := o[name]
	return !ok || bytes.Equal(raw, []byte("null"))
}

// str returns a string field; ok is false if it is absent, null or not a string.
func (o object) str(name string) (string, bool) {
	raw, ok := o[name]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// integer returns an integral number field as Java's intValue() of a Long
// would: truncated to 32 bits. ok is false if it is absent or not an integer.
func (o object) integer(name string) (int32, bool) {
	raw, ok := o[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// properties returns a {"k":"v"} field. Null values are left out (a Go map
// of strings cannot hold them); ok is false if the field is not an object of
// strings and nulls.
func (o object) properties(name string) (map[string]string, bool) {
	raw, ok := o[name]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var m map[string]*string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out, true
}
