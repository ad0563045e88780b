package sink

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// libraryPages cuts entries into pages as column.encode does and has the
// library's Page.DataPageCompress encode them: the pages pageEncoder must
// reproduce byte for byte.
func libraryPages(c *column, pageSize int, codec pq.CompressionCodec) [][]byte {
	var out [][]byte
	// The entries as the library takes them: a value or nil each.
	values := make([]any, len(c.defs))
	first := make([]int, len(c.defs)+1) // the value of the first present entry at or after each entry
	k := 0
	for e, d := range c.defs {
		first[e] = k
		if d == c.maxDef {
			values[e] = c.valueAt(k)
			k++
		}
	}
	first[len(c.defs)] = k
	n := len(values)
	fixed := fixedSize(*c.elem.Type)
	for i := 0; i < n; {
		j, size, nulls := i, 0, int64(0)
		for ; j < n; j++ {
			if c.reps[j] == 0 && size >= pageSize {
				break
			}
			if c.defs[j] != c.maxDef {
				nulls++
				continue
			}
			if fixed > 0 {
				size += fixed
			} else {
				size += 4 + len(values[j].(string))
			}
		}
		page := layout.NewDataPage()
		page.PageSize = int32(pageSize)
		page.DataTable = &layout.Table{
			Schema: c.elem, Path: c.pathSlice, MaxDefinitionLevel: c.maxDef, MaxRepetitionLevel: c.maxRep,
			Values: values[i:j], DefinitionLevels: c.defs[i:j], RepetitionLevels: c.reps[i:j], Info: c.info,
		}
		page.MinVal, page.MaxVal = c.minMax(first[i], first[j])
		page.NullCount = &nulls
		page.Schema, page.CompressType, page.Path, page.Info = c.elem, codec, c.pathSlice, c.info
		out = append(out, page.DataPageCompress(codec))
		i = j
	}
	return out
}

func TestPageEncoderMatchesLibrary(t *testing.T) {
	// Schemaless records: optional columns with nulls, integral numbers in
	// a double column, nested objects and arrays.
	var schemaless []connect.SinkRecord
	for i := 1; i <= 3000; i++ {
		v := map[string]any{"id": int64(i), "name": fmt.Sprintf("n%d", i%17), "price": float64(i) / 8,
			"ok": i%3 == 0, "nested": map[string]any{"a": int64(i % 5), "tags": []any{"x", fmt.Sprint(i % 4)}}}
		if i%7 == 0 {
			v["name"], v["price"] = nil, int64(i)
		}
		if i%11 == 0 {
			v["nested"] = nil
		}
		schemaless = append(schemaless, connect.SinkRecord{Record: connect.Record{Value: v}})
	}
	var typed []connect.SinkRecord
	for range 1000 {
		typed = append(typed, allTypesRecords()...)
	}
	tests := []struct {
		name   string
		schema *data.Schema
		recs   []connect.SinkRecord
	}{
		{name: "all types, nulls, lists, maps", schema: allTypes, recs: typed},
		{name: "schemaless", recs: schemaless},
	}
	for _, tt := range tests {
		for _, codec := range []ParquetCodec{ParquetCodecNone, ParquetCodecSnappy, ParquetCodecGzip, ParquetCodecZstd} {
			// Small pages too (below what parquet.page.size accepts): many
			// pages per column, some of a single row.
			for _, pageSize := range []int{16, 1000, DefaultParquetPageSize} {
				t.Run(fmt.Sprintf("%s/%s/page=%d", tt.name, codec, pageSize), func(t *testing.T) {
					f, err := NewParquetFormatWith(ParquetSettings{Codec: codec, RowGroupSize: DefaultParquetRowGroupSize, PageSize: pageSize})
					if err != nil {
						t.Fatal(err)
					}
					rw, err := f.NewWriter(&bytes.Buffer{}, tt.schema)
					if err != nil {
						t.Fatal(err)
					}
					w := rw.(*ParquetWriter)
					for i := range tt.recs {
						if err := w.Write(&tt.recs[i]); err != nil {
							t.Fatal(err)
						}
					}
					enc := newPageEncoder()
					pages := 0
					for _, c := range w.ls.cols {
						want := libraryPages(c, f.cfg.PageSize, f.codec)
						got, err := c.encode(f.cfg.PageSize, f.codec, enc)
						if err != nil {
							t.Fatal(err)
						}
						if len(got) != len(want) {
							t.Fatalf("column %s: %d pages, want %d", c.path, len(got), len(want))
						}
						for k := range got {
							if !bytes.Equal(got[k].RawData, want[k]) {
								t.Fatalf("column %s page %d: %d bytes differ from the library's %d", c.path, k, len(got[k].RawData), len(want[k]))
							}
						}
						pages += len(got)
					}
					if pages < len(w.ls.cols) {
						t.Fatalf("%d pages for %d columns", pages, len(w.ls.cols))
					}
				})
			}
		}
	}
}

// TestColumnBuffersReused writes files one after another, of different
// schemas, so that later files' columns take the buffers of earlier ones:
// each file reads back as written.
func TestColumnBuffersReused(t *testing.T) {
	props := map[string]string{ParquetCodecConfig: "snappy"}
	var wide []connect.SinkRecord
	for i := range 5000 {
		wide = append(wide, connect.SinkRecord{Record: connect.Record{Value: map[string]any{
			"a": int64(i), "b": fmt.Sprint("b", i), "c": float64(i) / 2, "d": i%2 == 0, "e": []any{int64(i), int64(i + 1)}}}})
	}
	for round := range 3 {
		b := writeFile(t, props, nil, wide)
		_, rows, _ := readFile(t, b)
		if len(rows) != len(wide) {
			t.Fatalf("round %d: %d rows", round, len(rows))
		}
		for _, i := range []int{0, 1, 2500, 4999} {
			want := fmt.Sprint(map[string]any{"a": int64(i), "b": strconv.Quote(fmt.Sprint("b", i)), "c": float64(i) / 2, "d": i%2 == 0, "e": []any{int64(i), int64(i + 1)}})
			if got := fmt.Sprint(norm(rows[i])); got != want {
				t.Fatalf("round %d, row %d: %s, want %s", round, i, got, want)
			}
		}
		b = writeFile(t, props, allTypes, allTypesRecords())
		_, rows, _ = readFile(t, b)
		for i, row := range rows {
			if got := fmt.Sprint(norm(row)); got != wantRows[i] {
				t.Fatalf("round %d, row %d:\n got %s\nwant %s", round, i, got, wantRows[i])
			}
		}
	}
}
