package sink

import (
	"fmt"
	"strings"

	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
)

// ParquetClass is the format.class value of this format, Confluent's.
const ParquetClass = "io.confluent.connect.s3.format.parquet.ParquetFormat"

// Property names.
const (
	// ParquetCodecConfig is Confluent's parquet.codec.
	ParquetCodecConfig = "parquet.codec"
	// ParquetRowGroupSizeConfig is parquet-mr's parquet.block.size: the compressed
	// bytes a row group holds before it is written out. Confluent has no
	// key for it (parquet-mr's 128 MiB applies); Sluice's smaller default
	// bounds the memory of each open file.
	ParquetRowGroupSizeConfig = "parquet.block.size"
	// ParquetPageSizeConfig is parquet-mr's parquet.page.size: the bytes of
	// values in a data page. Confluent fixes it at 64 KiB.
	ParquetPageSizeConfig = "parquet.page.size"
)

// Defaults.
const (
	DefaultParquetCodec        = ParquetCodecSnappy
	DefaultParquetRowGroupSize = 32 << 20
	DefaultParquetPageSize     = 64 << 10
	// maxBatchBytes bounds the estimated memory of the rows buffered before
	// they are encoded into pages.
	maxBatchBytes = 4 << 20
	minBatchBytes = 64 << 10
)

// ParquetCodec is a Parquet compression codec, as parquet.codec names it.
type ParquetCodec string

// The parquetCodecs. Confluent also accepts lz4, lzo and brotli, which Sluice
// does not write.
const (
	ParquetCodecNone   ParquetCodec = "none"
	ParquetCodecSnappy ParquetCodec = "snappy"
	ParquetCodecGzip   ParquetCodec = "gzip"
	ParquetCodecZstd   ParquetCodec = "zstd"
)

var parquetCodecs = map[ParquetCodec]struct {
	codec pq.CompressionCodec
	ext   string
}{
	ParquetCodecNone:   {pq.CompressionCodec_UNCOMPRESSED, ""},
	ParquetCodecSnappy: {pq.CompressionCodec_SNAPPY, ".snappy"},
	ParquetCodecGzip:   {pq.CompressionCodec_GZIP, ".gz"},
	ParquetCodecZstd:   {pq.CompressionCodec_ZSTD, ".zstd"},
}

// parseParquetCodec reads a parquet.codec value as Confluent does: case-insensitive,
// "uncompressed" being "none".
func parseParquetCodec(s string) (ParquetCodec, bool) {
	c := ParquetCodec(strings.ToLower(strings.TrimSpace(s)))
	if c == "uncompressed" {
		c = ParquetCodecNone
	}
	_, ok := parquetCodecs[c]
	return c, ok
}

// ParquetConfig declares the format's properties, to be merged into a connector's
// Def.
func ParquetConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: ParquetCodecConfig, Type: config.String, Default: string(DefaultParquetCodec),
			Validator:  config.CaseInsensitiveValidString("none", "uncompressed", "snappy", "gzip", "zstd"),
			Importance: config.Low, Group: "Connector", Width: config.WidthLong, DisplayName: "Parquet Compression Codec",
			Doc: "The Parquet compression codec to be used for output files: none, snappy, gzip or zstd. " +
				"It also names the files: .parquet, .snappy.parquet, .gz.parquet, .zstd.parquet."}).
		Define(config.Key{Name: ParquetRowGroupSizeConfig, Type: config.Long, Default: int64(DefaultParquetRowGroupSize),
			Validator: config.AtLeast(64 << 10), Importance: config.Low, Group: "Connector", Width: config.WidthMedium,
			DisplayName: "Parquet Row Group Size",
			Doc: "The compressed size in bytes at which a Parquet row group is written out. Each open file " +
				"holds about this much in memory, plus up to 12 MiB of buffered rows."}).
		Define(config.Key{Name: ParquetPageSizeConfig, Type: config.Int, Default: DefaultParquetPageSize,
			Validator: config.Between(1<<10, 64<<20), Importance: config.Low, Group: "Connector", Width: config.WidthMedium,
			DisplayName: "Parquet Page Size",
			Doc:         "The size in bytes of the values in a Parquet data page (Confluent uses 65536)."})
}

// ParquetSettings is the format's configuration.
type ParquetSettings struct {
	Codec        ParquetCodec
	RowGroupSize int64
	PageSize     int
}

// DefaultParquetSettings returns the defaults: snappy, 32 MiB row groups, 64 KiB pages.
func DefaultParquetSettings() ParquetSettings {
	return ParquetSettings{Codec: DefaultParquetCodec, RowGroupSize: DefaultParquetRowGroupSize, PageSize: DefaultParquetPageSize}
}

// batchBytes is the estimated size of the buffered rows at which they are
// encoded into pages: an eighth of a row group, between 64 KiB and 4 MiB.
func (c ParquetSettings) batchBytes() int {
	return int(min(max(c.RowGroupSize/8, minBatchBytes), maxBatchBytes))
}

// ParquetFormat is Confluent's ParquetFormat: it writes records with a STRUCT
// value schema, or schemaless objects, as Parquet files. It is safe for
// concurrent use; its writers are not.
type ParquetFormat struct {
	cfg   ParquetSettings
	codec pq.CompressionCodec
	ext   string
}

var _ storage.Format = (*ParquetFormat)(nil)

// NewParquetFormat returns the format configured by a connector's properties (the keys
// of ParquetConfig; others are ignored). The error is a *config.ValidationError
// naming every bad key.
func NewParquetFormat(props map[string]string) (*ParquetFormat, error) {
	v, err := ParquetConfig().Parse(props)
	if err != nil {
		return nil, err
	}
	codec, _ := parseParquetCodec(v.String(ParquetCodecConfig))
	return NewParquetFormatWith(ParquetSettings{Codec: codec, RowGroupSize: v.Long(ParquetRowGroupSizeConfig), PageSize: v.Int(ParquetPageSizeConfig)})
}

// NewParquetFormatWith returns the format with cfg.
func NewParquetFormatWith(cfg ParquetSettings) (*ParquetFormat, error) {
	codec, ok := parseParquetCodec(string(cfg.Codec))
	if !ok {
		return nil, fmt.Errorf("parquet: unsupported codec %q", cfg.Codec)
	}
	if cfg.RowGroupSize <= 0 || cfg.PageSize <= 0 {
		return nil, fmt.Errorf("parquet: row group size %d and page size %d must be positive", cfg.RowGroupSize, cfg.PageSize)
	}
	cfg.Codec = codec
	c := parquetCodecs[codec]
	return &ParquetFormat{cfg: cfg, codec: c.codec, ext: c.ext + ".parquet"}, nil
}

// Extension is the codec's extension and ".parquet", as Confluent names
// files: ".snappy.parquet", ".gz.parquet", ".zstd.parquet", ".parquet".
func (f *ParquetFormat) Extension() string { return f.ext }

// StructOnly reports that the format writes only STRUCT values (the storage
// sink engine wraps keys and headers for it).
func (f *ParquetFormat) StructOnly() bool { return true }
