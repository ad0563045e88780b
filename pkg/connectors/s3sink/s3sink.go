// Package s3sink is Sluice's S3 sink connector, a drop-in for Confluent's
// io.confluent.connect.s3.S3SinkConnector: the same class name (as an
// alias), the same configuration keys and the same object layout,
//
//	<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset><extension>
//
// written by the storage sink engine (package sink) with exactly-once
// output: a retried or zombie lease rewrites the same objects with the same
// bytes.
package s3sink

import (
	"context"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// The connector's class names.
const (
	Class          = "io.sluice.connect.s3.S3SinkConnector"
	ConfluentClass = "io.confluent.connect.s3.S3SinkConnector"
	// StorageClass is Confluent's storage.class for S3, the only one accepted.
	StorageClass = "io.confluent.connect.s3.storage.S3Storage"
	// Version is reported by the REST API.
	Version = "1.0"
)

// StorageClassConfig is declared by this connector itself (the other keys
// come from the engine, the partitioner, the S3 store, the formats and
// storage.StoreURLKey).
const StorageClassConfig = "storage.class"

// Config declares every key the connector understands: the engine's
// (flush.size, rotate.interval.ms, topics.dir, ...), the partitioner's, the
// S3 store's (s3.bucket.name, s3.region, s3.part.size, ...), the formats'
// and format.class, storage.class and store.url.
func Config() *config.Def {
	own := config.NewDef().
		Define(sink.FormatClassKey(sink.FormatClasses, config.NoDefault, "")).
		Define(config.Key{Name: StorageClassConfig, Type: config.Class, Default: StorageClass, Importance: config.High,
			Validator: config.ValidString(StorageClass), Group: "Storage", Width: config.WidthNone, DisplayName: "Storage Class",
			Doc: "The underlying storage layer. Only " + StorageClass + " (Confluent's value, required there) is accepted."}).
		Define(storage.StoreURLKey("The S3 endpoint, http(s)://host:port, for S3-compatible servers (MinIO, versitygw); " +
			"empty means AWS S3 in s3.region."))
	return sink.EngineConfig().Merge(s3store.Config()).Merge(sink.FormatConfig()).Merge(own)
}

// Options are the engine options of the S3 sink: the S3 store and the
// formats.
func Options() sink.Options {
	return sink.Options{
		OpenStore: func(ctx context.Context, props map[string]string) (storage.Store, error) {
			return s3store.Open(ctx, props)
		},
		NewFormat:      sink.NewFormat,
		IsSchemaChange: sink.IsSchemaChange,
	}
}

// NewConnector returns the connector.
func NewConnector() *sink.Connector { return sink.NewConnector(Config()) }

// NewTask returns a task.
func NewTask() *sink.Task { return sink.NewTask(Options()) }

// Plugins returns the S3 sink connector, also known by Confluent's class
// name.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class: Class, Aliases: []string{ConfluentClass}, Kind: connect.KindSink, Version: Version,
		NewConnector: func() connect.Connector { return NewConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewTask() },
	}}
}
