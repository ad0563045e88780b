package converter

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// jsonReader is a small JSON scanner over a byte slice. Values are decoded
// straight into Connect data, with no intermediate tree.
type jsonReader struct {
	b []byte
	i int
	// share makes the strings read substrings of whole, one copy of b made
	// at the first string: one allocation for all of an input's strings
	// instead of one each. It is set only for inputs of at most
	// maxSharedInput bytes (see reset), so that a string read keeps at most
	// that much alive.
	share bool
	whole string
	// keys, when not nil, interns object keys: the field names of a topic's
	// records are the same in every record and, once seen, are read without
	// allocating.
	keys map[string]string
}

const (
	// maxSharedInput is the largest input whose strings share one copy.
	maxSharedInput = 4 << 10
	// maxInternedKeys bounds a reader's interned keys (the table is cleared
	// when full) and maxInternedKeyLen the length of one.
	maxInternedKeys   = 1024
	maxInternedKeyLen = 64
)

// readerPool holds readers with their interned keys, so that the records
// a converter reads one after another share them.
var readerPool = sync.Pool{New: func() any { return &jsonReader{keys: map[string]string{}} }}

// pooledReader returns a reader of b from the pool; putReader returns it.
func pooledReader(b []byte) *jsonReader {
	r := readerPool.Get().(*jsonReader)
	r.reset(b)
	return r
}

func putReader(r *jsonReader) {
	r.b, r.whole = nil, ""
	readerPool.Put(r)
}

// reset makes r read b from its start, keeping its interned keys.
func (r *jsonReader) reset(b []byte) {
	r.b, r.i, r.share, r.whole = b, 0, len(b) <= maxSharedInput, ""
}

// str returns b[i:j] as a string: a substring of whole when sharing.
func (r *jsonReader) str(i, j int) string {
	if !r.share || i == j {
		return string(r.b[i:j])
	}
	if r.whole == "" {
		r.whole = string(r.b)
	}
	return r.whole[i:j]
}

var errSyntax = errors.New("malformed JSON")

func (r *jsonReader) syntaxErr(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, r.i)
}

func serializationError(err error) error {
	return dataErrorWrap("Converting byte[] to Kafka Connect data failed due to serialization error:", err)
}

func (r *jsonReader) skipWS() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-blank byte, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.skipWS()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// nodeType names the next value as Jackson's JsonNodeType does, for
// Connect's error messages.
func (r *jsonReader) nodeType() string {
	switch c := r.peek(); {
	case c == '{':
		return "OBJECT"
	case c == '[':
		return "ARRAY"
	case c == '"':
		return "STRING"
	case c == 't' || c == 'f':
		return "BOOLEAN"
	case c == 'n':
		return "NULL"
	case c == '-' || c >= '0' && c <= '9':
		return "NUMBER"
	}
	return "MISSING"
}

func (r *jsonReader) literal(lit string) error {
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		return r.syntaxErr("unexpected token")
	}
	r.i += len(lit)
	return nil
}

func isNullLiteral(raw []byte) bool {
	r := jsonReader{b: raw}
	return r.peek() == 'n'
}

// readNumber scans a JSON number and reports whether it is integral (no
// fraction or exponent), which is how Jackson tells ints from decimals.
func (r *jsonReader) readNumber() (text []byte, integral bool, err error) {
	r.skipWS()
	b, start := r.b, r.i
	// The scan keeps its position in a local, which stays in a register.
	i := start
	digits := func() int {
		n := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - n
	}
	integral = true
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		r.i = i
		return nil, false, r.syntaxErr("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		integral = false
		if digits() == 0 {
			r.i = i
			return nil, false, r.syntaxErr("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		integral = false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.i = i
			return nil, false, r.syntaxErr("invalid number")
		}
	}
	r.i = i
	return b[start:i], integral, nil
}

// readString reads a JSON string, unescaping it.
func (r *jsonReader) readString() (string, error) {
	r.skipWS()
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return "", r.syntaxErr("expected string")
	}
	r.i++
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.str(start, r.i)
			r.i++
			return s, nil
		case c == '\\':
			return r.readEscapedString(start)
		case c < 0x20:
			return "", r.syntaxErr("control character in string")
		}
		r.i++
	}
	return "", r.syntaxErr("unterminated string")
}

