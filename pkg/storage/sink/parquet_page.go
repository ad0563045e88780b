package sink

import (
	"context"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/golang/snappy"
	"github.com/xitongsys/parquet-go/compress"
	"github.com/xitongsys/parquet-go/encoding"
	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"
)

// pageEncoder makes data pages as the library's Page.DataPageCompress
// does, byte for byte (PLAIN values, RLE/bit-packed levels, the same page
// header and statistics, the same codecs), but writes the values straight
// from the column's entries into buffers that the next page reuses instead
// of boxing, copying and compressing them through fresh allocations. Only
// the page's bytes (header and compressed data), which the row group keeps
// until it is written, are allocated per page.
type pageEncoder struct {
	data       []byte // levels then values, uncompressed
	compressed []byte // snappy's output
	ts         *thrift.TSerializer
}

func newPageEncoder() *pageEncoder {
	ts := thrift.NewTSerializer()
	ts.Protocol = thrift.NewTCompactProtocolFactory().GetProtocol(ts.Transport)
	return &pageEncoder{ts: ts}
}

// encode fills in page.Header and page.RawData for entries [i, j) of c,
// whose non-null values are values [k, l), and whose page already carries
// its statistics (MinVal, MaxVal, NullCount).
func (e *pageEncoder) encode(page *layout.Page, c *column, i, j, k, l int, codec pq.CompressionCodec) error {
	data := e.data[:0]
	if c.maxRep > 0 {
		data = append(data, encoding.WriteRLEBitPackedHybridInt32(c.reps[i:j], int32(bits.Len32(uint32(c.maxRep))))...)
	}
	if c.maxDef > 0 {
		data = append(data, encoding.WriteRLEBitPackedHybridInt32(c.defs[i:j], int32(bits.Len32(uint32(c.maxDef))))...)
	}
	data = c.appendPlain(data, k, l)
	e.data = data

	var compressed []byte
	if codec == pq.CompressionCodec_SNAPPY {
		e.compressed = snappy.Encode(e.compressed[:cap(e.compressed)], data)
		compressed = e.compressed
	} else {
		compressed = compress.Compress(data, codec)
	}

	h := pq.NewPageHeader()
	h.Type = pq.PageType_DATA_PAGE
	h.CompressedPageSize = int32(len(compressed))
	h.UncompressedPageSize = int32(len(data))
	h.DataPageHeader = pq.NewDataPageHeader()
	h.DataPageHeader.NumValues = int32(j - i)
	h.DataPageHeader.DefinitionLevelEncoding = pq.Encoding_RLE
	h.DataPageHeader.RepetitionLevelEncoding = pq.Encoding_RLE
	h.DataPageHeader.Encoding = page.Info.Encoding
	st := pq.NewStatistics()
	if page.MaxVal != nil {
		st.Max = statValue(page.MaxVal, *c.elem.Type)
		st.MaxValue = st.Max
	}
	if page.MinVal != nil {
		st.Min = statValue(page.MinVal, *c.elem.Type)
		st.MinValue = st.Min
	}
	st.NullCount = page.NullCount
	h.DataPageHeader.Statistics = st
	page.Header = h

	header, err := e.ts.Write(context.Background(), h)
	if err != nil {
		return err
	}
	// A fresh slice (TSerializer.Write copies): the page keeps it.
	page.RawData = append(header, compressed...)
	return nil
}

// statValue is a statistics value as the library writes it: PLAIN, without
// a byte array's length prefix.
func statValue(v any, t pq.Type) []byte {
	b := encoding.WritePlain([]any{v}, t)
	if t == pq.Type_BYTE_ARRAY {
		b = b[4:]
	}
	return b
}

// appendPlain appends the PLAIN encoding of values [i, j) to b.
func (c *column) appendPlain(b []byte, i, j int) []byte {
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		vals := c.bools[i:j]
		n := len(vals)
		start := len(b)
		b = slices.Grow(b, (n+7)/8)[:start+(n+7)/8]
		clear(b[start:])
		for bit, v := range vals {
			if v {
				b[start+bit/8] |= 1 << (bit % 8)
			}
		}
	case pq.Type_INT32:
		for _, v := range c.i32[i:j] {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	case pq.Type_INT64:
		for _, v := range c.i64[i:j] {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	case pq.Type_FLOAT:
		for _, v := range c.f32[i:j] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case pq.Type_DOUBLE:
		for _, v := range c.f64[i:j] {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	default:
		for k := i; k < j; k++ {
			v := c.bytesAt(k)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return b
}
