// Package offsets reads and writes Kafka Connect source offsets.
//
// A source offset is stored as a key/value pair in Kafka Connect's format, as
// Connect's JsonConverter (schemas.enable=false) writes them to
// offset.storage.topic:
//
//	key:   ["<connector>",{<source partition>}]   e.g. ["file-source",{"filename":"/tmp/in.txt"}]
//	value: {<source offset>}                      e.g. {"position":1234}
//
// A nil value (a tombstone) deletes the offset. The codec functions (EncodeKey,
// DecodeKey, EncodeValue, DecodeValue) produce and accept exactly these bytes,
// so Sluice and Kafka Connect can share one offsets topic.
//
// Store is the interface the lease executor uses. File is the standalone-mode
// store (Connect's offset.storage.file.filename); the Kafka-topic store is
// state.OffsetStore (coordinator/state), next to the stores of Connect's
// other internal topics.
package offsets
