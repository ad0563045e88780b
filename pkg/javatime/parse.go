package javatime

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// now is the clock that places two-digit years; tests replace it.
var now = time.Now

// zoneAbbreviations are the zone names Parse recognises besides the
// abbreviations of the location it is given (Java's en_US short names).
var zoneAbbreviations = map[string]int{
	"UTC": 0, "UT": 0, "GMT": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600, "HST": -10 * 3600,
	"WET": 0, "WEST": 3600, "CET": 3600, "CEST": 2 * 3600, "EET": 2 * 3600, "EEST": 3 * 3600,
	"JST": 9 * 3600,
}

// fields collects what Parse read. Missing fields default to
// 1970-01-01T00:00:00, as Java's parsers do.
type fields struct {
	year, month, day, yearDay  int
	hour, minute, second, nsec int
	monthOrDaySet              bool
	twelveHour, pm, bc         bool
	zone                       *time.Location
}

// errUnparseable marks a failure at a position of the text.
var errUnparseable = errors.New("unparseable")

// Parse parses s as the layout describes. Fields that the text does not
// give a zone for are read in loc (UTC when nil); the result is in loc.
// Errors carry Java's messages: `Unparseable date: "s"` for
// SimpleDateFormat, `Invalid format: "s" is malformed at "rest"` for Joda.
func (l *Layout) Parse(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := fields{year: 1970, month: 1, day: 1}
	pos := 0
	for i, e := range l.elems {
		if e.letter == 0 {
			if !strings.HasPrefix(s[pos:], e.lit) {
				return time.Time{}, l.parseError(s, pos)
			}
			pos += len(e.lit)
			continue
		}
		if l.dialect == SimpleDateFormat {
			// SimpleDateFormat skips blanks before a field.
			for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
				pos++
			}
		}
		width := 0
		if i+1 < len(l.elems) && e.numeric() && l.elems[i+1].numeric() {
			// Abutting numeric fields: the count is the field's width.
			width = e.count
		}
		next, err := l.parseElem(s, pos, e, width, &f, loc)
		if err != nil {
			if errors.Is(err, errUnparseable) {
				return time.Time{}, l.parseError(s, pos)
			}
			return time.Time{}, err
		}
		pos = next
	}
	if pos < len(s) && l.dialect == Joda {
		return time.Time{}, l.parseError(s, pos)
	}
	return l.resolve(s, &f, loc)
}

func (l *Layout) parseError(s string, pos int) error {
	if l.dialect == Joda {
		if pos >= len(s) {
			return fmt.Errorf("Invalid format: %q is too short", s)
		}
		return fmt.Errorf("Invalid format: %q is malformed at %q", s, s[pos:])
	}
	return fmt.Errorf("Unparseable date: %q", s)
}

