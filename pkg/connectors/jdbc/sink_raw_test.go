package jdbc

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// deadLetterValue is a reported record's value as the lease writes it
// into a dead letter: decoded first when the sink took it undecoded,
// then written by JsonConverter.
func deadLetterValue(rec *connect.SinkRecord) string {
	return deadLetter(rec.Topic, rec.ValueSchema, rec.Value)
}

// deadLetterKey is deadLetterValue for the key.
func deadLetterKey(rec *connect.SinkRecord) string {
	return deadLetter(rec.Topic, rec.KeySchema, rec.Key)
}

func deadLetter(topic string, s *data.Schema, v any) string {
	if raw, ok := v.(*connect.RawValue); ok {
		var err error
		if s, v, err = raw.Decode(); err != nil {
			return "undecodable: " + err.Error()
		}
	}
	b, err := converter.NewJSONConverter().FromConnectData(topic, s, v)
	if err != nil {
		return "unwritable: " + err.Error()
	}
	return string(b)
}

// rawRowSchema has a field of every primitive and logical type.
var rawRowSchema = data.StructBuilder().Name("row").
	Field("id", data.Int64Schema).
	Field("i8", data.OptionalInt8Schema).
	Field("i16", data.OptionalInt16Schema).
	Field("i32", data.OptionalInt32Schema).
	Field("f32", data.OptionalFloat32Schema).
	Field("f64", data.OptionalFloat64Schema).
	Field("b", data.OptionalBooleanSchema).
	Field("s", data.OptionalStringSchema).
	Field("raw", data.OptionalBytesSchema).
	Field("amount", data.DecimalSchema(2).Optional().MustBuild()).
	Field("d", data.DateSchema().Optional().MustBuild()).
	Field("t", data.TimeSchema().Optional().MustBuild()).
	Field("ts", data.TimestampSchema().Optional().MustBuild()).
	MustBuild()

// rawRowMessages are n JsonConverter values (schemas.enable=true) of
// rawRowSchema, ids 1 to n/2 each twice, some fields null, some strings
// with escapes, some rows too long for s varchar(40), then hand-written
// payloads the converter reads in less usual ways.
func rawRowMessages(t testing.TB, c *converter.JSONConverter, n int, infinity bool) (ids []int64, msgs [][]byte) {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := int64(i/2 + 1)
		v := data.NewStruct(rawRowSchema).Set("id", id)
		if i%5 != 0 {
			d, _ := data.ParseDecimal(fmt.Sprintf("%d.%02d", i, i%100))
			v.Set("i8", int8(i)).Set("i16", int16(i*7)).Set("i32", int32(i*1000)).Set("f32", float32(i)/4).
				Set("f64", float64(i)/3).Set("b", i%2 == 0).Set("raw", []byte{byte(i), 0, 0xff}).Set("amount", d).
				Set("d", base.AddDate(0, 0, i)).Set("t", time.UnixMilli(int64(i)*1234567%86400000).UTC()).
				Set("ts", base.Add(time.Duration(i)*time.Millisecond*997))
		}
		switch {
		case i%97 == 3:
			v.Set("s", strings.Repeat("long", 20)) // the table rejects it
		case i%7 == 1:
			v.Set("s", fmt.Sprintf("quote\" back\\ tab\t é 😀 %d", i))
		case i%3 != 0:
			v.Set("s", fmt.Sprint("name-", i))
		}
		b, err := c.FromConnectData("rows", rawRowSchema, v)
		if err != nil {
			t.Fatal(err)
		}
		ids, msgs = append(ids, id), append(msgs, b)
	}
	schemaJSON, _, _ := strings.Cut(strings.TrimPrefix(string(msgs[0]), `{"schema":`), `,"payload":`)
	f32, f64 := `"-Infinity"`, `"NaN"` // MySQL has neither
	if !infinity {
		f32, f64 = "-1.5", "2.5"
	}
	for i, p := range []string{
		`{"id":0,"i8":300,"i16":70000,"i32":-2147483649}`,                       // wrapped by the converter
		`{"id":0,"i32":1.5,"i16":-2.7}`,                                         // truncated by the converter
		`{"id":0,"ts":99999999999999999999}`,                                    // wrapped
		`{"id":0,"s":"a","s":null,"b":true,"b":false}`,                          // repeated keys
		`{"id":0,"unknown":{"x":[1,"\q"]},"f64":` + f64 + `,"f32":` + f32 + `}`, // unknown field, NaN
		` { "id" : 0 , "amount" : 12.5 , "s" : "\u0041\ud83d\ude00" } `,         // spaces, a numeric decimal, escapes
		`{"id":0,"amount":12.345}`,                                              // more decimal places than the column
		`{"id":0,"amount":"AA=="}`,                                              // base64 zero
		`{"id":0,"s":"first"},"payload":{"id":0,"s":"second"}`,                  // the last payload counts
		`{"id":0,"s":"first"},"payload":{"id":0,"s":"second"}`,
		`{"id":0,"s":"nul\u0000"}`, // PostgreSQL rejects NUL in text
	} {
		id := int64(n/2 + 1 + i)
		ids = append(ids, id)
		if i%2 == 0 {
			msgs = append(msgs, []byte(`{"schema":`+schemaJSON+`,"payload":`+p+`}`))
		} else {
			msgs = append(msgs, []byte(`{"payload":`+p+`,"schema":`+schemaJSON+`}`))
		}
	}
	return ids, msgs
}

