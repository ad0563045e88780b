// Package jdbc is the JDBC source and sink connectors for PostgreSQL and
// MySQL/MariaDB, under Confluent's class names
// (io.confluent.connect.jdbc.JdbcSourceConnector, JdbcSinkConnector) and
// keys, on database/sql with jackc/pgx and go-sql-driver/mysql.
//
// The source (SourceConnector, SourceTask) copies tables or a query in
// bulk, incrementing, timestamp or timestamp+incrementing mode, with
// Confluent's source offsets, so that offsets carry over from a Connect
// cluster; the connector watches the tables and asks for new task
// configurations when tables come or go. The sink (SinkConnector,
// SinkTask) inserts, upserts, updates or deletes rows, creates and evolves
// tables, and writes each lease in one transaction together with the
// partitions' next offsets (table __sluice_offsets), so that a replayed or
// zombie lease writes nothing twice.
//
// What differs between databases is kept in one file per dialect
// (postgres.go, mysql.go); types.go maps values both ways and refuses
// those the other side cannot hold exactly. Tests run against real servers
// (internal/pgtest, internal/mariadbtest).
package jdbc
