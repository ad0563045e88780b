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
// whose page already carries its statistics (MinVal, MaxVal, NullCount).
func (e *pageEncoder) encode(page *layout.Page, c *column, i, j int, codec pq.CompressionCodec) error {
	data := e.data[:0]
	if c.maxRep > 0 {
		data = append(data, encoding.WriteRLEBitPackedHybridInt32(c.reps[i:j], int32(bits.Len32(uint32(c.maxRep))))...)
	}
	if c.maxDef > 0 {
		data = append(data, encoding.WriteRLEBitPackedHybridInt32(c.defs[i:j], int32(bits.Len32(uint32(c.maxDef))))...)
	}
	data = c.appendPlain(data, i, j)
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

// appendPlain appends the PLAIN encoding of the non-null values among
// entries [i, j) (those at the column's maximum definition level) to b.
func (c *column) appendPlain(b []byte, i, j int) []byte {
	vals, defs, maxDef := c.values[i:j], c.defs[i:j], c.maxDef
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		n := 0
		for k := range vals {
			if defs[k] == maxDef {
				n++
			}
		}
		start := len(b)
		b = slices.Grow(b, (n+7)/8)[:start+(n+7)/8]
		clear(b[start:])
		bit := 0
		for k, v := range vals {
			if defs[k] != maxDef {
				continue
			}
			if v.(bool) {
				b[start+bit/8] |= 1 << (bit % 8)
			}
			bit++
		}
	case pq.Type_INT32:
		for k, v := range vals {
			if defs[k] == maxDef {
				b = binary.LittleEndian.AppendUint32(b, uint32(v.(int32)))
			}
		}
	case pq.Type_INT64:
		for k, v := range vals {
			if defs[k] == maxDef {
				b = binary.LittleEndian.AppendUint64(b, uint64(v.(int64)))
			}
		}
	case pq.Type_FLOAT:
		for k, v := range vals {
			if defs[k] == maxDef {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v.(float32)))
			}
		}
	case pq.Type_DOUBLE:
		for k, v := range vals {
			if defs[k] == maxDef {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.(float64)))
			}
		}
	case pq.Type_BYTE_ARRAY:
		for k, v := range vals {
			if defs[k] == maxDef {
				s := v.(string)
				b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
				b = append(b, s...)
			}
		}
	default:
		var present []any
		for k, v := range vals {
			if defs[k] == maxDef {
				present = append(present, v)
			}
		}
		b = append(b, encoding.WritePlain(present, *c.elem.Type)...)
	}
	return b
}
