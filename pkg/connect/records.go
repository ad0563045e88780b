package connect

import (
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Record is what source and sink records share (Connect's ConnectRecord).
type Record struct {
	Topic string
	// Partition is the Kafka partition; nil lets the producer's partitioner
	// choose from the key (murmur2, as Kafka's Java client).
	Partition   *int32
	KeySchema   *data.Schema
	Key         any
	ValueSchema *data.Schema
	Value       any
	// Timestamp is the record's timestamp; the zero time means none.
	Timestamp time.Time
	Headers   Headers
}

// PartitionOf returns a pointer to p, for Record.Partition.
func PartitionOf(p int32) *int32 { return &p }

// SourceRecord is a record read from an external system, with its position
// there (Connect's SourceRecord). Offsets are committed per SourcePartition;
// both maps must be JSON-serialisable (strings, numbers, booleans, nested
// maps and lists), as they are stored in Connect's offsets topic format.
// Neither map may be modified after Poll returns it; a task should return
// the same SourcePartition map for every record of a partition, which lets
// the executor skip re-encoding it.
type SourceRecord struct {
	Record
	SourcePartition map[string]any
	SourceOffset    map[string]any
	// PositionKey and Position are a cheaper form of SourceOffset for a
	// source whose offset is one whole number (a file position, a
	// sequence number): when SourceOffset is nil and PositionKey is set,
	// the record's source offset is {PositionKey: Position} (an int64),
	// stored and committed as that map would be, without a map made for
	// each record (3 of the 7 allocations per line of a FileStreamSource
	// lease, producer included). Offset returns the offset in either form.
	PositionKey string
	Position    int64
}

// Offset returns the record's source offset: SourceOffset, or the map of
// PositionKey and Position when SourceOffset is nil and PositionKey set.
func (r *SourceRecord) Offset() map[string]any {
	if r.SourceOffset == nil && r.PositionKey != "" {
		return map[string]any{r.PositionKey: r.Position}
	}
	return r.SourceOffset
}

// TimestampType says where a Kafka record's timestamp came from.
type TimestampType int8

// The timestamp types, as Kafka's.
const (
	NoTimestampType TimestampType = iota - 1
	CreateTime
	LogAppendTime
)

// SinkRecord is a record read from Kafka for a sink task (Connect's
// SinkRecord). Topic, Partition and Offset may be changed by transforms; the
// Original* fields keep the coordinates the record was read at, and offsets
// are always committed against those.
type SinkRecord struct {
	Record
	Offset        int64
	TimestampType TimestampType

	OriginalTopic     string
	OriginalPartition int32
	OriginalOffset    int64
}

// KafkaPartition returns the record's partition (-1 if unset).
func (r *SinkRecord) KafkaPartition() int32 {
	if r.Partition == nil {
		return -1
	}
	return *r.Partition
}

// Header is one record header, with its schema and value in Connect's data
// model.
type Header struct {
	Key    string
	Schema *data.Schema
	Value  any
}

// Headers are a record's headers, in order; keys may repeat (Connect's
// ConnectHeaders).
type Headers []Header

// Add appends a header.
func (h *Headers) Add(key string, schema *data.Schema, value any) {
	*h = append(*h, Header{Key: key, Schema: schema, Value: value})
}

// AddString appends a STRING header.
func (h *Headers) AddString(key, value string) { h.Add(key, data.StringSchema, value) }

// LastWithName returns the last header with the key.
func (h Headers) LastWithName(key string) (Header, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return h[i], true
		}
	}
	return Header{}, false
}

// Remove drops every header with the key.
func (h *Headers) Remove(key string) {
	out := (*h)[:0]
	for _, x := range *h {
		if x.Key != key {
			out = append(out, x)
		}
	}
	*h = out
}

// Clone returns a copy of the header list (values are shared).
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(nil), h...)
}
