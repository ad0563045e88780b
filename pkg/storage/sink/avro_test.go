package sink_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sluicehq/sluice/pkg/storage/sink"
	"testing"
	"time"

	hocf "github.com/hamba/avro/v2/ocf"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// The files are read back with github.com/hamba/avro/v2, an Avro library
// independent of the writer's (twmb/avro's container, Sluice's datums).

var line = data.StructBuilder().Name("sluice.test.Line").Field("sku", data.StringSchema).Field("qty", data.Int32Schema).MustBuild()

var order = data.StructBuilder().Name("sluice.test.Order").Version(1).
	Field("id", data.Int64Schema).
	Field("small", data.Int16Schema).
	Field("customer", data.OptionalStringSchema).
	Field("amount", data.DecimalSchema(2).MustBuild()).
	Field("at", data.TimestampSchema().MustBuild()).
	Field("day", data.DateSchema().Optional().MustBuild()).
	Field("lines", data.ArrayBuilder(line).MustBuild()).
	Field("attrs", data.MapBuilder(data.StringSchema, data.Float64Schema).MustBuild()).
	Field("byid", data.MapBuilder(data.Int32Schema, data.StringSchema).MustBuild()).
	Field("region", data.NewBuilder(data.TypeString).Optional().Default("eu").MustBuild()).
	MustBuild()

func avroRecord(i int) *connect.SinkRecord {
	v := data.NewStruct(order).Set("id", int64(i)).Set("small", int16(i%300)).
		Set("amount", data.NewDecimal(int64(i*101-500), 2)).Set("at", time.UnixMilli(1_700_000_000_000+int64(i)).UTC()).
		Set("lines", []any{data.NewStruct(line).Set("sku", fmt.Sprint("s", i)).Set("qty", int32(i%5))}).
		Set("attrs", map[any]any{"w": float64(i) / 4}).Set("byid", map[any]any{int32(i): "x"})
	if i%3 == 0 {
		v.Set("customer", fmt.Sprint("c", i)).Set("day", time.UnixMilli(int64(i%1000)*86400000).UTC())
	}
	return &connect.SinkRecord{Record: connect.Record{Topic: "orders", ValueSchema: order, Value: v}, Offset: int64(i)}
}

func TestAvroWriteReadBackWithAnotherLibrary(t *testing.T) {
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		t.Run(codec, func(t *testing.T) {
			f, err := sink.NewAvroFormat(map[string]string{sink.AvroCodecConfig: codec})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := f.NewWriter(&buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			const n = 5_000
			for i := range n {
				if err := w.Write(avroRecord(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := hocf.NewDecoder(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			// An absent avro.codec is null, as the specification says.
			if got := string(r.Metadata()["avro.codec"]); got != codec && (codec != "null" || got != "") {
				t.Fatalf("avro.codec = %q", got)
			}
			count := 0
			for ; r.HasNext(); count++ {
				var v map[string]any
				if err := r.Decode(&v); err != nil {
					t.Fatalf("record %d: %v", count, err)
				}
				checkRecord(t, count, v)
			}
			if err := r.Error(); err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Fatalf("read %d records, want %d", count, n)
			}
		})
	}
}

func checkRecord(t *testing.T, i int, v map[string]any) {
	t.Helper()
	want := map[string]string{
		"id": fmt.Sprint(int64(i)), "small": fmt.Sprint(int32(i % 300)),
		"at":     time.UnixMilli(1_700_000_000_000 + int64(i)).UTC().String(),
		"region": "eu", // unset: the field default, as Connect's Struct.get gives it
	}
	for k, w := range want {
		got := fmt.Sprint(v[k])
		if tt, ok := v[k].(time.Time); ok {
			got = tt.UTC().String()
		}
		if got != w {
			t.Fatalf("record %d field %s = %s (%T), want %s", i, k, got, v[k], w)
		}
	}
	if i%3 == 0 && fmt.Sprint(v["customer"]) != fmt.Sprint("c", i) {
		t.Fatalf("record %d customer = %v", i, v["customer"])
	}
	if i%3 != 0 && v["customer"] != nil {
		t.Fatalf("record %d customer = %v, want null", i, v["customer"])
	}
	lines, _ := v["lines"].([]any)
	if len(lines) != 1 || fmt.Sprint(lines[0].(map[string]any)["sku"]) != fmt.Sprint("s", i) {
		t.Fatalf("record %d lines = %v", i, v["lines"])
	}
	byid, _ := v["byid"].([]any)
	if len(byid) != 1 || fmt.Sprint(byid[0].(map[string]any)["key"]) != fmt.Sprint(i) {
		t.Fatalf("record %d byid = %#v", i, v["byid"])
	}
	amount := fmt.Sprint(v["amount"])
	if amount == "" || amount == "<nil>" {
		t.Fatalf("record %d amount = %v", i, v["amount"])
	}
}

func TestAvroWriterSchemaChangeAndBadRecords(t *testing.T) {
	f, err := sink.NewAvroFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(avroRecord(1)); err != nil {
		t.Fatal(err)
	}
	other := data.StructBuilder().Name("sluice.test.Order").Version(2).Field("id", data.Int64Schema).MustBuild()
	tests := []struct {
		name string
		rec  *connect.SinkRecord
		test func(error) bool
	}{
		{"another schema", &connect.SinkRecord{Record: connect.Record{ValueSchema: other, Value: data.NewStruct(other).Set("id", int64(1))}}, sink.IsSchemaChange},
		{"no schema", &connect.SinkRecord{Record: connect.Record{Value: map[string]any{"id": 1}}}, isDataError},
		{"tombstone", &connect.SinkRecord{Record: connect.Record{ValueSchema: order}}, isDataError},
		{"value that does not fit", &connect.SinkRecord{Record: connect.Record{ValueSchema: order, Value: "x"}}, isDataError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.Write(tt.rec); !tt.test(err) {
				t.Fatalf("Write = %v", err)
			}
		})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := hocf.NewDecoder(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the file does not open: %v", err)
	}
	n := 0
	for r.HasNext() {
		var v map[string]any
		if err := r.Decode(&v); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 || r.Error() != nil {
		t.Fatalf("%d records in the file (%v), want 1 (failed writes leave no trace)", n, r.Error())
	}
}

func isDataError(err error) bool {
	var de *data.Error
	return errors.As(err, &de)
}