// leaseRecords are what a lease puts for msgs: with raw, each value and
// key the converter's CheckRaw accepts undecoded (connect.RawValue), the
// others decoded; every 50th record is a tombstone. The keys are
// JsonConverter's (schemas.enable=true), a few laid out otherwise (a
// space after the payload, the payload first), which the sink decodes.
func leaseRecords(t testing.TB, c *converter.JSONConverter, ids []int64, msgs [][]byte, raw bool) (recs []connect.SinkRecord, undecoded int) {
	t.Helper()
	kc := converter.NewJSONConverter()
	if err := kc.Configure(nil, true); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "rows", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "rows", connect.PartitionOf(0)
		r.KeySchema, r.Key = keySchema, data.NewStruct(keySchema).Set("id", ids[i])
		key, err := kc.FromConnectData("rows", r.KeySchema, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		schemaJSON, payload, _ := strings.Cut(strings.TrimPrefix(string(key), `{"schema":`), `,"payload":`)
		switch i % 13 {
		case 5:
			key = []byte(`{"schema":` + schemaJSON + `,"payload":` + strings.TrimSuffix(payload, "}") + ` }`)
		case 6:
			key = []byte(`{"payload":` + strings.TrimSuffix(payload, "}") + `,"schema":` + schemaJSON + `}`)
		}
		if raw && kc.CheckRaw("rows", key) {
			r.KeySchema, r.Key = nil, &connect.RawValue{Topic: "rows", Bytes: key, Converter: kc}
		}
		switch {
		case i%50 == 49:
		case raw && c.CheckRaw("rows", m):
			r.Value = &connect.RawValue{Topic: "rows", Bytes: bytes.Clone(m), Converter: c}
			undecoded++
		default:
			var err error
			if r.ValueSchema, r.Value, err = c.ToConnectData("rows", m); err != nil {
				t.Fatalf("decoding %s: %v", m, err)
			}
		}
		recs = append(recs, r)
	}
	return recs, undecoded
}

