package sink_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	hocf "github.com/hamba/avro/v2/ocf"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// Records of a recursive schema (a recursive Avro record's, as the
// AvroConverter reads it): the Avro format writes them (its schema refers
// to the record by name) and an independent reader (hamba/avro) reads the
// values back; Parquet has no representation for them and refuses the
// schema with a record error, as Confluent's ParquetFormat cannot write
// them either (parquet-avro's schema conversion overflows the stack).
func TestRecursiveRecordsAvroFile(t *testing.T) {
	list := recursivetest.List()
	f, err := sink.NewAvroFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	values := [][]int32{{1}, {1, 2, 3}, {7, 8}}
	for i, vals := range values {
		r := &connect.SinkRecord{Record: connect.Record{Topic: "lists", ValueSchema: list, Value: recursivetest.ListValue(list, vals...)}, Offset: int64(i)}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	// The same schema built again is the same schema: no new file.
	again := recursivetest.List()
	if err := w.Write(&connect.SinkRecord{Record: connect.Record{ValueSchema: again, Value: recursivetest.ListValue(again, 9)}}); err != nil {
		t.Fatal(err)
	}
	values = append(values, []int32{9})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := hocf.NewDecoder(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(r.Metadata()["avro.schema"]); !strings.Contains(s, `"type":["null","sluice.test.Node"]`) {
		t.Fatalf("the file's schema does not refer to the record by name: %s", s)
	}
	for i := 0; r.HasNext(); i++ {
		var v map[string]any
		if err := r.Decode(&v); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var got []int32
		for n := v; n != nil; {
			got = append(got, int32(n["value"].(int)))
			// hamba/avro reads a union's record as {full name: value}.
			next, _ := n["next"].(map[string]any)
			n, _ = next["sluice.test.Node"].(map[string]any)
		}
		if i >= len(values) || !equalInts(got, values[i]) {
			t.Fatalf("record %d = %v, want %v", i, got, values)
		}
	}
	if err := r.Error(); err != nil {
		t.Fatal(err)
	}
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecursiveRecordsParquetIsARecordError(t *testing.T) {
	f, err := sink.NewParquetFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "parquet does not support recursive schemas: sluice.test.Tree refers to itself (through children[]); write such records with the AvroFormat or the JsonFormat"
	tree := recursivetest.Tree()
	_, err = f.NewWriter(&bytes.Buffer{}, tree)
	var de *data.Error
	if !errors.As(err, &de) || err.Error() != want {
		t.Fatalf("NewWriter: err = %v, want a *data.Error %q", err, want)
	}
	// Met as the first record of a file opened without a schema: the
	// record fails (errors.tolerance may skip it) and the next one opens
	// the file.
	w, err := f.NewWriter(&bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &connect.SinkRecord{Record: connect.Record{ValueSchema: tree, Value: recursivetest.TreeNode(tree, "root")}}
	if err := w.Write(rec); !errors.As(err, &de) || err.Error() != want {
		t.Fatalf("Write: err = %v, want a *data.Error %q", err, want)
	}
	flat := data.StructBuilder().Field("label", data.StringSchema).MustBuild()
	if err := w.Write(&connect.SinkRecord{Record: connect.Record{ValueSchema: flat, Value: data.NewStruct(flat).Set("label", "x")}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRecursiveRecordsJSONFile(t *testing.T) {
	f, err := sink.NewJSONFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	tree := recursivetest.Tree()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, tree)
	if err != nil {
		t.Fatal(err)
	}
	v := recursivetest.TreeNode(tree, "root", recursivetest.TreeNode(tree, "a"), recursivetest.TreeNode(tree, "b", recursivetest.TreeNode(tree, "b1")))
	if err := w.Write(&connect.SinkRecord{Record: connect.Record{ValueSchema: tree, Value: v}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const want = `{"label":"root","children":[{"label":"a","children":[]},{"label":"b","children":[{"label":"b1","children":[]}]}]}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}
