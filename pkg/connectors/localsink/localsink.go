// Package localsink writes Kafka topics to a local directory with the
// storage sink engine (package sink), in the layout of Confluent's S3 sink
// connector: dev mode and `make run` use it to produce Parquet files a user
// can open with any Parquet reader.
package localsink

import (
	"context"
	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
	"github.com/sluicehq/sluice/pkg/storage/store/localstore"
)

// The connector's class name.
const (
	Class   = "io.sluice.connect.storage.LocalSinkConnector"
	Version = "1.0"
)

// LocalDirConfig is declared by this connector itself, besides
// storage.StoreURLKey.
const LocalDirConfig = "local.dir"

// Config declares every key the connector understands: the engine's, the
// partitioner's, the formats', format.class (Parquet by default),
// store.url and local.dir.
func Config() *config.Def {
	own := config.NewDef().
		Define(sink.FormatClassKey(sink.FormatClasses, sink.ParquetClass, "")).
		Define(storage.StoreURLKey("The directory to write to, as a file URL: file:///var/data/export. " +
			"One of store.url and local.dir is required; store.url wins.")).
		Define(config.Key{Name: LocalDirConfig, Type: config.String, Default: nil, Importance: config.High,
			Group: "Storage", Width: config.WidthNone, DisplayName: "Local directory",
			Doc: "The directory to write to, as a path; created if missing."})
	return sink.EngineConfig().Merge(sink.FormatConfig()).Merge(own).Rule(storeRule)
}

// storeRule requires one of store.url and local.dir, and a store.url that
// names a directory.
func storeRule(v *config.Values) []config.Problem {
	u := v.String(storage.StoreURLConfig)
	if u == "" && v.String(LocalDirConfig) == "" {
		msg := "One of " + storage.StoreURLConfig + " and " + LocalDirConfig + " must be set."
		return []config.Problem{{Key: storage.StoreURLConfig, Message: msg}, {Key: LocalDirConfig, Message: msg}}
	}
	if u != "" {
		if _, err := localstore.PathFromURL(u); err != nil {
			return []config.Problem{{Key: storage.StoreURLConfig, Message: config.InvalidValue(storage.StoreURLConfig, u, err.Error()).Error()}}
		}
	}
	return nil
}

// Options are the engine options of the local sink.
func Options() sink.Options {
	return sink.Options{
		OpenStore: func(_ context.Context, props map[string]string) (storage.Store, error) {
			if u := strings.TrimSpace(props[storage.StoreURLConfig]); u != "" {
				return localstore.Open(u)
			}
			return localstore.New(strings.TrimSpace(props[LocalDirConfig]))
		},
		NewFormat:      sink.NewFormat,
		IsSchemaChange: sink.IsSchemaChange,
	}
}

// Task is the storage sink task with format.class defaulting to Parquet.
type Task struct{ *sink.Task }

// Start applies the defaults and starts the engine.
func (t Task) Start(ctx context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	if err := checkPaths(props); err != nil {
		return err
	}
	if strings.TrimSpace(props[sink.FormatClassConfig]) == "" {
		p := make(map[string]string, len(props)+1)
		for k, v := range props {
			p[k] = v
		}
		p[sink.FormatClassConfig] = sink.ParquetClass
		props = p
	}
	return t.Task.Start(ctx, tc, props)
}

// checkPaths confines local.dir, and a file: store.url, to the allowed
// roots (package fileaccess).
func checkPaths(props map[string]string) error {
	if u := strings.TrimSpace(props[storage.StoreURLConfig]); u != "" {
		p, err := localstore.PathFromURL(u)
		if err != nil {
			return err
		}
		return fileaccess.Check(storage.StoreURLConfig, p)
	}
	if d := strings.TrimSpace(props[LocalDirConfig]); d != "" {
		return fileaccess.Check(LocalDirConfig, d)
	}
	return nil
}

// NewConnector returns the connector.
func NewConnector() *sink.Connector { return sink.NewConnector(Config()) }

// NewTask returns a task.
func NewTask() Task { return Task{sink.NewTask(Options())} }

// Plugins returns the local sink connector.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class: Class, Kind: connect.KindSink, Version: Version,
		NewConnector: func() connect.Connector { return NewConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewTask() },
	}}
}
