package sink

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
)

// rawJSONValues are schemaless JSON objects of varied shapes: nulls,
// missing, repeated, reordered and unknown keys, integral numbers in a
// double column, fractions in a long one, empty objects and arrays where
// a value is expected, escapes, big numbers, nested objects and arrays
// (which writeRaw leaves to the general path), types that change.
func rawJSONValues(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]string, 0, n)
	for i := range n {
		members := []string{
			fmt.Sprintf(`"id":%d`, i*7919-50_000),
			fmt.Sprintf(`"name":"n%d"`, rng.IntN(50)),
			fmt.Sprintf(`"price":%.3f`, rng.Float64()*100),
			fmt.Sprintf(`"ok":%t`, rng.IntN(2) == 0),
			fmt.Sprintf(`"nested":{"a":%d,"b":"x%d","deep":{"c":%.1f}}`, rng.IntN(9), rng.IntN(3), rng.Float64()),
		}
		switch rng.IntN(40) {
		case 0:
			members[1] = `"name":null`
		case 1:
			members = members[:4] // nested missing
		case 2:
			members[4] = `"nested":null`
		case 3:
			members[4] = `"nested":{}`
		case 4:
			members[2] = fmt.Sprintf(`"price":%d`, rng.IntN(1000)) // integral into DOUBLE
		case 5:
			members[0] = `"id":1.5` // a fraction into INT64: a schema change
		case 6:
			members = append(members, `"extra":null`, `"empty":[]`, `"obj":{"x":null,"y":[]}`) // untyped: fit
		case 7:
			members = append(members, `"extra":"typed"`) // not in the schema: a schema change
		case 8:
			members = append(members, `"id":42`) // repeated: the last one counts
		case 9:
			members[1] = `"name":"esc \"q\" \\ \u00e9 \ud83d\ude00 \/ \n\t"`
		case 10:
			members[1] = `"name":{}` // an empty object where a string is expected: a null
		case 11:
			members[1] = `"name":[]`
		case 12:
			members[0] = `"id":123456789012345678901234567890` // wraps, as Jackson's longValue
		case 13:
			members[3] = `"ok":"yes"` // a string where a boolean is: a schema change
		case 14:
			members = append(members, `"tags":["a","b"]`) // an array: a schema change, then the general path
		case 15:
			members[4] = `"nested":{"a":null,"b":null,"deep":null}`
		case 16:
			members[2] = `"price":1e400` // +Inf
		case 17:
			members[0] = `"id":-0`
		case 18:
			members[4] = `"nested":{"deep":{},"b":"only"}`
		case 19:
			members[1] = `"name":""`
		}
		rng.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
		sep := ","
		if rng.IntN(10) == 0 {
			sep = " ,\n\t"
		}
		out = append(out, "{"+strings.Join(members, sep)+"}")
	}
	return out
}

// writeFiles writes the records as the storage sink does: a new file
// after each schema change, a new file every flushSize records. It
// returns the files, the error of each record that was not written and
// the number of rows writeRaw wrote.
func writeFiles(t *testing.T, props map[string]string, recs []connect.SinkRecord, flushSize int) (files [][]byte, errs []string, rawRows int64) {
	t.Helper()
	f, err := NewParquetFormat(props)
	if err != nil {
		t.Fatal(err)
	}
	var buf *bytes.Buffer
	var w *ParquetWriter
	rows := 0
	closeFile := func() {
		if w == nil {
			return
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rawRows += w.rawRows
		files = append(files, bytes.Clone(buf.Bytes()))
		w, rows = nil, 0
	}
	open := func() {
		buf = &bytes.Buffer{}
		rw, err := f.NewWriter(buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		w = rw.(*ParquetWriter)
	}
	for i := range recs {
		if w == nil {
			open()
		}
		err := w.Write(&recs[i])
		if err != nil && IsSchemaChange(err) && rows > 0 {
			closeFile()
			open()
			err = w.Write(&recs[i])
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("record %d: %v", i, err))
			continue
		}
		if rows++; rows == flushSize {
			closeFile()
		}
	}
	closeFile()
	return files, errs, rawRows
}

// TestParquetRawValuesMatchDecoded writes the same JSON values decoded by
// the JsonConverter (the general path) and as *connect.RawValue (written
// from their bytes where writeRaw can): the files must be byte for byte
// the same, and so must the records refused.
func TestParquetRawValuesMatchDecoded(t *testing.T) {
	jc := converter.NewJSONConverter()
	if err := jc.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		values    []string
		props     map[string]string
		flushSize int
	}{
		{name: "varied, snappy", values: rawJSONValues(5000, 1), props: map[string]string{ParquetCodecConfig: "snappy"}, flushSize: 1000},
		{name: "varied, small pages", values: rawJSONValues(3000, 2), props: map[string]string{ParquetCodecConfig: "none", ParquetPageSizeConfig: "1024"}, flushSize: 700},
		{name: "varied, gzip, one file", values: rawJSONValues(2000, 3), props: map[string]string{ParquetCodecConfig: "gzip"}, flushSize: 1 << 30},
		{name: "not objects and refused values", values: []string{
			`{"a":1}`, `[1,2]`, `"s"`, `5`, `null`, `{}`, `{"a":null}`, `{"a":"x"}`, `{"a":2}`, `{"b":[null,[]]}`, `{"a":3,"b":{"c":[]}}`,
		}, props: map[string]string{}, flushSize: 3},
		{name: "first record all untyped", values: []string{`{"x":null}`, `{"a":1}`, `{"a":2,"x":null}`}, props: map[string]string{}, flushSize: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decoded := make([]connect.SinkRecord, len(tt.values))
			raw := make([]connect.SinkRecord, len(tt.values))
			for i, s := range tt.values {
				schema, v, err := jc.ToConnectData("t", []byte(s))
				if err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				decoded[i].ValueSchema, decoded[i].Value = schema, v
				if jc.CheckRaw("t", []byte(s)) {
					raw[i].Value = &connect.RawValue{Topic: "t", Bytes: []byte(s), Converter: jc}
				} else {
					raw[i] = decoded[i]
				}
			}
			wantFiles, wantErrs, _ := writeFiles(t, tt.props, decoded, tt.flushSize)
			gotFiles, gotErrs, rawRows := writeFiles(t, tt.props, raw, tt.flushSize)
			if len(tt.values) > 100 && rawRows < int64(len(tt.values))*3/4 {
				t.Fatalf("only %d of %d rows written from their bytes", rawRows, len(tt.values))
			}
			if len(gotFiles) != len(wantFiles) {
				t.Fatalf("%d files, the general path wrote %d", len(gotFiles), len(wantFiles))
			}
			for i := range gotFiles {
				if !bytes.Equal(gotFiles[i], wantFiles[i]) {
					t.Fatalf("file %d differs from the general path's (%d bytes, want %d)", i, len(gotFiles[i]), len(wantFiles[i]))
				}
			}
			if fmt.Sprint(gotErrs) != fmt.Sprint(wantErrs) {
				t.Fatalf("refused records:\n got %v\nwant %v", gotErrs, wantErrs)
			}
			if len(tt.values) > 100 && len(wantFiles) < 3 && tt.flushSize < len(tt.values) {
				t.Fatalf("only %d files: the schema changes did not rotate", len(wantFiles))
			}
		})
	}
}

