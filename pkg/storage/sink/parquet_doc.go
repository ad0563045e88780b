// The Parquet format: Confluent's ParquetFormat
// (io.confluent.connect.s3.format.parquet.ParquetFormat) for Sluice's
// storage sinks, written with github.com/xitongsys/parquet-go (the
// parquet_*.go files are the only ones that import it).
//
// # Schema
//
// A record value's Connect STRUCT schema becomes the Parquet schema as
// Confluent derives it through AvroData and parquet-avro. The message is
// named after the schema (io.confluent.connect.avro.ConnectDefault when it
// has no name); fields keep their names and order; an optional Connect
// schema is an OPTIONAL Parquet field, a required one REQUIRED.
//
//	Connect                    Parquet
//	BOOLEAN                    BOOLEAN
//	INT8, INT16                INT32 with INT(8, true), INT(16, true)
//	INT32                      INT32
//	INT64                      INT64
//	FLOAT32                    FLOAT
//	FLOAT64                    DOUBLE
//	STRING                     BYTE_ARRAY with STRING (UTF8)
//	BYTES                      BYTE_ARRAY
//	Decimal (scale s)          BYTE_ARRAY with DECIMAL(p, s); p is the schema
//	                           parameter connect.decimal.precision, else 64
//	                           (AvroData's default)
//	Date                       INT32 with DATE
//	Time                       INT32 with TIME(MILLIS, adjusted to UTC)
//	Timestamp                  INT64 with TIMESTAMP(MILLIS, adjusted to UTC)
//	STRUCT                     group of its fields
//	ARRAY of T                 group (LIST) { repeated group list { T element } }
//	MAP of K to V              group (MAP) { repeated group key_value {
//	                           required K key; V value } }
//
// Lists always use the standard three-level form (parquet-avro writes it
// when elements are optional, and a two-level form otherwise); every
// reader handles it. Map entries are written in ascending key order.
// parquet-avro writes INT8 and INT16 as plain INT32; the INT(8)/INT(16)
// annotations here let readers type them as tinyint and smallint.
// Confluent's footer metadata parquet.avro.schema is not written.
//
// # Schemaless records
//
// Records without a value schema (JsonConverter with schemas.enable=false)
// are written when their value is an object (map[string]any). The file's
// schema is InferParquetSchema of its first record: fields sorted by name, all
// optional; nested objects become groups, arrays lists; values whose type
// cannot be known (null, [], {}) add no field. Each later record must fit
// that schema, or Write returns ErrSchemaChanged, writes nothing, and the
// caller closes the file and starts the next one with that record. A record
// fits when:
//
//   - a field of the schema that the record lacks, or holds null, is
//     written as null (fields may vanish);
//   - a key outside the schema holds null, [] or {} (nothing to write);
//   - every other value has its column's type, where an integer also fits
//     a DOUBLE column, and [] or {} where a scalar is expected is a null.
//
// A new field with a value, or a value of another type (a string where
// the file has INT64, a float where it has INT64), is a schema change.
// Files are never widened after they start: every file has one schema
// that Athena, Spark and DuckDB read as written, and the same records
// always give the same files, cut at the same records.
//
// # Memory
//
// Rows are shredded into per-column buffers of Go values; when these reach
// an estimated B = min(max(parquet.block.size/8, 64 KiB), 4 MiB) bytes
// (values plus 24 bytes per entry) they are encoded and compressed into
// pages, which the library keeps until the row group's compressed size
// reaches R = parquet.block.size, when it writes the row group to the
// output. An open ParquetWriter therefore holds at most about
//
//	R + B (pages of the row group, overshooting by at most one batch)
//	  + 2B (the batch buffers, whose slices grow by doubling)
//	  + a few pages per column while a batch is encoded
//
// whatever the file's size: 32 MiB + 12 MiB with the defaults, plus the
// page index and footer metadata (a few hundred bytes per page). The
// buffers hold the values themselves (byte arrays copied end to end), not
// references to the records, which are garbage once written.
//
// # Values written from their bytes
//
// A sink lease of the schemaless JsonConverter, without transforms, puts
// the values that JsonConverter.CheckRaw accepts (objects it reads without
// error) undecoded, as *connect.RawValue, when the storage sink takes them
// (Task.TakesRawValues: Parquet, and a partitioner and rotation that do
// not read values). The first record of a file is decoded, to infer the
// file's schema; the next ones are read with converter.JSONScanner
// straight into the columns, with no map or boxed value per record. A
// record holding anything the direct path leaves alone (a key given
// twice, a typed key outside the schema, an array, a value that does not
// plainly fit its column) is rolled back and decoded, and written by the
// general path, so the files are byte for byte those of decoded values.
//
// # Determinism
//
// The same records with the same configuration give byte-identical files:
// the created_by is ParquetCreatedBy, nothing depends on time, maps are written in
// key order, and the pages, row groups and statistics depend only on the
// data.

package sink
