package transforms

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// The values of Kafka's TimestampConverterTest.
var (
	tcTime                = time.UnixMilli(1234).UTC()
	tcDate                = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	tcDatePlusTime        = time.UnixMilli(86_401_234).UTC()
	tcDatePlusTimeUnix    = int64(86_401_234)
	tcDatePlusTimeMicros  = int64(86_401_234_123)
	tcDatePlusTimeNanos   = int64(86_401_234_123_456)
	tcDatePlusTimeSeconds = int64(86_401)
)

const (
	tcStringFormat         = "yyyy MM dd HH mm ss SSS z"
	tcDatePlusTimeString   = "1970 01 02 00 00 01 234 UTC"
	timestampConverterName = "TimestampConverter"
)

func newTimestampConverter(t *testing.T, tg target, props map[string]string) *TimestampConverter {
	t.Helper()
	x := NewTimestampConverterValue()
	if tg == keyTarget {
		x = NewTimestampConverterKey()
	}
	routingConfigure(t, x, props)
	return x
}

func TestTimestampConverterWholeValue(t *testing.T) {
	optionalInt32 := &data.Schema{Type: data.TypeInt32, Optional: true}
	tests := []struct {
		name       string
		props      map[string]string
		schema     *data.Schema
		value      any
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		// Schemaless, Timestamp to other types.
		{name: "schemaless identity", props: map[string]string{"target.type": "Timestamp"}, value: tcDatePlusTime, want: tcDatePlusTime},
		{name: "schemaless timestamp to date", props: map[string]string{"target.type": "Date"}, value: tcDatePlusTime, want: tcDate},
		{name: "schemaless timestamp to time", props: map[string]string{"target.type": "Time"}, value: tcDatePlusTime, want: tcTime},
		{name: "schemaless timestamp to unix", props: map[string]string{"target.type": "unix"}, value: tcDatePlusTime, want: tcDatePlusTimeUnix},
		{name: "schemaless timestamp to string", props: map[string]string{"target.type": "string", "format": tcStringFormat},
			value: tcDatePlusTime, want: tcDatePlusTimeString},
		// Schemaless, other types to Timestamp.
		{name: "schemaless date to timestamp", props: map[string]string{"target.type": "Timestamp"}, value: tcDate, want: tcDate},
		{name: "schemaless time to timestamp", props: map[string]string{"target.type": "Timestamp"}, value: tcTime, want: tcTime},
		{name: "schemaless unix to timestamp", props: map[string]string{"target.type": "Timestamp"}, value: tcDatePlusTimeUnix, want: tcDatePlusTime},
		{name: "schemaless string to timestamp", props: map[string]string{"target.type": "Timestamp", "format": tcStringFormat},
			value: tcDatePlusTimeString, want: tcDatePlusTime},
		{name: "schemaless string to unix micros", props: map[string]string{"target.type": "unix", "unix.precision": "microseconds", "format": tcStringFormat},
			value: tcDatePlusTimeString, want: int64(86_401_234_000)},
		{name: "schemaless string to unix nanos", props: map[string]string{"target.type": "unix", "unix.precision": "nanoseconds", "format": tcStringFormat},
			value: tcDatePlusTimeString, want: int64(86_401_234_000_000)},
		{name: "schemaless string to unix seconds", props: map[string]string{"target.type": "unix", "unix.precision": "seconds", "format": tcStringFormat},
			value: tcDatePlusTimeString, want: tcDatePlusTimeSeconds},
		{name: "schemaless unix micros to timestamp", props: map[string]string{"target.type": "Timestamp", "unix.precision": "microseconds"},
			value: tcDatePlusTimeMicros, want: tcDatePlusTime},
		{name: "schemaless null", props: map[string]string{"target.type": "string", "format": tcStringFormat}, value: nil, want: nil},
		{name: "schemaless unsupported type", props: map[string]string{"target.type": "unix"}, value: int32(5),
			wantErr: "TimestampConverter does not support class java.lang.Integer objects as timestamps"},
		{name: "schemaless unparseable string", props: map[string]string{"target.type": "unix", "format": "yyyy-MM-dd"}, value: "yesterday",
			wantErr: "Could not parse timestamp: value (yesterday) does not match pattern (yyyy-MM-dd)"},
		// With schemas.
		{name: "schema identity", props: map[string]string{"target.type": "Timestamp"}, schema: timestampConverterTimestampSchema,
			value: tcDatePlusTime, wantSchema: timestampConverterTimestampSchema, want: tcDatePlusTime},
		{name: "schema timestamp to date", props: map[string]string{"target.type": "Date"}, schema: timestampConverterTimestampSchema,
			value: tcDatePlusTime, wantSchema: timestampConverterDateSchema, want: tcDate},
		{name: "schema timestamp to time", props: map[string]string{"target.type": "Time"}, schema: timestampConverterTimestampSchema,
			value: tcDatePlusTime, wantSchema: timestampConverterTimeSchema, want: tcTime},
		{name: "schema timestamp to unix", props: map[string]string{"target.type": "unix"}, schema: timestampConverterTimestampSchema,
			value: tcDatePlusTime, wantSchema: data.Int64Schema, want: tcDatePlusTimeUnix},
		{name: "schema timestamp to string", props: map[string]string{"target.type": "string", "format": tcStringFormat},
			schema: timestampConverterTimestampSchema, value: tcDatePlusTime, wantSchema: data.StringSchema, want: tcDatePlusTimeString},
		{name: "schema date to timestamp", props: map[string]string{"target.type": "Timestamp"}, schema: timestampConverterDateSchema,
			value: tcDate, wantSchema: timestampConverterTimestampSchema, want: tcDate},
		{name: "schema time to timestamp", props: map[string]string{"target.type": "Timestamp"}, schema: timestampConverterTimeSchema,
			value: tcTime, wantSchema: timestampConverterTimestampSchema, want: tcTime},
		{name: "schema unix to timestamp", props: map[string]string{"target.type": "Timestamp"}, schema: data.Int64Schema,
			value: tcDatePlusTimeUnix, wantSchema: timestampConverterTimestampSchema, want: tcDatePlusTime},
		{name: "schema string to timestamp", props: map[string]string{"target.type": "Timestamp", "format": tcStringFormat},
			schema: data.StringSchema, value: tcDatePlusTimeString, wantSchema: timestampConverterTimestampSchema, want: tcDatePlusTime},
		{name: "schema unix seconds to unix nanos via timestamp", props: map[string]string{"target.type": "unix", "unix.precision": "seconds"},
			schema: data.Int64Schema, value: tcDatePlusTimeSeconds, wantSchema: data.Int64Schema, want: tcDatePlusTimeSeconds},
		{name: "schema null optional int64 to timestamp", props: map[string]string{"target.type": "Timestamp", "format": tcStringFormat},
			schema: data.OptionalInt64Schema, wantSchema: timestampConverterOptionalTimestampSchema},
		{name: "schema null optional string to unix", props: map[string]string{"target.type": "unix", "format": tcStringFormat},
			schema: data.OptionalStringSchema, wantSchema: data.OptionalInt64Schema},
		{name: "schema null optional date to string", props: map[string]string{"target.type": "string", "format": tcStringFormat},
			schema: timestampConverterOptionalDateSchema, wantSchema: data.OptionalStringSchema},
		{name: "schema null optional time to date", props: map[string]string{"target.type": "Date", "format": tcStringFormat},
			schema: timestampConverterOptionalTimeSchema, wantSchema: timestampConverterOptionalDateSchema},
		{name: "schema null optional timestamp to time", props: map[string]string{"target.type": "Time", "format": tcStringFormat},
			schema: timestampConverterOptionalTimestampSchema, wantSchema: timestampConverterOptionalTimeSchema},
		{name: "schema of no timestamp type", props: map[string]string{"target.type": "unix"}, schema: optionalInt32,
			wantErr: "Schema Schema{INT32} does not correspond to a known timestamp type format"},
		{name: "schema value of the wrong type", props: map[string]string{"target.type": "unix"}, schema: data.Int64Schema, value: "x",
			wantErr: "Expected Unix timestamp to be a Long, but found class java.lang.String"},
	}
	for _, tt := range tests {
		for _, tg := range []target{keyTarget, valueTarget} {
			t.Run(tt.name+"/"+tg.String(), func(t *testing.T) {
				x := newTimestampConverter(t, tg, tt.props)
				r := connect.TransformRecord{Record: connect.Record{Topic: "topic", Partition: connect.PartitionOf(0),
					KeySchema: data.StringSchema, Key: "other", ValueSchema: data.StringSchema, Value: "other"}, KafkaOffset: -1}
				tg.set(&r, tt.schema, tt.value)
				out, keep, err := routingApply(t, x, r)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Apply error = %v, want one containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil || !keep {
					t.Fatalf("Apply = %v, %v", keep, err)
				}
				gotSchema, got := tg.get(&out)
				if !data.Equal(gotSchema, tt.wantSchema) {
					t.Errorf("schema = %v, want %v", gotSchema, tt.wantSchema)
				}
				if !data.ValuesEqual(got, tt.want) || got == nil != (tt.want == nil) {
					t.Errorf("value = %#v, want %#v", got, tt.want)
				}
				// The other side is untouched.
				other := valueTarget
				if tg == valueTarget {
					other = keyTarget
				}
				if s, v := other.get(&out); s != data.StringSchema || v != "other" {
					t.Errorf("%s changed to %v, %v", other, s, v)
				}
			})
		}
	}
}

