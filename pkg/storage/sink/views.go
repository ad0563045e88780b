package sink

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Record views, Confluent's RecordViews: the keys object holds each
// record's key, the headers object its headers as an array of {key, value}
// strings (values rendered as Connect's Values.convertToString). Formats
// that write only structs (Parquet) get them "enveloped", as Confluent's
// Parquet writer does: struct RecordKey {key} and struct RecordHeaders
// {headers}.

// singleHeaderSchema is Confluent's HeaderRecordView.SINGLE_HEADER_SCHEMA,
// except that the value is optional: a header with a null value is written
// as null rather than failing the task.
var (
	singleHeaderSchema = data.StructBuilder().
				Field("key", data.StringSchema).
				Field("value", data.OptionalStringSchema).
				MustBuild()
	headersSchema         = data.ArrayBuilder(singleHeaderSchema).MustBuild()
	envelopedHeaderSchema = data.StructBuilder().Name("RecordHeaders").Field("headers", headersSchema).MustBuild()
)

// keyViewSchema is the schema of the keys view of records keyed by
// keySchema. The enveloped schema of the last key schema is kept: records
// share their key schema, and each would otherwise build its own.
func (t *Task) keyViewSchema(keySchema *data.Schema) *data.Schema {
	if !t.envelopeKeys || keySchema == nil {
		return keySchema
	}
	if keySchema != t.lastKeySchema {
		t.lastKeySchema = keySchema
		t.lastKeyEnvelope = data.StructBuilder().Name("RecordKey").Field("key", keySchema).MustBuild()
	}
	return t.lastKeyEnvelope
}

func headerViewSchema(envelope bool) *data.Schema {
	if envelope {
		return envelopedHeaderSchema
	}
	return headersSchema
}

// keyRecord returns r with its key as the value.
func (t *Task) keyRecord(r *connect.SinkRecord) *connect.SinkRecord {
	out := *r
	out.ValueSchema, out.Value = r.KeySchema, r.Key
	if t.envelopeKeys {
		if r.KeySchema == nil {
			out.Value = map[string]any{"key": r.Key}
		} else {
			s := t.keyViewSchema(r.KeySchema)
			out.ValueSchema, out.Value = s, data.NewStruct(s).Set("key", r.Key)
		}
	}
	return &out
}

// headerRecord returns r with its headers as the value.
func headerRecord(r *connect.SinkRecord, envelope bool) *connect.SinkRecord {
	list := make([]any, 0, len(r.Headers))
	for _, h := range r.Headers {
		st := data.NewStruct(singleHeaderSchema).Set("key", h.Key)
		if b, err := (converter.SimpleHeaderConverter{}).FromConnectHeader(r.Topic, h.Key, h.Schema, h.Value); err == nil && b != nil {
			st.Set("value", string(b))
		}
		list = append(list, st)
	}
	out := *r
	out.ValueSchema, out.Value = headersSchema, list
	if envelope {
		out.ValueSchema, out.Value = envelopedHeaderSchema, data.NewStruct(envelopedHeaderSchema).Set("headers", list)
	}
	return &out
}
