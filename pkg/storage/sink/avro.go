// The Avro format: Confluent's AvroFormat
// (io.confluent.connect.s3.format.avro.AvroFormat) for Sluice's storage
// sinks: record values as Avro object container files (".avro"), with the
// Avro schema that Confluent's AvroData derives from the records' Connect
// schema, compressed per block with avro.codec (null, deflate, snappy or
// zstandard). The container is github.com/twmb/avro's ocf writer; the
// datums are written by the AvroConverter's encoder.
//
// Every file has one schema: a record whose schema differs is a schema
// change (ErrSchemaChanged), and the engine starts a new file for it, as
// Confluent's sink rotates. The same records give byte-identical files:
// the sync marker is derived from the schema, not drawn at random.

package sink

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	tavro "github.com/twmb/avro"
	"github.com/twmb/avro/ocf"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	avroconv "github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// AvroClass is the format.class value of this format, Confluent's.
const AvroClass = "io.confluent.connect.s3.format.avro.AvroFormat"

// Property names, Confluent's.
const (
	// AvroCodecConfig is avro.codec: null (default), deflate, snappy or
	// zstandard.
	AvroCodecConfig = "avro.codec"
	// ConnectMetaDataConfig is connect.meta.data (default true): the
	// connect.* properties in the files' schemas.
	ConnectMetaDataConfig = "connect.meta.data"
)

// newAvroCodec returns avro.codec's codec; nil is null (no compression).
func newAvroCodec(name string) (ocf.Codec, error) {
	switch name {
	case "deflate":
		return ocf.DeflateCodec(-1), nil
	case "snappy":
		return ocf.SnappyCodec(), nil
	case "zstandard":
		return ocf.ZstdCodec(nil, nil)
	}
	return nil, nil
}

// AvroConfig declares the format's properties.
func AvroConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: AvroCodecConfig, Type: config.String, Default: "null",
			Validator: config.ValidString("null", "deflate", "snappy", "zstandard"), Importance: config.Low,
			Group: "Connector", Width: config.WidthLong, DisplayName: "Avro Compression Codec",
			Doc: "The Avro compression codec to be used for output files. Available values: null, deflate, snappy and zstandard."}).
		Define(config.Key{Name: ConnectMetaDataConfig, Type: config.Boolean, Default: true, Importance: config.Low,
			Group: "Connector", Width: config.WidthShort, DisplayName: "Connect Metadata",
			Doc: "Allow connect converter to add its metadata to the output schema."})
}

// AvroFormat writes Avro container files. It is safe for concurrent use; its
// writers are not.
type AvroFormat struct {
	codec    string
	metaData bool
}

var _ storage.Format = (*AvroFormat)(nil)

// NewAvroFormat returns the format configured by a connector's properties; the
// error is a *config.ValidationError naming every bad key.
func NewAvroFormat(props map[string]string) (*AvroFormat, error) {
	v, err := AvroConfig().Parse(props)
	if err != nil {
		return nil, err
	}
	return &AvroFormat{codec: strings.TrimSpace(v.String(AvroCodecConfig)), metaData: v.Bool(ConnectMetaDataConfig)}, nil
}

// Extension is ".avro", whatever the codec (the codec is in the file).
func (f *AvroFormat) Extension() string { return ".avro" }

// NewWriter starts a file on w. A nil valueSchema takes the schema of the
// first record.
func (f *AvroFormat) NewWriter(w io.Writer, valueSchema *data.Schema) (storage.RecordWriter, error) {
	wr := &AvroWriter{f: f, out: w}
	if valueSchema != nil {
		if err := wr.open(valueSchema); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// AvroWriter writes one Avro container file.
type AvroWriter struct {
	f      *AvroFormat
	out    io.Writer
	schema *data.Schema
	enc    *avroconv.Encoder
	ocf    *ocf.Writer
	closed bool
}

func (w *AvroWriter) open(s *data.Schema) error {
	enc, err := avroconv.NewEncoder(s, w.f.metaData)
	if err != nil {
		return err
	}
	sync := sha256.Sum256([]byte(enc.Schema()))
	var marker [16]byte
	copy(marker[:], sync[:16])
	as, err := tavro.Parse(enc.Schema())
	if err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	opts := []ocf.WriterOpt{ocf.WithSyncMarker(marker), ocf.WithBlockCount(10_000), ocf.WithBlockBytes(1 << 20)}
	codec, err := newAvroCodec(w.f.codec)
	if err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	if codec != nil {
		opts = append(opts, ocf.WithCodec(codec))
	}
	oe, err := ocf.NewWriter(w.out, as, opts...)
	if err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	w.schema, w.enc, w.ocf = s, enc, oe
	return nil
}

// Write appends the record's value. A record without a schema, or a null
// value, is a *data.Error; a record of another schema than the
// file's is ErrSchemaChanged; in both cases nothing is written.
func (w *AvroWriter) Write(r *connect.SinkRecord) error {
	if w.closed {
		return errors.New("avro: Write after Close")
	}
	if r.ValueSchema == nil {
		return &data.Error{Msg: "avro: a record without a value schema cannot be written as Avro"}
	}
	if r.Value == nil {
		return &data.Error{Msg: "avro: a null record value (tombstone) cannot be written as Avro"}
	}
	if w.enc == nil {
		if err := w.open(r.ValueSchema); err != nil {
			return err
		}
	} else if r.ValueSchema != w.schema && !data.Equal(r.ValueSchema, w.schema) {
		return fmt.Errorf("avro: %w", ErrSchemaChanged)
	}
	b, err := w.enc.Encode(r.Value)
	if err != nil {
		return err
	}
	if _, err := w.ocf.Write(b); err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	return nil
}

// Close writes the last block; it does not close the underlying writer.
// A file that got no record and no schema is left empty.
func (w *AvroWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.ocf == nil {
		return nil
	}
	if err := w.ocf.Close(); err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	return nil
}