// readKey reads an object's key, as readString, interning it when r has
// a table for that and the key is short and has no escapes.
func (r *jsonReader) readKey() (string, error) {
	if r.keys == nil {
		return r.readString()
	}
	r.skipWS()
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return r.readString()
	}
	start := r.i + 1
	for j := start; j < len(r.b) && j-start <= maxInternedKeyLen; j++ {
		c := r.b[j]
		if c == '\\' || c < 0x20 {
			break
		}
		if c != '"' {
			continue
		}
		raw := r.b[start:j]
		k, ok := r.keys[string(raw)]
		if !ok {
			if len(r.keys) >= maxInternedKeys {
				clear(r.keys)
			}
			k = string(raw)
			r.keys[k] = k
		}
		r.i = j + 1
		return k, nil
	}
	return r.readString()
}

func (r *jsonReader) readEscapedString(start int) (string, error) {
	out, err := r.appendEscapedString(make([]byte, 0, r.i-start+16), start)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// appendEscapedString is readEscapedString appending the string to out.
func (r *jsonReader) appendEscapedString(out []byte, start int) ([]byte, error) {
	out = append(out, r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			return out, nil
		case c < 0x20:
			return out, r.syntaxErr("control character in string")
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			break
		}
		e := r.b[r.i+1]
		r.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r1, ok := r.hex4()
			if !ok {
				return out, r.syntaxErr("invalid \\u escape")
			}
			if utf16.IsSurrogate(r1) && r.i+1 < len(r.b) && r.b[r.i] == '\\' && r.b[r.i+1] == 'u' {
				save := r.i
				r.i += 2
				if r2, ok := r.hex4(); ok {
					if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						continue
					}
				}
				r.i = save
			}
			out = utf8.AppendRune(out, r1)
		default:
			return out, r.syntaxErr("invalid escape")
		}
	}
	return out, r.syntaxErr("unterminated string")
}

func (r *jsonReader) hex4() (rune, bool) {
	if r.i+4 > len(r.b) {
		return 0, false
	}
	var v rune
	for _, c := range r.b[r.i : r.i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return v, true
}

// skip passes over one value, checking its syntax, and returns its bytes.
func (r *jsonReader) skip() ([]byte, error) {
	r.skipWS()
	start := r.i
	var err error
	switch c := r.peek(); {
	case c == '{':
		err = r.skipObject()
	case c == '[':
		err = r.eachElem(func() error { _, e := r.skip(); return e })
	case c == '"':
		for r.i++; r.i < len(r.b) && r.b[r.i] != '"'; r.i++ {
			if r.b[r.i] == '\\' {
				r.i++
			} else if r.b[r.i] < 0x20 {
				return nil, r.syntaxErr("control character in string")
			}
		}
		if r.i >= len(r.b) {
			return nil, r.syntaxErr("unterminated string")
		}
		r.i++
	case c == 't':
		err = r.literal("true")
	case c == 'f':
		err = r.literal("false")
	case c == 'n':
		err = r.literal("null")
	default:
		_, _, err = r.readNumber()
	}
	return r.b[start:r.i], err
}

// skipObject is eachKey skipping every value, without making strings of
// the keys: skipping a JsonConverter envelope's schema is on every
// record's path.
func (r *jsonReader) skipObject() error {
	r.i++ // '{'
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		if err := r.skipKey(); err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntaxErr("expected ':'")
		}
		r.i++
		if _, err := r.skip(); err != nil {
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
}

// skipKey checks and passes over a string as readString does.
func (r *jsonReader) skipKey() error {
	r.skipWS()
	b := r.b
	if r.i >= len(b) || b[r.i] != '"' {
		return r.syntaxErr("expected string")
	}
	start := r.i + 1
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			r.i = j + 1
			return nil
		case c == '\\':
			r.i = j
			_, err := r.readEscapedString(start)
			return err
		case c < 0x20:
			r.i = j
			return r.syntaxErr("control character in string")
		}
	}
	r.i = len(b)
	return r.syntaxErr("unterminated string")
}

