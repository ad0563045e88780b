package connect

import "github.com/sluicehq/sluice/pkg/connect/data"

// RawValue is the Value (or Key) of a SinkRecord whose value (or key) the
// lease left undecoded, for a sink task that asked for such records
// (RawValueSink, RawKeySink): Bytes is the Kafka record's value (or key),
// which Converter.ToConnectData(Topic, Bytes) decodes without error to a
// non-null value. A task writes it
// straight into its own buffers, or calls Decode for the value the lease
// would have given it. A RawValue, and its Bytes, are valid only during the
// Put that carries them.
type RawValue struct {
	Topic     string
	Bytes     []byte
	Converter Converter
}

// Decode returns what the lease would have put in the record's ValueSchema
// and Value (or KeySchema and Key).
func (v *RawValue) Decode() (*data.Schema, any, error) {
	return v.Converter.ToConnectData(v.Topic, v.Bytes)
}

// RawChecker is an optional Converter capability: the converter can tell,
// without decoding them, which values ToConnectData decodes without error
// to a non-null value. Such values may reach a RawValueSink undecoded.
type RawChecker interface {
	// CheckRaw reports whether ToConnectData(topic, value) returns a nil
	// error and a non-nil value. A false answer says nothing: the lease
	// then decodes the value as usual.
	CheckRaw(topic string, value []byte) bool
}

// RawValueSink is an optional SinkTask capability: a task that can write
// some records' values from their undecoded bytes. After Start, the lease
// asks TakesRawValues with its value converter; when the answer is true,
// the converter is a RawChecker and the connector has no transforms, the
// lease puts each value that the converter's CheckRaw accepts as a
// *RawValue (with a nil ValueSchema) instead of decoding it. Every other
// stage (keys, headers, error handling) is unchanged.
type RawValueSink interface {
	TakesRawValues(valueConverter Converter) bool
}

// RawKeySink is RawValueSink for keys: a task that does not read records'
// keys, or reads them from their bytes (decoding those it does not read
// so, with RawValue.Decode). After Start, the lease asks TakesRawKeys with its key converter;
// when the answer is true, the converter is a RawChecker and the connector
// has no transforms, the lease puts each key that the converter's CheckRaw
// accepts as a *RawValue (with a nil KeySchema) instead of decoding it.
type RawKeySink interface {
	TakesRawKeys(keyConverter Converter) bool
}
