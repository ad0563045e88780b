// Package converter holds Kafka Connect's converters, byte-compatible with
// Connect's: JsonConverter, StringConverter, ByteArrayConverter and the
// SimpleHeaderConverter. Conversion failures are *data.Error (Connect's
// DataException); bad properties are *ConfigError.
package converter

import "github.com/sluicehq/sluice/pkg/connect"

// Version is the version the plugins report.
const Version = "1.0.0"

// Plugins lists the converters of this package under Connect's class names:
// JsonConverter, StringConverter and ByteArrayConverter (each also a header
// converter) and SimpleHeaderConverter.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{
			Class:              "org.apache.kafka.connect.json.JsonConverter",
			Kind:               connect.KindConverter,
			Version:            Version,
			NewConverter:       func() connect.Converter { return NewJSONConverter() },
			NewHeaderConverter: func() connect.HeaderConverter { return NewJSONHeaderConverter() },
		},
		{
			Class:              "org.apache.kafka.connect.storage.StringConverter",
			Kind:               connect.KindConverter,
			Version:            Version,
			NewConverter:       func() connect.Converter { return NewStringConverter() },
			NewHeaderConverter: func() connect.HeaderConverter { return NewStringHeaderConverter() },
		},
		{
			Class:              "org.apache.kafka.connect.converters.ByteArrayConverter",
			Kind:               connect.KindConverter,
			Version:            Version,
			NewConverter:       func() connect.Converter { return ByteArrayConverter{} },
			NewHeaderConverter: func() connect.HeaderConverter { return ByteArrayHeaderConverter{} },
		},
		{
			Class:              "org.apache.kafka.connect.storage.SimpleHeaderConverter",
			Kind:               connect.KindHeaderConverter,
			Version:            Version,
			NewHeaderConverter: func() connect.HeaderConverter { return SimpleHeaderConverter{} },
		},
	}
}
