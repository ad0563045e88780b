package transforms

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/javatime"
)

// The TimestampConverter target types and Unix precisions, spelled as
// Connect's.
const (
	timestampTypeString    = "string"
	timestampTypeUnix      = "unix"
	timestampTypeDate      = "Date"
	timestampTypeTime      = "Time"
	timestampTypeTimestamp = "Timestamp"

	unixPrecisionSeconds = "seconds"
	unixPrecisionMillis  = "milliseconds"
	unixPrecisionMicros  = "microseconds"
	unixPrecisionNanos   = "nanoseconds"

	timestampConverterPurpose = "converting timestamp formats"
)

// The schemas TimestampConverter produces, Connect's Schema constants and
// TimestampConverter.OPTIONAL_*_SCHEMA.
var (
	timestampConverterDateSchema              = data.DateSchema().MustBuild()
	timestampConverterOptionalDateSchema      = data.DateSchema().Optional().MustBuild()
	timestampConverterTimeSchema              = data.TimeSchema().MustBuild()
	timestampConverterOptionalTimeSchema      = data.TimeSchema().Optional().MustBuild()
	timestampConverterTimestampSchema         = data.TimestampSchema().MustBuild()
	timestampConverterOptionalTimestampSchema = data.TimestampSchema().Optional().MustBuild()
)

// timestampConverterConfig is TimestampConverter's ConfigDef.
func timestampConverterConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "field", Type: config.String, Default: "", Importance: config.High,
			Doc: "The field containing the timestamp, or empty if the entire value is a timestamp"}).
		Define(config.Key{Name: "target.type", Type: config.String, Default: config.NoDefault,
			Validator: config.ValidString(timestampTypeString, timestampTypeUnix, timestampTypeDate,
				timestampTypeTime, timestampTypeTimestamp),
			Importance: config.High,
			Doc:        "The desired timestamp representation: string, unix, Date, Time, or Timestamp"}).
		Define(config.Key{Name: "format", Type: config.String, Default: "", Importance: config.Medium,
			Doc: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string " +
				"or used to parse the input if the input is a string."}).
		Define(config.Key{Name: "unix.precision", Type: config.String, Default: unixPrecisionMillis,
			Validator: config.ValidString(unixPrecisionNanos, unixPrecisionMicros, unixPrecisionMillis,
				unixPrecisionSeconds),
			Importance: config.Low,
			Doc: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. " +
				"Used to generate the output when type=unix or used to parse the input if the input is a Long." +
				"Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."}).
		Define(config.Key{Name: "replace.null.with.default", Type: config.Boolean, Default: true, Importance: config.Medium,
			Doc: "Whether to replace fields that have a default value and that are null to the default value. " +
				"When set to true, the default value is used, otherwise null is used."})
}

// TimestampConverter is Connect's TimestampConverter$Key and
// TimestampConverter$Value: it converts a timestamp, the whole key or value
// or one field of it, between Unix epoch numbers (int64), strings
// (formatted with a SimpleDateFormat pattern, in UTC) and Connect's Date,
// Time and Timestamp logical types (time.Time). Records without a schema
// have the source type inferred from the Go value (time.Time is a
// Timestamp, int64 is unix, string is a string).
//
// Like Connect's, the conversion goes through a millisecond instant, so
// sub-millisecond parts are lost. A configured TimestampConverter is safe
// for concurrent use.
type TimestampConverter struct {
	target target

	field                  string
	targetType             string
	format                 *javatime.Layout
	unixPrecision          string
	replaceNullWithDefault bool
	cache                  schemaCache
}

var _ connect.Transformation = (*TimestampConverter)(nil)

// NewTimestampConverterKey returns TimestampConverter$Key.
func NewTimestampConverterKey() *TimestampConverter { return &TimestampConverter{target: keyTarget} }

// NewTimestampConverterValue returns TimestampConverter$Value.
func NewTimestampConverterValue() *TimestampConverter {
	return &TimestampConverter{target: valueTarget}
}

// Config returns the transformation's configuration keys.
func (c *TimestampConverter) Config() *config.Def { return timestampConverterConfig() }

// Configure reads field, target.type, format, unix.precision and
// replace.null.with.default.
func (c *TimestampConverter) Configure(props map[string]string) error {
	vals, err := c.Config().Parse(props)
	if err != nil {
		return err
	}
	c.field = vals.String("field")
	c.targetType = vals.String("target.type")
	c.unixPrecision = vals.String("unix.precision")
	c.replaceNullWithDefault = vals.Bool("replace.null.with.default")
	c.cache = schemaCache{}
	pattern := vals.String("format")
	blank := strings.TrimSpace(pattern) == ""
	if c.targetType == timestampTypeString && blank {
		return fmt.Errorf("TimestampConverter requires format option to be specified when using string timestamps")
	}
	c.format = nil
	if !blank {
		c.format, err = javatime.Compile(pattern)
		if err != nil {
			return fmt.Errorf("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: %s: %w", pattern, err)
		}
	}
	return nil
}