// eachKey reads an object, calling f after each key with the reader placed
// on the value, which f must consume.
func (r *jsonReader) eachKey(f func(key string) error) error {
	if r.peek() != '{' {
		return r.syntaxErr("expected object")
	}
	r.i++
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		k, err := r.readKey()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntaxErr("expected ':'")
		}
		r.i++
		if err := f(k); err != nil {
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
}

// eachElem reads an array, calling f with the reader on each element.
func (r *jsonReader) eachElem(f func() error) error {
	if r.peek() != '[' {
		return r.syntaxErr("expected array")
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		if err := f(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.syntaxErr("expected ',' or ']'")
		}
	}
}

// readEnvelope reads {"schema":...,"payload":...} and returns the raw bytes
// of both members. Like Jackson, a repeated key keeps its last value, and
// content after the top-level value is ignored. known is the text of a
// schema object read before (or nil): a schema that starts with exactly
// those bytes is that object (an object ends where its text says), so it
// is passed over without scanning it again.
func (r *jsonReader) readEnvelope(known []byte) (schema, payload []byte, err error) {
	if r.peek() != '{' {
		if _, err := r.skip(); err != nil {
			return nil, nil, serializationError(err)
		}
		return nil, nil, &data.Error{Msg: envelopeError}
	}
	other := false
	err = r.eachKey(func(k string) error {
		if k == "schema" && len(known) > 0 && r.peek() == '{' && bytes.HasPrefix(r.b[r.i:], known) {
			schema = r.b[r.i : r.i+len(known)]
			r.i += len(known)
			return nil
		}
		v, err := r.skip()
		switch k {
		case "schema":
			schema = v
		case "payload":
			payload = v
		default:
			other = true
		}
		return err
	})
	if err != nil {
		return nil, nil, serializationError(err)
	}
	if other || schema == nil || payload == nil {
		return nil, nil, &data.Error{Msg: envelopeError}
	}
	return schema, payload, nil
}

// readAny decodes schemaless JSON as Connect does: objects to
// map[string]any, arrays to []any, integral numbers to int64 (Jackson's
// longValue), other numbers to float64.
func (r *jsonReader) readAny() (any, error) {
	switch c := r.peek(); {
	case c == '{':
		m := map[string]any{}
		err := r.eachKey(func(k string) error {
			v, err := r.readAny()
			m[k] = v
			return err
		})
		return m, err
	case c == '[':
		arr := []any{}
		err := r.eachElem(func() error {
			v, err := r.readAny()
			arr = append(arr, v)
			return err
		})
		return arr, err
	case c == '"':
		return r.readString()
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	case c == 0:
		return nil, r.syntaxErr("no content")
	}
	text, integral, err := r.readNumber()
	if err != nil {
		return nil, err
	}
	if integral {
		return javaLong(text, true), nil
	}
	f, _ := strconv.ParseFloat(string(text), 64) // out of range gives ±Inf, as BigDecimal.doubleValue
	return f, nil
}

// javaLong converts a JSON number to int64 as Jackson's longValue does:
// fractions truncated toward zero, out-of-range values wrapped to their low
// 64 bits.
func javaLong(text []byte, integral bool) int64 {
	if integral {
		if n, ok := smallInt(text); ok {
			return n
		}
		if n, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return n
		}
		x, _ := new(big.Int).SetString(string(text), 10)
		return lowBits(x)
	}
	d, err := data.ParseDecimal(string(text))
	if err != nil {
		return 0
	}
	x := d.Unscaled
	if d.Scale > 0 && int64(d.Scale) > int64(x.BitLen())/3+1 {
		return 0 // |x| < 10^Scale: truncates to 0, without computing 10^Scale
	}
	if d.Scale > 0 {
		x = new(big.Int).Quo(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
	} else if d.Scale < 0 {
		if d.Scale < -64 && x.Sign() != 0 {
			return 0 // every low bit is zero
		}
		x = new(big.Int).Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil))
	}
	return lowBits(x)
}

