package transforms

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// insertFieldProps are the properties InsertFieldTest configures.
var insertFieldProps = map[string]string{
	"topic.field":     "topic_field!",
	"partition.field": "partition_field",
	"timestamp.field": "timestamp_field?",
	"static.field":    "instance_id",
	"static.value":    "my-instance-id",
}

func TestInsertFieldWithSchema(t *testing.T) {
	x := newField(t, newInsertField, valueTarget, insertFieldProps)
	simple := data.StructBuilder().Name("name").Version(1).Doc("doc").Field("magic", data.OptionalInt64Schema).MustBuild()
	r := valueRecord(simple, data.NewStruct(simple).Set("magic", int64(42)))
	r.Timestamp = time.UnixMilli(789)
	out := applyOK(t, x, r)

	s := out.ValueSchema
	if s.Name != "name" || *s.Version != 1 || s.Doc != "doc" {
		t.Fatalf("schema basics not copied: %+v", s)
	}
	v := out.Value.(*data.Struct)
	tests := []struct {
		name   string
		field  string
		schema *data.Schema
		value  any
	}{
		{name: "existing field", field: "magic", schema: data.OptionalInt64Schema, value: int64(42)},
		{name: "required topic", field: "topic_field", schema: data.StringSchema, value: "test"},
		{name: "optional partition", field: "partition_field", schema: data.OptionalInt32Schema, value: int32(0)},
		{name: "optional timestamp", field: "timestamp_field", schema: data.TimestampSchema().Optional().MustBuild(), value: time.UnixMilli(789).UTC()},
		{name: "static", field: "instance_id", schema: data.OptionalStringSchema, value: "my-instance-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := s.Field(tt.field)
			if f == nil || !data.Equal(f.Schema, tt.schema) {
				t.Fatalf("field %s schema = %v, want %v", tt.field, f, tt.schema)
			}
			if got := v.Get(tt.field); !equalValue(got, tt.value) {
				t.Fatalf("field %s = %v, want %v", tt.field, got, tt.value)
			}
		})
	}
	// Exercise caching.
	r2 := valueRecord(simple, data.NewStruct(simple))
	r2.Partition = connect.PartitionOf(1)
	if out2 := applyOK(t, x, r2); out2.ValueSchema != out.ValueSchema {
		t.Fatalf("schema not cached")
	}
}

func TestInsertFieldSchemaless(t *testing.T) {
	x := newField(t, newInsertField, valueTarget, insertFieldProps)
	r := valueRecord(nil, map[string]any{"magic": int64(42)})
	r.Timestamp = time.UnixMilli(123)
	out := applyOK(t, x, r)
	want := map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0), "timestamp_field": int64(123), "instance_id": "my-instance-id"}
	if !equalValue(out.Value, want) {
		t.Fatalf("value = %v, want %v", out.Value, want)
	}
}

func TestInsertFieldCases(t *testing.T) {
	simple := data.StructBuilder().Name("name").Version(1).Doc("doc").Field("magic", data.OptionalInt64Schema).MustBuild()
	withDefault := data.NewBuilder(data.TypeInt64).Optional().Default(int64(42)).MustBuild()
	defaulted := data.StructBuilder().Field("magic_with_default", withDefault).MustBuild()
	sink := func(r connect.TransformRecord) connect.TransformRecord { r.KafkaOffset = 77; return r }
	tests := []struct {
		name       string
		tg         target
		props      map[string]string
		in         connect.TransformRecord
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		{name: "top-level struct required", tg: valueTarget, props: map[string]string{"topic.field": "topic_field"},
			in: valueRecord(data.Int32Schema, int32(42)), wantErr: "Only Struct objects supported for [field insertion], found: java.lang.Integer"},
		{name: "schemaless requires a map", tg: valueTarget, props: map[string]string{"topic.field": "topic_field"},
			in: valueRecord(nil, "x"), wantErr: "Only Map objects supported in absence of schema for [field insertion], found: java.lang.String"},
		{name: "tombstone without schema unchanged", tg: valueTarget, props: insertFieldProps, in: valueRecord(nil, nil)},
		{name: "tombstone with schema unchanged", tg: valueTarget, props: insertFieldProps, in: valueRecord(simple, nil), wantSchema: simple},
		{name: "null key unchanged", tg: keyTarget, props: insertFieldProps, in: keyRecord(nil, nil)},
		{name: "key of a tombstone", tg: keyTarget, props: insertFieldProps, in: keyRecord(nil, map[string]any{"magic": int64(42)}),
			want: map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0), "instance_id": "my-instance-id"}},
		{name: "offset on a source record", tg: valueTarget, props: map[string]string{"offset.field": "o"},
			in: valueRecord(nil, map[string]any{}), wantErr: "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"},
		{name: "offset on a sink record schemaless", tg: valueTarget, props: map[string]string{"offset.field": "o"},
			in: sink(valueRecord(nil, map[string]any{})), want: map[string]any{"o": int64(77)}},
		{name: "required offset with schema", tg: valueTarget, props: map[string]string{"offset.field": "o!"},
			in:         sink(valueRecord(simple, data.NewStruct(simple))),
			wantSchema: data.StructBuilder().Name("name").Version(1).Doc("doc").Field("magic", data.OptionalInt64Schema).Field("o", data.Int64Schema).MustBuild(),
			want:       data.NewStruct(data.StructBuilder().Name("name").Version(1).Doc("doc").Field("magic", data.OptionalInt64Schema).Field("o", data.Int64Schema).MustBuild()).Set("o", int64(77))},
		{name: "no partition no timestamp schemaless", tg: valueTarget, props: map[string]string{"partition.field": "p", "timestamp.field": "ts"},
			in: func() connect.TransformRecord { r := valueRecord(nil, map[string]any{}); r.Partition = nil; return r }(), want: map[string]any{}},
		{name: "static field without value not inserted", tg: valueTarget, props: map[string]string{"static.field": "s"},
			in: valueRecord(nil, map[string]any{}), want: map[string]any{}},
		{name: "replace null with default", tg: valueTarget, props: map[string]string{"static.field": "s", "static.value": "v", "replace.null.with.default": "true"},
			in:         valueRecord(defaulted, data.NewStruct(defaulted)),
			wantSchema: data.StructBuilder().Field("magic_with_default", withDefault).Field("s", data.OptionalStringSchema).MustBuild(),
			want:       data.NewStruct(data.StructBuilder().Field("magic_with_default", withDefault).Field("s", data.OptionalStringSchema).MustBuild()).Set("magic_with_default", int64(42)).Set("s", "v")},
		{name: "keep null", tg: valueTarget, props: map[string]string{"static.field": "s", "static.value": "v", "replace.null.with.default": "false"},
			in:         valueRecord(defaulted, data.NewStruct(defaulted)),
			wantSchema: data.StructBuilder().Field("magic_with_default", withDefault).Field("s", data.OptionalStringSchema).MustBuild(),
			want:       data.NewStruct(data.StructBuilder().Field("magic_with_default", withDefault).Field("s", data.OptionalStringSchema).MustBuild()).Set("s", "v")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newField(t, newInsertField, tt.tg, tt.props)
			if tt.wantErr != "" {
				applyErr(t, x, tt.in, tt.wantErr)
				return
			}
			out := applyOK(t, x, tt.in)
			s, v := tt.tg.get(&out)
			if !data.Equal(s, tt.wantSchema) || !equalValue(v, tt.want) {
				t.Fatalf("got %v %v, want %v %v", s, v, tt.wantSchema, tt.want)
			}
		})
	}
}
