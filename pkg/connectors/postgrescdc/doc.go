// Package postgrescdc is Debezium's PostgreSQL connector
// (io.debezium.connector.postgresql.PostgresConnector) for Sluice: change
// data capture from PostgreSQL's logical replication stream (pgoutput),
// emitting Debezium's change events and offsets.
//
// A lease connects, restores its position from the committed offset,
// takes or resumes the initial snapshot if it must (consistent with the
// slot's start through the slot's exported snapshot), then reads the slot.
// The slot's confirmed flush LSN moves only in Commit, which the executor
// calls after the lease's records are acknowledged by Kafka and their
// offsets written: a lease that dies earlier leaves the WAL in place, and
// the next lease replays it (at least once).
//
// With provide.transaction.metadata, the offsets of a transaction's BEGIN
// record and changes also hold Debezium's transaction_id and
// transaction_data_collection_order_<schema>.<table>, so that a lease
// resuming inside the transaction writes no second BEGIN record and its
// orders and END record's counts go on from the earlier leases'.
package postgrescdc
