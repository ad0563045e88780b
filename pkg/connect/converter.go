package connect

import "github.com/sluicehq/sluice/pkg/connect/data"

// Converter turns Connect data into bytes for Kafka and back (Connect's
// Converter). Configure is called once before use; a configured Converter is
// safe for concurrent use.
type Converter interface {
	// Configure configures the converter with its properties (the
	// "key.converter." or "value.converter." prefix already stripped).
	Configure(props map[string]string, isKey bool) error
	FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error)
	ToConnectData(topic string, value []byte) (*data.Schema, any, error)
}

// HeaderConverter turns header values into bytes and back (Connect's
// HeaderConverter). A configured HeaderConverter is safe for concurrent use.
type HeaderConverter interface {
	Configure(props map[string]string) error
	FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error)
	ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error)
}