// TestParquetRawValuesTakeTheDirectPath: the orders' shape is written
// without decoding (no allocation per record), not by the general path.
func TestParquetRawValuesTakeTheDirectPath(t *testing.T) {
	jc := converter.NewJSONConverter()
	if err := jc.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		t.Fatal(err)
	}
	f, err := NewParquetFormat(map[string]string{ParquetCodecConfig: "snappy"})
	if err != nil {
		t.Fatal(err)
	}
	rw, err := f.NewWriter(&bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := rw.(*ParquetWriter)
	value := []byte(`{"order_id":"o-1","customer_id":"c-9","item":"widget \"x\"","quantity":3,"price":12.5,"ordered_at":1733500000000,"gift":null}`)
	rec := connect.SinkRecord{Record: connect.Record{Value: &connect.RawValue{Topic: "t", Bytes: value, Converter: jc}}}
	if err := w.Write(&rec); err != nil { // the first record opens the file: decoded
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if err := w.Write(&rec); err != nil {
			t.Fatal(err)
		}
	})
	// Batches encoded now and then allocate pages; a decoded record alone
	// allocates more than one object per field.
	if allocs > 0.5 {
		t.Fatalf("%.2f allocations per record: not the direct path", allocs)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// FuzzParquetRawMatchesDecoded: records of two schemaless JSON values
// (the first opens the file and so gives its schema) written decoded and
// as *connect.RawValue make the same files and refuse the same records.
func FuzzParquetRawMatchesDecoded(f *testing.F) {
	values := rawJSONValues(60, 9)
	for i := 0; i+1 < len(values); i += 2 {
		f.Add([]byte(values[i]), []byte(values[i+1]))
	}
	f.Add([]byte(`{"a":1,"b":{"c":"x"}}`), []byte(`{"b":{"c":"\ud800y"},"a":-0}`))
	f.Add([]byte(`{"a":1.5}`), []byte(`{"a":123456789012345678901234567890}`))
	jc := converter.NewJSONConverter()
	if err := jc.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var decoded, raw []connect.SinkRecord
		for _, b := range [][]byte{first, second, first, second} {
			schema, v, err := jc.ToConnectData("t", b)
			if err != nil || v == nil {
				return
			}
			rec := connect.SinkRecord{Record: connect.Record{ValueSchema: schema, Value: v}}
			decoded = append(decoded, rec)
			if jc.CheckRaw("t", b) {
				rec = connect.SinkRecord{Record: connect.Record{Value: &connect.RawValue{Topic: "t", Bytes: b, Converter: jc}}}
			}
			raw = append(raw, rec)
		}
		props := map[string]string{ParquetCodecConfig: "none"}
		wantFiles, wantErrs, _ := writeFiles(t, props, decoded, 3)
		gotFiles, gotErrs, _ := writeFiles(t, props, raw, 3)
		if len(gotFiles) != len(wantFiles) {
			t.Fatalf("%d files, the general path wrote %d", len(gotFiles), len(wantFiles))
		}
		for i := range gotFiles {
			if !bytes.Equal(gotFiles[i], wantFiles[i]) {
				t.Fatalf("file %d differs from the general path's", i)
			}
		}
		if fmt.Sprint(gotErrs) != fmt.Sprint(wantErrs) {
			t.Fatalf("refused records:\n got %v\nwant %v", gotErrs, wantErrs)
		}
	})
}
