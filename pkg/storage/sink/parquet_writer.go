package sink

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/xitongsys/parquet-go-source/writerfile"
	"github.com/xitongsys/parquet-go/common"
	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// ParquetCreatedBy is the created_by of every file, fixed so that the same
// records always give the same bytes. It names the writer library, as
// readers that work around known writer bugs look at it.
const ParquetCreatedBy = "sluice (github.com/xitongsys/parquet-go v1.6.2)"

// column buffers one leaf column's entries for the current batch of rows,
// and what the row group's page index needs about the pages already made.
type column struct {
	elem           *pq.SchemaElement
	maxDef, maxRep int32
	index          int
	path           string
	pathSlice      []string
	info           *common.Tag

	// columnBuffers hold the entries: defs and reps are the levels of
	// every entry; the values of the entries at maxDef (the non-null
	// ones), in order, are in the slice of the column's physical type,
	// pointer-free so that the buffered rows cost the collector nothing to
	// scan. A byte array value k is bytes[ends[k-1]:ends[k]] (from 0 for
	// the first).
	columnBuffers
	// mark and markVals are the entries and values at the start of the
	// row being written.
	mark, markVals int

	pageRows []int64
	pageNull []bool
}

// numValues is the number of non-null values buffered.
func (c *column) numValues() int {
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		return len(c.bools)
	case pq.Type_INT32:
		return len(c.i32)
	case pq.Type_INT64:
		return len(c.i64)
	case pq.Type_FLOAT:
		return len(c.f32)
	case pq.Type_DOUBLE:
		return len(c.f64)
	}
	return len(c.ends)
}

// bytesAt returns byte array value k.
func (c *column) bytesAt(k int) []byte {
	start := 0
	if k > 0 {
		start = c.ends[k-1]
	}
	return c.bytes[start:c.ends[k]]
}

// appendBytes appends a byte array value.
func (c *column) appendBytes(b []byte) {
	c.bytes = append(c.bytes, b...)
	c.ends = append(c.ends, len(c.bytes))
}

// appendString appends a byte array value.
func (c *column) appendString(s string) {
	c.bytes = append(c.bytes, s...)
	c.ends = append(c.ends, len(c.bytes))
}

// appendValue appends a non-null value of the Go type convert gives for
// the column's physical type.
func (c *column) appendValue(v any) {
	switch x := v.(type) {
	case bool:
		c.bools = append(c.bools, x)
	case int32:
		c.i32 = append(c.i32, x)
	case int64:
		c.i64 = append(c.i64, x)
	case float32:
		c.f32 = append(c.f32, x)
	case float64:
		c.f64 = append(c.f64, x)
	case string:
		c.appendString(x)
	}
}

// truncate drops the entries from entry n and the values from value k.
func (c *column) truncate(n, k int) {
	c.defs, c.reps = c.defs[:n], c.reps[:n]
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		c.bools = c.bools[:k]
	case pq.Type_INT32:
		c.i32 = c.i32[:k]
	case pq.Type_INT64:
		c.i64 = c.i64[:k]
	case pq.Type_FLOAT:
		c.f32 = c.f32[:k]
	case pq.Type_DOUBLE:
		c.f64 = c.f64[:k]
	default:
		end := 0
		if k > 0 {
			end = c.ends[k-1]
		}
		c.bytes, c.ends = c.bytes[:end], c.ends[:k]
	}
}

// valueAt returns value k as the Go value the library writes for the
// column's physical type (a byte array as a string).
func (c *column) valueAt(k int) any {
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		return c.bools[k]
	case pq.Type_INT32:
		return c.i32[k]
	case pq.Type_INT64:
		return c.i64[k]
	case pq.Type_FLOAT:
		return c.f32[k]
	case pq.Type_DOUBLE:
		return c.f64[k]
	}
	return string(c.bytesAt(k))
}

// ParquetWriter writes records as one Parquet file. It implements
// storage.RecordWriter. A ParquetWriter is not safe for concurrent use.
//
// Rows are shredded into per-column buffers; every batchBytes (estimated)
// the buffers are encoded and compressed into pages that the library keeps
// until the row group reaches the format's row group size, when it writes
// them out. See parquet_doc.go for the memory bound.
type ParquetWriter struct {
	f  *ParquetFormat
	bw *bufio.Writer
	pw *writer.ParquetWriter
	ls *layoutSchema
	// schema is the file's Connect schema; nil until the first record of a
	// writer opened without one.
	schema     *data.Schema
	schemaless bool

	batchRows  int64
	batchBytes int
	closed     bool
	enc        *pageEncoder

	// scan and stamp are writeRaw's; rawRows counts the rows it wrote.
	scan    converter.JSONScanner
	stamp   uint64
	rawRows int64
}

