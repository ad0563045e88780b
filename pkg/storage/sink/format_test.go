package sink

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

func TestNewFormat(t *testing.T) {
	tests := []struct {
		name    string
		class   string
		props   map[string]string
		ext     string
		badKeys []string
		unknown bool
	}{
		{name: "parquet", class: ParquetClass, ext: ".snappy.parquet"},
		{name: "parquet zstd", class: ParquetClass, props: map[string]string{"parquet.codec": "zstd"}, ext: ".zstd.parquet"},
		{name: "json", class: "io.confluent.connect.s3.format.json.JsonFormat", ext: ".json"},
		{name: "json gzip", class: "io.confluent.connect.s3.format.json.JsonFormat", props: map[string]string{"s3.compression.type": "gzip"}, ext: ".json.gz"},
		{name: "bytes", class: "io.confluent.connect.s3.format.bytearray.ByteArrayFormat", ext: ".bin"},
		{name: "bad parquet keys", class: ParquetClass,
			props: map[string]string{"parquet.codec": "lzo", "parquet.block.size": "x"}, badKeys: []string{"parquet.codec", "parquet.block.size"}},
		{name: "avro", class: "io.confluent.connect.s3.format.avro.AvroFormat", props: map[string]string{"avro.codec": "snappy"}, ext: ".avro"},
		{name: "bad avro codec", class: "io.confluent.connect.s3.format.avro.AvroFormat", props: map[string]string{"avro.codec": "lzo"}, badKeys: []string{"avro.codec"}},
		{name: "unknown class", class: "io.confluent.connect.s3.format.orc.OrcFormat", unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFormat(tt.class, tt.props)
			switch {
			case tt.unknown:
				if !errors.Is(err, connect.ErrUnknownPlugin) {
					t.Fatalf("New = %v, want ErrUnknownPlugin", err)
				}
				return
			case tt.badKeys != nil:
				var ve *config.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("New = %v, want a *config.ValidationError", err)
				}
				var keys []string
				for _, p := range ve.Problems {
					if !slices.Contains(keys, p.Key) {
						keys = append(keys, p.Key)
					}
				}
				if !slices.Equal(keys, tt.badKeys) {
					t.Errorf("problems with %v, want %v", keys, tt.badKeys)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if got := f.Extension(); got != tt.ext {
				t.Errorf("Extension() = %q, want %q", got, tt.ext)
			}
		})
	}
}

func TestFormatKeysMerge(t *testing.T) {
	// Every format's keys, declared once, merge without a duplicate.
	def := FormatConfig()
	for _, name := range []string{"parquet.codec", "parquet.block.size", "parquet.page.size", "s3.compression.type",
		"s3.compression.level", "format.bytearray.extension", "format.bytearray.separator", "json.decimal.format", "schema.cache.size"} {
		if _, ok := def.Key(name); !ok {
			t.Errorf("Config() lacks %s", name)
		}
	}
}

func TestIsSchemaChange(t *testing.T) {
	if !IsSchemaChange(fmt.Errorf("parquet: %w", ErrSchemaChanged)) || IsSchemaChange(errors.New("x")) {
		t.Error("IsSchemaChange does not recognise a wrapped ErrSchemaChanged alone")
	}
}
