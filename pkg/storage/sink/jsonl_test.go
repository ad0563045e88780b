package sink

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func records() []connect.SinkRecord {
	s := data.StructBuilder().
		Field("id", data.Int32Schema).
		Field("name", data.OptionalStringSchema).
		Field("price", data.DecimalSchema(2).MustBuild()).
		Field("at", data.TimestampSchema().MustBuild()).
		MustBuild()
	rec := func(schema *data.Schema, v any) connect.SinkRecord {
		var r connect.SinkRecord
		r.Topic, r.ValueSchema, r.Value = "t", schema, v
		return r
	}
	return []connect.SinkRecord{
		rec(s, data.NewStruct(s).Set("id", int32(1)).Set("name", "a\"b").Set("price", data.NewDecimal(1234, 2)).
			Set("at", time.UnixMilli(1700000000000).UTC())),
		rec(nil, map[string]any{"b": int64(2), "a": []any{1.5, "x", nil, true}}),
		rec(nil, "plain string"),
		rec(nil, nil),
	}
}

// What Confluent's JsonFormat writes for records(): each value as
// JsonConverter (schemas.enable=false) encodes it, one per line: a
// Timestamp as epoch milliseconds, a Decimal as its unscaled two's
// complement in base64 (1234 is 0x04d2) or, with decimal.format=NUMERIC, as
// a number; a schemaless map's keys in order; a null value as null.
const (
	jsonValues = `{"id":1,"name":"a\"b","price":"BNI=","at":1700000000000}
{"a":[1.5,"x",null,true],"b":2}
"plain string"
null
`
	jsonValuesNumeric = `{"id":1,"name":"a\"b","price":12.34,"at":1700000000000}
{"a":[1.5,"x",null,true],"b":2}
"plain string"
null
`
)

func TestJSONFormat(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		ext   string
		want  string
	}{
		{name: "default", ext: ".json", want: jsonValues},
		{name: "numeric decimals", props: map[string]string{JSONDecimalFormatConfig: "numeric"}, ext: ".json", want: jsonValuesNumeric},
		{name: "gzip", props: map[string]string{"s3.compression.type": "gzip"}, ext: ".json.gz", want: jsonValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewJSONFormat(tt.props)
			if err != nil {
				t.Fatal(err)
			}
			if f.Extension() != tt.ext {
				t.Errorf("Extension() = %q, want %q", f.Extension(), tt.ext)
			}
			got := write(t, f)
			if tt.ext == ".json.gz" {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestJSONBadProperties(t *testing.T) {
	for _, tt := range []struct {
		name  string
		props map[string]string
	}{
		{name: "compression", props: map[string]string{"s3.compression.type": "zip"}},
		{name: "decimal format", props: map[string]string{JSONDecimalFormatConfig: "hex"}},
		{name: "level", props: map[string]string{"s3.compression.level": "12"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewJSONFormat(tt.props); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func write(t *testing.T, f *JSONFormat) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := records()
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