func (l *Layout) parseElem(s string, pos int, e elem, width int, f *fields, loc *time.Location) (int, error) {
	switch e.letter {
	case 'G':
		i, next := matchText(s, pos, []string{"BC", "AD"})
		if i < 0 {
			return 0, errUnparseable
		}
		f.bc = i == 0
		return next, nil
	case 'M':
		if e.count >= 3 {
			names := make([]string, 0, 24)
			for _, m := range monthNames {
				names = append(names, m, m[:3])
			}
			i, next := matchText(s, pos, names)
			if i < 0 {
				return 0, errUnparseable
			}
			f.month, f.monthOrDaySet = i/2+1, true
			return next, nil
		}
	case 'E':
		names := make([]string, 0, 14)
		for _, d := range dayNames {
			names = append(names, d, d[:3])
		}
		if i, next := matchText(s, pos, names); i >= 0 {
			return next, nil
		}
		return 0, errUnparseable
	case 'a':
		i, next := matchText(s, pos, []string{"AM", "PM"})
		if i < 0 {
			return 0, errUnparseable
		}
		f.pm = i == 1
		return next, nil
	case 'z', 'Z', 'X':
		return l.parseZone(s, pos, e, f, loc)
	}

	v, digits, next := parseNum(s, pos, width)
	if digits == 0 {
		return 0, errUnparseable
	}
	switch e.letter {
	case 'y', 'Y', 'x':
		if digits == 2 && (e.count == 2 || e.count == 1 && l.dialect == SimpleDateFormat) {
			v = l.twoDigitYear(v)
		}
		f.year = v
	case 'M':
		f.month, f.monthOrDaySet = v, true
	case 'd':
		f.day, f.monthOrDaySet = v, true
	case 'D':
		f.yearDay = v
	case 'H':
		f.hour = v
	case 'k':
		if v == 24 && l.dialect == SimpleDateFormat {
			v = 0
		}
		f.hour = v
	case 'h':
		if v == 12 {
			v = 0
		}
		f.hour, f.twelveHour = v, true
	case 'K':
		f.hour, f.twelveHour = v, true
	case 'm':
		f.minute = v
	case 's':
		f.second = v
	case 'S':
		if l.dialect == SimpleDateFormat {
			// A number of milliseconds: "5" is 5 ms, "1234" rolls over.
			f.nsec = v * int(time.Millisecond)
		} else {
			// A fraction of a second: "5" is 500 ms.
			ns := v
			for range 9 - digits {
				ns *= 10
			}
			f.nsec = ns
		}
	case 'u', 'e', 'w', 'W', 'F':
		// Read and ignored (see the package documentation).
	}
	return next, nil
}

// twoDigitYear places a two-digit year as Java does: SimpleDateFormat
// within 80 years before and 20 years after now, Joda within 50 years of
// a pivot 30 years before now.
func (l *Layout) twoDigitYear(v int) int {
	if l.dialect == Joda {
		low := now().Year() - 30 - 50
		t := low % 100
		if v < t {
			v += 100
		}
		return v + low - t
	}
	start := now().Year() - 80
	if v < start%100 {
		v += 100
	}
	return v + start/100*100
}

// parseNum reads up to width digits (any number when width is 0).
func parseNum(s string, pos, width int) (v, digits, next int) {
	for next = pos; next < len(s) && s[next] >= '0' && s[next] <= '9'; next++ {
		if width > 0 && next-pos == width || next-pos >= 9 {
			break
		}
		v = v*10 + int(s[next]-'0')
	}
	return v, next - pos, next
}

// matchText finds the longest of names at s[pos:], ignoring case, and
// returns its index and the position after it, or -1.
func matchText(s string, pos int, names []string) (int, int) {
	best, bestLen := -1, 0
	for i, n := range names {
		if len(n) > bestLen && len(s)-pos >= len(n) && strings.EqualFold(s[pos:pos+len(n)], n) {
			best, bestLen = i, len(n)
		}
	}
	return best, pos + bestLen
}

