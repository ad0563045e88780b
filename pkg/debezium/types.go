package debezium

import "github.com/sluicehq/sluice/pkg/connect/data"

// Debezium's semantic type names (schema names of column fields).
const (
	DateName                 = "io.debezium.time.Date"
	TimeName                 = "io.debezium.time.Time"
	MicroTimeName            = "io.debezium.time.MicroTime"
	NanoTimeName             = "io.debezium.time.NanoTime"
	TimestampName            = "io.debezium.time.Timestamp"
	MicroTimestampName       = "io.debezium.time.MicroTimestamp"
	NanoTimestampName        = "io.debezium.time.NanoTimestamp"
	ZonedTimestampName       = "io.debezium.time.ZonedTimestamp"
	ZonedTimeName            = "io.debezium.time.ZonedTime"
	MicroDurationName        = "io.debezium.time.MicroDuration"
	YearName                 = "io.debezium.time.Year"
	EnumName                 = "io.debezium.data.Enum"
	EnumSetName              = "io.debezium.data.EnumSet"
	JSONName                 = "io.debezium.data.Json"
	UUIDName                 = "io.debezium.data.Uuid"
	XMLName                  = "io.debezium.data.Xml"
	BitsName                 = "io.debezium.data.Bits"
	VariableScaleDecimalName = "io.debezium.data.VariableScaleDecimal"

	EnumAllowedParam = "allowed"
	// BitsLengthParam is a Bits schema's number of bits.
	BitsLengthParam = "length"
	// UnavailableValue stands for a TOASTed column PostgreSQL did not send
	// (unavailable.value.placeholder's default).
	UnavailableValue = "__debezium_unavailable_value"
	// ColumnTypeParam and friends are set by column.propagate.source.type.
	DecimalPrecisionParam = "connect.decimal.precision"
)

// Semantic builds a column schema of type t named name, version 1.
func Semantic(t data.Type, name string) *data.SchemaBuilder {
	return data.NewBuilder(t).Name(name).Version(1)
}

// VariableScaleDecimalSchema is a NUMERIC without scale under
// decimal.handling.mode=precise: a struct of scale and unscaled bytes.
func VariableScaleDecimalSchema(optional bool) *data.Schema {
	b := data.StructBuilder().Name(VariableScaleDecimalName).Version(1).Doc("Variable scaled decimal").
		Field("scale", data.Int32Schema).
		Field("value", data.BytesSchema)
	if optional {
		b.Optional()
	}
	return b.MustBuild()
}
