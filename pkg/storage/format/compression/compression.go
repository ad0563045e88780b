// Package compression is the whole-object compression of Sluice's text and
// byte formats (JSON lines, bytes): Confluent's s3.compression.type and
// s3.compression.level. Parquet compresses its pages instead (parquet.codec).
package compression

import (
	"compress/gzip"
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

// Keys declares the compression properties, to be merged into a
// connector's ConfigDef.
func Keys() *config.Def {
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

// Config is a compression type and level.
type Config struct {
	Type  Type
	Level int
}

// FromValues reads the compression keys from parsed values.
func FromValues(v *config.Values) Config {
	return Config{Type: Type(strings.ToLower(v.String(TypeConfig))), Level: v.Int(LevelConfig)}
}

// Wrap returns a writer that compresses into w; its Close writes the
// compression trailer (not closing w). For None it returns w itself with a
// Close that does nothing.
func (c Config) Wrap(w io.Writer) (io.WriteCloser, error) {
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

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
