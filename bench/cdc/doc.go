// Package cdc benchmarks change data capture from PostgreSQL (make
// bench-cdc): row changes captured into Kafka by the
// io.debezium.connector.postgresql.PostgresConnector leases, next to the
// rate at which PostgreSQL streams the same WAL to a bare pg_recvlogical;
// make bench-cdc-debezium adds Debezium's own PostgresConnector (a JVM,
// testdata/DebeziumBench.java) on the same changes.
package cdc
