package jdbc

import (
	"database/sql"
	"errors"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url                        string
		kind, host, port, db, user, pass string
		param                            string
		err                              bool
	}{
		{name: "postgres", url: "jdbc:postgresql://db.example:6543/shop?sslmode=require", kind: "postgresql", host: "db.example", port: "6543", db: "shop", param: "sslmode=require"},
		{name: "postgres default port", url: "jdbc:postgresql://localhost/shop", kind: "postgresql", host: "localhost", port: "5432", db: "shop"},
		{name: "credentials in the url", url: "jdbc:postgresql://h/d?user=u&password=p%40ss", kind: "postgresql", host: "h", port: "5432", db: "d", user: "u", pass: "p@ss"},
		{name: "mysql", url: "jdbc:mysql://127.0.0.1:3307/shop?useSSL=false", kind: "mysql", host: "127.0.0.1", port: "3307", db: "shop", param: "useSSL=false"},
		{name: "mariadb", url: "jdbc:mariadb://h/d", kind: "mysql", host: "h", port: "3306", db: "d"},
		{name: "connector/j semicolon properties", url: "jdbc:mysql://h/d;user=me", kind: "mysql", host: "h", port: "3306", db: "d", user: "me"},
		{name: "ipv6", url: "jdbc:postgresql://[::1]:5433/d", kind: "postgresql", host: "::1", port: "5433", db: "d"},
		{name: "not jdbc", url: "postgres://h/d", err: true},
		{name: "other database", url: "jdbc:sqlserver://h;databaseName=d", err: true},
		{name: "no host", url: "jdbc:postgresql:///d", err: true},
		{name: "several hosts", url: "jdbc:postgresql://a,b/d", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := parseURL(tc.url)
			if tc.err {
				if err == nil {
					t.Fatalf("parseURL(%q) = %+v, want an error", tc.url, cs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cs.Kind != tc.kind || cs.Host != tc.host || cs.Port != tc.port || cs.Database != tc.db || cs.User != tc.user || cs.Password != tc.pass {
				t.Fatalf("parseURL(%q) = %+v", tc.url, cs)
			}
			if tc.param != "" && cs.Params.Encode() != tc.param {
				t.Fatalf("params = %q, want %q", cs.Params.Encode(), tc.param)
			}
		})
	}
}

func TestNumericMapping(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p, s    int
		mapping string
		text    string
		want    any // a Go value, or error
	}{
		{"none", 10, 2, NumericMappingNone, "12.30", data.NewDecimal(1230, 2)},
		{"none rescales", 10, 2, NumericMappingNone, "12.3", data.NewDecimal(1230, 2)},
		{"precision_only int8", 2, 0, NumericMappingPrecisionOnly, "99", int8(99)},
		{"precision_only int16", 4, 0, NumericMappingPrecisionOnly, "-9999", int16(-9999)},
		{"precision_only int32", 9, 0, NumericMappingPrecisionOnly, "123456789", int32(123456789)},
		{"precision_only int64", 18, 0, NumericMappingPrecisionOnly, "123456789012345678", int64(123456789012345678)},
		{"precision_only keeps scale > 0 as decimal", 10, 2, NumericMappingPrecisionOnly, "1.25", data.NewDecimal(125, 2)},
		{"best_fit double", 10, 2, NumericMappingBestFit, "1.25", 1.25},
		{"best_fit large precision stays decimal", 20, 2, NumericMappingBestFit, "1.25", data.NewDecimal(125, 2)},
		{"best_fit_eager_double", 30, 2, NumericMappingBestFitEagerDouble, "0.10", 0.1},
		{"unconstrained numeric is its text", 0, 0, NumericMappingNone, "1.000000000000000000001", "1.000000000000000000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := mapColumn(Column{Name: "n", Type: "numeric", Precision: tc.p, Scale: tc.s}, tc.mapping, GranularityConnectLogical)
			var ns = &nullString{}
			ns.set(tc.text)
			got, err := sc.value("t", ns.dest(), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := tc.want.(data.Decimal); ok {
				if g, ok := got.(data.Decimal); !ok || !g.Equal(d) || g.Scale != d.Scale {
					t.Fatalf("value = %v (%T), want %v", got, got, d)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("value = %v (%T), want %v (%T)", got, got, tc.want, tc.want)
			}
			if err := data.Validate(sc.schema, got); err != nil {
				t.Fatalf("value does not fit its schema %s: %v", sc.schema, err)
			}
		})
	}
}

// Values a mapped type cannot hold exactly are errors.
func TestNumericMappingRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p, s    int
		mapping string
		text    string
	}{
		{"more places than the scale", 10, 2, NumericMappingNone, "1.255"},
		{"int8 overflow", 2, 0, NumericMappingPrecisionOnly, "128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := mapColumn(Column{Name: "n", Type: "numeric", Precision: tc.p, Scale: tc.s}, tc.mapping, GranularityConnectLogical)
			ns := &nullString{}
			ns.set(tc.text)
			if v, err := sc.value("t", ns.dest(), time.UTC); err == nil {
				t.Fatalf("value = %v, want an error", v)
			}
		})
	}
}

