package sink

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	pg "github.com/parquet-go/parquet-go"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// writeFile writes records with a format built from props and returns the
// file's bytes.
func writeFile(t testing.TB, props map[string]string, schema *data.Schema, recs []connect.SinkRecord) []byte {
	t.Helper()
	f, err := NewParquetFormat(props)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, schema)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readFile reads a file back with the independent reader
// (github.com/parquet-go/parquet-go): its schema as that reader prints it,
// its rows, and its metadata row count.
func readFile(t testing.TB, b []byte) (string, []map[string]any, *pg.File) {
	t.Helper()
	pf, err := pg.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := pg.NewReader(pf)
	var rows []map[string]any
	for {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			break
		}
		rows = append(rows, m)
	}
	return pf.Schema().String(), rows, pf
}

func record(schema *data.Schema, v any) connect.SinkRecord {
	var r connect.SinkRecord
	r.ValueSchema, r.Value = schema, v
	return r
}

// norm makes a row read back printable and comparable: pointers are
// followed, strings quoted.
func norm(v any) any {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []byte:
		return strconv.Quote(string(x))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = norm(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = norm(e)
		}
		return s
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface())
	}
	return v
}
