// Package bytearray is Confluent's ByteArrayFormat
// (io.confluent.connect.s3.format.bytearray.ByteArrayFormat) for Sluice's
// storage sinks: each record value's raw bytes followed by
// format.bytearray.separator, optionally gzipped as a whole
// (s3.compression.type). Files end in format.bytearray.extension (".bin")
// plus ".gz" when gzipped.
package bytearray

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/format/compression"
)

// Class is the format.class value of this format, Confluent's.
const Class = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"

// Property names, Confluent's.
const (
	// ExtensionConfig is format.bytearray.extension, default ".bin".
	ExtensionConfig = "format.bytearray.extension"
	// SeparatorConfig is format.bytearray.separator, default a line
	// separator ("\n"). Its value is used exactly as given, white space
	// included, as Confluent reads it from the original properties.
	SeparatorConfig = "format.bytearray.separator"
)

// Defaults.
const (
	DefaultExtension = ".bin"
	DefaultSeparator = "\n"
)

// Config declares the format's own properties, to be merged into a
// connector's Def with compression.Config.
func Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: ExtensionConfig, Type: config.String, Default: DefaultExtension,
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Output file extension for ByteArrayFormat",
			Doc: "Output file extension for ByteArrayFormat. Defaults to '.bin'"}).
		Define(config.Key{Name: SeparatorConfig, Type: config.String, Default: nil,
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Line separator ByteArrayFormat",
			Doc: "String inserted between records for ByteArrayFormat. Defaults to 'System.lineSeparator()' " +
				"and may contain escape sequences like '\\n'. An input record that contains the line separator " +
				"will look like multiple records in the output S3 object."})
}

// Format writes record values' bytes. It is safe for concurrent use; its
// writers are not.
type Format struct {
	ext       string
	separator []byte
	comp      compression.Settings
}

var _ storage.Format = (*Format)(nil)

// New returns the format configured by a connector's properties (the keys
// of Config; others are ignored). The error is a *config.ValidationError
// naming every bad key.
func New(props map[string]string) (*Format, error) {
	v, err := Config().Merge(compression.Config()).Parse(props)
	if err != nil {
		return nil, err
	}
	sep := DefaultSeparator
	// The parsed value is trimmed; white space is the point of a separator.
	if raw, ok := props[SeparatorConfig]; ok {
		sep = raw
	}
	return &Format{ext: v.String(ExtensionConfig), separator: []byte(sep), comp: compression.FromValues(v)}, nil
}

// Extension is format.bytearray.extension, plus ".gz" when gzipped.
func (f *Format) Extension() string { return f.ext + f.comp.Type.Extension() }

// NewWriter starts a file on w; valueSchema is not needed.
func (f *Format) NewWriter(w io.Writer, _ *data.Schema) (storage.RecordWriter, error) {
	s, err := f.comp.NewStream(w)
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, s: s}, nil
}

// Writer writes one file. It is not safe for concurrent use.
type Writer struct {
	f *Format
	s *compression.Stream
}

// Write appends the value's bytes and the separator. As Connect's
// ByteArrayConverter, it accepts only []byte values; a null value writes
// just the separator.
func (w *Writer) Write(r *connect.SinkRecord) error {
	var b []byte
	switch v := r.Value.(type) {
	case []byte:
		b = v
	case nil:
	default:
		return &data.Error{Msg: fmt.Sprintf("ByteArrayConverter is not compatible with objects of type %T", r.Value)}
	}
	if err := w.s.Write(b, w.f.separator); err != nil {
		return fmt.Errorf("bytearray: %w", err)
	}
	return nil
}

// Close writes the compression trailer, if any; it does not close the
// underlying writer.
func (w *Writer) Close() error { return w.s.Close() }
