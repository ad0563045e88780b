package javatime

import (
	"testing"
	"time"
)

// FuzzLayout: any pattern compiles to a layout or an error, in both
// dialects; a layout formats any instant in any offset and parses any
// text (its own output included) to a time or an error, never a panic.
// For the full ISO pattern TimestampConverter users write most, parsing
// what was formatted gives the instant back (to the millisecond) for every
// year from 1 to 9999.
func FuzzLayout(f *testing.F) {
	for _, p := range []string{
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd HH:mm:ss.SSS Z", "yyyyMMddHHmmssSSS", "EEE, d MMM yyyy HH:mm:ss zzzz",
		"YYYY-'W'ww-u", "hh 'o''clock' a, zzzz", "K:mm a, z", "yyyy.MM.dd G 'at' HH:mm:ss z", "yyMMddHHmmssZ", "D", "''",
		"'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", "xxxx-'W'ww-e", "SSSSSSSSS", "X", "XX", "'unterminated",
	} {
		f.Add(p, false, int64(1_700_000_000_123), int16(60), "2024-05-01T12:00:00.000+01:00")
		f.Add(p, true, int64(-62_135_596_800_000), int16(-330), "Tue, 7 Dec 2026 02:04:00 GMT")
	}
	iso := MustCompile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
	f.Fuzz(func(t *testing.T, pattern string, joda bool, ms int64, offsetMinutes int16, input string) {
		zone := time.FixedZone("", int(offsetMinutes%(18*60))*60)
		at := time.UnixMilli(ms).In(zone)

		if y := at.Year(); y >= 1 && y <= 9999 {
			s := iso.Format(at)
			back, err := iso.Parse(s, time.UTC)
			if err != nil || !back.Equal(at.Truncate(time.Millisecond)) {
				t.Fatalf("%s: Parse(Format(%v)) = %v, %v", iso, at, back, err)
			}
		}

		d := SimpleDateFormat
		if joda {
			d = Joda
		}
		l, err := CompileDialect(pattern, d)
		if err != nil {
			return
		}
		s := l.Format(at)
		if s != l.Format(at) {
			t.Fatalf("%q formats %v two ways", pattern, at)
		}
		_, _ = l.Parse(s, zone)
		_, _ = l.Parse(input, nil)
		_, _ = l.Parse(input, zone)
	})
}