func (l *Layout) parseZone(s string, pos int, e elem, f *fields, loc *time.Location) (int, error) {
	if pos >= len(s) {
		return 0, errUnparseable
	}
	rest := s[pos:]
	setOffset := func(off int) { f.zone = time.FixedZone("", off) }
	if l.dialect == Joda {
		switch {
		case e.letter == 'z':
			return 0, fmt.Errorf("javatime: zone names (z) cannot be parsed in Joda pattern %q", l.pattern)
		case e.count >= 3:
			end := 0
			for end < len(rest) && (isLetter(rest[end]) || rest[end] >= '0' && rest[end] <= '9' || strings.IndexByte("_/+-", rest[end]) >= 0) {
				end++
			}
			z, err := time.LoadLocation(rest[:end])
			if end == 0 || err != nil {
				return 0, errUnparseable
			}
			f.zone = z
			return pos + end, nil
		case rest[0] == 'Z':
			setOffset(0)
			return pos + 1, nil
		}
		off, n, ok := parseOffset(rest, 0)
		if !ok {
			return 0, errUnparseable
		}
		setOffset(off)
		return pos + n, nil
	}

	if e.letter == 'X' {
		if rest[0] == 'Z' {
			setOffset(0)
			return pos + 1, nil
		}
		off, n, ok := parseOffset(rest, e.count)
		if !ok {
			return 0, errUnparseable
		}
		setOffset(off)
		return pos + n, nil
	}
	// z and Z both accept a general time zone or an RFC 822 offset.
	if rest[0] == '+' || rest[0] == '-' {
		off, n, ok := parseOffset(rest, 0)
		if !ok {
			return 0, errUnparseable
		}
		setOffset(off)
		return pos + n, nil
	}
	if len(rest) >= 3 && strings.EqualFold(rest[:3], "GMT") {
		if len(rest) > 3 && (rest[3] == '+' || rest[3] == '-') {
			if off, n, ok := parseOffset(rest[3:], 0); ok {
				setOffset(off)
				return pos + 3 + n, nil
			}
			return 0, errUnparseable
		}
		setOffset(0)
		return pos + 3, nil
	}
	// Zone names: the location's own abbreviations first.
	year := now().Year()
	best, bestOff := "", 0
	for _, m := range []time.Month{time.January, time.July} {
		name, off := time.Date(year, m, 1, 0, 0, 0, 0, loc).Zone()
		if len(name) > len(best) && len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) {
			best, bestOff = name, off
		}
	}
	for name, off := range zoneAbbreviations {
		if len(name) > len(best) && len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) {
			best, bestOff = name, off
		}
	}
	if best == "" {
		return 0, errUnparseable
	}
	setOffset(bestOff)
	return pos + len(best), nil
}

// parseOffset reads a signed offset. count 1 is ±hh, 2 is ±hhmm, 3 is
// ±hh:mm (ISO 8601, X); count 0 accepts ±h, ±hh, ±hhmm and ±hh:mm.
func parseOffset(s string, count int) (off, n int, ok bool) {
	if len(s) < 2 || s[0] != '+' && s[0] != '-' {
		return 0, 0, false
	}
	digit := func(i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }
	i := 1
	hours := 0
	switch {
	case digit(1) && digit(2):
		hours, i = int(s[1]-'0')*10+int(s[2]-'0'), 3
	case digit(1) && count == 0:
		hours, i = int(s[1]-'0'), 2
	default:
		return 0, 0, false
	}
	minutes := 0
	j := i
	if count != 1 {
		if j < len(s) && s[j] == ':' && count != 2 {
			j++
		} else if count == 3 {
			return 0, 0, false
		}
		switch {
		case digit(j) && digit(j+1):
			minutes, i = int(s[j]-'0')*10+int(s[j+1]-'0'), j+2
		case count == 2 || count == 3:
			return 0, 0, false
		}
	}
	if hours > 23 || minutes > 59 {
		return 0, 0, false
	}
	off = hours*3600 + minutes*60
	if s[0] == '-' {
		off = -off
	}
	return off, i, true
}

func (l *Layout) resolve(s string, f *fields, loc *time.Location) (time.Time, error) {
	year := f.year
	if f.bc {
		year = 1 - year
	}
	hour := f.hour
	if f.twelveHour && f.pm {
		hour += 12
	}
	zone := loc
	if f.zone != nil {
		zone = f.zone
	}
	month, day := f.month, f.day
	if f.yearDay > 0 && !f.monthOrDaySet {
		month, day = 1, f.yearDay
	}
	t := time.Date(year, time.Month(month), day, hour, f.minute, f.second, f.nsec, zone)
	if l.dialect == Joda {
		// Joda rejects values out of their field's range.
		if t.Year() != year || int(t.Month()) != month || t.Day() != day || t.Hour() != hour%24 ||
			t.Minute() != f.minute || t.Second() != f.second || f.hour > 24 {
			return time.Time{}, fmt.Errorf("Cannot parse %q: a field value is out of range", s)
		}
	}
	return t.In(loc), nil
}
