package converter

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// JSONConverter properties, named as Connect's JsonConverterConfig.
const (
	// JSONSchemasEnable ("schemas.enable", default true) wraps each value in
	// the {"schema":...,"payload":...} envelope.
	JSONSchemasEnable = "schemas.enable"
	// JSONSchemasCacheSize ("schemas.cache.size", default 1000) bounds the
	// number of schemas cached in each direction; 0 disables the caches.
	JSONSchemasCacheSize = "schemas.cache.size"
	// JSONDecimalFormat ("decimal.format", default BASE64) is BASE64 or
	// NUMERIC, case-insensitive: how Decimal values are written.
	JSONDecimalFormat = "decimal.format"
	// JSONReplaceNullWithDefault ("replace.null.with.default", default true)
	// replaces null field values with the field's default, both ways.
	JSONReplaceNullWithDefault = "replace.null.with.default"
)

const defaultJSONCacheSize = 1000

// envelopeError is Connect's message, word for word, for JSON that lacks the
// envelope while schemas.enable is true.
const envelopeError = `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`

// JSONConverter is Connect's org.apache.kafka.connect.json.JsonConverter: it
// writes Connect data as JSON, by default inside an envelope that carries
// the schema, and reads it back. Its output is byte-for-byte Connect's
// (Jackson's compact output, Java's number formatting) except where Connect
// itself is not deterministic (the order of map entries, which Sluice sorts).
//
// It is also a connect.HeaderConverter, as Connect's is. The zero value is
// not ready; use NewJSONConverter, which applies the defaults, and Configure
// once before use. After Configure the converter is safe for concurrent use.
type JSONConverter struct {
	schemasEnabled bool
	decimalNumeric bool
	replaceNull    bool
	cacheSize      int

	// fromCache holds each schema's rendered JSON, keyed by the schema's
	// pointer (schemas are immutable); toCache holds parsed schemas keyed by
	// their JSON text. Both are cleared when full, a cheap bound that is
	// good enough for the handful of schemas a connector uses.
	mu        sync.RWMutex
	fromCache map[*data.Schema][]byte
	toCache   map[string]*data.Schema
	// last is the schema object read last and its text: records of one
	// topic mostly repeat it.
	last atomic.Pointer[parsedSchema]
	// names holds struct schemas' field names as written (see
	// structNames), in slots chosen by the schema's pointer.
	names [1 << nameBits]atomic.Pointer[fieldNames]
}

type parsedSchema struct {
	raw    []byte
	schema *data.Schema
}

var _ connect.Converter = (*JSONConverter)(nil)

// NewJSONConverter returns a JSONConverter with Connect's defaults:
// schemas.enable=true, decimal.format=BASE64, replace.null.with.default=true.
func NewJSONConverter() *JSONConverter {
	return &JSONConverter{
		schemasEnabled: true,
		replaceNull:    true,
		cacheSize:      defaultJSONCacheSize,
		fromCache:      map[*data.Schema][]byte{},
		toCache:        map[string]*data.Schema{},
	}
}

// Configure applies the properties (schemas.enable, schemas.cache.size,
// decimal.format, replace.null.with.default; others are ignored, as Connect
// passes them through). isKey makes no difference to JSON. Every bad value
// is reported, not just the first.
func (c *JSONConverter) Configure(props map[string]string, isKey bool) error {
	var errs []error
	var err error
	if c.schemasEnabled, err = parseBool(props, JSONSchemasEnable, true); err != nil {
		errs = append(errs, err)
	}
	if c.replaceNull, err = parseBool(props, JSONReplaceNullWithDefault, true); err != nil {
		errs = append(errs, err)
	}
	c.cacheSize = defaultJSONCacheSize
	if v, ok := props[JSONSchemasCacheSize]; ok {
		n, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		switch {
		case perr != nil:
			errs = append(errs, &ConfigError{Key: JSONSchemasCacheSize, Value: v, Reason: "Not a number of type INT"})
		case n < 0:
			errs = append(errs, &ConfigError{Key: JSONSchemasCacheSize, Value: v, Reason: "Value must be at least 0"})
		default:
			c.cacheSize = int(n)
		}
	}
	c.decimalNumeric = false
	if v, ok := props[JSONDecimalFormat]; ok {
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "BASE64":
		case "NUMERIC":
			c.decimalNumeric = true
		default:
			errs = append(errs, &ConfigError{Key: JSONDecimalFormat, Value: v, Reason: "String must be one of (case insensitive): BASE64, NUMERIC"})
		}
	}
	c.mu.Lock()
	c.fromCache = map[*data.Schema][]byte{}
	c.toCache = map[string]*data.Schema{}
	c.mu.Unlock()
	return joinErrors(errs)
}

