package sink

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Lambda and distroless images have no zoneinfo; timezone must still work.

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/javatime"
)

// timeBased is Confluent's TimeBasedPartitioner (and DailyPartitioner and
// HourlyPartitioner, which fix its duration and path format): the record's
// time, truncated to partition.duration.ms in timezone, formatted with
// path.format.
type timeBased struct {
	defaultPartitioner
	durationMs int64
	pathFormat string
	layout     *javatime.Layout
	loc        *time.Location
	extractor  Extractor
	now        func() time.Time
}

func newTimeBased(class string, v *config.Values, base defaultPartitioner) (*timeBased, error) {
	delim := base.delim
	durationMs := v.Long(DurationMsConfig)
	pathFormat := v.String(PathFormatConfig)
	switch class {
	case DailyPartitionerClass:
		durationMs = 24 * time.Hour.Milliseconds()
		pathFormat = "'year'=YYYY" + delim + "'month'=MM" + delim + "'day'=dd"
	case HourlyPartitionerClass:
		durationMs = time.Hour.Milliseconds()
		pathFormat = "'year'=YYYY" + delim + "'month'=MM" + delim + "'day'=dd" + delim + "'hour'=HH"
	}
	var problems []config.Problem
	if durationMs <= 0 {
		problems = append(problems, problem(DurationMsConfig, durationMs, "Partition duration needs to be a positive."))
	}
	if strings.TrimSpace(pathFormat) == "" || pathFormat == delim {
		problems = append(problems, problem(PathFormatConfig, pathFormat, "Path format cannot be empty."))
	} else if delim != "" && strings.HasSuffix(pathFormat, delim) {
		// Confluent drops a delimiter the user put at the end.
		pathFormat = strings.TrimSuffix(pathFormat, delim)
	}
	if strings.TrimSpace(v.String(LocaleConfig)) == "" {
		problems = append(problems, problem(LocaleConfig, v.String(LocaleConfig), "Locale cannot be empty."))
	}
	tz := v.String(TimezoneConfig)
	var loc *time.Location
	if strings.TrimSpace(tz) == "" {
		problems = append(problems, problem(TimezoneConfig, tz, "Timezone cannot be empty."))
	} else if l, err := LoadTimezone(tz); err != nil {
		problems = append(problems, problem(TimezoneConfig, tz, err.Error()))
	} else {
		loc = l
	}
	var layout *javatime.Layout
	if !hasProblem(problems, PathFormatConfig) {
		l, err := javatime.CompileJoda(pathFormat)
		if err != nil {
			problems = append(problems, problem(PathFormatConfig, pathFormat, err.Error()))
		}
		layout = l
	}
	ex, err := NewExtractor(v.String(TimestampExtractorConfig), v.String(TimestampFieldConfig))
	if err != nil {
		problems = append(problems, problem(TimestampExtractorConfig, v.String(TimestampExtractorConfig), err.Error()))
	}
	if len(problems) > 0 {
		return nil, &config.ValidationError{Problems: problems}
	}
	return &timeBased{defaultPartitioner: base, durationMs: durationMs, pathFormat: pathFormat,
		layout: layout, loc: loc, extractor: ex, now: time.Now}, nil
}

func problem(key string, value any, reason string) config.Problem {
	return config.Problem{Key: key, Message: config.InvalidValue(key, value, reason).Error()}
}

func hasProblem(ps []config.Problem, key string) bool {
	for _, p := range ps {
		if p.Key == key {
			return true
		}
	}
	return false
}

// Extractor returns the partitioner's timestamp extractor.
func (p *timeBased) Extractor() Extractor { return p.extractor }

func (p *timeBased) Encode(r *connect.SinkRecord) (string, error) {
	ts, err := p.extractor.Extract(r, p.now())
	if err != nil {
		return "", err
	}
	bucket := BucketStart(p.durationMs, ts, p.loc)
	return p.layout.Format(time.UnixMilli(bucket).In(p.loc)), nil
}

// BucketStart is Confluent's TimeBasedPartitioner.getPartition: the start,
// in milliseconds since the epoch, of the partition of length durationMs
// holding timestamp, with buckets aligned on local time in loc (Joda's
// convertUTCToLocal, truncating division, convertLocalToUTC non-strict).
func BucketStart(durationMs, timestamp int64, loc *time.Location) int64 {
	local := timestamp + offsetMs(timestamp, loc)
	return localToUTC((local/durationMs)*durationMs, loc)
}

func offsetMs(instant int64, loc *time.Location) int64 {
	_, off := time.UnixMilli(instant).In(loc).Zone()
	return int64(off) * 1000
}

// localToUTC is Joda's DateTimeZone.convertLocalToUTC(instantLocal, false).
func localToUTC(local int64, loc *time.Location) int64 {
	offsetLocal := offsetMs(local, loc)
	offset := offsetMs(local-offsetLocal, loc)
	if offsetLocal != offset && offsetLocal < 0 {
		nextLocal := nextTransition(local-offsetLocal, loc)
		if nextLocal == local-offsetLocal {
			nextLocal = math.MaxInt64
		}
		nextAdjusted := nextTransition(local-offset, loc)
		if nextAdjusted == local-offset {
			nextAdjusted = math.MaxInt64
		}
		if nextLocal != nextAdjusted {
			// In the DST gap: Joda keeps the earlier offset.
			offset = offsetLocal
		}
	}
	return local - offset
}

func nextTransition(instant int64, loc *time.Location) int64 {
	_, end := time.UnixMilli(instant).In(loc).ZoneBounds()
	if end.IsZero() {
		return math.MaxInt64
	}
	return end.UnixMilli()
}

var fixedOffset = regexp.MustCompile(`^([+-])(\d{1,2})(?::?(\d{2}))?$`)

// LoadTimezone resolves a timezone as Joda's DateTimeZone.forID does: UTC,
// a region ID (America/Los_Angeles) or a fixed offset [+-]hh:mm.
func LoadTimezone(id string) (*time.Location, error) {
	id = strings.TrimSpace(id)
	if id == "" || id == "Local" {
		return nil, fmt.Errorf("The datetime zone id '%s' is not recognised", id)
	}
	if m := fixedOffset.FindStringSubmatch(id); m != nil {
		h, _ := strconv.Atoi(m[2])
		mins := 0
		if m[3] != "" {
			mins, _ = strconv.Atoi(m[3])
		}
		if h > 23 || mins > 59 {
			return nil, fmt.Errorf("The datetime zone id '%s' is not recognised", id)
		}
		off := h*3600 + mins*60
		if m[1] == "-" {
			off = -off
		}
		if off == 0 {
			return time.UTC, nil
		}
		return time.FixedZone(fmt.Sprintf("%s%02d:%02d", m[1], h, mins), off), nil
	}
	loc, err := time.LoadLocation(id)
	if err != nil {
		return nil, errors.New("The datetime zone id '" + id + "' is not recognised")
	}
	return loc, nil
}
