// Package javatime compiles Java date-time patterns into layouts that format
// and parse Go time.Time values exactly as Java does, so that configuration
// written for Kafka Connect keeps its meaning in Sluice.
//
// Two pattern dialects are supported, because the same letter means
// different things in them:
//
//   - Compile: java.text.SimpleDateFormat, as used by Kafka's
//     TimestampConverter (format) and TimestampRouter (timestamp.format).
//   - CompileJoda: Joda-Time's DateTimeFormat, as used by Confluent's
//     TimeBasedPartitioner (path.format, for example
//     'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH). Joda's letters are also
//     java.time.format.DateTimeFormatter's for every pattern that
//     partitioners use in practice (y M d H m s and literals).
//
// Supported letters (a dash means the letter is rejected by Compile in
// that dialect with a clear error):
//
//	letter  SimpleDateFormat                Joda
//	G       era (AD)                        era (AD)
//	y       year                            year
//	Y       week year (en_US weeks)         year of era (= year for AD)
//	x       -                               ISO week year
//	M       month (MM=01, MMM=Jan, MMMM=January)
//	w       week of year (en_US weeks)      ISO week of week year
//	W       week of month (en_US weeks)     -
//	F       day of week in month            -
//	D       day of year
//	d       day of month
//	E       day name (E..EEE=Tue, EEEE=Tuesday)
//	u       day number of week (1=Monday)   -
//	e       -                               day number of week (1=Monday)
//	a       AM/PM marker
//	H       hour 0-23       k  hour 1-24
//	K       hour 0-11       h  hour 1-12
//	m       minute          s  second
//	S       millisecond (a number)          fraction of second (SSS=millis)
//	z       zone name (PST; zzzz long name)
//	Z       RFC 822 offset (-0800)          -0800; ZZ=-08:00; ZZZ=zone id
//	X       ISO 8601 offset (X=-08, XX=-0800, XXX=-08:00, Z for UTC)   -
//
// Text between single quotes is literal, two single quotes make one, and
// characters other than ASCII letters are literal. Letters are English
// (Locale.US / Locale.ROOT): Sluice has no other locale data.
//
// Differences from Java that are not reproduced:
//
//   - Parsing resolves fields simply: fields that are missing take their
//     values from 1970-01-01T00:00:00 (as Java's parsers do), day of week
//     (E, u, e) and week-of-year (w, W, F) fields are read but ignored, a week year
//     (Y in SimpleDateFormat, x in Joda) is read as the calendar year, and
//     when both D and M/d are present M/d win. Java resolves such conflicts
//     by which field was set last.
//   - As in SimpleDateFormat's default lenient mode, out-of-range numbers
//     roll over (February 30 is March 2, hour 25 is 01:00 the next day);
//     Joda layouts reject them, with a message shorter than Joda's.
//   - H or k together with a sets the hour of day from H/k alone; h and K
//     use a (AM when absent).
//   - Zone names are recognised when parsing only for UTC, GMT, UT, a
//     short list of common North American and European abbreviations (EST,
//     PDT, CET, ...) and the abbreviations of the location given to Parse;
//     Java knows every zone name of its locale. Long zone names (zzzz) are
//     formatted for those same abbreviations; other zones print their
//     short name. Joda cannot parse zone names (z) at all, nor can this
//     package in Joda layouts.
//   - Zones without an abbreviation of their own (Go names them "+03") are
//     formatted as GMT+03:00, as Java does.
//   - SimpleDateFormat's parse ignores text after the last field, as
//     DateFormat.parse(String) does; Joda's parse requires the whole text.
package javatime

import (
	"fmt"
	"strings"
	"time"
)

// Dialect is the pattern language a Layout was compiled from.
type Dialect int

// The dialects.
const (
	// SimpleDateFormat is java.text.SimpleDateFormat.
	SimpleDateFormat Dialect = iota
	// Joda is Joda-Time's org.joda.time.format.DateTimeFormat.
	Joda
)

func (d Dialect) String() string {
	if d == Joda {
		return "Joda"
	}
	return "SimpleDateFormat"
}

// Layout is a compiled pattern. It is immutable and safe for concurrent use.
type Layout struct {
	pattern string
	dialect Dialect
	elems   []elem
}

// elem is a run of one pattern letter, or literal text when letter is 0.
type elem struct {
	letter byte
	count  int
	lit    string
}

// numeric reports whether the element is formatted and parsed as a number,
// which makes an abutting numeric element before it fixed-width when
// parsing.
func (e elem) numeric() bool {
	switch e.letter {
	case 0, 'G', 'E', 'a', 'z', 'Z', 'X':
		return false
	case 'M':
		return e.count < 3
	}
	return true
}

// Compile compiles a java.text.SimpleDateFormat pattern (Kafka's
// TimestampConverter format and TimestampRouter timestamp.format). For
// Confluent's partitioner path.format, which is a Joda pattern, use
// CompileJoda: YYYY there is the calendar year, here it is the week year.
func Compile(pattern string) (*Layout, error) {
	return CompileDialect(pattern, SimpleDateFormat)
}

// CompileJoda compiles a Joda-Time DateTimeFormat pattern (Confluent's
// TimeBasedPartitioner path.format).
func CompileJoda(pattern string) (*Layout, error) {
	return CompileDialect(pattern, Joda)
}

// CompileDialect compiles pattern in the given dialect.
func CompileDialect(pattern string, d Dialect) (*Layout, error) {
	l := &Layout{pattern: pattern, dialect: d}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l.elems = append(l.elems, elem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			// A quoted run: '' inside it is one quote.
			j := i + 1
			for {
				if j >= len(pattern) {
					return nil, fmt.Errorf("javatime: unterminated quote in pattern %q", pattern)
				}
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(pattern[j])
				j++
			}
			i = j + 1
		case isLetter(c):
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if err := checkLetter(c, j-i, d, pattern); err != nil {
				return nil, err
			}
			flush()
			l.elems = append(l.elems, elem{letter: c, count: j - i})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return l, nil
}

// MustCompile is Compile that panics on an invalid pattern; for patterns
// fixed in source code.
func MustCompile(pattern string) *Layout {
	l, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return l
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func checkLetter(c byte, count int, d Dialect, pattern string) error {
	const common = "GyMDdEaHkKhmsSzZ"
	supported := common + "YuXwWF"
	if d == Joda {
		supported = common + "Yxwe"
	}
	if !strings.ContainsRune(supported, rune(c)) {
		return fmt.Errorf("javatime: pattern letter '%c' in %q is not supported in %s patterns (supported: %s)", c, pattern, d, supported)
	}
	if d == SimpleDateFormat && c == 'X' && count > 3 {
		// SimpleDateFormat's own message.
		return fmt.Errorf("javatime: invalid ISO 8601 format: length=%d", count)
	}
	return nil
}

// String returns the pattern the layout was compiled from (Java's
// toPattern()).
func (l *Layout) String() string { return l.pattern }

// Dialect returns the dialect the layout was compiled in.
func (l *Layout) Dialect() Dialect { return l.dialect }

// Format formats t, which is already in the wanted location.
func (l *Layout) Format(t time.Time) string {
	return string(l.AppendFormat(make([]byte, 0, len(l.pattern)+16), t))
}
