package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestParquetInferSchema(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		want    string
		wantErr bool
	}{
		{name: "sorted optional fields", value: map[string]any{"b": "x", "a": int64(1), "c": 1.5, "d": true},
			want: "a:int64? b:string? c:float64? d:boolean?"},
		{name: "untyped values add no field", value: map[string]any{"a": int64(1), "n": nil, "e": []any{}, "o": map[string]any{}, "x": []any{nil}},
			want: "a:int64?"},
		{name: "nested object", value: map[string]any{"o": map[string]any{"z": "s", "y": int64(2)}},
			want: "o:struct{y:int64? z:string?}?"},
		{name: "array elements merge", value: map[string]any{"l": []any{int64(1), 2.5, nil}},
			want: "l:array<float64?>?"},
		{name: "array of objects merge", value: map[string]any{"l": []any{map[string]any{"a": int64(1)}, map[string]any{"b": "x"}}},
			want: "l:array<struct{a:int64? b:string?}?>?"},
		{name: "mixed array", value: map[string]any{"l": []any{int64(1), "x"}}, wantErr: true},
		{name: "not an object", value: "x", wantErr: true},
		{name: "null", value: nil, wantErr: true},
		{name: "only nulls", value: map[string]any{"a": nil}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := InferParquetSchema(tt.value)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("InferSchema = %s, want an error", describe(s))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Optional || s.Type != data.TypeStruct {
				t.Errorf("root is %v, want a required struct", s)
			}
			if got := describeFields(s); got != tt.want {
				t.Errorf("InferSchema = %s, want %s", got, tt.want)
			}
		})
	}
}

func describe(s *data.Schema) string {
	if s == nil {
		return "<nil>"
	}
	opt := ""
	if s.Optional {
		opt = "?"
	}
	switch s.Type {
	case data.TypeStruct:
		return "struct{" + describeFields(s) + "}" + opt
	case data.TypeArray:
		return "array<" + describe(s.ValueSchema) + ">" + opt
	}
	return string(s.Type) + opt
}

func describeFields(s *data.Schema) string {
	var b bytes.Buffer
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s", f.Name, describe(f.Schema))
	}
	return b.String()
}

