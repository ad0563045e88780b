// The JSON lines format: Confluent's JsonFormat
// (io.confluent.connect.s3.format.json.JsonFormat) for Sluice's storage
// sinks: one JSON document per record value and line, as Connect's
// JsonConverter writes it with schemas.enable=false, optionally gzipped as
// a whole (s3.compression.type). Files end in ".json" or ".json.gz".

package sink

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// JSONClass is the format.class value of this format, Confluent's.
const JSONClass = "io.confluent.connect.s3.format.json.JsonFormat"

// Property names, Confluent's S3 sink's.
const (
	// SchemaCacheSizeConfig is schema.cache.size, passed on to the
	// converter's schemas.cache.size.
	SchemaCacheSizeConfig = "schema.cache.size"
	// JSONDecimalFormatConfig is json.decimal.format: BASE64 (default) or
	// NUMERIC, passed on to the converter's decimal.format.
	JSONDecimalFormatConfig = "json.decimal.format"
)

// JSONConfig declares the format's own properties, to be merged into a
// connector's Def with CompressionConfig.
func JSONConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: SchemaCacheSizeConfig, Type: config.Int, Default: 1000, Validator: config.AtLeast(0),
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Schema Cache Size",
			Doc: "The size of the schema cache used in the Avro converter."}).
		Define(config.Key{Name: JSONDecimalFormatConfig, Type: config.String, Default: "BASE64",
			Validator: config.CaseInsensitiveValidString("BASE64", "NUMERIC"), Importance: config.Low, Group: "Connector",
			Width: config.WidthMedium, DisplayName: "Decimal Format",
			Doc: "Controls which format json converter will serialize decimals in. This value is case " +
				"insensitive and can be either 'BASE64' (default) or 'NUMERIC'"})
}

// lineSeparator is Java's System.lineSeparator() on Linux, which Confluent
// writes after each value.
var lineSeparator = []byte("\n")

// JSONFormat writes record values as JSON lines. It is safe for concurrent
// use; its writers are not.
type JSONFormat struct {
	conv *converter.JSONConverter
	comp CompressionSettings
}

var _ storage.Format = (*JSONFormat)(nil)

// NewJSONFormat returns the format configured by a connector's properties (the keys
// of JSONConfig; others are ignored). The error is a *config.ValidationError
// naming every bad key.
func NewJSONFormat(props map[string]string) (*JSONFormat, error) {
	v, err := JSONConfig().Merge(CompressionConfig()).Parse(props)
	if err != nil {
		return nil, err
	}
	conv := converter.NewJSONConverter()
	if err := conv.Configure(map[string]string{
		converter.JSONSchemasEnable:    "false",
		converter.JSONSchemasCacheSize: fmt.Sprint(v.Int(SchemaCacheSizeConfig)),
		converter.JSONDecimalFormat:    v.String(JSONDecimalFormatConfig),
	}, false); err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	return &JSONFormat{conv: conv, comp: compressionFromValues(v)}, nil
}

// Extension is ".json", plus ".gz" when gzipped.
func (f *JSONFormat) Extension() string { return ".json" + f.comp.Type.Extension() }

// NewWriter starts a JSON lines file on w; valueSchema is not needed.
func (f *JSONFormat) NewWriter(w io.Writer, _ *data.Schema) (storage.RecordWriter, error) {
	return f.comp.newValueWriter(w, "jsonl", lineSeparator, f.value)
}

// value is the record's value as JSON; a null value is written as null, as
// Confluent's Jackson writer does.
func (f *JSONFormat) value(r *connect.SinkRecord) ([]byte, error) {
	b, err := f.conv.FromConnectData(r.Topic, r.ValueSchema, r.Value)
	if b == nil && err == nil {
		b = []byte("null")
	}
	return b, err
}
