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
// statement in the binlog; Debezium's schema history topic is not written,
// so rows logged before a later ALTER TABLE cannot be decoded on a replay
// (the lease fails and says so).
package mysqlcdc