// TestSinkRawValuesSameRows: the same records, put decoded and put as a
// lease puts them for a task that takes values and keys undecoded (most
// of them undecoded, their bytes overwritten after each Put), write the
// same rows and report the same dead letters, keys and values (upsert and insert, with deletes, in
// batches of 64).
func TestSinkRawValuesSameRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		c := converter.NewJSONConverter()
		ids, msgs := rawRowMessages(t, c, 1500, db.kind == "postgres")
		for _, mode := range []string{InsertModeUpsert, InsertModeInsert} {
			var tables [2][]string
			var dead [2][]string
			for pass, raw := range []bool{false, true} {
				table := fmt.Sprintf("rows_%s_%v", mode, raw)
				db.exec(t, db.pick(
					"CREATE TABLE "+table+" (id bigint PRIMARY KEY, i8 smallint, i16 smallint, i32 integer, f32 real, f64 double precision, b boolean,"+
						" s varchar(40), raw bytea, amount numeric(10,2), d date, t time(3), ts timestamp(3))",
					"CREATE TABLE "+table+" (id bigint PRIMARY KEY, i8 tinyint, i16 smallint, i32 int, f32 float, f64 double, b boolean,"+
						" s varchar(40), raw varbinary(10), amount decimal(10,2), d date, t time(3), ts datetime(3))"))
				keys := ids
				if mode == InsertModeInsert { // a key once
					keys = seq(1, int64(len(ids)))
				}
				recs, undecoded := leaseRecords(t, c, keys, msgs, raw)
				if raw && undecoded < len(msgs)*9/10 {
					t.Fatalf("%d of %d values undecoded: the test must put most of them so", undecoded, len(msgs))
				}
				props := db.props(map[string]string{
					"name": table, "topics": "rows", TableNameFormatConfig: table, InsertModeConfig: mode, BatchSizeConfig: "64",
					PKModeConfig: PKModeRecordKey, DeleteEnabledConfig: fmt.Sprint(mode == InsertModeUpsert),
				})
				rep := &reporter{tolerate: true}
				put := map[int64][][]byte{}
				var rawKeys int
				for _, r := range recs {
					if rv, ok := r.Value.(*connect.RawValue); ok {
						put[r.Offset] = append(put[r.Offset], rv.Bytes)
					}
					if rk, ok := r.Key.(*connect.RawValue); ok {
						put[r.Offset] = append(put[r.Offset], rk.Bytes)
						rawKeys++
					}
				}
				if raw && rawKeys < len(msgs)*8/10 {
					t.Fatalf("%d of %d keys undecoded: the test must put most of them so", rawKeys, len(msgs))
				}
				scribble := func(batch []connect.SinkRecord) {
					for _, r := range batch {
						for _, b := range put[r.Offset] {
							for i := range b {
								b[i] = 'x' // valid only during Put
							}
						}
					}
				}
				if err := sinkLeaseThen(t, props, recs, rep, scribble); err != nil {
					t.Fatal(err)
				}
				tables[pass] = tableDump(t, db, table)
				for _, r := range rep.reported {
					err := strings.ReplaceAll(r.err.Error(), table, "T")
					dead[pass] = append(dead[pass], fmt.Sprintf("offset %d: %s: %s %s", r.offset, err, r.key, r.value))
				}
			}
			if len(tables[0]) < 700 || len(dead[0]) < 5 {
				t.Fatalf("%s: %d rows, %d dead letters: the records must write rows and be rejected too", mode, len(tables[0]), len(dead[0]))
			}
			if a, b := strings.Join(tables[0], "\n"), strings.Join(tables[1], "\n"); a != b {
				t.Errorf("%s: the rows differ\ndecoded:\n%s\nraw:\n%s", mode, firstDiff(tables[0], tables[1]), firstDiff(tables[1], tables[0]))
			}
			if a, b := strings.Join(dead[0], "\n"), strings.Join(dead[1], "\n"); a != b {
				t.Errorf("%s: the dead letters differ\ndecoded: %s\nraw:     %s", mode, firstDiff(dead[0], dead[1]), firstDiff(dead[1], dead[0]))
			}
		}
	})
}

// firstDiff is the first line of a that b does not have at the same place,
// with its index.
func firstDiff(a, b []string) string {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return fmt.Sprintf("row %d of %d: %s", i, len(a), a[i])
		}
	}
	return fmt.Sprintf("(all %d rows the same)", len(a))
}

