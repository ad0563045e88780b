package sink_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// testSchema and testStruct are Confluent's StorageSinkTestBase record.
var testSchema = data.StructBuilder().Name("record").Version(1).
	Field("boolean", data.BooleanSchema).
	Field("int", data.Int32Schema).
	Field("long", data.Int64Schema).
	Field("float", data.Float32Schema).
	Field("double", data.Float64Schema).
	Field("string", data.StringSchema).
	Field("ts", data.TimestampSchema().MustBuild()).
	Field("nested", data.StructBuilder().Field("when", data.Int64Schema).MustBuild()).
	MustBuild()

func testStruct(ts time.Time) *data.Struct {
	nested := data.NewStruct(testSchema.Field("nested").Schema).Set("when", ts.UnixMilli())
	return data.NewStruct(testSchema).Set("boolean", true).Set("int", int32(12)).Set("long", int64(12)).
		Set("float", float32(12.2)).Set("double", 12.2).Set("string", "def").Set("ts", ts.UTC().Truncate(time.Millisecond)).
		Set("nested", nested)
}

func record(value any, schema *data.Schema, ts time.Time) *connect.SinkRecord {
	return &connect.SinkRecord{
		Record: connect.Record{Topic: "test-topic", Partition: connect.PartitionOf(12), ValueSchema: schema, Value: value, Timestamp: ts},
		Offset: 0, OriginalTopic: "test-topic", OriginalPartition: 12,
	}
}

