package debezium

import (
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// The headers of the two events an update that changes a row's primary
// key becomes: the delete of the old key carries the new key, the create
// of the new key the old one (Debezium's RelationalChangeRecordEmitter).
const (
	NewKeyHeader = "__debezium.newkey"
	OldKeyHeader = "__debezium.oldkey"
)

// Op is an envelope's op field (Debezium's Envelope.Operation).
type Op string

// The operations.
const (
	OpRead     Op = "r"
	OpCreate   Op = "c"
	OpUpdate   Op = "u"
	OpDelete   Op = "d"
	OpTruncate Op = "t"
	OpMessage  Op = "m"
)

// Envelope field names (Debezium's Envelope.FieldName).
const (
	FieldBefore      = "before"
	FieldAfter       = "after"
	FieldSource      = "source"
	FieldOp          = "op"
	FieldTsMs        = "ts_ms"
	FieldTsUs        = "ts_us"
	FieldTsNs        = "ts_ns"
	FieldTransaction = "transaction"
)

// Schema name suffixes.
const (
	EnvelopeSuffix = ".Envelope"
	KeySuffix      = ".Key"
	ValueSuffix    = ".Value"
)

// envelopeVersion is the version of envelope schemas (Envelope.SCHEMA_VERSION).
const envelopeVersion = 2

// Topic returns a table's change event topic, <topic.prefix>.<schema>.<table>
// (Debezium's default topic naming strategy). A MySQL table has no schema:
// its database takes the schema's place.
func Topic(prefix, schema, table string) string {
	return AdjustName(prefix + "." + schema + "." + table)
}

// AdjustName replaces characters that are not valid in Avro names and Kafka
// topics, as Debezium's default schema.name.adjustment.mode=none leaves names
// alone except for Kafka's topic character set: letters, digits, '.', '_'
// and '-'; anything else becomes '_'.
func AdjustName(name string) string {
	ok := true
	for _, r := range name {
		if !validTopicRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return name
	}
	var b strings.Builder
	for _, r := range name {
		if validTopicRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func validTopicRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// TransactionBlockSchema is the envelope's optional transaction field
// (event.block): the transaction id, the event's order in the transaction
// and in its table.
var TransactionBlockSchema = data.StructBuilder().Optional().Name("event.block").Version(1).
	Field("id", data.StringSchema).
	Field("total_order", data.Int64Schema).
	Field("data_collection_order", data.Int64Schema).
	MustBuild()

// EnvelopeSchema returns the value schema of a table's change events, named
// <topic>.Envelope, with row (the <topic>.Value schema, which must be
// optional) as before and after.
func EnvelopeSchema(name string, row, source *data.Schema) *data.Schema {
	return data.StructBuilder().Name(name).Version(envelopeVersion).
		Field(FieldBefore, row).
		Field(FieldAfter, row).
		Field(FieldSource, source).
		Field(FieldTransaction, TransactionBlockSchema).
		Field(FieldOp, data.StringSchema).
		Field(FieldTsMs, data.OptionalInt64Schema).
		Field(FieldTsUs, data.OptionalInt64Schema).
		Field(FieldTsNs, data.OptionalInt64Schema).
		MustBuild()
}

// Tx is an event's place in its transaction, for the envelope's transaction
// block; a nil *Tx leaves the block null (provide.transaction.metadata=false).
type Tx struct {
	ID                  string
	TotalOrder          int64
	DataCollectionOrder int64
}

// NewEnvelope builds a change event value. before and after may be nil as
// the operation allows; now is the processing time (ts_ms, ts_us, ts_ns).
// It sets the fields by their index in EnvelopeSchema's order (a change
// event's hot path) when schema has that order, by name otherwise.
func NewEnvelope(schema *data.Schema, op Op, before, after, source *data.Struct, tx *Tx, now time.Time) *data.Struct {
	v := data.NewStruct(schema)
	if !inEnvelopeOrder(schema) {
		return newEnvelopeByName(v, op, before, after, source, tx, now)
	}
	if before != nil {
		putStruct(v, envBefore, before)
	}
	if after != nil {
		putStruct(v, envAfter, after)
	}
	putStruct(v, envSource, source)
	if tx != nil {
		mustPut(v, envTransaction, txBlock(tx))
	}
	mustPut(v, envOp, opValue(op))
	mustPut(v, envTsMs, now.UnixMilli())
	mustPut(v, envTsUs, now.UnixMicro())
	mustPut(v, envTsNs, now.UnixNano())
	return v
}

// The envelope's fields by index, in EnvelopeSchema's order.
const (
	envBefore = iota
	envAfter
	envSource
	envTransaction
	envOp
	envTsMs
	envTsUs
	envTsNs
)

var envelopeOrder = [...]string{FieldBefore, FieldAfter, FieldSource, FieldTransaction, FieldOp, FieldTsMs, FieldTsUs, FieldTsNs}

// inEnvelopeOrder reports whether schema's fields are EnvelopeSchema's, in
// its order.
func inEnvelopeOrder(schema *data.Schema) bool {
	if len(schema.Fields) != len(envelopeOrder) {
		return false
	}
	for i, name := range envelopeOrder {
		if schema.Fields[i].Name != name {
			return false
		}
	}
	return true
}

func newEnvelopeByName(v *data.Struct, op Op, before, after, source *data.Struct, tx *Tx, now time.Time) *data.Struct {
	if before != nil {
		v.Set(FieldBefore, before)
	}
	if after != nil {
		v.Set(FieldAfter, after)
	}
	v.Set(FieldSource, source)
	if tx != nil {
		v.Set(FieldTransaction, txBlock(tx))
	}
	v.Set(FieldOp, string(op))
	v.Set(FieldTsMs, now.UnixMilli())
	v.Set(FieldTsUs, now.UnixMicro())
	v.Set(FieldTsNs, now.UnixNano())
	return v
}

func txBlock(tx *Tx) *data.Struct {
	return data.NewStruct(TransactionBlockSchema).
		Set("id", tx.ID).Set("total_order", tx.TotalOrder).Set("data_collection_order", tx.DataCollectionOrder)
}

// putStruct sets field i of v to st. A struct of the field's very schema
// is not validated again: its values were validated as they were put (a
// change event's source block has 15 fields and its row a table's
// columns, each checked when set; a required field left unset fails in
// the converter, as a null for a required field). One of another schema
// is validated as a whole, as Put does.
func putStruct(v *data.Struct, i int, st *data.Struct) {
	if st != nil && st.Schema() == v.Schema().Fields[i].Schema {
		v.SetAtUnchecked(i, st)
		return
	}
	mustPut(v, i, st)
}

// mustPut is PutAt that panics on error, as Set does.
func mustPut(s *data.Struct, i int, v any) {
	if err := s.PutAt(i, v); err != nil {
		panic(err)
	}
}

// opValue is string(op) as a value: the constants' without an allocation.
func opValue(op Op) any {
	switch op {
	case OpRead:
		return string(OpRead)
	case OpCreate:
		return string(OpCreate)
	case OpUpdate:
		return string(OpUpdate)
	case OpDelete:
		return string(OpDelete)
	case OpTruncate:
		return string(OpTruncate)
	case OpMessage:
		return string(OpMessage)
	}
	return string(op)
}
