package converter

import (
	"strconv"

	"github.com/sluicehq/sluice/pkg/connect"
)

var _ connect.RawChecker = (*JSONConverter)(nil)

// SchemasEnabled reports whether the converter reads and writes the
// {"schema":...,"payload":...} envelope (schemas.enable).
func (c *JSONConverter) SchemasEnabled() bool { return c.schemasEnabled }

// CheckRaw reports whether ToConnectData reads value without error to a
// non-null value of a kind a raw sink reads: with schemas.enable=false, a
// JSON object, its syntax checked as ToConnectData reads it, without
// decoding anything; with schemas.enable=true, an envelope whose schema is
// a STRUCT of primitive and logical fields and whose payload is an object
// that reads without error against it (see checkEnvelope).
func (c *JSONConverter) CheckRaw(_ string, value []byte) bool {
	if c.schemasEnabled {
		return c.checkEnvelope(value)
	}
	r := jsonReader{b: value}
	return r.peek() == '{' && r.check() == nil
}

// check passes over one value, accepting exactly what readAny reads
// without error (content after it is left unread, as readAny leaves it).
func (r *jsonReader) check() error {
	switch c := r.peek(); {
	case c == '{':
		r.i++
		if r.peek() == '}' {
			r.i++
			return nil
		}
		for {
			// skipKey accepts exactly the strings readKey reads.
			if err := r.skipKey(); err != nil {
				return err
			}
			if r.peek() != ':' {
				return r.syntaxErr("expected ':'")
			}
			r.i++
			if err := r.check(); err != nil {
				return err
			}
			switch r.peek() {
			case ',':
				r.i++
			case '}':
				r.i++
				return nil
			default:
				return r.syntaxErr("expected ',' or '}'")
			}
		}
	case c == '[':
		return r.eachElem(r.check)
	case c == '"':
		return r.skipKey()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == 0:
		return r.syntaxErr("no content")
	}
	_, _, err := r.readNumber()
	return err
}

// JSONScanner reads schemaless JSON one value at a time with the rules of
// JSONConverter.ToConnectData (schemas.enable=false), for a sink that
// writes values straight into its own buffers instead of decoding them
// into Connect data: the same numbers (integral ones as Jackson's
// longValue, others as float64), the same strings, the same syntax. It
// allocates nothing for input without escapes. The zero value is ready
// for Reset; a JSONScanner is not safe for concurrent use.
type JSONScanner struct {
	r   jsonReader
	key []byte
}

// Reset makes s read b from its start.
func (s *JSONScanner) Reset(b []byte) { s.r = jsonReader{b: b} }

// Peek returns the first byte of the next value ('{', '[', '"', 't', 'f',
// 'n', '-' or a digit for a number), or 0 at the end of the input.
func (s *JSONScanner) Peek() byte { return s.r.peek() }

// Offset is the position of s in its input.
func (s *JSONScanner) Offset() int { return s.r.i }

// BeginObject reads the '{' that starts an object.
func (s *JSONScanner) BeginObject() error {
	if s.r.peek() != '{' {
		return s.r.syntaxErr("expected object")
	}
	s.r.i++
	return nil
}

// NextKey reads the next member's key and the ':' after it, with first
// true for an object's first member, or reads the object's closing '}'
// and returns more=false. The key, unescaped, is valid until the next call.
func (s *JSONScanner) NextKey(first bool) (key []byte, more bool, err error) {
	r := &s.r
	switch c := r.peek(); {
	case c == '}':
		r.i++
		return nil, false, nil
	case !first && c == ',':
		r.i++
	case !first:
		return nil, false, r.syntaxErr("expected ',' or '}'")
	}
	if key, err = s.appendString(s.key[:0]); err != nil {
		return nil, false, err
	}
	s.key = key
	if r.peek() != ':' {
		return nil, false, r.syntaxErr("expected ':'")
	}
	r.i++
	return key, true, nil
}

// AppendString reads a string and appends it, unescaped, to dst.
func (s *JSONScanner) AppendString(dst []byte) ([]byte, error) { return s.appendString(dst) }

func (s *JSONScanner) appendString(dst []byte) ([]byte, error) {
	r := &s.r
	start, end, escaped, err := r.stringRun()
	switch {
	case err != nil:
		return dst, err
	case escaped:
		return r.appendEscapedString(dst, start)
	}
	return append(dst, r.b[start:end]...), nil
}

// stringRun reads a string up to its closing quote or its first escape:
// start is where its text starts; escaped false, it ends at end and r is
// after the closing quote; escaped true, r is at the escape.
func (r *jsonReader) stringRun() (start, end int, escaped bool, err error) {
	r.skipWS()
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return 0, 0, false, r.syntaxErr("expected string")
	}
	start = r.i + 1
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			return start, j, false, nil
		case c == '\\':
			r.i = j
			return start, j, true, nil
		case c < 0x20:
			r.i = j
			return 0, 0, false, r.syntaxErr("control character in string")
		}
	}
	r.i = len(r.b)
	return 0, 0, false, r.syntaxErr("unterminated string")
}

// Number reads a number as ToConnectData does: integral ones (no fraction
// or exponent) as i with integral true, others as f.
func (s *JSONScanner) Number() (i int64, f float64, integral bool, err error) {
	text, integral, err := s.r.readNumber()
	if err != nil {
		return 0, 0, false, err
	}
	if integral {
		return javaLong(text, true), 0, true, nil
	}
	f, _ = strconv.ParseFloat(string(text), 64) // as readAny: out of range gives ±Inf
	return 0, f, false, nil
}

// Bool reads true or false.
func (s *JSONScanner) Bool() (bool, error) {
	switch s.r.peek() {
	case 't':
		return true, s.r.literal("true")
	case 'f':
		return false, s.r.literal("false")
	}
	return false, s.r.syntaxErr("expected a boolean")
}

// Null reads null.
func (s *JSONScanner) Null() error { return s.r.literal("null") }

// Skip passes over one value, checking it as ToConnectData reads it.
func (s *JSONScanner) Skip() error { return s.r.check() }

// NumberText reads a number and returns its text (a slice of the input)
// and whether it is integral (no fraction or exponent), for a reader that
// converts it as ToConnectData does for a schema's type.
func (s *JSONScanner) NumberText() (text []byte, integral bool, err error) {
	return s.r.readNumber()
}

// StringBytes reads a string and returns it unescaped: a slice of the
// input when it has no escapes, a new slice otherwise.
func (s *JSONScanner) StringBytes() ([]byte, error) {
	r := &s.r
	start, end, escaped, err := r.stringRun()
	switch {
	case err != nil:
		return nil, err
	case escaped:
		return r.appendEscapedString(nil, start)
	}
	return r.b[start:end:end], nil
}