// FuzzSinkRawValues: for a payload the converter's CheckRaw accepts, the
// sink reads from its bytes the Connect values that decoding it gives, or
// leaves it to be decoded.
func FuzzSinkRawValues(f *testing.F) {
	c := converter.NewJSONConverter()
	_, msgs := rawRowMessages(f, c, 40, true)
	var schemaJSON string
	for _, m := range msgs {
		s, p, _ := strings.Cut(strings.TrimPrefix(string(m), `{"schema":`), `,"payload":`)
		if schemaJSON == "" {
			schemaJSON = s
		}
		if p != "" {
			f.Add([]byte(strings.TrimSuffix(p, "}")))
		}
	}
	f.Add([]byte(`{"id":1,"i8":300,"i32":1.5,"s":"a","s":null,"ts":99999999999999999999}`))
	f.Add([]byte(`{"id":1,"s":"a"},"payload":{"id":2,"s":"b"}`)) // the last payload counts
	f.Add([]byte(`{"id":1,"s":"a"} `))
	task := &SinkTask{s: sinkSettings{pkMode: PKModeRecordValue, pkFields: []string{"id"}}}
	task.s.conn.settings.TimeZone = time.UTC
	var sc converter.JSONScanner
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := []byte(`{"schema":` + schemaJSON + `,"payload":` + string(payload) + `}`)
		if !c.CheckRaw("rows", in) {
			return
		}
		vs, v, err := c.ToConnectData("rows", in)
		if err != nil {
			t.Fatalf("CheckRaw accepted %s, which does not decode: %v", payload, err)
		}
		dec := connect.SinkRecord{}
		dec.Topic, dec.ValueSchema, dec.Value = "rows", vs, v
		s, err := task.newShape(TableID{Name: "rows"}, &dec)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := s.values(&dec)
		rawVS, p, ok := c.RawPayload(in)
		if !ok {
			t.Fatalf("RawPayload refused what CheckRaw accepted: %s", in)
		}
		fast := make([]fastValue, len(s.cols))
		got, ok, gerr := s.rawValues(&dec, rawVS, bytes.Clone(p), nil, &sc, fast)
		if !ok && gerr == nil {
			return // left to be decoded
		}
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("payload %s: error %v, decoded %v", payload, gerr, werr)
		}
		if werr != nil {
			return
		}
		connectValues := slices.Clone(got)
		for i, v := range connectValues {
			if v == isFast {
				connectValues[i] = fast[i].value()
			}
		}
		if !sameValues(connectValues, want) {
			t.Fatalf("payload %s:\nraw     %#v\ndecoded %#v", payload, connectValues, want)
		}
		// And the same driver arguments, for columns of a numeric(10,2)
		// and a timestamp.
		cols := make([]Column, len(s.cols))
		for i, c := range s.cols {
			cols[i] = Column{Name: c.name, Type: "timestamp without time zone", Precision: 10, Scale: 2}
		}
		ts := &tableState{checked: map[*shape][]Column{s: cols}}
		werr, gerr = task.toSink(s, ts, want), task.rawToSink(s, ts, got, fast)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("payload %s: driver argument error %v, decoded %v", payload, gerr, werr)
		}
		if werr == nil && !sameValues(got, want) {
			t.Fatalf("payload %s: driver arguments\nraw     %#v\ndecoded %#v", payload, got, want)
		}
	})
}

// sameValues compares Connect values, NaN equal to NaN.
func sameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if fx, ok := x.(float64); ok && math.IsNaN(fx) {
			if fy, ok := y.(float64); ok && math.IsNaN(fy) {
				continue
			}
		}
		if fx, ok := x.(float32); ok && fx != fx {
			if fy, ok := y.(float32); ok && fy != fy {
				continue
			}
		}
		if fmt.Sprintf("%T %#v", x, x) != fmt.Sprintf("%T %#v", y, y) {
			return false
		}
	}
	return true
}