func la(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newPartitioner(t *testing.T, props map[string]string) sink.Partitioner {
	t.Helper()
	p, err := sink.NewPartitioner(props)
	if err != nil {
		t.Fatalf("New(%v): %v", props, err)
	}
	return p
}

// Goldens from Confluent's DefaultPartitionerTest, FieldPartitionerTest,
// TimeBasedPartitionerTest, DailyPartitionerTest and HourlyPartitionerTest.
func TestEncodedPartitions(t *testing.T) {
	loc := la(t)
	timeProps := func(class string, extra ...string) map[string]string {
		p := map[string]string{"partitioner.class": class, "locale": "en_US", "timezone": "America/Los_Angeles",
			"timestamp.extractor": "Record"}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	tests := []struct {
		name  string
		props map[string]string
		rec   *connect.SinkRecord
		want  string
		path  string
	}{
		{name: "default", props: map[string]string{},
			rec: record("x", data.StringSchema, time.Time{}), want: "partition=12", path: "test-topic/partition=12"},
		{name: "default by simple name and custom delim", props: map[string]string{"partitioner.class": "DefaultPartitioner", "directory.delim": "#"},
			rec: record("x", data.StringSchema, time.Time{}), want: "partition=12", path: "test-topic#partition=12"},
		{name: "field boolean", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "boolean"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "boolean=true"},
		{name: "field int", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "int"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "int=12"},
		{name: "field long", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "long"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "long=12"},
		{name: "field string", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "string"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "string=def"},
		{name: "field multi", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "string,int"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "string=def/int=12"},
		{name: "field multi reversed", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "int, string"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "int=12/string=def"},
		{name: "field schemaless map", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "country,n"},
			rec: record(map[string]any{"country": "fr", "n": int64(3)}, nil, time.Time{}), want: "country=fr/n=3"},
		{name: "hourly", props: timeProps(sink.HourlyPartitionerClass),
			rec:  record("x", data.StringSchema, time.Date(2014, 2, 1, 3, 0, 0, 0, loc)),
			want: "year=2014/month=02/day=01/hour=03", path: "test-topic/year=2014/month=02/day=01/hour=03"},
		{name: "daily", props: timeProps(sink.DailyPartitionerClass),
			rec: record("x", data.StringSchema, time.Date(2014, 2, 1, 3, 0, 0, 0, loc)), want: "year=2014/month=02/day=01"},
		{name: "daily on the DST day", props: timeProps(sink.DailyPartitionerClass),
			rec: record("x", data.StringSchema, time.Date(2015, 3, 8, 12, 0, 0, 0, loc)), want: "year=2015/month=03/day=08"},
		{name: "bi-hourly with trailing delimiter", props: timeProps(sink.TimeBasedPartitionerClass,
			"partition.duration.ms", "7200000", "path.format", "'year'=YYYY/'month'=M/'day'=d/'hour'=H/"),
			rec: record("x", data.StringSchema, time.Date(2015, 4, 2, 1, 0, 0, 0, loc)), want: "year=2015/month=4/day=2/hour=0"},
		{name: "UTC with literal dashes", props: map[string]string{"partitioner.class": sink.TimeBasedPartitionerClass,
			"partition.duration.ms": "3600000", "path.format": "YYYY-MM-dd/HH", "locale": "en", "timezone": "UTC", "timestamp.extractor": "Record"},
			rec: record("x", data.StringSchema, time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)), want: "2024-12-31/23"},
		{name: "fixed offset zone", props: map[string]string{"partitioner.class": sink.HourlyPartitionerClass,
			"locale": "en", "timezone": "+05:30", "timestamp.extractor": "Record"},
			rec: record("x", data.StringSchema, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), want: "year=2024/month=01/day=01/hour=05"},
		{name: "record field Timestamp", props: timeProps(sink.HourlyPartitionerClass, "timestamp.extractor", "RecordField", "timestamp.field", "ts"),
			rec: record(testStruct(time.Date(2015, 4, 2, 1, 30, 0, 0, loc)), testSchema, time.Time{}), want: "year=2015/month=04/day=02/hour=01"},
		{name: "record field nested long", props: timeProps(sink.HourlyPartitionerClass, "timestamp.extractor", "RecordField", "timestamp.field", "nested.when"),
			rec: record(testStruct(time.Date(2015, 4, 2, 7, 30, 0, 0, loc)), testSchema, time.Time{}), want: "year=2015/month=04/day=02/hour=07"},
		{name: "record field map string", props: timeProps(sink.HourlyPartitionerClass, "timestamp.extractor", "RecordField", "timestamp.field", "at"),
			rec: record(map[string]any{"at": "2015-04-02T10:15:00.000Z"}, nil, time.Time{}), want: "year=2015/month=04/day=02/hour=03"},
		// Joda truncates toward zero before the epoch: 12 ms after the epoch
		// is 16:00:00.012 in Los Angeles, but Confluent files it under 17.
		{name: "record field int before local epoch", props: timeProps(sink.HourlyPartitionerClass, "timestamp.extractor", "RecordField", "timestamp.field", "int"),
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "year=1969/month=12/day=31/hour=17"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartitioner(t, tc.props)
			got, err := p.Encode(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Encode = %q, want %q", got, tc.want)
			}
			if tc.path != "" {
				if path := p.Path("test-topic", got); path != tc.path {
					t.Fatalf("Path = %q, want %q", path, tc.path)
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		rec   *connect.SinkRecord
		want  string
	}{
		{name: "field float", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "float"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "Error encoding partition."},
		{name: "field double", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "double"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "Error encoding partition."},
		{name: "field of a string value", props: map[string]string{"partitioner.class": sink.FieldPartitionerClass, "partition.field.name": "foo"},
			rec: record("foo", data.StringSchema, time.Time{}), want: "Error encoding partition."},
		{name: "record time missing", props: map[string]string{"partitioner.class": sink.HourlyPartitionerClass, "locale": "en", "timezone": "UTC", "timestamp.extractor": "Record"},
			rec: record("foo", data.StringSchema, time.Time{}), want: "Unable to determine timestamp using timestamp.extractor"},
		{name: "record field float", props: map[string]string{"partitioner.class": sink.HourlyPartitionerClass, "locale": "en", "timezone": "UTC",
			"timestamp.extractor": "RecordField", "timestamp.field": "float"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "Error extracting timestamp from record field: float"},
		{name: "record field not a struct", props: map[string]string{"partitioner.class": sink.HourlyPartitionerClass, "locale": "en", "timezone": "UTC",
			"timestamp.extractor": "RecordField", "timestamp.field": "bar"},
			rec: record("foo", data.StringSchema, time.Time{}), want: "Error encoding partition."},
		{name: "record field bad string", props: map[string]string{"partitioner.class": sink.HourlyPartitionerClass, "locale": "en", "timezone": "UTC",
			"timestamp.extractor": "RecordField", "timestamp.field": "string"},
			rec: record(testStruct(time.Now()), testSchema, time.Time{}), want: "Invalid format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newPartitioner(t, tc.props).Encode(tc.rec)
			var ee *sink.EncodeError
			if !errors.As(err, &ee) || !strings.HasPrefix(ee.Msg, tc.want) {
				t.Fatalf("Encode error = %v, want an EncodeError starting %q", err, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		key   string
		want  string
	}{
		{name: "negative duration", props: map[string]string{"partitioner.class": "TimeBasedPartitioner", "partition.duration.ms": "-1",
			"path.format": "YYYY", "locale": "en", "timezone": "UTC"}, key: "partition.duration.ms",
			want: "Invalid value -1 for configuration partition.duration.ms: Partition duration needs to be a positive."},
		{name: "empty path format", props: map[string]string{"partitioner.class": "TimeBasedPartitioner", "partition.duration.ms": "1000",
			"locale": "en", "timezone": "UTC"}, key: "path.format",
			want: "Invalid value  for configuration path.format: Path format cannot be empty."},
		{name: "root path format", props: map[string]string{"partitioner.class": "TimeBasedPartitioner", "partition.duration.ms": "1000",
			"path.format": "/", "locale": "en", "timezone": "UTC"}, key: "path.format",
			want: "Invalid value / for configuration path.format: Path format cannot be empty."},
		{name: "empty locale", props: map[string]string{"partitioner.class": "DailyPartitioner", "timezone": "UTC"}, key: "locale",
			want: "Invalid value  for configuration locale: Locale cannot be empty."},
		{name: "empty timezone", props: map[string]string{"partitioner.class": "HourlyPartitioner", "locale": "en"}, key: "timezone",
			want: "Invalid value  for configuration timezone: Timezone cannot be empty."},
		{name: "unknown timezone", props: map[string]string{"partitioner.class": "HourlyPartitioner", "locale": "en", "timezone": "Mars/Olympus"},
			key: "timezone", want: "The datetime zone id 'Mars/Olympus' is not recognised"},
		{name: "unknown class", props: map[string]string{"partitioner.class": "com.example.MyPartitioner"}, key: "partitioner.class",
			want: "Class com.example.MyPartitioner could not be found."},
		{name: "unknown extractor", props: map[string]string{"timestamp.extractor": "Future"}, key: "timestamp.extractor",
			want: "Invalid value Future for configuration timestamp.extractor"},
		{name: "field without fields", props: map[string]string{"partitioner.class": "FieldPartitioner"}, key: "partition.field.name",
			want: "FieldPartitioner needs at least one field name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sink.NewPartitioner(tc.props)
			if err == nil {
				t.Fatal("New succeeded")
			}
			var ve *config.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					if p.Key == tc.key && strings.Contains(p.Message, tc.want) {
						return
					}
				}
			} else if strings.Contains(err.Error(), tc.want) {
				return
			}
			t.Fatalf("error = %v, want a problem with %s containing %q", err, tc.key, tc.want)
		})
	}
}

func TestWallclockIsNotDeterministic(t *testing.T) {
	tests := []struct {
		name string
		ex   string
		want bool
	}{
		{name: "Wallclock", ex: "Wallclock", want: false},
		{name: "Record", ex: "Record", want: true},
		{name: "RecordField", ex: "RecordField", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartitioner(t, map[string]string{"partitioner.class": "HourlyPartitioner", "locale": "en", "timezone": "UTC",
				"timestamp.extractor": tc.ex})
			timed, ok := p.(sink.Timed)
			if !ok {
				t.Fatal("time-based partitioner is not Timed")
			}
			if got := timed.Extractor().Deterministic(); got != tc.want {
				t.Fatalf("Deterministic = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBucketStart(t *testing.T) {
	loc := la(t)
	tests := []struct {
		name     string
		duration time.Duration
		at       time.Time
		want     time.Time
	}{
		{name: "hour", duration: time.Hour, at: time.Date(2015, 4, 2, 1, 59, 0, 0, loc), want: time.Date(2015, 4, 2, 1, 0, 0, 0, loc)},
		{name: "day in PDT", duration: 24 * time.Hour, at: time.Date(2015, 7, 1, 23, 0, 0, 0, loc), want: time.Date(2015, 7, 1, 0, 0, 0, 0, loc)},
		{name: "day after DST starts", duration: 24 * time.Hour, at: time.Date(2015, 3, 8, 23, 0, 0, 0, loc), want: time.Date(2015, 3, 8, 0, 0, 0, 0, loc)},
		{name: "day after DST ends", duration: 24 * time.Hour, at: time.Date(2015, 11, 1, 23, 0, 0, 0, loc), want: time.Date(2015, 11, 1, 0, 0, 0, 0, loc)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sink.BucketStart(tc.duration.Milliseconds(), tc.at.UnixMilli(), loc)
			if !time.UnixMilli(got).Equal(tc.want) {
				t.Fatalf("BucketStart = %s, want %s", time.UnixMilli(got).In(loc), tc.want)
			}
		})
	}
}
