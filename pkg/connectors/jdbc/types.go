package jdbc

import (
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// numeric.mapping values (Confluent's NumericMapping).
const (
	NumericMappingNone               = "none"
	NumericMappingPrecisionOnly      = "precision_only"
	NumericMappingBestFit            = "best_fit"
	NumericMappingBestFitEagerDouble = "best_fit_eager_double"
)

// kind is how a column is scanned and converted.
type kind int

const (
	kInt kind = iota
	kUint64
	kFloat
	kBool
	kDecimal
	kString
	kBytes
	kDate
	kTime
	kTimestamp   // wall clock in db.timezone
	kTimestampTZ // an instant
	// kTimestampUTC is MySQL's TIMESTAMP: an instant, which the server
	// renders as a wall clock in the session's zone (sourceColumn.zone).
	kTimestampUTC
)

// sourceColumn reads one column of a result into a Connect value.
type sourceColumn struct {
	Column
	kind   kind
	schema *data.Schema
	// scale is a Decimal schema's scale.
	scale int32
	// granularity is timestamp.granularity.
	granularity string
	// zone is the session's time zone, in which a kTimestampUTC column's
	// wall clocks are (nil: UTC).
	zone *time.Location
}

// sessionZone is the zone of a kTimestampUTC column's wall clocks.
func (sc *sourceColumn) sessionZone() *time.Location {
	if sc.zone == nil {
		return time.UTC
	}
	return sc.zone
}

func (sc *sourceColumn) isTimestamp() bool {
	return sc.kind == kTimestamp || sc.kind == kTimestampTZ || sc.kind == kTimestampUTC
}

// instant returns the timestamp a scanned timestamp column holds, as an
// instant with all its digits; ok is false for NULL.
func (sc *sourceColumn) instant(dest any, tz *time.Location) (time.Time, bool) {
	d, isTime := dest.(*sql.NullTime)
	if !isTime || !d.Valid {
		return time.Time{}, false
	}
	t := d.Time
	wall := func(loc *time.Location) time.Time { return wallIn(t, loc) }
	switch sc.kind {
	case kTimestamp:
		return wall(tz).UTC(), true
	case kTimestampUTC:
		return wall(sc.sessionZone()).UTC(), true
	case kDate:
		return wall(time.UTC), true
	}
	return t.UTC(), true
}

// wallIn is t's wall clock read in loc. A wall clock in the hour the end
// of daylight saving time repeats is the later of its two instants
// (standard time), as PostgreSQL reads it (AT TIME ZONE, text input): the
// offsets a timestamp column's rows give then compare with the column
// both as wall clocks and as instants. A wall clock the start of daylight
// saving time skips is read with the offset before it, as PostgreSQL
// does (02:30 is 03:30 daylight time).
func wallIn(t time.Time, loc *time.Location) time.Time {
	if loc == time.UTC && t.Location() == time.UTC {
		return t
	}
	first := t
	if t.Location() != loc { // the driver did not read it in loc (pgx reads in UTC)
		first = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	}
	if loc == time.UTC {
		return first
	}
	_, off := first.Zone()
	if first.Hour() != t.Hour() || first.Minute() != t.Minute() {
		// Skipped: Go read it with the offset after the change.
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).Add(-time.Duration(off) * time.Second).In(loc)
	}
	// Go reads an ambiguous wall clock as the earlier instant; the later
	// has the offset in force a few hours on.
	if _, later := first.Add(3 * time.Hour).Zone(); later < off {
		alt := first.Add(time.Duration(off-later) * time.Second)
		if alt.Hour() == first.Hour() && alt.Minute() == first.Minute() && alt.Day() == first.Day() {
			return alt
		}
	}
	return first
}

