// The byte array format: Confluent's ByteArrayFormat
// (io.confluent.connect.s3.format.bytearray.ByteArrayFormat) for Sluice's
// storage sinks: each record value's raw bytes followed by
// format.bytearray.separator, optionally gzipped as a whole
// (s3.compression.type). Files end in format.bytearray.extension (".bin")
// plus ".gz" when gzipped.

package sink

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// ByteArrayClass is the format.class value of this format, Confluent's.
const ByteArrayClass = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"

// Property names, Confluent's.
const (
	// ByteArrayExtensionConfig is format.bytearray.extension, default ".bin".
	ByteArrayExtensionConfig = "format.bytearray.extension"
	// ByteArraySeparatorConfig is format.bytearray.separator, default a line
	// separator ("\n"). Its value is used exactly as given, white space
	// included, as Confluent reads it from the original properties.
	ByteArraySeparatorConfig = "format.bytearray.separator"
)

// Defaults.
const (
	DefaultByteArrayExtension = ".bin"
	DefaultByteArraySeparator = "\n"
)

// ByteArrayConfig declares the format's own properties, to be merged into a
// connector's Def with CompressionConfig.
func ByteArrayConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: ByteArrayExtensionConfig, Type: config.String, Default: DefaultByteArrayExtension,
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Output file extension for ByteArrayFormat",
			Doc: "Output file extension for ByteArrayFormat. Defaults to '.bin'"}).
		Define(config.Key{Name: ByteArraySeparatorConfig, Type: config.String, Default: nil,
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Line separator ByteArrayFormat",
			Doc: "String inserted between records for ByteArrayFormat. Defaults to 'System.lineSeparator()' " +
				"and may contain escape sequences like '\\n'. An input record that contains the line separator " +
				"will look like multiple records in the output S3 object."})
}

// ByteArrayFormat writes record values' bytes. It is safe for concurrent use; its
// writers are not.
type ByteArrayFormat struct {
	ext       string
	separator []byte
	comp      CompressionSettings
}

var _ storage.Format = (*ByteArrayFormat)(nil)

// NewByteArrayFormat returns the format configured by a connector's properties (the keys
// of ByteArrayConfig; others are ignored). The error is a *config.ValidationError
// naming every bad key.
func NewByteArrayFormat(props map[string]string) (*ByteArrayFormat, error) {
	v, err := ByteArrayConfig().Merge(CompressionConfig()).Parse(props)
	if err != nil {
		return nil, err
	}
	sep := DefaultByteArraySeparator
	// The parsed value is trimmed; white space is the point of a separator.
	if raw, ok := props[ByteArraySeparatorConfig]; ok {
		sep = raw
	}
	return &ByteArrayFormat{ext: v.String(ByteArrayExtensionConfig), separator: []byte(sep), comp: compressionFromValues(v)}, nil
}

// Extension is format.bytearray.extension, plus ".gz" when gzipped.
func (f *ByteArrayFormat) Extension() string { return f.ext + f.comp.Type.Extension() }

// NewWriter starts a file on w, each value followed by the separator;
// valueSchema is not needed.
func (f *ByteArrayFormat) NewWriter(w io.Writer, _ *data.Schema) (storage.RecordWriter, error) {
	return f.comp.newValueWriter(w, "bytearray", f.separator, byteArrayValue)
}

// byteArrayValue is the value's bytes. As Connect's ByteArrayConverter, it
// accepts only []byte values; a null value is no bytes (the separator
// alone is written).
func byteArrayValue(r *connect.SinkRecord) ([]byte, error) {
	switch v := r.Value.(type) {
	case []byte:
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, &data.Error{Msg: fmt.Sprintf("ByteArrayConverter is not compatible with objects of type %T", r.Value)}
}