// Apply converts the timestamp of the record's key or value.
func (c *TimestampConverter) Apply(r *connect.TransformRecord) (bool, error) {
	schema, value := c.target.get(r)
	var (
		newSchema *data.Schema
		newValue  any
		err       error
	)
	if schema == nil {
		newValue, err = c.applySchemaless(value)
	} else {
		newSchema, newValue, err = c.applyWithSchema(schema, value)
	}
	if err != nil {
		return false, err
	}
	c.target.set(r, newSchema, newValue)
	return true, nil
}

// Close does nothing.
func (c *TimestampConverter) Close() error { return nil }

func (c *TimestampConverter) applySchemaless(value any) (any, error) {
	if value == nil || c.field == "" {
		return c.convert(value, "")
	}
	m, err := requireMap(value, timestampConverterPurpose)
	if err != nil {
		return nil, err
	}
	updated := make(map[string]any, len(m)+1)
	for k, v := range m {
		updated[k] = v
	}
	// Like Connect, a missing field is put as null.
	if updated[c.field], err = c.convert(m[c.field], ""); err != nil {
		return nil, err
	}
	return updated, nil
}

func (c *TimestampConverter) applyWithSchema(schema *data.Schema, value any) (*data.Schema, any, error) {
	if c.field == "" {
		// Connect determines the source type before looking at the value,
		// so a null value with an unusable schema fails too.
		sourceType, err := timestampTypeFromSchema(schema)
		if err != nil {
			return nil, nil, err
		}
		converted, err := c.convert(value, sourceType)
		if err != nil {
			return nil, nil, err
		}
		return timestampTypeSchema(c.targetType, schema.Optional), converted, nil
	}
	s, err := requireStructOrNull(value, timestampConverterPurpose)
	if err != nil {
		return nil, nil, err
	}
	updatedSchema := c.cache.get(schema)
	if updatedSchema == nil {
		if updatedSchema, err = c.updatedSchema(schema); err != nil {
			return nil, nil, err
		}
		c.cache.put(schema, updatedSchema)
	}
	updated, err := c.applyStruct(s, updatedSchema)
	if err != nil {
		return nil, nil, err
	}
	if updated == nil {
		return updatedSchema, nil, nil
	}
	return updatedSchema, updated, nil
}

func (c *TimestampConverter) updatedSchema(schema *data.Schema) (*data.Schema, error) {
	b := copySchemaBasics(schema, data.StructBuilder())
	for _, f := range schema.Fields {
		if f.Name == c.field {
			b.Field(f.Name, timestampTypeSchema(c.targetType, f.Schema.Optional))
		} else {
			b.Field(f.Name, f.Schema)
		}
	}
	if schema.Optional {
		b.Optional()
	}
	if schema.Default == nil {
		return b.Build()
	}
	// The default struct is converted too. Like Connect's, it is built
	// with the schema as it stands before the default is set (which a
	// SchemaBuilder would reject as a mismatch, hence the copy).
	withoutDefault, err := b.Build()
	if err != nil {
		return nil, err
	}
	def, ok := schema.Default.(*data.Struct)
	if !ok {
		return nil, fmt.Errorf("TimestampConverter: default of %s is not a struct", schema)
	}
	updatedDefault, err := c.applyStruct(def, withoutDefault)
	if err != nil {
		return nil, err
	}
	withDefault := *withoutDefault
	withDefault.Default = updatedDefault
	return &withDefault, nil
}

func (c *TimestampConverter) applyStruct(s *data.Struct, updatedSchema *data.Schema) (*data.Struct, error) {
	if s == nil {
		return nil, nil
	}
	updated := data.NewStruct(updatedSchema)
	for _, f := range s.Schema().Fields {
		v := s.Get(f.Name)
		if !c.replaceNullWithDefault {
			v = s.GetWithoutDefault(f.Name)
		}
		if f.Name == c.field {
			sourceType, err := timestampTypeFromSchema(f.Schema)
			if err != nil {
				return nil, err
			}
			if v, err = c.convert(v, sourceType); err != nil {
				return nil, err
			}
		}
		if err := updated.Put(f.Name, v); err != nil {
			return nil, err
		}
	}
	return updated, nil
}

