package parquet

import (
	"fmt"
	"strings"

	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
)

// Class is the format.class value of this format, Confluent's.
const Class = "io.confluent.connect.s3.format.parquet.ParquetFormat"

// Property names.
const (
	// CodecConfig is Confluent's parquet.codec.
	CodecConfig = "parquet.codec"
	// RowGroupSizeConfig is parquet-mr's parquet.block.size: the compressed
	// bytes a row group holds before it is written out. Confluent has no
	// key for it (parquet-mr's 128 MiB applies); Sluice's smaller default
	// bounds the memory of each open file.
	RowGroupSizeConfig = "parquet.block.size"
	// PageSizeConfig is parquet-mr's parquet.page.size: the bytes of
	// values in a data page. Confluent fixes it at 64 KiB.
	PageSizeConfig = "parquet.page.size"
)

// Defaults.
const (
	DefaultCodec        = CodecSnappy
	DefaultRowGroupSize = 32 << 20
	DefaultPageSize     = 64 << 10
	// maxBatchBytes bounds the estimated memory of the rows buffered before
	// they are encoded into pages.
	maxBatchBytes = 4 << 20
	minBatchBytes = 64 << 10
)

// Codec is a Parquet compression codec, as parquet.codec names it.
type Codec string

// The codecs. Confluent also accepts lz4, lzo and brotli, which Sluice
// does not write.
const (
	CodecNone   Codec = "none"
	CodecSnappy Codec = "snappy"
	CodecGzip   Codec = "gzip"
	CodecZstd   Codec = "zstd"
)

var codecs = map[Codec]struct {
	codec pq.CompressionCodec
	ext   string
}{
	CodecNone:   {pq.CompressionCodec_UNCOMPRESSED, ""},
	CodecSnappy: {pq.CompressionCodec_SNAPPY, ".snappy"},
	CodecGzip:   {pq.CompressionCodec_GZIP, ".gz"},
	CodecZstd:   {pq.CompressionCodec_ZSTD, ".zstd"},
}

// parseCodec reads a parquet.codec value as Confluent does: case-insensitive,
// "uncompressed" being "none".
func parseCodec(s string) (Codec, bool) {
	c := Codec(strings.ToLower(strings.TrimSpace(s)))
	if c == "uncompressed" {
		c = CodecNone
	}
	_, ok := codecs[c]
	return c, ok
}

// Config declares the format's properties, to be merged into a connector's
// Def.
func Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: CodecConfig, Type: config.String, Default: string(DefaultCodec),
			Validator:  config.CaseInsensitiveValidString("none", "uncompressed", "snappy", "gzip", "zstd"),
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Parquet Compression Codec",
			Doc: "The Parquet compression codec to be used for output files: none, snappy, gzip or zstd. " +
				"It also names the files: .parquet, .snappy.parquet, .gz.parquet, .zstd.parquet."}).
		Define(config.Key{Name: RowGroupSizeConfig, Type: config.Long, Default: int64(DefaultRowGroupSize),
			Validator: config.AtLeast(64 << 10), Importance: config.Low, Group: "Connector", Width: config.WidthMedium,
			DisplayName: "Parquet Row Group Size",
			Doc: "The compressed size in bytes at which a Parquet row group is written out. Each open file " +
				"holds about this much in memory, plus up to 12 MiB of buffered rows."}).
		Define(config.Key{Name: PageSizeConfig, Type: config.Int, Default: DefaultPageSize,
			Validator: config.Between(1<<10, 64<<20), Importance: config.Low, Group: "Connector", Width: config.WidthMedium,
			DisplayName: "Parquet Page Size",
			Doc:         "The size in bytes of the values in a Parquet data page (Confluent uses 65536)."})
}

// Settings is the format's configuration.
type Settings struct {
	Codec        Codec
	RowGroupSize int64
	PageSize     int
}

// DefaultSettings returns the defaults: snappy, 32 MiB row groups, 64 KiB pages.
func DefaultSettings() Settings {
	return Settings{Codec: DefaultCodec, RowGroupSize: DefaultRowGroupSize, PageSize: DefaultPageSize}
}

// batchBytes is the estimated size of the buffered rows at which they are
// encoded into pages: an eighth of a row group, between 64 KiB and 4 MiB.
func (c Settings) batchBytes() int {
	return int(min(max(c.RowGroupSize/8, minBatchBytes), maxBatchBytes))
}

// Format is Confluent's ParquetFormat: it writes records with a STRUCT
// value schema, or schemaless objects, as Parquet files. It is safe for
// concurrent use; its writers are not.
type Format struct {
	cfg   Settings
	codec pq.CompressionCodec
	ext   string
}

var _ storage.Format = (*Format)(nil)

// New returns the format configured by a connector's properties (the keys
// of Config; others are ignored). The error is a *config.ValidationError
// naming every bad key.
func New(props map[string]string) (*Format, error) {
	v, err := Config().Parse(props)
	if err != nil {
		return nil, err
	}
	codec, _ := parseCodec(v.String(CodecConfig))
	return NewFormat(Settings{Codec: codec, RowGroupSize: v.Long(RowGroupSizeConfig), PageSize: v.Int(PageSizeConfig)})
}

// NewFormat returns the format with cfg.
func NewFormat(cfg Settings) (*Format, error) {
	codec, ok := parseCodec(string(cfg.Codec))
	if !ok {
		return nil, fmt.Errorf("parquet: unsupported codec %q", cfg.Codec)
	}
	if cfg.RowGroupSize <= 0 || cfg.PageSize <= 0 {
		return nil, fmt.Errorf("parquet: row group size %d and page size %d must be positive", cfg.RowGroupSize, cfg.PageSize)
	}
	cfg.Codec = codec
	c := codecs[codec]
	return &Format{cfg: cfg, codec: c.codec, ext: c.ext + ".parquet"}, nil
}

// Extension is the codec's extension and ".parquet", as Confluent names
// files: ".snappy.parquet", ".gz.parquet", ".zstd.parquet", ".parquet".
func (f *Format) Extension() string { return f.ext }

// StructOnly reports that the format writes only STRUCT values (the storage
// sink engine wraps keys and headers for it).
func (f *Format) StructOnly() bool { return true }