// mapColumn gives a column its Connect schema (Confluent's mapping, see
// the README's type table) under numeric.mapping.
func mapColumn(c Column, numericMapping, granularity string) sourceColumn {
	sc := sourceColumn{Column: c, granularity: granularity}
	b := func(t data.Type) *data.SchemaBuilder { return data.NewBuilder(t) }
	var sb *data.SchemaBuilder
	t := c.Type
	switch {
	case c.Enum:
		sc.kind, sb = kString, b(data.TypeString)
	case t == "smallint" || t == "int2" || t == "tinyint unsigned" || t == "year":
		sc.kind, sb = kInt, b(data.TypeInt16)
		if t == "year" {
			sb = b(data.TypeInt32)
		}
	case t == "tinyint":
		sc.kind, sb = kInt, b(data.TypeInt8)
	case t == "tinyint(1)" || t == "boolean" || t == "bool":
		sc.kind, sb = kBool, b(data.TypeBoolean)
	case t == "integer" || t == "int" || t == "int4" || t == "mediumint" || t == "smallint unsigned" || t == "mediumint unsigned" || t == "serial":
		sc.kind, sb = kInt, b(data.TypeInt32)
	case t == "bigint" || t == "int8" || t == "int unsigned" || t == "bigserial":
		sc.kind, sb = kInt, b(data.TypeInt64)
	case t == "bigint unsigned":
		sc.kind, sc.scale, sb = kUint64, 0, data.DecimalSchema(0)
	case t == "real" || t == "float4" || t == "float" || t == "float unsigned":
		sc.kind, sb = kFloat, b(data.TypeFloat32)
	case t == "double precision" || t == "float8" || t == "double" || t == "double unsigned":
		sc.kind, sb = kFloat, b(data.TypeFloat64)
	case t == "numeric" || t == "decimal" || t == "decimal unsigned":
		sc.kind, sb = mapNumeric(&sc, numericMapping)
	case t == "bytea" || strings.HasSuffix(t, "blob") || t == "binary" || t == "varbinary" || t == "bit" ||
		t == "geometry" || t == "bit unsigned":
		sc.kind, sb = kBytes, b(data.TypeBytes)
	case t == "date":
		sc.kind, sb = kDate, data.DateSchema()
	case t == "time without time zone" || t == "time":
		sc.kind, sb = kTime, data.TimeSchema()
	case t == "timestamp without time zone" || t == "datetime":
		sc.kind, sb = kTimestamp, data.TimestampSchema()
	case t == "timestamp with time zone":
		sc.kind, sb = kTimestampTZ, data.TimestampSchema()
	case t == "timestamp": // MySQL's TIMESTAMP: an instant, read in the session's zone
		sc.kind, sb = kTimestampUTC, data.TimestampSchema()
	default:
		// Text types, uuid, json, jsonb, xml, inet, time with time zone,
		// intervals, arrays, enums, sets: their text form.
		sc.kind, sb = kString, b(data.TypeString)
	}
	if sc.isTimestamp() {
		switch granularity {
		case GranularityNanosLong:
			sb = b(data.TypeInt64)
		case GranularityNanosString, GranularityNanosISO:
			sb = b(data.TypeString)
		}
	}
	if c.Nullable {
		sb = sb.Optional()
	}
	sc.schema = sb.MustBuild()
	return sc
}

// mapNumeric applies numeric.mapping to a NUMERIC/DECIMAL column.
func mapNumeric(sc *sourceColumn, mapping string) (kind, *data.SchemaBuilder) {
	p, s := sc.Precision, sc.Scale
	if p == 0 {
		// PostgreSQL's unconstrained numeric has no fixed scale: a Decimal
		// schema (one scale for every value) would change values, so its
		// exact text is kept.
		return kString, data.NewBuilder(data.TypeString)
	}
	switch mapping {
	case NumericMappingPrecisionOnly, NumericMappingBestFit, NumericMappingBestFitEagerDouble:
		if s == 0 && p < 19 {
			switch {
			case p < 3:
				return kDecimal, data.NewBuilder(data.TypeInt8)
			case p < 5:
				return kDecimal, data.NewBuilder(data.TypeInt16)
			case p < 10:
				return kDecimal, data.NewBuilder(data.TypeInt32)
			default:
				return kDecimal, data.NewBuilder(data.TypeInt64)
			}
		}
		if mapping == NumericMappingBestFitEagerDouble && s > 0 ||
			mapping == NumericMappingBestFit && s > 0 && p <= 15 {
			return kDecimal, data.NewBuilder(data.TypeFloat64)
		}
	}
	sc.scale = int32(s)
	return kDecimal, data.DecimalSchema(int32(s))
}

// dest returns a scan destination for the column.
func (sc *sourceColumn) dest() any {
	switch sc.kind {
	case kInt:
		return new(sql.NullInt64)
	case kFloat:
		return new(sql.NullFloat64)
	case kBool:
		return new(sql.NullBool)
	case kBytes:
		return new([]byte)
	case kDate, kTimestamp, kTimestampTZ, kTimestampUTC:
		return new(sql.NullTime)
	}
	return new(sql.NullString)
}

// value converts a scanned destination to the column's Connect value, or
// fails with a *ValueError when the schema cannot hold it exactly.
func (sc *sourceColumn) value(table string, dest any, tz *time.Location) (any, error) {
	v, err := sc.convert(dest, tz)
	if err != nil {
		return nil, &ValueError{Table: table, Column: sc.Name, Err: err}
	}
	if v == nil && !sc.schema.Optional {
		return nil, &ValueError{Table: table, Column: sc.Name, Err: fmt.Errorf("%w: NULL in a column declared NOT NULL", ErrUnrepresentable)}
	}
	return v, nil
}

