// Package format builds the record formats of Sluice's storage sinks from
// their Confluent class names (format.class): Parquet, JSON lines,
// bytes and Avro, each in its own subpackage.
package format

import (
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/format/avro"
	"github.com/sluicehq/sluice/pkg/storage/format/bytearray"
	"github.com/sluicehq/sluice/pkg/storage/format/compression"
	"github.com/sluicehq/sluice/pkg/storage/format/jsonl"
	"github.com/sluicehq/sluice/pkg/storage/format/parquet"
)

// Classes are the format.class values New accepts.
var Classes = []string{parquet.Class, jsonl.Class, bytearray.Class, avro.Class}

// New returns the format called class configured by a connector's
// properties. An unknown class is connect.ErrUnknownPlugin; bad
// properties are a *config.ValidationError naming every bad key.
func New(class string, props map[string]string) (storage.Format, error) {
	switch class {
	case parquet.Class:
		return parquet.New(props)
	case jsonl.Class:
		return jsonl.New(props)
	case bytearray.Class:
		return bytearray.New(props)
	case avro.Class:
		return avro.New(props)
	}
	return nil, fmt.Errorf("%w: format.class %q (supported: %v)", connect.ErrUnknownPlugin, class, Classes)
}

// Config declares the properties of every format, to be merged into a
// storage sink connector's Def.
func Config() *config.Def {
	return parquet.Config().Merge(jsonl.Config()).Merge(bytearray.Config()).Merge(compression.Config()).Merge(avro.Config())
}

// IsSchemaChange reports whether an error from a RecordWriter's Write
// means the record does not fit the file's schema and needs a new file;
// it fits the storage sink engine's Options.IsSchemaChange.
func IsSchemaChange(err error) bool { return parquet.IsSchemaChanged(err) || avro.IsSchemaChanged(err) }
