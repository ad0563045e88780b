// The formats (format.class) the engine encodes records with, built from
// their Confluent class names: Parquet (parquet_*.go), JSON lines
// (jsonl.go) and bytes (bytearray.go), these two compressed as a whole
// (compression.go), and Avro (avro.go).

package sink

import (
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
)

// FormatClasses are the format.class values NewFormat accepts.
var FormatClasses = []string{ParquetClass, JSONClass, ByteArrayClass, AvroClass}

// NewFormat returns the format called class configured by a connector's
// properties. An unknown class is connect.ErrUnknownPlugin; bad
// properties are a *config.ValidationError naming every bad key.
func NewFormat(class string, props map[string]string) (storage.Format, error) {
	switch class {
	case ParquetClass:
		return NewParquetFormat(props)
	case JSONClass:
		return NewJSONFormat(props)
	case ByteArrayClass:
		return NewByteArrayFormat(props)
	case AvroClass:
		return NewAvroFormat(props)
	}
	return nil, fmt.Errorf("%w: format.class %q (supported: %v)", connect.ErrUnknownPlugin, class, FormatClasses)
}

// FormatConfig declares the properties of every format, to be merged into a
// storage sink connector's Def.
func FormatConfig() *config.Def {
	return ParquetConfig().Merge(JSONConfig()).Merge(ByteArrayConfig()).Merge(CompressionConfig()).Merge(AvroConfig())
}
