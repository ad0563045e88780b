package sink

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Extractor gets the time a record is partitioned and rotated by
// (Confluent's TimestampExtractor).
type Extractor interface {
	// Extract returns the record's time in milliseconds since the epoch;
	// now is the wall clock, used only by the Wallclock extractor.
	Extract(r *connect.SinkRecord, now time.Time) (int64, error)
	// Deterministic reports whether Extract depends on the record alone,
	// which exactly-once output needs.
	Deterministic() bool
}

// NewExtractor returns the extractor named by timestamp.extractor; field is
// timestamp.field, used by RecordField.
func NewExtractor(name, field string) (Extractor, error) {
	switch name {
	case ExtractorWallclock:
		return wallclockExtractor{}, nil
	case ExtractorRecord:
		return RecordExtractor{}, nil
	case ExtractorRecordField:
		return recordFieldExtractor{path: strings.Split(field, ".")}, nil
	}
	return nil, errors.New("Invalid timestamp extractor: " + name)
}

type wallclockExtractor struct{}

func (wallclockExtractor) Extract(_ *connect.SinkRecord, now time.Time) (int64, error) {
	return now.UnixMilli(), nil
}
func (wallclockExtractor) Deterministic() bool { return false }

// RecordExtractor extracts the Kafka record's timestamp (Confluent's
// RecordTimestampExtractor).
type RecordExtractor struct{}

// Extract returns the record's timestamp, or an error when it has none.
func (RecordExtractor) Extract(r *connect.SinkRecord, _ time.Time) (int64, error) {
	if r.Timestamp.IsZero() {
		return 0, encodeError(r, "Unable to determine timestamp using timestamp.extractor "+
			"io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordTimestampExtractor", nil)
	}
	return r.Timestamp.UnixMilli(), nil
}

// Deterministic is true.
func (RecordExtractor) Deterministic() bool { return true }

// recordFieldExtractor is Confluent's RecordFieldTimestampExtractor: a
// (nested, dotted) field of a Struct or Map value holding a Timestamp,
// a number of milliseconds or an ISO-8601 string.
type recordFieldExtractor struct{ path []string }

func (e recordFieldExtractor) Deterministic() bool { return true }

func (e recordFieldExtractor) Extract(r *connect.SinkRecord, _ time.Time) (int64, error) {
	name := strings.Join(e.path, ".")
	fail := func(err error) (int64, error) {
		return 0, encodeError(r, "Error extracting timestamp from record field: "+name, err)
	}
	switch r.Value.(type) {
	case *data.Struct, map[string]any, map[any]any:
	default:
		return 0, encodeError(r, "Error encoding partition.", errors.New("value is not of Struct or Map type"))
	}
	v, schema, err := nested(r.Value, e.path)
	if err != nil {
		return fail(err)
	}
	if schema != nil {
		if schema.Name == data.TimestampName {
			if t, ok := v.(time.Time); ok {
				return t.UnixMilli(), nil
			}
		}
		switch schema.Type {
		case data.TypeInt32, data.TypeInt64, data.TypeString:
		default:
			return fail(fmt.Errorf("unsupported type %s for user-defined timestamp field", strings.ToUpper(string(schema.Type))))
		}
	}
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float32:
		return int64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fail(fmt.Errorf("timestamp %v is not a number of milliseconds", x))
		}
		return int64(x), nil
	case string:
		t, err := parseISO(x)
		if err != nil {
			return 0, encodeError(r, "Invalid format: \""+x+"\"", err)
		}
		return t.UnixMilli(), nil
	case time.Time:
		return x.UnixMilli(), nil
	case nil:
		return fail(errors.New("the field is null"))
	}
	return fail(fmt.Errorf("unsupported type %T for user-defined timestamp field", v))
}

// nested follows path through Structs and Maps (Confluent's
// DataUtils.getNestedFieldValue), returning the value and, inside Structs,
// its schema.
func nested(v any, path []string) (any, *data.Schema, error) {
	var schema *data.Schema
	for i, name := range path {
		switch x := v.(type) {
		case *data.Struct:
			f := x.Schema().Field(name)
			if f == nil {
				return nil, nil, fmt.Errorf("%s is not a valid field name", strings.Join(path[:i+1], "."))
			}
			v, schema = x.Get(name), f.Schema
		case map[string]any:
			v, schema = x[name], nil
		case map[any]any:
			v, schema = x[name], nil
		default:
			return nil, nil, fmt.Errorf("%s is not a Struct or Map", strings.Join(path[:i], "."))
		}
	}
	return v, schema, nil
}

// isoLayouts are the shapes of Joda's ISODateTimeFormat.dateTimeParser that
// occur in practice; a time without an offset is read as UTC.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02T15Z07:00",
	"2006-01-02T15",
	"2006-01-02",
	"2006-01",
	"2006",
}

func parseISO(s string) (time.Time, error) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 date-time: %q", s)
}
