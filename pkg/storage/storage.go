// Package storage defines the pieces of Sluice's storage sinks (S3, HDFS,
// local files): where objects go (Store), how records are encoded (Format)
// and the engine that partitions, rotates and names files so that a sink
// lease's output is a pure function of its offset range and configuration
// (rule 2 of docs/architecture.md).
package storage

import (
	"context"
	"io"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// StoreURLConfig is Confluent's StorageCommonConfig store.url: where a
// storage sink's store is (an S3-compatible endpoint, an HDFS URL, a file
// URL).
const StoreURLConfig = "store.url"

// StoreURLKey declares store.url for a storage sink connector: optional,
// doc saying what the URL is for that connector's store.
func StoreURLKey(doc string) config.Key {
	return config.Key{Name: StoreURLConfig, Type: config.String, Default: nil, Importance: config.High,
		Group: "Storage", Width: config.WidthNone, DisplayName: "Store URL", Doc: doc}
}

// Store is where a storage sink writes objects. Implementations: S3,
// HDFS, the local filesystem and an in-memory one for tests. A Store is safe
// for concurrent use.
type Store interface {
	// Create starts an object under key. Nothing is visible under key until
	// the returned writer's Commit succeeds; a committed object replaces any
	// earlier object with the same key whole (never a mix of the two).
	Create(ctx context.Context, key string) (ObjectWriter, error)
	// Open reads a committed object (tests, readers, verification).
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the keys of committed objects under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Close releases the store's resources.
	Close() error
}

// ObjectWriter writes one object. It buffers at most the store's part
// size (S3) or nothing (files) in memory, whatever the object's size.
type ObjectWriter interface {
	io.Writer
	// Commit completes the object and makes it visible under its key (S3:
	// PutObject or CompleteMultipartUpload; HDFS and files: rename of a
	// temporary file). After an error the object is not visible.
	Commit(ctx context.Context) error
	// Abort discards the object (S3: AbortMultipartUpload; files: remove the
	// temporary file). It is safe after Commit (it then does nothing).
	Abort(ctx context.Context) error
}

// Format encodes records into objects (Confluent's format.class).
type Format interface {
	// Extension is the file name extension for this format and its
	// compression, including the dot: ".snappy.parquet", ".json",
	// ".json.gz", ".bin".
	Extension() string
	// NewWriter starts encoding records of valueSchema (nil for schemaless
	// records) into w.
	NewWriter(w io.Writer, valueSchema *data.Schema) (RecordWriter, error)
}

// RecordWriter encodes the records of one object. Its memory is bounded by
// the format's buffer (Parquet: one row group), not by the object's size.
type RecordWriter interface {
	Write(r *connect.SinkRecord) error
	// Close writes what is buffered and the format's trailer; it does not
	// close the underlying writer.
	Close() error
}
