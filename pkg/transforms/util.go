package transforms

import (
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// target says which part of a record a $Key or $Value variant operates on.
type target int

const (
	keyTarget target = iota
	valueTarget
)

func (t target) String() string {
	if t == keyTarget {
		return "key"
	}
	return "value"
}

// get returns the schema and value the variant operates on.
func (t target) get(r *connect.TransformRecord) (*data.Schema, any) {
	if t == keyTarget {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// set replaces the schema and value the variant operates on.
func (t target) set(r *connect.TransformRecord, s *data.Schema, v any) {
	if t == keyTarget {
		r.KeySchema, r.Key = s, v
	} else {
		r.ValueSchema, r.Value = s, v
	}
}

// requireMap is Connect's Requirements.requireMap: schemaless values must be
// maps.
func requireMap(v any, purpose string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, className(v))
	}
	return m, nil
}

// requireMapOrNull is Connect's Requirements.requireMapOrNull.
func requireMapOrNull(v any, purpose string) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	return requireMap(v, purpose)
}

// requireStruct is Connect's Requirements.requireStruct: values with a
// schema must be structs.
func requireStruct(v any, purpose string) (*data.Struct, error) {
	s, ok := v.(*data.Struct)
	if !ok || s == nil {
		return nil, fmt.Errorf("Only Struct objects supported for [%s], found: %s", purpose, className(v))
	}
	return s, nil
}

// requireStructOrNull is Connect's Requirements.requireStructOrNull.
func requireStructOrNull(v any, purpose string) (*data.Struct, error) {
	if v == nil {
		return nil, nil
	}
	return requireStruct(v, purpose)
}

// requireSinkRecord is Connect's Requirements.requireSinkRecord.
func requireSinkRecord(r *connect.TransformRecord, purpose string) error {
	if r.KafkaOffset < 0 {
		return fmt.Errorf("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", purpose)
	}
	return nil
}

// className names a value's type as Connect's messages name Java classes.
func className(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any, map[any]any:
		return "java.util.HashMap"
	case *data.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case string:
		return "java.lang.String"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	}
	return fmt.Sprintf("%T", v)
}

// copySchemaBasics is Connect's SchemaUtil.copySchemaBasics: name, version,
// doc and parameters (not optional nor default) of src onto b.
func copySchemaBasics(src *data.Schema, b *data.SchemaBuilder) *data.SchemaBuilder {
	b.Name(src.Name)
	if src.Version != nil {
		b.Version(*src.Version)
	}
	b.Doc(src.Doc)
	for k, v := range src.Parameters {
		b.Parameter(k, v)
	}
	return b
}

// schemaCache remembers derived schemas by their source schema, as
// Connect's transforms keep a SynchronizedCache(LRUCache(16)). It is
// bounded: when full it is cleared, which only costs recomputation.
type schemaCache struct {
	mu sync.Mutex
	m  map[*data.Schema]*data.Schema
}

const schemaCacheSize = 16

func (c *schemaCache) get(s *data.Schema) *data.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[s]
}

func (c *schemaCache) put(s, derived *data.Schema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= schemaCacheSize {
		c.m = make(map[*data.Schema]*data.Schema, schemaCacheSize)
	}
	c.m[s] = derived
}
