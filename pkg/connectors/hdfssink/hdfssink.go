// Package hdfssink is Sluice's HDFS sink connector, configured like
// Confluent's io.confluent.connect.hdfs.HdfsSinkConnector (hdfs.url or
// store.url, topics.dir, flush.size, format.class with Confluent HDFS's
// class names) and written by the storage sink engine (package sink).
//
// Differences from Confluent's HDFS connector: files are named like the S3
// connector's, <topic>+<partition>+<start offset><extension>, without the
// +<end offset> Confluent's HDFS connector adds (the engine must name an
// object before it knows its last offset); there is no write-ahead log in
// logs.dir, because leases make the output a pure function of their offset
// range instead; and there is no Hive integration.
package hdfssink

import (
	"context"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
	"github.com/sluicehq/sluice/pkg/storage/store/hdfsstore"
)

// The connector's class names.
const (
	Class          = "io.sluice.connect.hdfs.HdfsSinkConnector"
	ConfluentClass = "io.confluent.connect.hdfs.HdfsSinkConnector"
	// StorageClass is Confluent HDFS's default storage.class.
	StorageClass = "io.confluent.connect.hdfs.storage.HdfsStorage"
	Version      = "1.0"
)

// Confluent HDFS's format classes, accepted besides the S3 connector's.
const (
	ParquetFormatClass = "io.confluent.connect.hdfs.parquet.ParquetFormat"
	JSONFormatClass    = "io.confluent.connect.hdfs.json.JsonFormat"
	AvroFormatClass    = "io.confluent.connect.hdfs.avro.AvroFormat"
)

// StorageClassConfig is declared by this connector itself (the other keys
// come from the engine, the partitioner, the HDFS store, the formats and
// storage.StoreURLKey).
const StorageClassConfig = "storage.class"

// LogsDirConfig is Confluent HDFS's logs.dir, the folder of its write-ahead
// logs. Sluice keeps none (a lease's output is a pure function of its
// range), so the key is accepted and unused.
const LogsDirConfig = "logs.dir"

// formatAliases maps Confluent HDFS's format classes to the formats'.
var formatAliases = map[string]string{
	ParquetFormatClass: sink.ParquetClass,
	JSONFormatClass:    sink.JSONClass,
	AvroFormatClass:    sink.AvroClass,
}

func formatClasses() []string {
	return append([]string{ParquetFormatClass, JSONFormatClass, AvroFormatClass}, sink.FormatClasses...)
}

// Config declares every key the connector understands: the engine's, the
// partitioner's, hdfs.url, the formats' and format.class, storage.class and
// store.url.
func Config() *config.Def {
	own := config.NewDef().
		Define(sink.FormatClassKey(formatClasses(), ParquetFormatClass,
			" (Confluent HDFS's default is Avro, which Sluice does not write, so the default here is Parquet)")).
		Define(config.Key{Name: StorageClassConfig, Type: config.Class, Default: StorageClass, Importance: config.High,
			Validator: config.ValidString(StorageClass), Group: "Storage", Width: config.WidthNone, DisplayName: "Storage Class",
			Doc: "The underlying storage layer. Only " + StorageClass + " is accepted."}).
		Define(storage.StoreURLKey("The HDFS URL, hdfs://namenode:8020[/root]; takes precedence over hdfs.url.")).
		Define(config.Key{Name: LogsDirConfig, Type: config.String, Default: "logs", Importance: config.High,
			Group: "HDFS", Width: config.WidthNone, DisplayName: "Logs directory",
			Doc: "Confluent's folder for write-ahead logs. Accepted and unused: Sluice writes no write-ahead log, " +
				"because a lease's files are a pure function of its offset range (replays rewrite the same files)."})
	return sink.EngineConfig().Merge(hdfsstore.Config()).Merge(sink.FormatConfig()).Merge(own).Rule(storeRule)
}

// storeRule requires one of store.url and hdfs.url.
func storeRule(v *config.Values) []config.Problem {
	if v.String(storage.StoreURLConfig) == "" && v.String(hdfsstore.URLConfig) == "" {
		msg := "One of " + storage.StoreURLConfig + " and " + hdfsstore.URLConfig + " must be set."
		return []config.Problem{{Key: storage.StoreURLConfig, Message: msg}, {Key: hdfsstore.URLConfig, Message: msg}}
	}
	return nil
}

// Options are the engine options of the HDFS sink. format.class defaults
// to Parquet when absent.
func Options() sink.Options {
	return sink.Options{
		OpenStore: func(ctx context.Context, props map[string]string) (storage.Store, error) {
			u := strings.TrimSpace(props[storage.StoreURLConfig])
			if u == "" {
				u = strings.TrimSpace(props[hdfsstore.URLConfig])
			}
			return hdfsstore.Dial(ctx, hdfsstore.OptionsFrom(u, props))
		},
		NewFormat: func(class string, props map[string]string) (storage.Format, error) {
			if c, ok := formatAliases[class]; ok {
				class = c
			}
			return sink.NewFormat(class, props)
		},
		IsSchemaChange: sink.IsSchemaChange,
	}
}

// withDefaults fills format.class, which the engine requires, with the
// connector's default, and makes topics.dir relative to the URL's root:
// Confluent's connector appends it to hdfs.url, so "/topics" and "topics"
// name the same folder.
func withDefaults(props map[string]string) map[string]string {
	format := strings.TrimSpace(props[sink.FormatClassConfig]) == ""
	dir, hasDir := props[sink.TopicsDirConfig]
	absolute := hasDir && strings.HasPrefix(strings.TrimSpace(dir), "/")
	if !format && !absolute {
		return props
	}
	out := make(map[string]string, len(props)+1)
	for k, v := range props {
		out[k] = v
	}
	if format {
		out[sink.FormatClassConfig] = ParquetFormatClass
	}
	if absolute {
		out[sink.TopicsDirConfig] = strings.TrimLeft(strings.TrimSpace(dir), "/")
	}
	return out
}

// Task is the storage sink task with the connector's defaults applied.
type Task struct{ *sink.Task }

// Start applies the defaults and starts the engine.
func (t Task) Start(ctx context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	return t.Task.Start(ctx, tc, withDefaults(props))
}

// NewConnector returns the connector.
func NewConnector() *sink.Connector {
	return sink.NewConnector(Config())
}

// NewTask returns a task.
func NewTask() Task { return Task{sink.NewTask(Options())} }

// Plugins returns the HDFS sink connector, also known by Confluent's class
// name.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class: Class, Aliases: []string{ConfluentClass}, Kind: connect.KindSink, Version: Version,
		NewConnector: func() connect.Connector { return NewConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewTask() },
	}}
}
