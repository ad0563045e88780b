package debezium

import (
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// DefaultHeartbeatTopicPrefix is topic.heartbeat.prefix's default: heartbeats
// go to <prefix>.<topic.prefix>.
const DefaultHeartbeatTopicPrefix = "__debezium-heartbeat"

// HeartbeatKeySchema and HeartbeatValueSchema are heartbeat records' schemas.
var (
	HeartbeatKeySchema = data.StructBuilder().Name("io.debezium.connector.common.ServerNameKey").Version(1).
				Field("serverName", data.StringSchema).MustBuild()
	HeartbeatValueSchema = data.StructBuilder().Name("io.debezium.connector.common.Heartbeat").Version(1).
				Field("ts_ms", data.Int64Schema).MustBuild()
)

// Heartbeat returns a heartbeat's key and value.
func Heartbeat(serverName string, now time.Time) (key, value *data.Struct) {
	return data.NewStruct(HeartbeatKeySchema).Set("serverName", serverName),
		data.NewStruct(HeartbeatValueSchema).Set("ts_ms", now.UnixMilli())
}

// Transaction metadata topic records (provide.transaction.metadata=true),
// on <topic.prefix>.transaction.
var (
	TransactionKeySchema = data.StructBuilder().Name("io.debezium.connector.common.TransactionMetadataKey").Version(1).
				Field("id", data.StringSchema).MustBuild()
	transactionCountSchema = data.StructBuilder().Optional().Name("event.collection").Version(1).
				Field("data_collection", data.StringSchema).
				Field("event_count", data.Int64Schema).MustBuild()
	TransactionValueSchema = data.StructBuilder().Name("io.debezium.connector.common.TransactionMetadataValue").Version(1).
				Field("status", data.StringSchema).
				Field("id", data.StringSchema).
				Field("event_count", data.OptionalInt64Schema).
				Field("data_collections", data.ArrayBuilder(transactionCountSchema).Optional().MustBuild()).
				Field("ts_ms", data.Int64Schema).MustBuild()
)

// TransactionBegin returns a BEGIN record's key and value.
func TransactionBegin(id string, commitTime time.Time) (key, value *data.Struct) {
	return data.NewStruct(TransactionKeySchema).Set("id", id),
		data.NewStruct(TransactionValueSchema).Set("status", "BEGIN").Set("id", id).Set("ts_ms", commitTime.UnixMilli())
}

// CollectionCount is one table's event count in a transaction.
type CollectionCount struct {
	Collection string
	Events     int64
}

// TransactionEnd returns an END record's key and value.
func TransactionEnd(id string, commitTime time.Time, total int64, per []CollectionCount) (key, value *data.Struct) {
	counts := make([]any, len(per))
	for i, c := range per {
		counts[i] = data.NewStruct(transactionCountSchema).Set("data_collection", c.Collection).Set("event_count", c.Events)
	}
	return data.NewStruct(TransactionKeySchema).Set("id", id),
		data.NewStruct(TransactionValueSchema).Set("status", "END").Set("id", id).
			Set("event_count", total).Set("data_collections", counts).Set("ts_ms", commitTime.UnixMilli())
}