func (sc *sourceColumn) convert(dest any, tz *time.Location) (any, error) {
	switch d := dest.(type) {
	case *sql.NullInt64:
		if !d.Valid {
			return nil, nil
		}
		return fitInt(sc.schema.Type, d.Int64)
	case *sql.NullBool:
		if !d.Valid {
			return nil, nil
		}
		return d.Bool, nil
	case *sql.NullFloat64:
		if !d.Valid {
			return nil, nil
		}
		if sc.schema.Type == data.TypeFloat32 {
			return float32(d.Float64), nil
		}
		return d.Float64, nil
	case *[]byte:
		if *d == nil {
			return nil, nil
		}
		return *d, nil
	case *sql.NullTime:
		if !d.Valid {
			return nil, nil
		}
		return sc.temporal(d.Time, tz)
	case *sql.NullString:
		if !d.Valid {
			return nil, nil
		}
		switch sc.kind {
		case kDecimal, kUint64:
			return sc.numeric(d.String)
		case kTime:
			return parseTimeOfDay(d.String)
		}
		return d.String, nil
	}
	return nil, fmt.Errorf("unexpected scan destination %T", dest)
}

// temporal converts a date or timestamp read by the driver.
func (sc *sourceColumn) temporal(t time.Time, tz *time.Location) (any, error) {
	wall := func(loc *time.Location) time.Time { return wallIn(t, loc) }
	switch sc.kind {
	case kDate:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case kTimestamp:
		t = wall(tz).UTC()
	case kTimestampUTC:
		t = wall(sc.sessionZone()).UTC()
	default:
		t = t.UTC()
	}
	switch sc.granularity {
	case GranularityNanosLong:
		return t.UnixNano(), nil
	case GranularityNanosString:
		return strconv.FormatInt(t.UnixNano(), 10), nil
	case GranularityNanosISO:
		return t.Format("2006-01-02T15:04:05.000000000Z"), nil
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return nil, fmt.Errorf("%w: %s has sub-millisecond digits; Connect's Timestamp holds milliseconds "+
			"(timestamp.granularity=nanos_long, nanos_string or nanos_iso_datetime_string keep them)", ErrUnrepresentable, t.Format(time.RFC3339Nano))
	}
	return t, nil
}

// parseTimeOfDay reads "15:04:05[.ffffff]" into a Connect Time.
func parseTimeOfDay(s string) (any, error) {
	t, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		return nil, fmt.Errorf("%w: time %q is not a time of day", ErrUnrepresentable, s)
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return nil, fmt.Errorf("%w: time %s has sub-millisecond digits; Connect's Time holds milliseconds", ErrUnrepresentable, s)
	}
	return time.Date(1970, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
}

// numeric converts a NUMERIC's text to the column's schema exactly.
func (sc *sourceColumn) numeric(s string) (any, error) {
	if sc.schema.Type == data.TypeBytes {
		if u, ok := smallDecimal(s, sc.scale); ok {
			return data.NewDecimal(u, sc.scale), nil
		}
	}
	d, err := data.ParseDecimal(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnrepresentable, err)
	}
	switch sc.schema.Type {
	case data.TypeBytes: // Decimal
		r, err := d.Rescale(sc.scale)
		if err != nil {
			return nil, fmt.Errorf("%w: %s at scale %d: %v", ErrUnrepresentable, s, sc.scale, err)
		}
		return r, nil
	case data.TypeFloat64:
		f, exact := d.Rat().Float64()
		if !exact && !roundTrips(f, d) {
			return nil, fmt.Errorf("%w: %s is not exactly a double", ErrUnrepresentable, s)
		}
		return f, nil
	}
	r := d.Rat()
	if !r.IsInt() || !r.Num().IsInt64() {
		return nil, fmt.Errorf("%w: %s is not a %s", ErrUnrepresentable, s, strings.ToUpper(string(sc.schema.Type)))
	}
	return fitInt(sc.schema.Type, r.Num().Int64())
}

// smallDecimal reads a plain decimal such as "-12.3" as its unscaled
// value at scale (-123 at scale 1, -1230 at scale 2), without big
// numbers; ok is false for anything else (more digits than scale, an
// exponent, more than 18 characters), which ParseDecimal reads.
func smallDecimal(s string, scale int32) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var u int64
	digits, frac, dot := 0, int32(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			u = u*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac > scale {
		return 0, false
	}
	for ; frac < scale; frac++ {
		if u > math.MaxInt64/10 {
			return 0, false
		}
		u *= 10
	}
	if neg {
		u = -u
	}
	return u, true
}

