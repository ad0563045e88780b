package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

// FuzzTimestampConverter: TimestampConverter configured with any format
// (a SimpleDateFormat pattern) either refuses it or converts any string to
// each target type and any epoch-millisecond value to a string, returning
// a value or an error, never a panic.
func FuzzTimestampConverter(f *testing.F) {
	for _, p := range []string{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyyMMdd", "EEE, d MMM yyyy HH:mm:ss Z", "hh:mm a", "'", "YYYY-ww-u", "S"} {
		f.Add(p, "2024-05-01T12:30:00.000+02:00", int64(1_714_559_400_000))
		f.Add(p, "Wed, 1 May 2024 12:30:00 +0200", int64(-1))
	}
	f.Fuzz(func(t *testing.T, pattern, input string, ms int64) {
		for _, target := range []string{"string", "unix", "Date", "Time", "Timestamp"} {
			c := NewTimestampConverterValue()
			if err := c.Configure(map[string]string{"target.type": target, "format": pattern}); err != nil {
				continue
			}
			for _, v := range []any{input, ms} {
				r := connect.TransformRecord{Record: connect.Record{Topic: "t", Value: v}, KafkaOffset: -1}
				_, _ = c.Apply(&r)
			}
		}
	})
}

// Found by FuzzTimestampConverter: a string value converted to another
// type with no format configured is an error, not a nil dereference.
func TestTimestampConverterStringWithoutFormat(t *testing.T) {
	for _, format := range []string{"", " "} {
		c := NewTimestampConverterValue()
		if err := c.Configure(map[string]string{"target.type": "unix", "format": format}); err != nil {
			t.Fatal(err)
		}
		r := connect.TransformRecord{Record: connect.Record{Topic: "t", Value: "2024-05-01"}, KafkaOffset: -1}
		if _, err := c.Apply(&r); err == nil || err.Error() != "TimestampConverter requires format option to be specified when using string timestamps" {
			t.Errorf("format %q: Apply error = %v", format, err)
		}
	}
}
