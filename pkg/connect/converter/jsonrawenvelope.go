package converter

import (
	"bytes"
	"encoding/base64"
	"strconv"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// With schemas.enable=true, CheckRaw accepts the envelopes whose schema is
// a STRUCT of primitive and logical fields (the rows of a table) and whose
// payload ToConnectData reads without error; a sink then reads the payload
// with a JSONScanner, the field types from RawEnvelope's schema. Anything
// else (nested structs, arrays, maps, a null replaced by a default) is
// refused, and the lease decodes it as usual.

// RawEnvelope returns the schema (parsed once per distinct text, as
// ToConnectData parses it) and the payload's bytes of a value that CheckRaw
// accepted with schemas.enable=true; ok is false for any other value.
func (c *JSONConverter) RawEnvelope(value []byte) (schema *data.Schema, payload []byte, ok bool) {
	if !c.schemasEnabled || len(value) == 0 {
		return nil, nil, false
	}
	r := jsonReader{b: value}
	schema, payload, err := c.readEnvelopeSchema(&r)
	if err != nil {
		return nil, nil, false
	}
	return schema, payload, schema != nil
}

// RawPayload is RawEnvelope without reading the payload through when the
// value is laid out as JsonConverter writes it,
// {"schema":<the schema last read>,"payload":<payload>}: payload is then
// the bytes between the schema and the last '}', unchecked, and a reader
// that does not find exactly one value in it (nothing after the value's
// end, not even a space) must ask RawEnvelope instead.
func (c *JSONConverter) RawPayload(value []byte) (schema *data.Schema, payload []byte, ok bool) {
	const pre, mid = `{"schema":`, `,"payload":`
	last := c.last.Load()
	if !c.schemasEnabled || last == nil || len(value) < len(pre)+len(last.raw)+len(mid)+1 || value[len(value)-1] != '}' ||
		!bytes.HasPrefix(value, []byte(pre)) || !bytes.HasPrefix(value[len(pre):], last.raw) ||
		!bytes.HasPrefix(value[len(pre)+len(last.raw):], []byte(mid)) {
		return c.RawEnvelope(value)
	}
	return last.schema, value[len(pre)+len(last.raw)+len(mid) : len(value)-1], last.schema != nil
}

// checkEnvelope is CheckRaw with schemas.enable=true: whether ToConnectData
// reads value without error to a non-null Struct of a flat schema.
func (c *JSONConverter) checkEnvelope(value []byte) bool {
	s, payload, ok := c.RawPayload(value)
	if !ok {
		return false
	}
	if end, ok := c.checkPayload(s, payload); ok && end == len(payload) {
		return true
	}
	// Not one object between the schema and the last '}': read through.
	if s, payload, ok = c.RawEnvelope(value); !ok {
		return false
	}
	_, ok = c.checkPayload(s, payload)
	return ok
}

// checkPayload reports whether ToConnectData reads payload's first value
// against s without error to a non-null Struct of a flat schema, and
// returns where that value ends.
func (c *JSONConverter) checkPayload(s *data.Schema, payload []byte) (end int, ok bool) {
	if s.Type != data.TypeStruct || data.IsLogical(s) {
		return 0, false
	}
	r := jsonReader{b: payload}
	if r.peek() != '{' {
		return 0, false // null (or an error)
	}
	var small [16]bool
	seen := seenFlags(&small, len(s.Fields))
	// eachKey, as readStruct reads the object, without making strings of
	// the keys.
	r.i++
	if r.peek() == '}' {
		r.i++
	} else {
		for {
			key, ok := r.keyBytes()
			if !ok || r.peek() != ':' {
				return 0, false
			}
			r.i++
			fi := -1
			for i := range s.Fields {
				if s.Fields[i].Name == string(key) {
					fi = i
					break
				}
			}
			if fi < 0 {
				if _, err := r.skip(); err != nil {
					return 0, false
				}
			} else if c.checkField(&r, s.Fields[fi].Schema) {
				seen[fi] = true
			} else {
				return 0, false
			}
			switch r.peek() {
			case ',':
				r.i++
				continue
			case '}':
				r.i++
			default:
				return 0, false
			}
			break
		}
	}
	for i, f := range s.Fields {
		if !seen[i] && !c.nullOK(f.Schema) {
			return 0, false
		}
	}
	return r.i, true
}

// keyBytes reads a key as readKey does, and returns it unescaped: a slice
// of the input when it has no escapes.
func (r *jsonReader) keyBytes() ([]byte, bool) {
	r.skipWS()
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, false
	}
	start := r.i + 1
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			return r.b[start:j], true
		case c == '\\':
			k, err := r.readString()
			return []byte(k), err == nil
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// nullOK reports whether a null (or missing) field reads as nil without
// error: optional, and no default that replaces it.
func (c *JSONConverter) nullOK(s *data.Schema) bool {
	return s.Optional && (s.Default == nil || !c.replaceNull)
}

// checkField reports whether readValue reads the next value against the
// primitive or logical schema s without error (false also for what it does
// not vouch for); it passes over the value.
func (c *JSONConverter) checkField(r *jsonReader, s *data.Schema) bool {
	kind := r.peek()
	if kind == 'n' {
		return r.literal("null") == nil && c.nullOK(s)
	}
	if kind == 0 {
		return false
	}
	switch s.Name {
	case data.DecimalName:
		if s.Type != data.TypeBytes {
			return false
		}
		if _, err := data.DecimalScale(s); err != nil {
			return false
		}
		switch {
		case isNumberStart(kind):
			text, _, err := r.readNumber()
			if err != nil {
				return false
			}
			_, err = data.ParseDecimal(string(text))
			return err == nil
		case kind == '"':
			n, ok := c.checkBase64(r)
			return ok && n > 0
		}
		return false
	case data.DateName, data.TimeName, data.TimestampName:
		if !isNumberStart(kind) {
			return false
		}
		text, integral, err := r.readNumber()
		if err != nil || !integral {
			return false
		}
		if s.Name == data.TimestampName {
			return s.Type == data.TypeInt64
		}
		n, err := strconv.ParseInt(string(text), 10, 32)
		if err != nil || s.Type != data.TypeInt32 {
			return false
		}
		return s.Name == data.DateName || n >= 0 && n < 24*60*60*1000
	}
	switch s.Type {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		if !isNumberStart(kind) {
			return false
		}
		_, _, err := r.readNumber()
		return err == nil
	case data.TypeFloat32, data.TypeFloat64:
		if isNumberStart(kind) {
			_, _, err := r.readNumber()
			return err == nil
		}
		if kind != '"' {
			return false
		}
		str, err := r.readString()
		_, named := FloatName(str)
		return err == nil && named
	case data.TypeBoolean:
		switch kind {
		case 't':
			return r.literal("true") == nil
		case 'f':
			return r.literal("false") == nil
		}
		return false
	case data.TypeString:
		return kind == '"' && r.skipKey() == nil
	case data.TypeBytes:
		_, ok := c.checkBase64(r)
		return ok
	}
	return false // arrays, maps, structs
}

// checkBase64 reads a string and reports whether it is standard base64,
// and the length of the bytes it holds.
func (c *JSONConverter) checkBase64(r *jsonReader) (int, bool) {
	if r.peek() != '"' {
		return 0, false
	}
	start := r.i + 1
	if err := r.skipKey(); err != nil {
		return 0, false
	}
	raw := r.b[start : r.i-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		str, err := (&jsonReader{b: r.b[start-1 : r.i]}).readString()
		if err != nil {
			return 0, false
		}
		raw = []byte(str)
	}
	var scratch [96]byte
	dst := scratch[:]
	if n := base64.StdEncoding.DecodedLen(len(raw)); n > len(dst) {
		dst = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(dst, raw)
	return n, err == nil
}