// roundTrips reports whether f prints back as d at d's scale: the double
// nearest a decimal of at most 15 digits gives the same decimal back.
func roundTrips(f float64, d data.Decimal) bool {
	back, err := data.ParseDecimal(fmt.Sprintf("%.*f", max(d.Scale, 0), f))
	return err == nil && back.Rat().Cmp(d.Rat()) == 0
}

// fitInt narrows n to the schema's integer type, failing if it does not fit.
func fitInt(t data.Type, n int64) (any, error) {
	fits := func(lo, hi int64) bool { return n >= lo && n <= hi }
	switch t {
	case data.TypeInt8:
		if fits(math.MinInt8, math.MaxInt8) {
			return int8(n), nil
		}
	case data.TypeInt16:
		if fits(math.MinInt16, math.MaxInt16) {
			return int16(n), nil
		}
	case data.TypeInt32:
		if fits(math.MinInt32, math.MaxInt32) {
			return int32(n), nil
		}
	case data.TypeInt64:
		return n, nil
	}
	return nil, fmt.Errorf("%w: %d does not fit a Connect %s", ErrUnrepresentable, n, strings.ToUpper(string(t)))
}

// sinkValue converts a Connect value to a driver argument for column c
// (nil when the column is unknown, as during auto.create).
func sinkValue(s *data.Schema, v any, c *Column, tz *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.Name {
	case data.DecimalName:
		d, ok := v.(data.Decimal)
		if !ok {
			return nil, fmt.Errorf("decimal value has type %T", v)
		}
		if c != nil && c.Precision > 0 && d.Scale > int32(c.Scale) {
			// The database would round it to the column's scale.
			r, err := d.Rescale(int32(c.Scale))
			if err != nil {
				return nil, fmt.Errorf("%w: %s has more than the column's %d decimal places", ErrUnrepresentable, d, c.Scale)
			}
			d = r
		}
		return decimalString(d), nil
	case data.DateName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("date value has type %T", v)
		}
		return t.UTC().Format("2006-01-02"), nil
	case data.TimeName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("time value has type %T", v)
		}
		return t.UTC().Format("15:04:05.000"), nil
	case data.TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp value has type %T", v)
		}
		return timestampValue(t, c, tz), nil
	}
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64, float64, bool, string, []byte:
		return x, nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case *big.Int:
		return x.String(), nil
	}
	return nil, fmt.Errorf("%w: a Connect %s value (%T) has no column type; flatten it first (the Flatten transform)",
		ErrUnrepresentable, strings.ToUpper(string(s.Type)), v)
}

// timestampValue is a Timestamp's driver argument for column c.
func timestampValue(t time.Time, c *Column, tz *time.Location) string {
	loc := tz
	switch {
	case c != nil && c.Type == "timestamp": // MySQL TIMESTAMP, session zone UTC
		loc = time.UTC
	case c != nil && c.Type == "timestamp with time zone":
		// PostgreSQL's timestamptz: the instant with its offset. A wall
		// clock in the session's zone (db.timezone) would be read as
		// standard time in the hour the end of daylight saving time
		// repeats.
		return formatTimestamp(t.UTC()) + "+00"
	}
	return formatTimestamp(t.In(loc))
}

// decimalString is d.String(), without big-number arithmetic when the
// unscaled value fits an int64.
func decimalString(d data.Decimal) string {
	if d.Unscaled == nil || !d.Unscaled.IsInt64() || d.Scale < 0 || d.Scale > 18 {
		return d.String()
	}
	return int64DecimalString(d.Unscaled.Int64(), d.Scale)
}

// int64DecimalString is decimalString of an unscaled value that fits an
// int64, with a scale of 0 to 18.
func int64DecimalString(u int64, scale32 int32) string {
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], u, 10)
	if scale32 == 0 {
		return string(b)
	}
	neg := u < 0
	digits := b
	if neg {
		digits = b[1:]
	}
	scale := int(scale32)
	var outBuf [48]byte
	out := outBuf[:0]
	if neg {
		out = append(out, '-')
	}
	if len(digits) <= scale {
		out = append(out, '0', '.')
		for range scale - len(digits) {
			out = append(out, '0')
		}
		out = append(out, digits...)
	} else {
		out = append(out, digits[:len(digits)-scale]...)
		out = append(out, '.')
		out = append(out, digits[len(digits)-scale:]...)
	}
	return string(out)
}

// formatTimestamp is t.Format("2006-01-02 15:04:05.000") without the
// layout's interpretation, for years 0 to 9999.
func formatTimestamp(t time.Time) string {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format("2006-01-02 15:04:05.000")
	}
	h, mi, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	var b [23]byte
	put := func(at, n, width int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(mo), 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = ' '
	put(11, h, 2)
	b[13] = ':'
	put(14, mi, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, ms, 3)
	return string(b[:])
}
