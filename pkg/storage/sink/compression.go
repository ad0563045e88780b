// The whole-object compression of Sluice's text and
// byte formats (JSON lines, bytes): Confluent's s3.compression.type and
// s3.compression.level. Parquet compresses its pages instead (parquet.codec).

package sink

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
)

// Property names, Confluent's.
const (
	// CompressionTypeConfig is s3.compression.type: none (default) or gzip.
	CompressionTypeConfig = "s3.compression.type"
	// CompressionLevelConfig is s3.compression.level: -1 (the default level) to 9.
	CompressionLevelConfig = "s3.compression.level"
)

// Compression is a compression type.
type Compression string

// The compression types.
const (
	CompressionNone Compression = "none"
	CompressionGzip Compression = "gzip"
)

// Extension is what the type adds to a file name: "" or ".gz".
func (t Compression) Extension() string {
	if t == CompressionGzip {
		return ".gz"
	}
	return ""
}

// CompressionConfig declares the compression properties, to be merged into a
// connector's Def.
func CompressionConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: CompressionTypeConfig, Type: config.String, Default: string(CompressionNone),
			Validator: config.ValidString(string(CompressionNone), string(CompressionGzip)), Importance: config.Low, Group: "Storage",
			Width: config.WidthLong, DisplayName: "Compression type",
			Doc: "Compression type for files written to storage. Applied when using JsonFormat or ByteArrayFormat. " +
				"Available values: none, gzip."}).
		Define(config.Key{Name: CompressionLevelConfig, Type: config.Int, Default: gzip.DefaultCompression,
			Validator: config.Between(-1, 9), Importance: config.Low, Group: "Storage", Width: config.WidthLong,
			DisplayName: "Compression Level",
			Doc: "The level of compression to use when writing data to storage: -1 (the default level), " +
				"0 (no compression) to 9 (best compression)."})
}

// CompressionSettings is a compression type and level.
type CompressionSettings struct {
	Type  Compression
	Level int
}

// compressionFromValues reads the compression keys from parsed values.
func compressionFromValues(v *config.Values) CompressionSettings {
	return CompressionSettings{Type: Compression(strings.ToLower(v.String(CompressionTypeConfig))), Level: v.Int(CompressionLevelConfig)}
}

// wrap returns a writer that compresses into w; its Close writes the
// compression trailer (not closing w). For CompressionNone it returns w itself with a
// Close that does nothing.
func (c CompressionSettings) wrap(w io.Writer) (io.WriteCloser, error) {
	switch c.Type {
	case "", CompressionNone:
		return nopCloser{w}, nil
	case CompressionGzip:
		// klauspost/compress is not needed for determinism: the standard
		// gzip writer writes no time or name unless asked to.
		zw, err := gzip.NewWriterLevel(w, c.Level)
		if err != nil {
			return nil, fmt.Errorf("compression: %w", err)
		}
		return zw, nil
	}
	return nil, fmt.Errorf("compression: unsupported type %q", c.Type)
}

// compressionStream is a file body written record after record through the
// compression, as the JSON lines and byte array formats write theirs.
// Close writes the compression trailer without closing the underlying
// writer; a Write after Close is an error.
type compressionStream struct {
	w      io.WriteCloser
	closed bool
}

// NewStream starts a compressionStream on w.
func (c CompressionSettings) NewStream(w io.Writer) (*compressionStream, error) {
	zw, err := c.wrap(w)
	if err != nil {
		return nil, err
	}
	return &compressionStream{w: zw}, nil
}

// errCompressionClosed is returned by a Write after Close.
var errCompressionClosed = errors.New("compression: write to a closed file")

// Write appends parts in order.
func (s *compressionStream) Write(parts ...[]byte) error {
	if s.closed {
		return errCompressionClosed
	}
	for _, p := range parts {
		if _, err := s.w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Close writes the compression trailer, if any, once.
func (s *compressionStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.w.Close()
}

// valueWriter writes one file of the JSON lines or byte array format: each
// record's value as encode gives it, then sep, through the compression. It
// is not safe for concurrent use.
type valueWriter struct {
	format string // "jsonl", "bytearray": names its errors
	encode func(r *connect.SinkRecord) ([]byte, error)
	sep    []byte
	s      *compressionStream
}

func (c CompressionSettings) newValueWriter(w io.Writer, format string, sep []byte, encode func(*connect.SinkRecord) ([]byte, error)) (storage.RecordWriter, error) {
	s, err := c.NewStream(w)
	if err != nil {
		return nil, err
	}
	return &valueWriter{format: format, encode: encode, sep: sep, s: s}, nil
}

// Write appends the record's value and the separator.
func (w *valueWriter) Write(r *connect.SinkRecord) error {
	b, err := w.encode(r)
	if err != nil {
		return err
	}
	if err := w.s.Write(b, w.sep); err != nil {
		return fmt.Errorf("%s: %w", w.format, err)
	}
	return nil
}

// Close writes the compression trailer, if any; it does not close the
// underlying writer.
func (w *valueWriter) Close() error { return w.s.Close() }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
