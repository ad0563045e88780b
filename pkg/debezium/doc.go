// Package debezium is Debezium's change event format in Connect's data
// model: the topic names, the key and value schema names, the envelope
// ({before, after, source, op, ts_ms, ts_us, ts_ns, transaction}), the
// source blocks of the PostgreSQL and MySQL/MariaDB connectors, heartbeats,
// transaction metadata and the semantic types (io.debezium.time.*,
// io.debezium.data.*) that Debezium's converters emit.
//
// Consumers written for Debezium read Sluice's change events unchanged: the
// JsonConverter (with schemas) and the Avro converter see the same schema
// names, field order, optionality and versions as Debezium 3.x emits.
// Schemas built here are immutable and safe for concurrent use.
package debezium