func TestOffsetTimestampRoundTrip(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(2026, 1, 1, 10, 0, 0, 123456789, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999000000, time.UTC),
		time.Unix(0, 0).UTC(),
	} {
		q := &tableQuery{}
		// As Confluent writes it: getTime() milliseconds and getNanos().
		off := map[string]any{"timestamp": float64(ts.UnixMilli()), "timestamp_nanos": float64(ts.Nanosecond())}
		if err := q.restore(off, time.Time{}, ModeTimestamp); err != nil {
			t.Fatal(err)
		}
		if !q.ts.Equal(ts) {
			t.Fatalf("restored %v, want %v", q.ts, ts)
		}
	}
}

// nullString is a scanned NULL-able string, as the driver leaves it.
type nullString struct{ v string }

func (n *nullString) set(s string) { n.v = s }

func (n *nullString) dest() any {
	d := new(sql.NullString)
	d.String, d.Valid = n.v, true
	return d
}

func TestValidateConfig(t *testing.T) {
	base := map[string]string{ConnectionURLConfig: "jdbc:postgresql://h/d", TopicPrefixConfig: "p-"}
	with := func(extra map[string]string) map[string]string {
		p := map[string]string{}
		for k, v := range base {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		sink  bool
		props map[string]string
		key   string // the key with a problem; "" for none
	}{
		{name: "source ok", props: with(map[string]string{ModeConfig: ModeBulk})},
		{name: "source without mode", props: with(nil), key: ModeConfig},
		{name: "incrementing without column", props: with(map[string]string{ModeConfig: ModeIncrementing}), key: IncrementingColumnConfig},
		{name: "timestamp without column", props: with(map[string]string{ModeConfig: ModeTimestamp}), key: TimestampColumnConfig},
		{name: "include and exclude", props: with(map[string]string{ModeConfig: ModeBulk, TableWhitelistConfig: "a", TableExcludeListConfig: "b"}), key: TableWhitelistConfig},
		{name: "query with tables", props: with(map[string]string{ModeConfig: ModeBulk, QueryConfig: "SELECT 1", TableIncludeListConfig: "a"}), key: QueryConfig},
		{name: "unsupported url", props: with(map[string]string{ModeConfig: ModeBulk, ConnectionURLConfig: "jdbc:oracle:thin:@h:1521:x"}), key: ConnectionURLConfig},
		{name: "sink ok", sink: true, props: with(map[string]string{InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey})},
		{name: "upsert without key", sink: true, props: with(map[string]string{InsertModeConfig: InsertModeUpsert}), key: PKModeConfig},
		{name: "delete without record_key", sink: true, props: with(map[string]string{DeleteEnabledConfig: "true", PKModeConfig: PKModeRecordValue}), key: DeleteEnabledConfig},
		{name: "kafka pk with two fields", sink: true, props: with(map[string]string{PKModeConfig: PKModeKafka, PKFieldsConfig: "a,b"}), key: PKFieldsConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := SourceConfig()
			if tc.sink {
				def = SinkConfig()
			}
			problems := map[string][]string{}
			if _, err := def.Parse(tc.props); err != nil {
				var ve *config.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Parse: %v", err)
				}
				for _, p := range ve.Problems {
					problems[p.Key] = append(problems[p.Key], p.Message)
				}
			}
			if tc.key == "" {
				if len(problems) != 0 {
					t.Fatalf("problems = %v, want none", problems)
				}
				return
			}
			if len(problems[tc.key]) == 0 {
				t.Fatalf("problems = %v, want one for %s", problems, tc.key)
			}
		})
	}
}

