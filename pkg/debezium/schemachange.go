package debezium

import (
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Schema change events (include.schema.changes=true): each DDL statement
// a connector reads, and the table definitions of its snapshot, go to the
// topic <topic.prefix>, as Debezium's relational connectors write them
// (SchemaFactory, ConnectTableChangeSerializer).

// The table definitions of a schema change event's tableChanges.
var (
	schemaColumnSchema = data.StructBuilder().Name("io.debezium.connector.schema.Column").Version(1).
				Field("name", data.StringSchema).
				Field("jdbcType", data.Int32Schema).
				Field("nativeType", data.OptionalInt32Schema).
				Field("typeName", data.StringSchema).
				Field("typeExpression", data.OptionalStringSchema).
				Field("charsetName", data.OptionalStringSchema).
				Field("length", data.OptionalInt32Schema).
				Field("scale", data.OptionalInt32Schema).
				Field("position", data.Int32Schema).
				Field("optional", data.OptionalBooleanSchema).
				Field("autoIncremented", data.OptionalBooleanSchema).
				Field("generated", data.OptionalBooleanSchema).
				Field("comment", data.OptionalStringSchema).
				Field("defaultValueExpression", data.OptionalStringSchema).
				Field("enumValues", data.ArrayBuilder(data.StringSchema).Optional().MustBuild()).MustBuild()
	schemaTableSchema = data.StructBuilder().Optional().Name("io.debezium.connector.schema.Table").Version(1).
				Field("defaultCharsetName", data.OptionalStringSchema).
				Field("primaryKeyColumnNames", data.ArrayBuilder(data.StringSchema).Optional().MustBuild()).
				Field("columns", data.ArrayBuilder(schemaColumnSchema).MustBuild()).
				Field("comment", data.OptionalStringSchema).MustBuild()
	schemaChangeSchema = data.StructBuilder().Name("io.debezium.connector.schema.Change").Version(1).
				Field("type", data.StringSchema).
				Field("id", data.StringSchema).
				Field("table", schemaTableSchema).MustBuild()
)

// SchemaChangeSchemas are a connector's schema change key and value
// schemas: io.debezium.connector.<connector>.SchemaChangeKey and
// SchemaChangeValue, the value with the connector's source block.
type SchemaChangeSchemas struct {
	Key, Value *data.Schema
}

// NewSchemaChangeSchemas returns the schemas of connector ("mysql",
// "mariadb") with its source block schema.
func NewSchemaChangeSchemas(connector string, source *data.Schema) *SchemaChangeSchemas {
	prefix := "io.debezium.connector." + connector + "."
	return &SchemaChangeSchemas{
		Key: data.StructBuilder().Name(prefix+"SchemaChangeKey").Version(1).
			Field("databaseName", data.StringSchema).MustBuild(),
		Value: data.StructBuilder().Name(prefix+"SchemaChangeValue").Version(1).
			Field("source", source).
			Field("ts_ms", data.Int64Schema).
			Field("databaseName", data.OptionalStringSchema).
			Field("schemaName", data.OptionalStringSchema).
			Field("ddl", data.OptionalStringSchema).
			Field("tableChanges", data.ArrayBuilder(schemaChangeSchema).MustBuild()).MustBuild(),
	}
}

// SchemaColumn is a column of a TableChange's table. Nil pointers are
// null.
type SchemaColumn struct {
	Name                       string
	JdbcType                   int32
	NativeType                 *int32
	TypeName                   string
	TypeExpression             *string
	CharsetName                *string
	Length, Scale              *int32
	Position                   int32
	Optional                   bool
	AutoIncremented, Generated bool
	Comment                    *string
	DefaultValueExpression     *string
	// EnumValues are an ENUM or SET column's values as the DDL has them
	// (quoted); nil for other columns.
	EnumValues []string
}

// SchemaTable is a table's definition in a TableChange.
type SchemaTable struct {
	DefaultCharsetName    *string
	PrimaryKeyColumnNames []string
	Columns               []SchemaColumn
	Comment               *string
}

// TableChange is one table's change by a statement: Type CREATE, ALTER or
// DROP, ID Debezium's table id ("db"."table"), Table its definition after
// the statement (nil for DROP, as Debezium writes it).
type TableChange struct {
	Type, ID string
	Table    *SchemaTable
}

// SchemaChange is a schema change event.
type SchemaChange struct {
	Source       *data.Struct
	Time         time.Time // the event's ts_ms: when the connector emitted it
	DatabaseName string
	SchemaName   *string
	DDL          string
	TableChanges []TableChange
}

// Record returns the event's key and value.
func (s *SchemaChangeSchemas) Record(c SchemaChange) (key, value *data.Struct) {
	changes := make([]any, len(c.TableChanges))
	for i, tc := range c.TableChanges {
		ch := data.NewStruct(schemaChangeSchema).Set("type", tc.Type).Set("id", tc.ID)
		if tc.Table != nil {
			ch.Set("table", tableStruct(tc.Table))
		}
		changes[i] = ch
	}
	v := data.NewStruct(s.Value).Set("source", c.Source).Set("ts_ms", c.Time.UnixMilli()).
		Set("databaseName", c.DatabaseName).Set("ddl", c.DDL).Set("tableChanges", changes)
	if c.SchemaName != nil {
		v.Set("schemaName", *c.SchemaName)
	}
	return data.NewStruct(s.Key).Set("databaseName", c.DatabaseName), v
}

func tableStruct(t *SchemaTable) *data.Struct {
	cols := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		s := data.NewStruct(schemaColumnSchema).Set("name", c.Name).Set("jdbcType", c.JdbcType).Set("typeName", c.TypeName).
			Set("position", c.Position).Set("optional", c.Optional).Set("autoIncremented", c.AutoIncremented).Set("generated", c.Generated)
		setOpt(s, "nativeType", c.NativeType)
		setOpt(s, "typeExpression", c.TypeExpression)
		setOpt(s, "charsetName", c.CharsetName)
		setOpt(s, "length", c.Length)
		setOpt(s, "scale", c.Scale)
		setOpt(s, "comment", c.Comment)
		setOpt(s, "defaultValueExpression", c.DefaultValueExpression)
		if c.EnumValues != nil {
			s.Set("enumValues", anySlice(c.EnumValues))
		}
		cols[i] = s
	}
	s := data.NewStruct(schemaTableSchema).Set("primaryKeyColumnNames", anySlice(t.PrimaryKeyColumnNames)).Set("columns", cols)
	setOpt(s, "defaultCharsetName", t.DefaultCharsetName)
	setOpt(s, "comment", t.Comment)
	return s
}

func setOpt[T any](s *data.Struct, field string, v *T) {
	if v != nil {
		s.Set(field, *v)
	}
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