func TestTimestampConverterField(t *testing.T) {
	structSchema := func(ts *data.Schema, optional bool) *data.Schema {
		b := data.StructBuilder().Field("ts", ts).Field("other", data.StringSchema)
		if optional {
			b.Optional()
		}
		return b.MustBuild()
	}
	tsStruct := func(s *data.Schema, ts any) *data.Struct {
		return data.NewStruct(s).Set("ts", ts).Set("other", "test")
	}
	unixSchema := structSchema(data.Int64Schema, false)
	withDefault := data.StructBuilder().Field("ts", data.NewBuilder(data.TypeInt64).Optional().Default(int64(1000)).MustBuild()).MustBuild()
	withDefaultConverted := data.StructBuilder().Field("ts", timestampConverterOptionalTimestampSchema).MustBuild()
	// A struct schema whose default is a struct: a SchemaBuilder cannot
	// build one, as its default's schema lacks the default.
	structDefaultSchema := data.StructBuilder().Field("ts", data.Int64Schema).Optional().MustBuild()
	structDefaultSchema.Default = data.NewStruct(data.StructBuilder().Field("ts", data.Int64Schema).Optional().MustBuild()).Set("ts", int64(2000))

	tests := []struct {
		name       string
		props      map[string]string
		schema     *data.Schema
		value      any
		wantSchema *data.Schema
		want       any
		wantErr    string
	}{
		{name: "schemaless field", props: map[string]string{"target.type": "Date", "field": "ts"},
			value: map[string]any{"ts": tcDatePlusTime}, want: map[string]any{"ts": tcDate}},
		{name: "schemaless missing field is put as null", props: map[string]string{"target.type": "Date", "field": "ts"},
			value: map[string]any{"a": int64(1)}, want: map[string]any{"a": int64(1), "ts": nil}},
		{name: "schemaless null value", props: map[string]string{"target.type": "Date", "field": "ts"}},
		{name: "schemaless not a map", props: map[string]string{"target.type": "Date", "field": "ts"}, value: "x",
			wantErr: "Only Map objects supported in absence of schema for [converting timestamp formats], found: java.lang.String"},
		{name: "schema field", props: map[string]string{"target.type": "Timestamp", "field": "ts"},
			schema: unixSchema, value: tsStruct(unixSchema, tcDatePlusTimeUnix),
			wantSchema: structSchema(timestampConverterTimestampSchema, false),
			want:       tsStruct(structSchema(timestampConverterTimestampSchema, false), tcDatePlusTime)},
		{name: "schema field micros", props: map[string]string{"target.type": "Timestamp", "field": "ts", "unix.precision": "microseconds"},
			schema: unixSchema, value: tsStruct(unixSchema, tcDatePlusTimeMicros),
			wantSchema: structSchema(timestampConverterTimestampSchema, false),
			want:       tsStruct(structSchema(timestampConverterTimestampSchema, false), tcDatePlusTime)},
		{name: "schema field nanos", props: map[string]string{"target.type": "Timestamp", "field": "ts", "unix.precision": "nanoseconds"},
			schema: unixSchema, value: tsStruct(unixSchema, tcDatePlusTimeNanos),
			wantSchema: structSchema(timestampConverterTimestampSchema, false),
			want:       tsStruct(structSchema(timestampConverterTimestampSchema, false), tcDatePlusTime)},
		{name: "schema field seconds", props: map[string]string{"target.type": "Timestamp", "field": "ts", "unix.precision": "seconds"},
			schema: unixSchema, value: tsStruct(unixSchema, tcDatePlusTimeSeconds),
			wantSchema: structSchema(timestampConverterTimestampSchema, false),
			want:       tsStruct(structSchema(timestampConverterTimestampSchema, false), time.UnixMilli(86_401_000).UTC())},
		{name: "schema field to string", props: map[string]string{"target.type": "string", "field": "ts", "format": tcStringFormat},
			schema: unixSchema, value: tsStruct(unixSchema, tcDatePlusTimeUnix),
			wantSchema: structSchema(data.StringSchema, false),
			want:       tsStruct(structSchema(data.StringSchema, false), tcDatePlusTimeString)},
		{name: "schema null field", props: map[string]string{"target.type": "unix", "field": "ts", "format": tcStringFormat},
			schema: structSchema(data.OptionalStringSchema, false), value: tsStruct(structSchema(data.OptionalStringSchema, false), nil),
			wantSchema: structSchema(data.OptionalInt64Schema, false),
			want:       tsStruct(structSchema(data.OptionalInt64Schema, false), nil)},
		{name: "schema null struct", props: map[string]string{"target.type": "Date", "field": "ts"},
			schema: structSchema(timestampConverterOptionalTimestampSchema, true), wantSchema: structSchema(timestampConverterOptionalDateSchema, true)},
		{name: "schema not a struct", props: map[string]string{"target.type": "Date", "field": "ts"}, schema: unixSchema, value: "x",
			wantErr: "Only Struct objects supported for [converting timestamp formats], found: java.lang.String"},
		{name: "null replaced with default", props: map[string]string{"target.type": "Timestamp", "field": "ts"},
			schema: withDefault, value: data.NewStruct(withDefault), wantSchema: withDefaultConverted,
			want: data.NewStruct(withDefaultConverted).Set("ts", time.UnixMilli(1000).UTC())},
		{name: "null kept without replace.null.with.default", props: map[string]string{"target.type": "Timestamp", "field": "ts", "replace.null.with.default": "false"},
			schema: withDefault, value: data.NewStruct(withDefault), wantSchema: withDefaultConverted,
			want: data.NewStruct(withDefaultConverted)},
		{name: "struct default converted", props: map[string]string{"target.type": "Timestamp", "field": "ts", "unix.precision": "seconds"},
			schema: structDefaultSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newTimestampConverter(t, valueTarget, tt.props)
			out, _, err := routingApply(t, x, connect.TransformRecord{Record: connect.Record{Topic: "topic", ValueSchema: tt.schema, Value: tt.value}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if tt.schema == structDefaultSchema {
				def, _ := out.ValueSchema.Default.(*data.Struct)
				if want := time.Unix(2000, 0); def == nil || !data.ValuesEqual(def.Get("ts"), want) {
					t.Errorf("default = %v, want ts=%v", out.ValueSchema.Default, want)
				}
				return
			}
			if !data.Equal(out.ValueSchema, tt.wantSchema) {
				t.Errorf("schema = %v, want %v", out.ValueSchema, tt.wantSchema)
			}
			if !data.ValuesEqual(out.Value, tt.want) || out.Value == nil != (tt.want == nil) {
				t.Errorf("value = %v, want %v", out.Value, tt.want)
			}
		})
	}
}