// smallDecimal reads what ParseDecimal and Rescale read, and declines
// the rest.
func TestSmallDecimal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		scale int32
		ok    bool
	}{
		{"plain", "12.30", 2, true},
		{"rescaled", "12.3", 2, true},
		{"integer", "42", 3, true},
		{"negative", "-0.05", 2, true},
		{"plus", "+7.5", 1, true},
		{"negative zero", "-0", 0, true},
		{"eighteen digits", "999999999999999999", 0, true},
		{"too long", "9999999999999999999", 0, false},
		{"would overflow when scaled", "99999999999999999", 3, false},
		{"more digits than scale", "1.234", 2, false},
		{"exponent", "1e3", 0, false},
		{"not a number", "NaN", 2, false},
		{"empty", "", 2, false},
		{"sign only", "-", 2, false},
		{"two dots", "1.2.3", 2, false},
		{"negative scale", "100", -2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := smallDecimal(tc.text, tc.scale)
			if ok != tc.ok {
				t.Fatalf("smallDecimal(%q, %d) ok = %v, want %v", tc.text, tc.scale, ok, tc.ok)
			}
			if !ok {
				return
			}
			d, err := data.ParseDecimal(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			want, err := d.Rescale(tc.scale)
			if err != nil {
				t.Fatal(err)
			}
			if got := data.NewDecimal(u, tc.scale); !got.Equal(want) {
				t.Fatalf("smallDecimal(%q, %d) = %s, want %s", tc.text, tc.scale, got, want)
			}
		})
	}
}

// keyString tells apart the keys a database does and equates -0 with 0.
func TestKeyString(t *testing.T) {
	s := &shape{cols: []sinkCol{{name: "a", key: true}, {name: "v"}, {name: "b", key: true}}}
	distinct := [][]any{
		{"a\x00", nil, "b"}, {"a", nil, "\x00b"}, {"a", nil, "b"}, {[]byte("1"), nil, "2"}, {[]byte("1\x002"), nil, ""},
		{int64(1), nil, "2"}, {"1", nil, "2"}, {1.5, nil, "x"},
	}
	seen := map[string]int{}
	for i, args := range distinct {
		k := keyString(s, args)
		if j, ok := seen[k]; ok {
			t.Errorf("keys %q and %q both %q", distinct[j], args, k)
		}
		seen[k] = i
	}
	if keyString(s, []any{math.Copysign(0, -1), "x", "k"}) != keyString(s, []any{0.0, "y", "k"}) {
		t.Error("-0 and 0 are different keys")
	}
}

// A MySQL session time zone is an offset, a zone name, or (SYSTEM) the
// server's system_time_zone, which may be an abbreviation that names no
// zone's rules.
func TestMySQLZone(t *testing.T) {
	for name, want := range map[string]string{
		"+09:00": "+09:00", "-05:30": "-05:30", "+00:00": "UTC", "UTC": "UTC", "Europe/Berlin": "Europe/Berlin",
		"CEST": "", "": "", "Local": "", "+9:00": "",
	} {
		loc := mysqlZone(name)
		got := ""
		if loc != nil {
			got = loc.String()
		}
		if got != want {
			t.Errorf("mysqlZone(%q) = %q, want %q", name, got, want)
		}
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, mysqlZone("-05:30")).Zone(); off != -(5*3600 + 30*60) {
		t.Errorf("-05:30 has offset %d", off)
	}
}

// A wall clock is read in db.timezone as PostgreSQL reads it: the
// repeated hour at the end of daylight saving time as standard time, the
// skipped hour at its start with the offset before it.
func TestWallIn(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		wall time.Time
		want time.Time
	}{
		{time.Date(2026, 11, 1, 0, 59, 0, 0, time.UTC), time.Date(2026, 11, 1, 4, 59, 0, 0, time.UTC)},
		{time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 1, 1, 30, 0, 0, ny), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)},
		{time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		{time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 3, 30, 0, 0, time.UTC)},
		{time.Date(2026, 3, 8, 1, 59, 59, 0, time.UTC), time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC)},
		{time.Date(2026, 3, 8, 2, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},
		{time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{time.Date(2026, 7, 15, 8, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)},
	} {
		if got := wallIn(c.wall, ny); !got.Equal(c.want) {
			t.Errorf("wallIn(%s) = %s, want %s", c.wall.Format("2006-01-02 15:04:05"), got.UTC(), c.want)
		}
	}
}