// TestSchemalessRules writes a first record, then a second one, and checks
// whether the second fits the file (and reads back as expected) or is a
// schema change.
func TestParquetSchemalessRules(t *testing.T) {
	first := map[string]any{"id": int64(1), "name": "a", "price": 1.5, "tags": []any{"x"}, "o": map[string]any{"k": "v"}}
	tests := []struct {
		name    string
		second  map[string]any
		changed bool
		want    string
	}{
		{name: "same shape", second: map[string]any{"id": int64(2), "name": "b", "price": 2.5, "tags": []any{}, "o": map[string]any{"k": "w"}},
			want: `map[id:2 name:"b" o:map[k:"w"] price:2.5 tags:[]]`},
		{name: "field vanishes", second: map[string]any{"id": int64(2)},
			want: `map[id:2 name:<nil> o:<nil> price:<nil> tags:<nil>]`},
		{name: "null values", second: map[string]any{"id": int64(2), "name": nil, "o": map[string]any{"k": nil}},
			want: `map[id:2 name:<nil> o:map[k:<nil>] price:<nil> tags:<nil>]`},
		{name: "unknown null field", second: map[string]any{"id": int64(2), "extra": nil, "more": []any{}},
			want: `map[id:2 name:<nil> o:<nil> price:<nil> tags:<nil>]`},
		{name: "integer into double", second: map[string]any{"id": int64(2), "price": int64(3)},
			want: `map[id:2 name:<nil> o:<nil> price:3 tags:<nil>]`},
		{name: "empty array for a scalar", second: map[string]any{"id": int64(2), "name": []any{}},
			want: `map[id:2 name:<nil> o:<nil> price:<nil> tags:<nil>]`},
		{name: "field appears", second: map[string]any{"id": int64(2), "new": "x"}, changed: true},
		{name: "nested field appears", second: map[string]any{"id": int64(2), "o": map[string]any{"k2": "x"}}, changed: true},
		{name: "type changes", second: map[string]any{"id": "2"}, changed: true},
		{name: "double into integer", second: map[string]any{"id": 2.5}, changed: true},
		{name: "element type changes", second: map[string]any{"tags": []any{int64(1)}}, changed: true},
		{name: "object for a scalar", second: map[string]any{"name": map[string]any{"a": "b"}}, changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewParquetFormat(nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := f.NewWriter(&buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			r1, r2 := record(nil, first), record(nil, tt.second)
			if err := w.Write(&r1); err != nil {
				t.Fatal(err)
			}
			err = w.Write(&r2)
			if tt.changed {
				if !errors.Is(err, ErrSchemaChanged) || !IsSchemaChange(err) {
					t.Fatalf("Write = %v, want ErrSchemaChanged", err)
				}
			} else if err != nil {
				t.Fatalf("Write = %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, rows, _ := readFile(t, buf.Bytes())
			wantRows := 2
			if tt.changed {
				wantRows = 1 // the rejected record left nothing behind
			}
			if len(rows) != wantRows {
				t.Fatalf("read %d rows, want %d", len(rows), wantRows)
			}
			if got := fmt.Sprint(norm(rows[0])); got != `map[id:1 name:"a" o:map[k:"v"] price:1.5 tags:["x"]]` {
				t.Errorf("first row = %s", got)
			}
			if !tt.changed {
				if got := fmt.Sprint(norm(rows[1])); got != tt.want {
					t.Errorf("second row = %s, want %s", got, tt.want)
				}
			}
		})
	}
}

func TestParquetWriteErrorsLeaveTheFileIntact(t *testing.T) {
	f, err := NewParquetFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, allTypes)
	if err != nil {
		t.Fatal(err)
	}
	recs := allTypesRecords()
	bad := data.NewStruct(allTypes).Set("b", true) // required fields unset
	other := data.StructBuilder().Field("x", data.Int32Schema).MustBuild()
	for _, tt := range []struct {
		name    string
		rec     connect.SinkRecord
		changed bool
	}{
		{name: "missing required", rec: record(allTypes, bad)},
		{name: "tombstone", rec: record(allTypes, nil)},
		{name: "other schema", rec: record(other, data.NewStruct(other).Set("x", int32(1))), changed: true},
	} {
		err := w.Write(&tt.rec)
		if err == nil || IsSchemaChange(err) != tt.changed {
			t.Errorf("%s: Write = %v, want a schema change: %v", tt.name, err, tt.changed)
		}
		if err := w.Write(&recs[0]); err != nil {
			t.Fatalf("%s: Write after the error = %v", tt.name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, rows, _ := readFile(t, buf.Bytes())
	if len(rows) != 3 {
		t.Fatalf("read %d rows, want 3", len(rows))
	}
	for _, row := range rows {
		if got := fmt.Sprint(norm(row)); got != wantRows[0] {
			t.Errorf("row %s", got)
		}
	}
}

func TestParquetDeterministic(t *testing.T) {
	tests := []struct {
		name   string
		schema *data.Schema
		recs   []connect.SinkRecord
		props  map[string]string
	}{
		{name: "schemaless", recs: orderRecords(20000), props: map[string]string{ParquetRowGroupSizeConfig: "65536"}},
		{name: "struct", schema: orderSchema, recs: structRecords(20000)},
		{name: "all types zstd", schema: allTypes, recs: allTypesRecords(), props: map[string]string{ParquetCodecConfig: "zstd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := writeFile(t, tt.props, tt.schema, tt.recs)
			b := writeFile(t, tt.props, tt.schema, tt.recs)
			if !bytes.Equal(a, b) {
				t.Fatal("the same records gave different files")
			}
			_, rows, pf := readFile(t, a)
			if len(rows) != len(tt.recs) || pf.NumRows() != int64(len(tt.recs)) {
				t.Fatalf("read %d rows (metadata %d), want %d", len(rows), pf.NumRows(), len(tt.recs))
			}
		})
	}
}

func TestParquetRowGroupsAndPageIndex(t *testing.T) {
	const n = 50000
	recs := orderRecords(n)
	for i := range recs {
		m := recs[i].Value.(map[string]any)
		if i%5 == 1 {
			m["sku"] = nil // some pages start with a null
		}
		m["lines"] = []any{int64(i), int64(i + 1)}
	}
	b := writeFile(t, map[string]string{ParquetRowGroupSizeConfig: "65536", ParquetPageSizeConfig: "4096"}, nil, recs)
	_, rows, pf := readFile(t, b)
	if len(pf.RowGroups()) < 2 {
		t.Fatalf("%d row groups, want several", len(pf.RowGroups()))
	}
	if len(rows) != n {
		t.Fatalf("read %d rows, want %d", len(rows), n)
	}
	for _, i := range []int{0, 1, 4999, n - 1} {
		if got := rows[i]["order_id"]; got != recs[i].Value.(map[string]any)["order_id"] {
			t.Errorf("row %d: order_id %v", i, got)
		}
	}
	var nulls int64
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.PathInSchema[0] == "sku" {
				nulls += c.MetaData.Statistics.NullCount
			}
		}
		if rg.NumRows <= 0 {
			t.Errorf("row group with %d rows", rg.NumRows)
		}
	}
	if nulls != n/5 {
		t.Errorf("sku null count %d, want %d", nulls, n/5)
	}
	for gi, rg := range pf.RowGroups() {
		for ci, cc := range rg.ColumnChunks() {
			oi, err := cc.OffsetIndex()
			if err != nil {
				t.Fatalf("row group %d column %d: %v", gi, ci, err)
			}
			if oi.NumPages() > 0 && oi.FirstRowIndex(0) != 0 {
				t.Errorf("row group %d column %d: first page starts at row %d", gi, ci, oi.FirstRowIndex(0))
			}
			for p := 1; p < oi.NumPages(); p++ {
				if oi.FirstRowIndex(p) <= oi.FirstRowIndex(p-1) || oi.FirstRowIndex(p) >= rg.NumRows() {
					t.Errorf("row group %d column %d page %d: first row %d", gi, ci, p, oi.FirstRowIndex(p))
				}
			}
		}
	}
}

// TestMemoryBounded writes 2,000,000 records with 256 KiB row groups and
// checks that the heap in use stays far below the file's size.
func TestParquetMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000,000 records")
	}
	f, err := NewParquetFormat(map[string]string{ParquetRowGroupSizeConfig: "262144"})
	if err != nil {
		t.Fatal(err)
	}
	cw := &countingWriter{}
	w, err := f.NewWriter(cw, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n, chunk = 2_000_000, 100_000
	var peak uint64
	var ms runtime.MemStats
	for done := 0; done < n; done += chunk {
		recs := orderRecords(chunk) // a fresh chunk, as a consumer's batches
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		recs = nil
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const bound = 40 << 20
	t.Logf("file %d MiB, peak heap in use %d MiB", cw.n>>20, peak>>20)
	if peak > bound {
		t.Errorf("heap in use reached %d MiB, want < %d MiB", peak>>20, bound>>20)
	}
	if cw.n < bound {
		// The bound must be below the file's size to mean anything.
		t.Errorf("file only %d MiB", cw.n>>20)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
