package converter

import (
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ByteArrayConverter is Connect's
// org.apache.kafka.connect.converters.ByteArrayConverter: it passes BYTES
// values through unchanged. It has no properties and is safe for
// concurrent use; the zero value is ready.
type ByteArrayConverter struct{}

var (
	_ connect.Converter       = ByteArrayConverter{}
	_ connect.HeaderConverter = ByteArrayHeaderConverter{}
)

// Configure accepts and ignores the properties.
func (ByteArrayConverter) Configure(map[string]string, bool) error { return nil }

// FromConnectData returns value, which must be []byte or nil, under a BYTES
// schema or none; the errors are Connect's.
func (ByteArrayConverter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != data.TypeBytes {
		return nil, dataErrorf("Invalid schema type for ByteArrayConverter: %s", strings.ToUpper(string(schema.Type)))
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, dataErrorf("ByteArrayConverter is not compatible with objects of type %T", value)
	}
	return b, nil
}

// ToConnectData returns the bytes under OPTIONAL_BYTES.
func (ByteArrayConverter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return data.OptionalBytesSchema, nil, nil
	}
	return data.OptionalBytesSchema, value, nil
}

// ByteArrayHeaderConverter is ByteArrayConverter for headers.
type ByteArrayHeaderConverter struct{ ByteArrayConverter }

// Configure accepts and ignores the properties.
func (ByteArrayHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader is FromConnectData.
func (h ByteArrayHeaderConverter) FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error) {
	return h.FromConnectData(topic, schema, value)
}

// ToConnectHeader is ToConnectData.
func (h ByteArrayHeaderConverter) ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error) {
	return h.ToConnectData(topic, value)
}
