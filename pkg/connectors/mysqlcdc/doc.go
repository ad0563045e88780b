// Package mysqlcdc is Debezium's MySQL and MariaDB connectors
// (io.debezium.connector.mysql.MySqlConnector,
// io.debezium.connector.mariadb.MariaDbConnector) for Sluice: change data
// capture from the row-based binary log (github.com/go-mysql-org/go-mysql),
// emitting Debezium's change events with binlog file/position offsets.
//
// A lease restores its position from the committed offset (the start of
// the transaction it was in and how many of its row changes were already
// emitted), takes or resumes the initial snapshot if it must (one
// consistent-snapshot transaction whose binlog position MariaDB reports,
// or FLUSH TABLES WITH READ LOCK on MySQL), then reads the binlog. The
// server keeps binlogs by its own retention (binlog_expire_logs_seconds);
// nothing is acknowledged to it.
//
// Table shapes come from information_schema and are re-read after each DDL
// statement in the binlog. With schema.history.internal.kafka.topic they
// are also kept in Debezium's schema history topic, from which a lease
// resuming at a position rebuilds them as they were there; without it,
// rows logged before a later ALTER TABLE cannot be decoded on a replay
// (the lease fails and says so).
//
// With include.schema.changes (true by default, as in Debezium), the
// snapshot's table definitions and each DDL statement read in the binlog
// are written to <topic.prefix> as Debezium's schema change events
// (schemachange.go); their offsets let a lease resume among them without
// losing or repeating one.
//
// With provide.transaction.metadata, BEGIN and END records go to
// <topic.prefix>.transaction and each change has its transaction block,
// as Debezium's binlog connectors write them; the offset of a record
// inside a transaction holds the transaction's id and counts (Debezium's
// transaction_id and transaction_data_collection_order_<table>), so a
// lease resuming inside it writes no second BEGIN record and continues
// the orders.
package mysqlcdc