// smallInt parses an integral JSON number of at most 18 digits, which
// always fits an int64, without strconv's generality.
func smallInt(text []byte) (int64, bool) {
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) == 0 || len(text) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func lowBits(x *big.Int) int64 {
	mask := new(big.Int).SetUint64(math.MaxUint64)
	return int64(new(big.Int).And(x, mask).Uint64())
}

// readValue decodes the next value against schema s, as Connect's
// JsonConverter.convertToConnect.
func (c *JSONConverter) readValue(r *jsonReader, s *data.Schema) (any, error) {
	if s == nil {
		v, err := r.readAny()
		if err != nil {
			return nil, serializationError(err)
		}
		return v, nil
	}
	kind := r.peek()
	if kind == 'n' {
		if err := r.literal("null"); err != nil {
			return nil, serializationError(err)
		}
		return c.nullValue(s)
	}
	if kind == 0 {
		return c.nullValue(s)
	}
	if s.Name != "" {
		if v, done, err := c.readLogical(r, s); done {
			return v, err
		}
	}
	switch s.Type {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		if !isNumberStart(kind) {
			return nil, c.mismatch(r, s)
		}
		text, integral, err := r.readNumber()
		if err != nil {
			return nil, serializationError(err)
		}
		n := javaLong(text, integral)
		switch s.Type {
		case data.TypeInt8:
			return int8(n), nil
		case data.TypeInt16:
			return int16(n), nil
		case data.TypeInt32:
			return int32(n), nil
		}
		return n, nil
	case data.TypeFloat32, data.TypeFloat64:
		bits := 64
		if s.Type == data.TypeFloat32 {
			bits = 32
		}
		var f float64
		switch {
		case isNumberStart(kind):
			text, _, err := r.readNumber()
			if err != nil {
				return nil, serializationError(err)
			}
			f, _ = strconv.ParseFloat(string(text), bits)
		case kind == '"':
			// Jackson writes NaN and the infinities as strings; Connect
			// reads those back as 0, Sluice as what they say.
			str, err := r.readString()
			if err != nil {
				return nil, serializationError(err)
			}
			var ok bool
			if f, ok = FloatName(str); !ok {
				return nil, dataErrorf("Invalid value for %s field: %q", upperType(s.Type), str)
			}
		default:
			return nil, c.mismatch(r, s)
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	case data.TypeBoolean:
		switch kind {
		case 't':
			return true, wrapSyntax(r.literal("true"))
		case 'f':
			return false, wrapSyntax(r.literal("false"))
		}
		return nil, c.mismatch(r, s)
	case data.TypeString:
		if kind != '"' {
			return nil, c.mismatch(r, s)
		}
		str, err := r.readString()
		return str, wrapSyntax(err)
	case data.TypeBytes:
		if kind != '"' {
			return nil, c.mismatch(r, s)
		}
		str, err := r.readString()
		if err != nil {
			return nil, serializationError(err)
		}
		raw, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, dataErrorWrap("Invalid bytes field", err)
		}
		return raw, nil
	case data.TypeArray:
		if kind != '[' {
			return nil, dataErrorf("Arrays should be encoded as JSON arrays, but found %s", r.nodeType())
		}
		arr := []any{}
		var verr error
		err := r.eachElem(func() error {
			v, err := c.readValue(r, s.ValueSchema)
			if err != nil {
				verr = err
				return err
			}
			arr = append(arr, v)
			return nil
		})
		return arr, pickErr(verr, err)
	case data.TypeMap:
		return c.readMap(r, s, kind)
	case data.TypeStruct:
		return c.readStruct(r, s, kind)
	}
	return nil, dataErrorf("Unknown schema type: %s", s.Type)
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

func upperType(t data.Type) string { return strings.ToUpper(string(t)) }

// mismatch reports JSON of the wrong kind for s. Connect silently reads such
// values as 0, false or null; Sluice refuses them.
func (c *JSONConverter) mismatch(r *jsonReader, s *data.Schema) error {
	return dataErrorf("Invalid value for %s field: expected %s but found %s", upperType(s.Type), expectedNode(s.Type), r.nodeType())
}

func expectedNode(t data.Type) string {
	switch t {
	case data.TypeBoolean:
		return "BOOLEAN"
	case data.TypeString, data.TypeBytes:
		return "STRING"
	}
	return "NUMBER"
}

func wrapSyntax(err error) error {
	if err == nil {
		return nil
	}
	return serializationError(err)
}

// pickErr prefers the conversion error a callback recorded over the
// scanner's report of the callback's failure.
func pickErr(inner, outer error) error {
	if inner != nil {
		return inner
	}
	return wrapSyntax(outer)
}

// nullValue is what a JSON null (or a missing struct field) reads as.
func (c *JSONConverter) nullValue(s *data.Schema) (any, error) {
	switch {
	case s.Default != nil && c.replaceNull:
		return s.Default, nil
	case s.Optional:
		return nil, nil
	}
	return nil, dataErrorf("Invalid null value for required %s field", upperType(s.Type))
}

// readLogical reads Decimal, Date, Time and Timestamp; done is false for
// other schema names.
func (c *JSONConverter) readLogical(r *jsonReader, s *data.Schema) (_ any, done bool, _ error) {
	switch s.Name {
	case data.DecimalName:
		kind := r.peek()
		switch {
		case isNumberStart(kind):
			text, _, err := r.readNumber()
			if err != nil {
				return nil, true, serializationError(err)
			}
			d, err := data.ParseDecimal(string(text))
			return d, true, err
		case kind == '"':
			str, err := r.readString()
			if err != nil {
				return nil, true, serializationError(err)
			}
			raw, err := base64.StdEncoding.DecodeString(str)
			if err == nil && len(raw) == 0 {
				err = errors.New("Zero length BigInteger")
			}
			var v any
			if err == nil {
				v, err = data.ToLogical(s, raw)
			}
			if err != nil {
				return nil, true, dataErrorWrap("Invalid bytes for Decimal field", err)
			}
			return v, true, nil
		}
		return nil, true, dataErrorf("Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", r.nodeType())
	case data.DateName, data.TimeName, data.TimestampName:
		kindName := s.Name[strings.LastIndexByte(s.Name, '.')+1:]
		if !isNumberStart(r.peek()) {
			return nil, true, c.logicalKindErr(r, s, kindName)
		}
		save := r.i
		text, integral, err := r.readNumber()
		if err != nil {
			return nil, true, serializationError(err)
		}
		if !integral {
			r.i = save
			return nil, true, c.logicalKindErr(r, s, kindName)
		}
		n, err := strconv.ParseInt(string(text), 10, 64)
		if s.Name == data.TimestampName {
			if err != nil {
				n = javaLong(text, true)
			}
			v, err := data.ToLogical(s, n)
			return v, true, err
		}
		if err != nil || n != int64(int32(n)) {
			// Jackson's isInt: only numbers that fit an int.
			r.i = save
			return nil, true, c.logicalKindErr(r, s, kindName)
		}
		v, err := data.ToLogical(s, int32(n))
		return v, true, err
	}
	return nil, false, nil
}

func (c *JSONConverter) logicalKindErr(r *jsonReader, s *data.Schema, kindName string) error {
	want := "integer"
	if s.Name == data.TimestampName {
		want = "integral"
	}
	return dataErrorf("Invalid type for %s, underlying representation should be %s but was %s", kindName, want, r.nodeType())
}

func (c *JSONConverter) readMap(r *jsonReader, s *data.Schema, kind byte) (any, error) {
	var verr error
	if s.KeySchema == nil || s.KeySchema.Type == data.TypeString {
		if kind != '{' {
			return nil, dataErrorf("Maps with string fields should be encoded as JSON objects, but found %s", r.nodeType())
		}
		m := map[string]any{}
		err := r.eachKey(func(k string) error {
			v, err := c.readValue(r, s.ValueSchema)
			if err != nil {
				verr = err
				return err
			}
			m[k] = v
			return nil
		})
		return m, pickErr(verr, err)
	}
	if kind != '[' {
		return nil, dataErrorf("Maps with non-string fields should be encoded as JSON array of tuples, but found %s", r.nodeType())
	}
	m := map[any]any{}
	err := r.eachElem(func() error {
		if r.peek() != '[' {
			verr = dataErrorf("Found invalid map entry instead of array tuple: %s", r.nodeType())
			return verr
		}
		var kv [2]any
		n := 0
		err := r.eachElem(func() error {
			if n < 2 {
				v, err := c.readValue(r, [2]*data.Schema{s.KeySchema, s.ValueSchema}[n])
				if err != nil {
					verr = err
					return err
				}
				kv[n] = v
			} else if _, err := r.skip(); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if n != 2 {
			verr = dataErrorf("Found invalid map entry, expected length 2 but found :%d", n)
			return verr
		}
		if !hashable(kv[0]) {
			verr = dataErrorf("Map keys of type %T cannot be represented in Go", kv[0])
			return verr
		}
		m[kv[0]] = kv[1]
		return nil
	})
	return m, pickErr(verr, err)
}

func hashable(v any) bool {
	switch v.(type) {
	case []byte, []any, map[string]any, map[any]any:
		return false
	}
	return true
}

// FloatName returns the float a JSON string of a FLOAT32 or FLOAT64 field
// names: Jackson writes NaN and the infinities as "NaN", "Infinity" and
// "-Infinity" (Connect reads those back as 0, Sluice as what they say); ok
// is false for any other string.
func FloatName[T ~string | ~[]byte](name T) (f float64, ok bool) {
	switch string(name) {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}

// seenFlags returns a flag for each of n fields of a struct being read,
// in small when they fit (small stays on the caller's stack).
func seenFlags(small *[16]bool, n int) []bool {
	if n <= len(small) {
		return small[:n]
	}
	return make([]bool, n)
}

func (c *JSONConverter) readStruct(r *jsonReader, s *data.Schema, kind byte) (any, error) {
	if kind != '{' {
		return nil, dataErrorf("Structs should be encoded as JSON objects, but found %s", r.nodeType())
	}
	var small [16]bool
	seen := seenFlags(&small, len(s.Fields))
	st := data.NewStruct(s)
	var verr error
	err := r.eachKey(func(k string) error {
		f := s.Field(k)
		if f == nil {
			_, err := r.skip()
			return err
		}
		v, err := c.readValue(r, f.Schema)
		if err == nil && v != nil {
			err = st.Put(f.Name, v)
		}
		if err != nil {
			verr = err
			return err
		}
		seen[f.Index] = true
		return nil
	})
	if err := pickErr(verr, err); err != nil {
		return nil, err
	}
	for i, f := range s.Fields {
		if seen[i] {
			continue
		}
		v, err := c.nullValue(f.Schema)
		if err != nil {
			return nil, err
		}
		if v != nil {
			if err := st.Put(f.Name, v); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// parseSchema reads a schema in Connect's JSON form (JsonConverter.asConnectSchema).
func (c *JSONConverter) parseSchema(raw []byte) (*data.Schema, error) {
	r := &jsonReader{b: raw}
	var typ, optional, name, version, doc, params, def, fields, items, keys, values []byte
	if r.peek() == '{' {
		err := r.eachKey(func(k string) error {
			v, err := r.skip()
			switch k {
			case "type":
				typ = v
			case "optional":
				optional = v
			case "name":
				name = v
			case "version":
				version = v
			case "doc":
				doc = v
			case "parameters":
				params = v
			case "default":
				def = v
			case "fields":
				fields = v
			case "items":
				items = v
			case "keys":
				keys = v
			case "values":
				values = v
			}
			return err
		})
		if err != nil {
			return nil, serializationError(err)
		}
	}
	typeName, ok := rawString(typ)
	if !ok {
		return nil, dataErrorf("Schema must contain 'type' field")
	}
	var b *data.SchemaBuilder
	switch typeName {
	case "boolean", "int8", "int16", "int32", "int64", "bytes", "string":
		b = data.NewBuilder(data.Type(typeName))
	case "float":
		b = data.NewBuilder(data.TypeFloat32)
	case "double":
		b = data.NewBuilder(data.TypeFloat64)
	case "array":
		if items == nil || isNullLiteral(items) {
			return nil, dataErrorf("Array schema did not specify the element type")
		}
		elem, err := c.parseSchema(items)
		if err != nil {
			return nil, err
		}
		b = data.ArrayBuilder(elem)
	case "map":
		if keys == nil {
			return nil, dataErrorf("Map schema did not specify the key type")
		}
		if values == nil {
			return nil, dataErrorf("Map schema did not specify the value type")
		}
		ks, err := c.parseSchema(keys)
		if err != nil {
			return nil, err
		}
		vs, err := c.parseSchema(values)
		if err != nil {
			return nil, err
		}
		b = data.MapBuilder(ks, vs)
	case "struct":
		b = data.StructBuilder()
		fr := &jsonReader{b: fields}
		if fields == nil || fr.peek() != '[' {
			return nil, dataErrorf("Struct schema's \"fields\" argument is not an array.")
		}
		var ferr error
		err := fr.eachElem(func() error {
			fraw, err := fr.skip()
			if err != nil {
				return err
			}
			fname, ok := rawString(rawMember(fraw, "field"))
			if !ok {
				ferr = dataErrorf("Struct schema's field name not specified properly")
				return ferr
			}
			fs, err := c.parseSchema(fraw)
			if err != nil {
				ferr = err
				return err
			}
			b.Field(fname, fs)
			return nil
		})
		if err := pickErr(ferr, err); err != nil {
			return nil, err
		}
	default:
		return nil, dataErrorf("Unknown schema type: %s", typeName)
	}
	if string(trimWS(optional)) == "true" {
		b.Optional()
	}
	if n, ok := rawString(name); ok {
		b.Name(n)
	}
	if vr := (&jsonReader{b: version}); version != nil && isNumberStart(vr.peek()) {
		if text, integral, err := vr.readNumber(); err == nil && integral {
			b.Version(int32(javaLong(text, true)))
		}
	}
	if d, ok := rawString(doc); ok {
		b.Doc(d)
	}
	if pr := (&jsonReader{b: params}); params != nil && pr.peek() == '{' {
		var perr error
		err := pr.eachKey(func(k string) error {
			if pr.peek() != '"' {
				perr = dataErrorf("Schema parameters must have string values.")
				return perr
			}
			v, err := pr.readString()
			b.Parameter(k, v)
			return err
		})
		if err := pickErr(perr, err); err != nil {
			return nil, err
		}
	}
	s, err := b.Build()
	if err != nil {
		return nil, &data.Error{Msg: err.Error()}
	}
	if def == nil {
		return s, nil
	}
	dv, err := c.readValue(&jsonReader{b: def}, s)
	if err != nil {
		return nil, err
	}
	if s, err = b.Default(dv).Build(); err != nil {
		return nil, &data.Error{Msg: err.Error()}
	}
	return s, nil
}

// rawString returns the string a raw JSON value holds, if it is a string.
func rawString(raw []byte) (string, bool) {
	r := &jsonReader{b: raw}
	if raw == nil || r.peek() != '"' {
		return "", false
	}
	s, err := r.readString()
	return s, err == nil
}

// rawMember returns the raw value of an object's member, or nil.
func rawMember(raw []byte, name string) []byte {
	var out []byte
	r := &jsonReader{b: raw}
	if r.peek() != '{' {
		return nil
	}
	_ = r.eachKey(func(k string) error {
		v, err := r.skip()
		if k == name {
			out = v
		}
		return err
	})
	return out
}

func trimWS(b []byte) []byte {
	r := &jsonReader{b: b}
	r.skipWS()
	b = b[r.i:]
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
