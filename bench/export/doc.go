// Package export benchmarks Sluice's headline use, exporting a Kafka topic
// to snappy Parquet files, end to end: records produced (untimed) by the
// datagen orders shape through the schemaless JsonConverter into a
// 4-partition topic of a broker in its own process, then exported by the
// real sink leases run by the lease executor, with the local sink
// (BenchmarkExportParquetLocal) and the S3 sink against versitygw
// (BenchmarkExportParquetS3), and checked with an independent Parquet
// reader.
//
// SLUICE_BENCH_CPUPROFILE=file writes a CPU profile of the timed exports
// (not of producing the data) to file.
//
// Run the product's figure (1,000,000 records) with
//
//	make bench-export
//
// Other runs export SLUICE_BENCH_RECORDS records (default 20,000, so that
// make bench-smoke stays fast). SLUICE_BENCH_TASKS sets how many leases
// share the 4 partitions and run at once (default 4: one per partition, as
// the coordinator runs a connector with tasks.max=4). Each benchmark
// reports records/s, MB/s (Kafka keys and values), the CPU seconds and the
// peak RSS of the benchmark process, which holds the sink and nothing else:
// the broker and versitygw run in processes of their own.
package export