// timestampTypeFromSchema is Connect's timestampTypeFromSchema.
func timestampTypeFromSchema(s *data.Schema) (string, error) {
	switch {
	case s.Name == data.TimestampName:
		return timestampTypeTimestamp, nil
	case s.Name == data.DateName:
		return timestampTypeDate, nil
	case s.Name == data.TimeName:
		return timestampTypeTime, nil
	case s.Type == data.TypeString:
		return timestampTypeString, nil
	case s.Type == data.TypeInt64:
		return timestampTypeUnix, nil
	}
	return "", fmt.Errorf("Schema %s does not correspond to a known timestamp type format", s)
}

// timestampTypeSchema is a translator's typeSchema.
func timestampTypeSchema(typ string, optional bool) *data.Schema {
	switch typ {
	case timestampTypeString:
		if optional {
			return data.OptionalStringSchema
		}
		return data.StringSchema
	case timestampTypeUnix:
		if optional {
			return data.OptionalInt64Schema
		}
		return data.Int64Schema
	case timestampTypeDate:
		if optional {
			return timestampConverterOptionalDateSchema
		}
		return timestampConverterDateSchema
	case timestampTypeTime:
		if optional {
			return timestampConverterOptionalTimeSchema
		}
		return timestampConverterTimeSchema
	}
	if optional {
		return timestampConverterOptionalTimestampSchema
	}
	return timestampConverterTimestampSchema
}

// convert is Connect's convertTimestamp: the source type is inferred from
// the value when sourceType is "".
func (c *TimestampConverter) convert(v any, sourceType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if sourceType == "" {
		switch v.(type) {
		case time.Time:
			sourceType = timestampTypeTimestamp
		case int64:
			sourceType = timestampTypeUnix
		case string:
			sourceType = timestampTypeString
		default:
			return nil, fmt.Errorf("TimestampConverter does not support class %s objects as timestamps", timestampConverterClassName(v))
		}
	}
	raw, err := c.toRaw(v, sourceType)
	if err != nil {
		return nil, err
	}
	return c.toType(raw), nil
}

// toRaw converts a value to the millisecond instant Connect's translators
// share (a java.util.Date).
func (c *TimestampConverter) toRaw(v any, sourceType string) (time.Time, error) {
	switch sourceType {
	case timestampTypeString:
		s, ok := v.(string)
		if !ok {
			return time.Time{}, fmt.Errorf("Expected string timestamp to be a String, but found class %s", timestampConverterClassName(v))
		}
		if c.format == nil {
			// A string to convert to another type and no format (Connect
			// fails here with a NullPointerException).
			return time.Time{}, fmt.Errorf("TimestampConverter requires format option to be specified when using string timestamps")
		}
		t, err := c.format.Parse(s, time.UTC)
		if err != nil {
			return time.Time{}, fmt.Errorf("Could not parse timestamp: value (%s) does not match pattern (%s): %w", s, c.format, err)
		}
		return t.Truncate(time.Millisecond), nil
	case timestampTypeUnix:
		n, ok := v.(int64)
		if !ok {
			return time.Time{}, fmt.Errorf("Expected Unix timestamp to be a Long, but found class %s", timestampConverterClassName(v))
		}
		var ms int64
		switch c.unixPrecision {
		case unixPrecisionSeconds:
			ms = n * 1000
		case unixPrecisionMicros:
			ms = n / 1000
		case unixPrecisionNanos:
			ms = n / 1_000_000
		default:
			ms = n
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, ok := v.(time.Time)
	if !ok {
		what := map[string]string{timestampTypeDate: "Date", timestampTypeTime: "Time", timestampTypeTimestamp: "Timestamp"}[sourceType]
		return time.Time{}, fmt.Errorf("Expected %s to be a java.util.Date, but found class %s", what, timestampConverterClassName(v))
	}
	return time.UnixMilli(t.UnixMilli()).UTC(), nil
}

// toType converts the instant to the target type.
func (c *TimestampConverter) toType(t time.Time) any {
	switch c.targetType {
	case timestampTypeString:
		return c.format.Format(t)
	case timestampTypeUnix:
		ms := t.UnixMilli()
		switch c.unixPrecision {
		case unixPrecisionSeconds:
			return ms / 1000
		case unixPrecisionMicros:
			return ms * 1000
		case unixPrecisionNanos:
			return ms * 1_000_000
		}
		return ms
	case timestampTypeDate:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case timestampTypeTime:
		return time.Date(1970, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t
}

// timestampConverterClassName is className that also names the logical
// types' Go values as Connect's Java classes.
func timestampConverterClassName(v any) string {
	switch v.(type) {
	case time.Time:
		return "java.util.Date"
	case data.Decimal:
		return "java.math.BigDecimal"
	}
	return className(v)
}
