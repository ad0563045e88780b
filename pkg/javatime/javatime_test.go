package javatime

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func mustCompile(t *testing.T, d Dialect, pattern string) *Layout {
	t.Helper()
	l, err := CompileDialect(pattern, d)
	if err != nil {
		t.Fatalf("CompileDialect(%q, %s): %v", pattern, d, err)
	}
	return l
}

// TestFormatJavadocExamples checks the examples table of SimpleDateFormat's
// javadoc: 2001-07-04 12:08:56.235 in America/Los_Angeles, en_US.
func TestFormatJavadocExamples(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	when := time.Date(2001, 7, 4, 12, 8, 56, 235_000_000, la)
	tests := []struct {
		name, pattern, want string
	}{
		{"era and zone", "yyyy.MM.dd G 'at' HH:mm:ss z", "2001.07.04 AD at 12:08:56 PDT"},
		{"quote escape", "EEE, MMM d, ''yy", "Wed, Jul 4, '01"},
		{"12 hour", "h:mm a", "12:08 PM"},
		{"quoted quote and long zone", "hh 'o''clock' a, zzzz", "12 o'clock PM, Pacific Daylight Time"},
		{"K hour", "K:mm a, z", "0:08 PM, PDT"},
		{"long fields", "yyyyy.MMMMM.dd GGG hh:mm aaa", "02001.July.04 AD 12:08 PM"},
		{"rfc 822", "EEE, d MMM yyyy HH:mm:ss Z", "Wed, 4 Jul 2001 12:08:56 -0700"},
		{"compact", "yyMMddHHmmssZ", "010704120856-0700"},
		{"millis", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2001-07-04T12:08:56.235-0700"},
		{"iso offset", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2001-07-04T12:08:56.235-07:00"},
		{"week date", "YYYY-'W'ww-u", "2001-W27-3"},
		{"day of year and k", "D k", "185 12"},
		{"iso X and XX", "X XX", "-07 -0700"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustCompile(t, SimpleDateFormat, tt.pattern)
			if got := l.Format(when); got != tt.want {
				t.Errorf("Format(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
			if got := string(l.AppendFormat([]byte("x"), when)); got != "x"+tt.want {
				t.Errorf("AppendFormat(%q) = %q, want %q", tt.pattern, got, "x"+tt.want)
			}
		})
	}
}

func TestFormatDialects(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		pattern string
		when    time.Time
		want    string
	}{
		{"partitioner path", Joda, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
			time.Date(2024, 12, 30, 7, 0, 0, 0, time.UTC), "year=2024/month=12/day=30/hour=07"},
		{"sdf Y is the week year", SimpleDateFormat, "YYYY-MM-dd",
			time.Date(2024, 12, 30, 7, 0, 0, 0, time.UTC), "2025-12-30"},
		{"sdf Y before the turn of the week", SimpleDateFormat, "YYYY",
			time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC), "2022"},
		{"joda x is the iso week year", Joda, "xxxx-'W'ww-e",
			time.Date(2024, 12, 30, 7, 0, 0, 0, time.UTC), "2025-W01-1"},
		{"sdf default router format", SimpleDateFormat, "yyyyMMdd",
			time.Date(2017, 1, 2, 3, 4, 5, 0, time.UTC), "20170102"},
		{"sdf utc zone", SimpleDateFormat, "yyyy MM dd HH:mm:ss.SSS z",
			time.Date(1970, 1, 2, 0, 0, 1, 234_000_000, time.UTC), "1970 01 02 00:00:01.234 UTC"},
		{"sdf X in utc", SimpleDateFormat, "XXX", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "Z"},
		{"sdf S is a number of millis", SimpleDateFormat, "s.S|s.SSSSSS",
			time.Date(1970, 1, 1, 0, 0, 1, 5_000_000, time.UTC), "1.5|1.000005"},
		{"joda S is a fraction", Joda, "s.S|s.SSSSSS",
			time.Date(1970, 1, 1, 0, 0, 1, 5_000_000, time.UTC), "1.0|1.005000"},
		{"joda Z forms", Joda, "Z ZZ ZZZ", time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600+1800)),
			"+0530 +05:30 X"},
		{"joda zero offset", Joda, "Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "+0000"},
		{"zone without abbreviation", SimpleDateFormat, "z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("+03", 3*3600)),
			"GMT+03:00"},
		{"hours at midnight", SimpleDateFormat, "H k K h a", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "0 24 0 12 AM"},
		{"era BC", SimpleDateFormat, "y G", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "1 BC"},
		{"week of month and day of week in month", SimpleDateFormat, "W F", time.Date(2001, 7, 4, 0, 0, 0, 0, time.UTC), "1 1"},
		{"non-letters are literal", Joda, "yyyy/MM-dd_HH.mm", time.Date(2021, 3, 4, 5, 6, 0, 0, time.UTC), "2021/03-04_05.06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustCompile(t, tt.dialect, tt.pattern)
			if got := l.Format(tt.when); got != tt.want {
				t.Errorf("Format(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		pattern string
		wantErr string
	}{
		{"unknown letter", SimpleDateFormat, "yyyy-bb", "pattern letter 'b'"},
		{"joda letter in sdf", SimpleDateFormat, "xxxx", "pattern letter 'x'"},
		{"sdf letter in joda", Joda, "XXX", "pattern letter 'X'"},
		{"unterminated quote", SimpleDateFormat, "yyyy'abc", "unterminated quote"},
		{"iso length", SimpleDateFormat, "XXXX", "invalid ISO 8601 format: length=4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileDialect(tt.pattern, tt.dialect)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CompileDialect(%q) error = %v, want one containing %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

func TestParse(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	fixedNow := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	now = func() time.Time { return fixedNow }
	t.Cleanup(func() { now = time.Now })
	tests := []struct {
		name    string
		dialect Dialect
		pattern string
		text    string
		loc     *time.Location
		want    time.Time
		wantErr string
	}{
		{name: "javadoc era and zone", pattern: "yyyy.MM.dd G 'at' HH:mm:ss z", text: "2001.07.04 AD at 12:08:56 PDT",
			loc: time.UTC, want: time.Date(2001, 7, 4, 19, 8, 56, 0, time.UTC)},
		{name: "javadoc rfc 822", pattern: "EEE, d MMM yyyy HH:mm:ss Z", text: "Wed, 4 Jul 2001 12:08:56 -0700",
			loc: time.UTC, want: time.Date(2001, 7, 4, 19, 8, 56, 0, time.UTC)},
		{name: "javadoc compact two-digit year", pattern: "yyMMddHHmmssZ", text: "010704120856-0700",
			loc: time.UTC, want: time.Date(2001, 7, 4, 19, 8, 56, 0, time.UTC)},
		{name: "javadoc iso offset", pattern: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", text: "2001-07-04T12:08:56.235-07:00",
			loc: time.UTC, want: time.Date(2001, 7, 4, 19, 8, 56, 235_000_000, time.UTC)},
		{name: "javadoc 12 hour", pattern: "hh 'o''clock' a, zzzz", text: "12 o'clock PM, PDT",
			loc: time.UTC, want: time.Date(1970, 1, 1, 19, 0, 0, 0, time.UTC)},
		{name: "long month and lower-case marker", pattern: "yyyyy.MMMMM.dd GGG hh:mm aaa", text: "02001.july.04 AD 12:08 am",
			loc: time.UTC, want: time.Date(2001, 7, 4, 0, 8, 0, 0, time.UTC)},
		{name: "time only in location", pattern: "HH:mm", text: "13:30", loc: la,
			want: time.Date(1970, 1, 1, 13, 30, 0, 0, la)},
		{name: "connect test format", pattern: "yyyy MM dd HH:mm:ss.SSS z", text: "1970 01 02 00:00:01.234 UTC",
			loc: time.UTC, want: time.Date(1970, 1, 2, 0, 0, 1, 234_000_000, time.UTC)},
		{name: "two-digit year in the past century", pattern: "yy-MM-dd", text: "50-01-01", loc: time.UTC,
			want: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "two-digit year near now", pattern: "yy-MM-dd", text: "43-01-01", loc: time.UTC,
			want: time.Date(2043, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "yyyy reads the year literally", pattern: "yyyy-MM-dd", text: "0043-01-01", loc: time.UTC,
			want: time.Date(43, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "lenient rollover", pattern: "yyyy-MM-dd", text: "2017-02-30", loc: time.UTC,
			want: time.Date(2017, 3, 2, 0, 0, 0, 0, time.UTC)},
		{name: "trailing text ignored", pattern: "yyyy-MM-dd", text: "2017-02-03 and more", loc: time.UTC,
			want: time.Date(2017, 2, 3, 0, 0, 0, 0, time.UTC)},
		{name: "blanks before a field", pattern: "yyyy-MM-dd", text: "2017- 02-03", loc: time.UTC,
			want: time.Date(2017, 2, 3, 0, 0, 0, 0, time.UTC)},
		{name: "gmt offset", pattern: "HH:mm z", text: "10:00 GMT+05:30", loc: time.UTC,
			want: time.Date(1970, 1, 1, 4, 30, 0, 0, time.UTC)},
		{name: "day of year", pattern: "yyyy D", text: "2001 185", loc: time.UTC,
			want: time.Date(2001, 7, 4, 0, 0, 0, 0, time.UTC)},
		{name: "millis as a number", pattern: "ss.S", text: "01.5", loc: time.UTC,
			want: time.Date(1970, 1, 1, 0, 0, 1, 5_000_000, time.UTC)},
		{name: "mismatched literal", pattern: "yyyy-MM-dd", text: "2017/02/03", loc: time.UTC,
			wantErr: `Unparseable date: "2017/02/03"`},
		{name: "missing field", pattern: "yyyy-MM-dd HH", text: "2017-02-03", loc: time.UTC,
			wantErr: `Unparseable date: "2017-02-03"`},
		{name: "joda partitioner path", dialect: Joda, pattern: "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
			text: "year=2024/month=12/day=30/hour=07", loc: time.UTC, want: time.Date(2024, 12, 30, 7, 0, 0, 0, time.UTC)},
		{name: "joda fraction", dialect: Joda, pattern: "ss.S", text: "01.5", loc: time.UTC,
			want: time.Date(1970, 1, 1, 0, 0, 1, 500_000_000, time.UTC)},
		{name: "joda zone id", dialect: Joda, pattern: "HH:mm ZZZ", text: "12:00 America/Los_Angeles", loc: time.UTC,
			want: time.Date(1970, 1, 1, 20, 0, 0, 0, time.UTC)},
		{name: "joda two-digit year pivot", dialect: Joda, pattern: "yy", text: "44", loc: time.UTC,
			want: time.Date(1944, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "joda trailing text", dialect: Joda, pattern: "yyyy", text: "2017x", loc: time.UTC,
			wantErr: `Invalid format: "2017x" is malformed at "x"`},
		{name: "joda too short", dialect: Joda, pattern: "yyyy-MM", text: "2017-", loc: time.UTC,
			wantErr: `Invalid format: "2017-" is too short`},
		{name: "joda out of range", dialect: Joda, pattern: "yyyy-MM-dd", text: "2017-02-30", loc: time.UTC,
			wantErr: `out of range`},
		{name: "iso X requires its form", pattern: "HH XXX", text: "10 -0700", loc: time.UTC,
			wantErr: `Unparseable date`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustCompile(t, tt.dialect, tt.pattern)
			got, err := l.Parse(tt.text, tt.loc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.text, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.text, err)
			}
			if !got.Equal(tt.want) || got.Location() != tt.loc {
				t.Errorf("Parse(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		pattern string
	}{
		{"sdf iso", SimpleDateFormat, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"},
		{"sdf rfc", SimpleDateFormat, "EEE, d MMM yyyy HH:mm:ss.SSS Z"},
		{"sdf abutting", SimpleDateFormat, "yyyyMMddHHmmssSSS"},
		{"joda", Joda, "yyyy-MM-dd'T'HH:mm:ss.SSSZZ"},
	}
	when := time.Date(2023, 11, 5, 22, 7, 9, 987_000_000, time.FixedZone("", -3*3600))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustCompile(t, tt.dialect, tt.pattern)
			s := l.Format(when)
			got, err := l.Parse(s, when.Location())
			if err != nil || !got.Equal(when) {
				t.Errorf("Parse(Format()) = %v, %v; want %v (text %q)", got, err, when, s)
			}
		})
	}
}
