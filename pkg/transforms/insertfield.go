package transforms

import (
	"maps"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// InsertField is Connect's InsertField$Key and InsertField$Value: it
// inserts the record's topic, partition, offset (sink records only) and
// timestamp, and a static value, as fields of a Struct (schema present) or
// a map (schemaless). A null key or value passes through unchanged. Field
// names ending in "!" make the inserted field required, "?" (or nothing)
// optional. Configure before Apply; use from one goroutine at a time.
type InsertField struct {
	target target

	topic, partition, offset, timestamp, static *insertionSpec
	staticValue                                 *string
	replaceNullWithDefault                      bool
	cache                                       schemaCache
}

const insertFieldPurpose = "field insertion"

const insertFieldOptionalityDoc = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."

var insertFieldDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "topic.field", Type: config.String, Importance: config.Medium,
		Doc: "Field name for Kafka topic. " + insertFieldOptionalityDoc}).
	Define(config.Key{Name: "partition.field", Type: config.String, Importance: config.Medium,
		Doc: "Field name for Kafka partition. " + insertFieldOptionalityDoc}).
	Define(config.Key{Name: "offset.field", Type: config.String, Importance: config.Medium,
		Doc: "Field name for Kafka offset - only applicable to sink connectors.<br/>" + insertFieldOptionalityDoc}).
	Define(config.Key{Name: "timestamp.field", Type: config.String, Importance: config.Medium,
		Doc: "Field name for record timestamp. " + insertFieldOptionalityDoc}).
	Define(config.Key{Name: "static.field", Type: config.String, Importance: config.Medium,
		Doc: "Field name for static data field. " + insertFieldOptionalityDoc}).
	Define(config.Key{Name: "static.value", Type: config.String, Importance: config.Medium,
		Doc: "Static field value, if field name configured."}))

// insertionSpec is a field name with its optionality.
type insertionSpec struct {
	name     string
	optional bool
}

// parseInsertionSpec is Connect's InsertionSpec.parse: nil for null.
func parseInsertionSpec(v any) *insertionSpec {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if n, cut := strings.CutSuffix(s, "?"); cut {
		return &insertionSpec{name: n, optional: true}
	}
	if n, cut := strings.CutSuffix(s, "!"); cut {
		return &insertionSpec{name: n, optional: false}
	}
	return &insertionSpec{name: s, optional: true}
}

func newInsertField(t target) connect.Transformation { return &InsertField{target: t} }

// Config returns InsertField's keys.
func (*InsertField) Config() *config.Def { return insertFieldDef }

// Configure reads the keys.
func (x *InsertField) Configure(props map[string]string) error {
	vals, err := insertFieldDef.Parse(props)
	if err != nil {
		return err
	}
	x.topic = parseInsertionSpec(vals.Get("topic.field"))
	x.partition = parseInsertionSpec(vals.Get("partition.field"))
	x.offset = parseInsertionSpec(vals.Get("offset.field"))
	x.timestamp = parseInsertionSpec(vals.Get("timestamp.field"))
	x.static = parseInsertionSpec(vals.Get("static.field"))
	x.staticValue = nil
	if s, ok := vals.Get("static.value").(string); ok {
		x.staticValue = &s
	}
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	x.cache = schemaCache{}
	return nil
}

// Apply inserts the configured fields.
func (x *InsertField) Apply(r *connect.TransformRecord) (bool, error) {
	schema, value := x.target.get(r)
	if value == nil {
		return true, nil
	}
	if schema == nil {
		return true, x.applySchemaless(r, value)
	}
	return true, x.applyWithSchema(r, value)
}

func (x *InsertField) applySchemaless(r *connect.TransformRecord, v any) error {
	m, err := requireMap(v, insertFieldPurpose)
	if err != nil {
		return err
	}
	updated := maps.Clone(m)
	if x.topic != nil {
		updated[x.topic.name] = r.Topic
	}
	if x.partition != nil && r.Partition != nil {
		updated[x.partition.name] = *r.Partition
	}
	if x.offset != nil {
		if err := requireSinkRecord(r, insertFieldPurpose); err != nil {
			return err
		}
		updated[x.offset.name] = r.KafkaOffset
	}
	if x.timestamp != nil && !r.Timestamp.IsZero() {
		// Connect's schemaless record carries the timestamp as a Long.
		updated[x.timestamp.name] = r.Timestamp.UnixMilli()
	}
	if x.static != nil && x.staticValue != nil {
		updated[x.static.name] = *x.staticValue
	}
	x.target.set(r, nil, updated)
	return nil
}

func (x *InsertField) applyWithSchema(r *connect.TransformRecord, v any) error {
	value, err := requireStruct(v, insertFieldPurpose)
	if err != nil {
		return err
	}
	updatedSchema := x.cache.get(value.Schema())
	if updatedSchema == nil {
		if updatedSchema, err = x.updatedSchema(value.Schema()); err != nil {
			return err
		}
		x.cache.put(value.Schema(), updatedSchema)
	}
	updated := data.NewStruct(updatedSchema)
	for _, f := range value.Schema().Fields {
		if err := updated.Put(f.Name, structField(value, f.Name, x.replaceNullWithDefault)); err != nil {
			return err
		}
	}
	put := func(spec *insertionSpec, v any) error {
		return updated.Put(spec.name, v)
	}
	if x.topic != nil {
		if err := put(x.topic, r.Topic); err != nil {
			return err
		}
	}
	if x.partition != nil && r.Partition != nil {
		if err := put(x.partition, *r.Partition); err != nil {
			return err
		}
	}
	if x.offset != nil {
		if err := requireSinkRecord(r, insertFieldPurpose); err != nil {
			return err
		}
		if err := put(x.offset, r.KafkaOffset); err != nil {
			return err
		}
	}
	if x.timestamp != nil && !r.Timestamp.IsZero() {
		// java.util.Date has millisecond precision.
		if err := put(x.timestamp, time.UnixMilli(r.Timestamp.UnixMilli()).UTC()); err != nil {
			return err
		}
	}
	if x.static != nil && x.staticValue != nil {
		if err := put(x.static, *x.staticValue); err != nil {
			return err
		}
	}
	x.target.set(r, updatedSchema, updated)
	return nil
}

func (x *InsertField) updatedSchema(s *data.Schema) (*data.Schema, error) {
	b := copySchemaBasics(s, data.StructBuilder())
	for _, f := range s.Fields {
		b.Field(f.Name, f.Schema)
	}
	pick := func(optional bool, opt, req *data.Schema) *data.Schema {
		if optional {
			return opt
		}
		return req
	}
	if x.topic != nil {
		b.Field(x.topic.name, pick(x.topic.optional, data.OptionalStringSchema, data.StringSchema))
	}
	if x.partition != nil {
		b.Field(x.partition.name, pick(x.partition.optional, data.OptionalInt32Schema, data.Int32Schema))
	}
	if x.offset != nil {
		b.Field(x.offset.name, pick(x.offset.optional, data.OptionalInt64Schema, data.Int64Schema))
	}
	if x.timestamp != nil {
		b.Field(x.timestamp.name, pick(x.timestamp.optional, insertFieldOptionalTimestamp, insertFieldTimestamp))
	}
	if x.static != nil {
		b.Field(x.static.name, pick(x.static.optional, data.OptionalStringSchema, data.StringSchema))
	}
	return b.Build()
}

var (
	insertFieldTimestamp         = data.TimestampSchema().MustBuild()
	insertFieldOptionalTimestamp = data.TimestampSchema().Optional().MustBuild()
)

// Close releases the schema cache.
func (x *InsertField) Close() error {
	x.cache = schemaCache{}
	return nil
}
