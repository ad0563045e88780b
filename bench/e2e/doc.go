// Package e2e benchmarks Sluice as a user runs it, end to end: the real
// coordinator binary in distributed mode, started against a broker in its
// own process (benchkit.ExternalBroker) that already holds the data, with
// one connector from a properties file, timed from the process's start
// until the work is visible from outside.
//
//   - BenchmarkE2EExport: SLUICE_BENCH_RECORDS datagen orders (JSON, about
//     200 bytes, 4 partitions; 20,000 and 1,000,000 by default) exported by
//     a local storage sink (tasks.max=4, snappy Parquet, flush.size=50000,
//     SLUICE_DEFAULT_ROTATE_INTERVAL=1s) until GET
//     /connectors/{name}/offsets shows every record committed; leases run
//     in the coordinator (inprocess), through an emulation of Lambda's
//     Invoke and Runtime APIs in front of warm sink-batch processes
//     (lambda), or on a sink-batch pull worker (pull).
//   - BenchmarkE2EIngest: a FileStreamSource reading SLUICE_BENCH_RECORDS
//     JSON lines into a 4-partition topic, until the topic holds them all;
//     BenchmarkE2ERawProduce is the same messages produced by the same Kafka
//     client (pkg/kafka) with nothing else, the ingest's ceiling.
//   - BenchmarkE2EIngestVsRaw: the two in turn on the same lines and
//     broker, and the ingest's throughput as a share of raw produce's
//     (ratio: from the coordinator's start; ratio-from-first: from the
//     first line in the topic), the "ingest ≥ 80% of raw produce".
//
// Each run reports the time to the first committed offsets and to all of
// them, records/s, the coordinator's CPU seconds and peak RSS (from /proc,
// the child process's own), the function processes' CPU seconds, and prints
// a timeline of where the time went (start-up steps, lag checks, leases
// issued and ended, with the executor's fetch, flush and commit steps),
// read from the processes' logs. The figures are reported, never asserted.
//
//	make bench-e2e
package e2e
