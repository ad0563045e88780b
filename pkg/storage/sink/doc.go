// Package sink is the storage sink engine shared by Sluice's S3, HDFS and
// local-file sink connectors: one SinkTask (Task) that partitions records
// with Confluent's partitioners (partitioner.class, partitioner*.go),
// encodes them with Confluent's formats (format.class, format.go), writes
// them to a Store, rotates files like Confluent's S3 sink connector and
// names them like it:
//
//	<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset %010d><extension>
//	... and, with store.kafka.keys / store.kafka.headers, beside each file:
//	<same name>.keys<keys format extension>, <same name>.headers<headers format extension>
//
// # Exactly-once output
//
//  1. A file is cut only by flush.size (records per file), rotate.interval.ms
//     in record time, a schema change, the sluice.max.open.files eviction of
//     the least recently written file (all functions of the partition's
//     records), and the end of the lease (PreCommit commits every open file).
//  2. So the set of objects, their names (topic, partition, first offset) and
//     their bytes are a pure function of the lease's range, its records and
//     the configuration; formats are deterministic.
//  3. A retried or zombie lease gets the same range (rule 2 of
//     docs/architecture.md, whose rules the numbers here refer to) and
//     rewrites the same keys with the same bytes; Store.Commit replaces an
//     object whole, so readers never see a mix.
//  4. PreCommit returns offsets only when every object is committed; any
//     store failure makes it return a retriable error and no offsets, so the
//     executor commits nothing and the coordinator replays the range (rule 1).
//  5. The executor never moves committed offsets backwards and writes nothing
//     after a lease's deadline, so a late zombie changes neither offsets nor
//     (being identical) objects (rule 3).
//
// Two settings break this and are documented as such: the Wallclock
// timestamp extractor and rotate.schedule.interval.ms; Start logs a warning
// for each (Connect's validation can only return errors).
//
// # Memory
//
// A task holds, at most,
//
//	partitions in the lease × sluice.max.open.files × objects per file ×
//	    (store buffer + format buffer)
//
// where objects per file is 1, plus 1 for store.kafka.keys and 1 for
// store.kafka.headers; the store buffer is at most s3.part.size for S3
// (default 25 MiB) and nothing for HDFS and local files; the format buffer
// is one Parquet row group (parquet.block.size) or nothing for JSON and
// bytes. Buffers fill only as data arrives, so a file with a few records
// costs a few records. The Kafka fetch buffer (the executor's) comes on
// top.
package sink