var _ storage.RecordWriter = (*ParquetWriter)(nil)

// NewWriter starts a file on out. A nil valueSchema takes the schema from
// the first record: its ValueSchema, or when that is nil the schema
// InferParquetSchema gives its value (a schemaless file, see
// parquet_doc.go).
func (f *ParquetFormat) NewWriter(out io.Writer, valueSchema *data.Schema) (storage.RecordWriter, error) {
	w := &ParquetWriter{f: f, bw: bufio.NewWriterSize(out, 64<<10)}
	if valueSchema != nil {
		if err := w.open(valueSchema, false); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *ParquetWriter) open(s *data.Schema, schemaless bool) error {
	ls, err := buildParquetSchema(s)
	if err != nil {
		return err
	}
	pw, err := writer.NewParquetWriter(writerfile.NewWriterFile(w.bw), ls.elements, 1)
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	createdBy := ParquetCreatedBy
	pw.Footer.CreatedBy = &createdBy
	pw.RowGroupSize = w.f.cfg.RowGroupSize
	pw.PageSize = int64(w.f.cfg.PageSize)
	pw.CompressionType = w.f.codec
	for i, c := range ls.cols {
		c.path = pw.SchemaHandler.IndexMap[int32(ls.leafElems[i])]
		c.pathSlice = common.StrToPath(c.path)
		c.info = common.NewTag()
		c.takeBuffers()
	}
	w.pw, w.ls, w.schema, w.schemaless = pw, ls, s, schemaless
	return nil
}

// Write adds one record. It returns ErrSchemaChanged, having written
// nothing, when the record's value does not fit the file's schema: the
// caller closes this file and writes the record to a new one. Other errors
// (a *data.Error for a value that cannot be written) also leave the
// file as it was, so the caller may skip the record and go on.
func (w *ParquetWriter) Write(r *connect.SinkRecord) error {
	if w.closed {
		return errors.New("parquet: Write after Close")
	}
	v := r.Value
	if v == nil {
		return &data.Error{Msg: "parquet: a null record value (tombstone) cannot be written as Parquet"}
	}
	if raw, ok := v.(*connect.RawValue); ok {
		if w.pw != nil && w.schemaless && r.ValueSchema == nil && rawJSON(raw) {
			w.markRow()
			before := w.batchBytes
			if w.writeRaw(raw.Bytes) {
				w.rawRows++
				return w.endRow()
			}
			w.rollback(before)
		}
		// The value as the lease would have given it, for the general path.
		s, dv, err := raw.Decode()
		if err != nil {
			return err
		}
		if dv == nil {
			return &data.Error{Msg: "parquet: a null record value (tombstone) cannot be written as Parquet"}
		}
		decoded := *r
		decoded.ValueSchema, decoded.Value = s, dv
		r, v = &decoded, dv
	}
	if w.pw == nil {
		s, schemaless := r.ValueSchema, false
		if s == nil {
			var err error
			if s, err = InferParquetSchema(v); err != nil {
				return err
			}
			schemaless = true
		}
		if err := w.open(s, schemaless); err != nil {
			return err
		}
	} else if err := w.checkSchema(r.ValueSchema); err != nil {
		return err
	}
	w.markRow()
	before := w.batchBytes
	if err := w.shredStruct(w.ls.root, v, 0); err != nil {
		w.rollback(before)
		return err
	}
	return w.endRow()
}

// markRow notes where the row about to be written starts, for rollback.
func (w *ParquetWriter) markRow() {
	for _, c := range w.ls.cols {
		c.mark, c.markVals = len(c.defs), c.numValues()
	}
}

// endRow counts the row written and encodes the batch when it is full.
func (w *ParquetWriter) endRow() error {
	w.batchRows++
	if w.batchBytes >= w.f.cfg.batchBytes() {
		return w.flushBatch()
	}
	return nil
}

func (w *ParquetWriter) checkSchema(s *data.Schema) error {
	if w.schemaless {
		if s != nil {
			return fmt.Errorf("parquet: %w: a record with a schema in a schemaless file", ErrSchemaChanged)
		}
		return nil
	}
	if s != w.schema && !data.Equal(s, w.schema) {
		return fmt.Errorf("parquet: %w: %v after %v", ErrSchemaChanged, s, w.schema)
	}
	return nil
}

// rollback drops what a failed Write appended.
func (w *ParquetWriter) rollback(batchBytes int) {
	for _, c := range w.ls.cols {
		c.truncate(c.mark, c.markVals)
	}
	w.batchBytes = batchBytes
}

// flushBatch encodes the buffered rows into pages, hands them to the
// library's row group, and lets it write the row group out once it is
// large enough.
func (w *ParquetWriter) flushBatch() error {
	if w.batchRows == 0 {
		return nil
	}
	pw := w.pw
	if w.enc == nil {
		w.enc = newPageEncoder()
	}
	for _, c := range w.ls.cols {
		pages, err := c.encode(w.f.cfg.PageSize, w.f.codec, w.enc)
		if err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		for _, p := range pages {
			pw.Size += int64(len(p.RawData))
		}
		pw.PagesMapBuf[c.path] = append(pw.PagesMapBuf[c.path], pages...)
		c.truncate(0, 0)
	}
	pw.NumRows += w.batchRows
	pw.Footer.NumRows += w.batchRows
	w.batchRows, w.batchBytes = 0, 0
	return w.flushRowGroup(false)
}

// flushRowGroup asks the library to write the row group when it reached
// the row group size (or always, with final), then corrects the page
// index it wrote for it.
func (w *ParquetWriter) flushRowGroup(final bool) error {
	groups := len(w.pw.Footer.RowGroups)
	if err := w.pw.Flush(final); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if len(w.pw.Footer.RowGroups) > groups {
		w.fixPageIndex()
	}
	return nil
}

// fixPageIndex corrects the column and offset indexes of the row group
// just written: the library counts a page's values, not its rows, as the
// first row index of the next page, and marks no page as all null.
func (w *ParquetWriter) fixPageIndex() {
	cols := w.ls.cols
	colIdx := w.pw.ColumnIndexes[len(w.pw.ColumnIndexes)-len(cols):]
	offIdx := w.pw.OffsetIndexes[len(w.pw.OffsetIndexes)-len(cols):]
	for i, c := range cols {
		var first int64
		for l, loc := range offIdx[i].PageLocations {
			if l >= len(c.pageRows) {
				break
			}
			loc.FirstRowIndex = first
			first += c.pageRows[l]
			if c.pageNull[l] {
				colIdx[i].NullPages[l] = true
				colIdx[i].MinValues[l], colIdx[i].MaxValues[l] = []byte{}, []byte{}
			}
		}
		c.pageRows, c.pageNull = c.pageRows[:0], c.pageNull[:0]
	}
}

// Close writes the buffered rows, the last row group and the footer, and
// flushes them to the underlying writer, which it does not close.
func (w *ParquetWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.pw == nil {
		// No record came to tell the schema: an empty file with an empty
		// schema keeps the object a valid Parquet file.
		pw, err := writer.NewParquetWriter(writerfile.NewWriterFile(w.bw),
			[]*pq.SchemaElement{{Name: DefaultParquetRootName, NumChildren: ptr(int32(0))}}, 1)
		if err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		createdBy := ParquetCreatedBy
		pw.Footer.CreatedBy = &createdBy
		w.pw = pw
	} else {
		if err := w.flushBatch(); err != nil {
			return err
		}
		if err := w.flushRowGroup(true); err != nil {
			return err
		}
	}
	if err := w.pw.WriteStop(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if w.ls != nil {
		for _, c := range w.ls.cols {
			c.returnBuffers()
		}
	}
	return w.bw.Flush()
}

// columnBuffers are a column's entry buffers, kept between files: a
// column's buffers grow to a batch's entries in every file, and a file of
// flush.size records is soon followed by the next.
type columnBuffers struct {
	defs, reps []int32
	bools      []bool
	i32        []int32
	i64        []int64
	f32        []float32
	f64        []float64
	bytes      []byte
	ends       []int
}

var columnBufferPool sync.Pool // of *columnBuffers

// emptied returns b's buffers with no entries, their capacity kept.
func (b columnBuffers) emptied() columnBuffers {
	return columnBuffers{defs: b.defs[:0], reps: b.reps[:0], bools: b.bools[:0], i32: b.i32[:0], i64: b.i64[:0],
		f32: b.f32[:0], f64: b.f64[:0], bytes: b.bytes[:0], ends: b.ends[:0]}
}

// takeBuffers gives c empty buffers from the pool, if it has some.
func (c *column) takeBuffers() {
	if b, ok := columnBufferPool.Get().(*columnBuffers); ok {
		c.columnBuffers = b.emptied()
	}
}

// returnBuffers hands c's buffers, emptied, back to the pool; c must not
// be written to again.
func (c *column) returnBuffers() {
	if cap(c.defs) == 0 {
		return
	}
	b := c.columnBuffers.emptied()
	columnBufferPool.Put(&b)
	c.columnBuffers = columnBuffers{}
}

// encode cuts the column's buffered entries into data pages of about
// pageSize bytes of values, each starting at a row boundary, with their
// statistics, and encodes and compresses them (see pageEncoder).
func (c *column) encode(pageSize int, codec pq.CompressionCodec, enc *pageEncoder) ([]*layout.Page, error) {
	var pages []*layout.Page
	n := len(c.defs)
	phys := *c.elem.Type
	fixed := fixedSize(phys)
	k := 0 // the value of the first present entry at or after i
	for i := 0; i < n; {
		j, l, size, rows, nulls := i, k, 0, int64(0), int64(0)
		for ; j < n; j++ {
			if c.reps[j] == 0 {
				if size >= pageSize {
					break
				}
				rows++
			}
			if c.defs[j] != c.maxDef {
				nulls++
				continue
			}
			if fixed > 0 {
				size += fixed
			} else {
				size += 4 + len(c.bytesAt(l))
			}
			l++
		}
		page := layout.NewDataPage()
		page.PageSize = int32(pageSize)
		page.MinVal, page.MaxVal = c.minMax(k, l)
		nullCount := nulls
		page.NullCount = &nullCount
		page.Schema = c.elem
		page.CompressType = codec
		page.Path = c.pathSlice
		page.Info = c.info
		if err := enc.encode(page, c, i, j, k, l, codec); err != nil {
			return nil, err
		}
		pages = append(pages, page)
		c.pageRows = append(c.pageRows, rows)
		c.pageNull = append(c.pageNull, nulls == int64(j-i))
		i, k = j, l
	}
	return pages, nil
}

func fixedSize(t pq.Type) int {
	switch t {
	case pq.Type_BOOLEAN:
		return 1
	case pq.Type_INT32, pq.Type_FLOAT:
		return 4
	case pq.Type_INT64, pq.Type_DOUBLE:
		return 8
	}
	return 0
}

// minMax returns the statistics of values [i, j): nil, nil when there are
// none. NaN takes part only when every value is NaN.
func (c *column) minMax(i, j int) (any, any) {
	switch *c.elem.Type {
	case pq.Type_BOOLEAN:
		return minMaxOf(c.bools[i:j], func(a, b bool) bool { return !a && b }, nil)
	case pq.Type_INT32:
		return minMaxOf(c.i32[i:j], cmp.Less[int32], nil)
	case pq.Type_INT64:
		return minMaxOf(c.i64[i:j], cmp.Less[int64], nil)
	case pq.Type_FLOAT:
		return minMaxOf(c.f32[i:j], cmp.Less[float32], func(x float32) bool { return x != x })
	case pq.Type_DOUBLE:
		return minMaxOf(c.f64[i:j], cmp.Less[float64], func(x float64) bool { return x != x })
	}
	less := func(a, b int) bool { return bytes.Compare(c.bytesAt(a), c.bytesAt(b)) < 0 }
	if c.elem.ConvertedType != nil && *c.elem.ConvertedType == pq.ConvertedType_DECIMAL {
		less = func(a, b int) bool { return lessTwosComplement(c.bytesAt(a), c.bytesAt(b)) }
	}
	mn, mx := -1, -1
	for k := i; k < j; k++ {
		switch {
		case mn < 0:
			mn, mx = k, k
		case less(k, mn):
			mn = k
		case less(mx, k):
			mx = k
		}
	}
	if mn < 0 {
		return nil, nil
	}
	return string(c.bytesAt(mn)), string(c.bytesAt(mx))
}

// minMaxOf returns the least and greatest of vals by less, leaving out
// those isNaN reports (nil: none), unless all are: then the first. It
// returns nil, nil for no values.
func minMaxOf[T any](vals []T, less func(a, b T) bool, isNaN func(T) bool) (any, any) {
	var mn, mx T
	found := false
	for _, x := range vals {
		if isNaN != nil && isNaN(x) {
			continue
		}
		switch {
		case !found:
			mn, mx, found = x, x, true
		case less(x, mn):
			mn = x
		case less(mx, x):
			mx = x
		}
	}
	if !found {
		if len(vals) > 0 {
			return vals[0], vals[0]
		}
		return nil, nil
	}
	return mn, mx
}

// lessTwosComplement orders minimal big-endian two's-complement integers
// (Decimal's unscaled values), as Parquet orders DECIMAL byte arrays.
func lessTwosComplement(a, b []byte) bool {
	negA := len(a) > 0 && a[0]&0x80 != 0
	negB := len(b) > 0 && b[0]&0x80 != 0
	if negA != negB {
		return negA
	}
	if len(a) != len(b) {
		// Minimal encodings: a longer one is further from zero.
		return (len(a) < len(b)) != negA
	}
	return bytes.Compare(a, b) < 0
}