// FromConnectData writes value as JSON. A nil schema with a nil value is a
// tombstone and gives nil bytes, as in Connect; with schemas.enable the
// result is {"schema":...,"payload":...}.
func (c *JSONConverter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	var err error
	if c.schemasEnabled {
		b = append(b, `{"schema":`...)
		if b, err = c.appendCachedSchema(b, schema); err == nil {
			b = append(b, `,"payload":`...)
			if b, err = c.appendValue(b, schema, value); err == nil {
				b = append(b, '}')
			}
		}
	} else {
		b, err = c.appendValue(b, schema, value)
	}
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
	return out, err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// ToConnectData reads JSON written by FromConnectData or by Connect. Nil or
// empty bytes are a tombstone: nil schema, nil value. With schemas.enable
// the input must be the envelope; without it the schema is nil and values
// are map[string]any, []any, int64, float64, string, bool or nil.
func (c *JSONConverter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if len(value) == 0 {
		return nil, nil, nil
	}
	r := pooledReader(value)
	defer putReader(r)
	if !c.schemasEnabled {
		v, err := r.readAny()
		if err != nil {
			return nil, nil, serializationError(err)
		}
		return nil, v, nil
	}
	schema, payloadRaw, err := c.readEnvelopeSchema(r)
	if err != nil {
		return nil, nil, err
	}
	r.reset(payloadRaw)
	v, err := c.readValue(r, schema)
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// readEnvelopeSchema reads the envelope r holds and returns its schema
// and its payload's bytes. The schema is the one last read when its text
// is the same (compared as readEnvelope reads it), else it is parsed
// through the cache and, when it is an object and the cache is on,
// remembered as the last.
func (c *JSONConverter) readEnvelopeSchema(r *jsonReader) (*data.Schema, []byte, error) {
	last := c.last.Load()
	var known []byte
	if last != nil {
		known = last.raw
	}
	schemaRaw, payloadRaw, err := r.readEnvelope(known)
	if err != nil {
		return nil, nil, err
	}
	if last != nil && bytes.Equal(schemaRaw, last.raw) {
		return last.schema, payloadRaw, nil
	}
	schema, err := c.cachedSchema(schemaRaw)
	if err != nil {
		return nil, nil, err
	}
	if len(schemaRaw) > 0 && schemaRaw[0] == '{' && c.cacheSize > 0 {
		c.last.Store(&parsedSchema{raw: bytes.Clone(schemaRaw), schema: schema})
	}
	return schema, payloadRaw, nil
}

// FromConnectHeader is FromConnectData, as in Connect.
func (c *JSONConverter) FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error) {
	return c.FromConnectData(topic, schema, value)
}

// ToConnectHeader is ToConnectData, as in Connect.
func (c *JSONConverter) ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error) {
	return c.ToConnectData(topic, value)
}

// JSONHeaderConverter is a JSONConverter used as a connect.HeaderConverter,
// whose Configure takes no isKey. Construct it with NewJSONHeaderConverter.
type JSONHeaderConverter struct{ *JSONConverter }

var _ connect.HeaderConverter = JSONHeaderConverter{}

// Configure configures the converter for headers.
func (h JSONHeaderConverter) Configure(props map[string]string) error {
	return h.JSONConverter.Configure(props, false)
}

// NewJSONHeaderConverter returns a JSONConverter for headers, with the
// defaults of NewJSONConverter.
func NewJSONHeaderConverter() JSONHeaderConverter { return JSONHeaderConverter{NewJSONConverter()} }

// appendCachedSchema appends the schema's JSON, rendering it once per
// schema pointer.
func (c *JSONConverter) appendCachedSchema(b []byte, s *data.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	c.mu.RLock()
	cached, ok := c.fromCache[s]
	c.mu.RUnlock()
	if ok {
		return append(b, cached...), nil
	}
	// Connect's schema JSON has no references, so a recursive schema (a
	// recursive Avro record's) cannot be written; Connect's asJsonSchema
	// recurses until the JVM's stack overflows.
	if err := data.RecursiveError(s, "JsonConverter's schema envelope"); err != nil {
		return b, &data.Error{Msg: err.Error() + "; set schemas.enable=false to write the values without their schema"}
	}
	start := len(b)
	b, err := c.appendSchema(b, s)
	if err != nil || c.cacheSize == 0 {
		return b, err
	}
	rendered := bytes.Clone(b[start:])
	c.mu.Lock()
	if len(c.fromCache) >= c.cacheSize {
		clear(c.fromCache)
	}
	c.fromCache[s] = rendered
	c.mu.Unlock()
	return b, nil
}

// cachedSchema parses the envelope's schema, once per distinct JSON text.
func (c *JSONConverter) cachedSchema(raw []byte) (*data.Schema, error) {
	if isNullLiteral(raw) {
		return nil, nil
	}
	c.mu.RLock()
	s, ok := c.toCache[string(raw)]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := c.parseSchema(raw)
	if err != nil || c.cacheSize == 0 {
		return s, err
	}
	c.mu.Lock()
	if len(c.toCache) >= c.cacheSize {
		clear(c.toCache)
	}
	c.toCache[string(raw)] = s
	c.mu.Unlock()
	return s, nil
}

func joinErrors(errs []error) error { return errors.Join(errs...) }
