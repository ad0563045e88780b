// Package compression is the whole-object compression of Sluice's text and
// byte formats (JSON lines, bytes): Confluent's s3.compression.type and
// s3.compression.level. Parquet compresses its pages instead (parquet.codec).
package compression

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Property names, Confluent's.
const (
	// TypeConfig is s3.compression.type: none (default) or gzip.
	TypeConfig = "s3.compression.type"
	// LevelConfig is s3.compression.level: -1 (the default level) to 9.
	LevelConfig = "s3.compression.level"
)

// Type is a compression type.
type Type string

// The compression types.
const (
	None Type = "none"
	Gzip Type = "gzip"
)

// Extension is what the type adds to a file name: "" or ".gz".
func (t Type) Extension() string {
	if t == Gzip {
		return ".gz"
	}
	return ""
}

// Config declares the compression properties, to be merged into a
// connector's Def.
func Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: TypeConfig, Type: config.String, Default: string(None),
			Validator: config.ValidString(string(None), string(Gzip)), Importance: config.Low, Group: "Storage",
			Width: config.WidthLong, DisplayName: "Compression type",
			Doc: "Compression type for files written to storage. Applied when using JsonFormat or ByteArrayFormat. " +
				"Available values: none, gzip."}).
		Define(config.Key{Name: LevelConfig, Type: config.Int, Default: gzip.DefaultCompression,
			Validator: config.Between(-1, 9), Importance: config.Low, Group: "Storage", Width: config.WidthLong,
			DisplayName: "Compression Level",
			Doc: "The level of compression to use when writing data to storage: -1 (the default level), " +
				"0 (no compression) to 9 (best compression)."})
}

// Settings is a compression type and level.
type Settings struct {
	Type  Type
	Level int
}

// FromValues reads the compression keys from parsed values.
func FromValues(v *config.Values) Settings {
	return Settings{Type: Type(strings.ToLower(v.String(TypeConfig))), Level: v.Int(LevelConfig)}
}

// wrap returns a writer that compresses into w; its Close writes the
// compression trailer (not closing w). For None it returns w itself with a
// Close that does nothing.
func (c Settings) wrap(w io.Writer) (io.WriteCloser, error) {
	switch c.Type {
	case "", None:
		return nopCloser{w}, nil
	case Gzip:
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

// Stream is a file body written record after record through the
// compression, as the JSON lines and byte array formats write theirs.
// Close writes the compression trailer without closing the underlying
// writer; a Write after Close is an error.
type Stream struct {
	w      io.WriteCloser
	closed bool
}

// NewStream starts a Stream on w.
func (c Settings) NewStream(w io.Writer) (*Stream, error) {
	zw, err := c.wrap(w)
	if err != nil {
		return nil, err
	}
	return &Stream{w: zw}, nil
}

// ErrClosed is returned by a Write after Close.
var ErrClosed = errors.New("compression: write to a closed file")

// Write appends parts in order.
func (s *Stream) Write(parts ...[]byte) error {
	if s.closed {
		return ErrClosed
	}
	for _, p := range parts {
		if _, err := s.w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Close writes the compression trailer, if any, once.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.w.Close()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
