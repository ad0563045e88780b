package converter

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// StringConverter properties, as Connect's StringConverterConfig and the
// StringSerializer/StringDeserializer it configures.
const (
	// StringEncoding ("converter.encoding", default UTF8) is the charset.
	StringEncoding = "converter.encoding"
)

// StringConverter is Connect's org.apache.kafka.connect.storage.StringConverter:
// it writes any value as its string form and reads bytes back as an
// OPTIONAL_STRING. The charset is converter.encoding, overridden as in
// Connect by key.serializer.encoding / value.serializer.encoding (writing)
// and key.deserializer.encoding / value.deserializer.encoding (reading).
// Supported charsets: UTF-8, US-ASCII, ISO-8859-1, UTF-16, UTF-16BE,
// UTF-16LE (Java's names and common aliases, case-insensitive).
//
// Use NewStringConverter; after Configure it is safe for concurrent use.
type StringConverter struct {
	enc, dec charset
}

var _ connect.Converter = (*StringConverter)(nil)

// NewStringConverter returns a UTF-8 StringConverter.
func NewStringConverter() *StringConverter {
	return &StringConverter{enc: utf8Charset, dec: utf8Charset}
}

// Configure reads the encoding properties.
func (c *StringConverter) Configure(props map[string]string, isKey bool) error {
	prefix := "value."
	if isKey {
		prefix = "key."
	}
	base := "UTF8"
	if v, ok := props[StringEncoding]; ok {
		base = v
	}
	pick := func(role string) (charset, error) {
		key, name := StringEncoding, base
		for _, k := range []string{prefix + role + ".encoding", role + ".encoding"} {
			if v, ok := props[k]; ok {
				key, name = k, v
				break
			}
		}
		cs, ok := lookupCharset(name)
		if !ok {
			return 0, &ConfigError{Key: key, Value: name, Reason: "unsupported encoding"}
		}
		return cs, nil
	}
	enc, err1 := pick("serializer")
	dec, err2 := pick("deserializer")
	if err := joinErrors([]error{err1, err2}); err != nil {
		return err
	}
	c.enc, c.dec = enc, dec
	return nil
}

// FromConnectData writes value's string form (Connect's value.toString(),
// see data.JavaString) in the configured charset; nil stays nil. The schema is
// ignored, as in Connect. A valid UTF-8 string written as UTF-8 is not
// copied: the bytes returned share its memory and must not be modified (as
// no Converter's output is: ByteArrayConverter's is the value itself).
func (c *StringConverter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s, ok := value.(string)
	if !ok {
		s = data.JavaString(value)
	}
	return c.enc.encode(s), nil
}

// ToConnectData decodes the bytes under OPTIONAL_STRING; nil stays nil.
// Malformed input becomes U+FFFD, as with Java's decoders.
func (c *StringConverter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return data.OptionalStringSchema, nil, nil
	}
	return data.OptionalStringSchema, c.dec.decode(value), nil
}

var _ connect.RawChecker = (*StringConverter)(nil)

// CheckRaw reports whether ToConnectData reads value to a non-null value
// without error: whenever it is not nil.
func (c *StringConverter) CheckRaw(_ string, value []byte) bool { return value != nil }

// StringHeaderConverter is StringConverter for headers.
type StringHeaderConverter struct{ *StringConverter }

var _ connect.HeaderConverter = StringHeaderConverter{}

// NewStringHeaderConverter returns a UTF-8 StringHeaderConverter.
func NewStringHeaderConverter() StringHeaderConverter {
	return StringHeaderConverter{NewStringConverter()}
}

// Configure configures the charset (as for a value converter).
func (h StringHeaderConverter) Configure(props map[string]string) error {
	return h.StringConverter.Configure(props, false)
}

// FromConnectHeader is FromConnectData.
func (h StringHeaderConverter) FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error) {
	return h.FromConnectData(topic, schema, value)
}

// ToConnectHeader is ToConnectData.
func (h StringHeaderConverter) ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error) {
	return h.ToConnectData(topic, value)
}

type charset int

const (
	utf8Charset charset = iota
	asciiCharset
	latin1Charset
	utf16Charset // big-endian with a byte-order mark written, detected on read
	utf16BECharset
	utf16LECharset
)

func lookupCharset(name string) (charset, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "_", "-")
	switch n {
	case "UTF8", "UTF-8", "UNICODE-1-1-UTF-8":
		return utf8Charset, true
	case "US-ASCII", "ASCII", "US", "ISO646-US", "646", "ASCII7", "DEFAULT", "IBM367", "CP367":
		return asciiCharset, true
	case "ISO-8859-1", "ISO8859-1", "ISO8859-1:1987", "LATIN1", "L1", "8859-1", "ISO-LATIN-1", "IBM819", "CP819", "CSISOLATIN1":
		return latin1Charset, true
	case "UTF-16", "UTF16":
		return utf16Charset, true
	case "UTF-16BE", "X-UTF-16BE", "UNICODEBIGUNMARKED", "ISO-10646-UCS-2":
		return utf16BECharset, true
	case "UTF-16LE", "X-UTF-16LE", "UNICODELITTLEUNMARKED":
		return utf16LECharset, true
	}
	return 0, false
}

// encode writes s; characters the charset lacks become '?', as Java does.
func (cs charset) encode(s string) []byte {
	switch cs {
	case utf8Charset:
		if utf8.ValidString(s) {
			return stringBytes(s)
		}
		return []byte(strings.ToValidUTF8(s, "\uFFFD"))
	case asciiCharset, latin1Charset:
		limit := rune(0x7F)
		if cs == latin1Charset {
			limit = 0xFF
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit || r == utf8.RuneError {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out
	}
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units)+2)
	if cs == utf16Charset {
		out = append(out, 0xFE, 0xFF)
	}
	for _, u := range units {
		if cs == utf16LECharset {
			out = append(out, byte(u), byte(u>>8))
		} else {
			out = append(out, byte(u>>8), byte(u))
		}
	}
	return out
}

// stringBytes returns the bytes of s without copying them (a source of
// JSON lines spent as much on this copy as on reading the lines): they
// share s's memory, read-only. An empty s gives an empty, non-nil slice,
// since nil would be a null value.
func stringBytes(s string) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func (cs charset) decode(b []byte) string {
	switch cs {
	case utf8Charset:
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case asciiCharset, latin1Charset:
		var sb strings.Builder
		sb.Grow(len(b))
		for _, c := range b {
			if c > 0x7F && cs == asciiCharset {
				sb.WriteRune(utf8.RuneError)
			} else {
				sb.WriteRune(rune(c))
			}
		}
		return sb.String()
	}
	le := cs == utf16LECharset
	if cs == utf16Charset && len(b) >= 2 {
		switch {
		case b[0] == 0xFE && b[1] == 0xFF:
			b = b[2:]
		case b[0] == 0xFF && b[1] == 0xFE:
			b, le = b[2:], true
		}
	}
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if le {
			units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
		} else {
			units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
		}
	}
	s := string(utf16.Decode(units))
	if len(b)%2 == 1 {
		s += "\uFFFD"
	}
	return s
}
