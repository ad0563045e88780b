package jdbc

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/pkg/connect"
)

// The source leaves the session's time zone at the server's default, as
// Confluent's connector does (it reads and binds timestamps through a
// Calendar of db.timezone and sets no session zone): SQL of the user's
// (NOW(), CURRENT_DATE, current_setting('TimeZone') in a query, a view or
// query.suffix) runs as in any other client. These tests run a server
// whose default zone is neither UTC nor db.timezone and check the
// session's zone from the user's query, and that timestamps are still
// read and bound in db.timezone: across both daylight saving changes,
// without re-reading the last rows or holding back new ones.

// zoneRow is a row of the PostgreSQL tests: ts a wall clock in
// db.timezone (America/New_York), tz an instant (NULL when zero).
type zoneRow struct {
	id     int64
	ts     string
	at     time.Time // ts's instant
	tz     time.Time
	tzNull bool
}

var zoneRows = []zoneRow{
	// The last second of EST before the clocks go forward, and the first
	// of EDT after.
	{id: 1, ts: "2026-03-08 01:59:59", at: time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), tz: time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC)},
	{id: 2, ts: "2026-03-08 03:00:00", at: time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), tzNull: true},
	// 00:59 EDT, then the hour the clocks go back repeats 01:30: as
	// instants, 05:30Z (EDT) and 06:30Z (EST).
	{id: 3, ts: "2026-11-01 00:59:00", at: time.Date(2026, 11, 1, 4, 59, 0, 0, time.UTC), tz: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
	{id: 4, ts: "2026-11-01 02:00:00", at: time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), tz: time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)},
}

// PostgreSQL: the database's default TimeZone is Pacific/Honolulu (UTC-10,
// west of db.timezone, so that a timestamp column compared in the
// session's zone would re-read the last rows and hold back new ones).
func TestSourcePostgresSessionZoneIsServerDefault(t *testing.T) {
	db := newPostgres(t)
	var name string
	if err := db.sql.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	db.exec(t, "ALTER DATABASE "+name+" SET timezone = 'Pacific/Honolulu'")
	db.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, ts timestamp(3) NOT NULL, tz timestamptz(3) NULL)`)
	for _, r := range zoneRows {
		var tz any
		if !r.tzNull {
			tz = r.tz
		}
		db.exec(t, "INSERT INTO ev VALUES ($1, CAST($2 AS timestamp), $3)", r.id, r.ts, tz)
	}
	newRow := func(id int) {
		db.exec(t, `INSERT INTO ev (id, ts) VALUES ($1, (now() AT TIME ZONE 'America/New_York') - interval '1 second')`, id)
	}

	t.Run("query", func(t *testing.T) {
		props, committed, recs := sessionZoneQuery(t, db, "SELECT id, ts, tz, current_setting('TimeZone') AS session_zone FROM ev WHERE id < 10",
			"the database's", "Pacific/Honolulu")
		for i, r := range recs {
			if ts := field(r, "ts").(time.Time); !ts.Equal(zoneRows[i].at) {
				t.Errorf("row %d: ts %s, want %s", i+1, ts.UTC(), zoneRows[i].at)
			}
		}
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
		newRow(5)
		checkIDs(t, sourceLease(t, props, committed, 0), []int64{5})
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
	})

	// timestamptz alone, one row a query: the bound after 01:30 EDT
	// finds 01:30 EST.
	t.Run("timestamptz", func(t *testing.T) {
		props := db.props(map[string]string{
			ModeConfig: ModeTimestamp, TimestampColumnConfig: "tz", TopicPrefixConfig: "tz-", TablesConfig: `["ev"]`,
			DBTimezoneConfig: nonUTC, BatchMaxRowsConfig: "1", ValidateNonNullConfig: "false",
		})
		committed := memOffsets{}
		checkIDs(t, sourceLease(t, props, committed, 0), []int64{1, 3, 4})
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
	})

	// Both in one COALESCE: tz's instant, else ts's wall clock in
	// db.timezone.
	t.Run("coalesce", func(t *testing.T) {
		props := db.props(map[string]string{
			ModeConfig: ModeTimestamp, TimestampColumnConfig: "tz,ts", TopicPrefixConfig: "c-", TablesConfig: `["ev"]`,
			DBTimezoneConfig: nonUTC,
		})
		committed := memOffsets{}
		checkIDs(t, sourceLease(t, props, committed, 0), []int64{1, 2, 3, 4, 5})
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
		newRow(6)
		checkIDs(t, sourceLease(t, props, committed, 0), []int64{6})
	})

	// A date (its UTC midnight, as the source reads it) and a timestamp
	// in one COALESCE.
	t.Run("date", func(t *testing.T) {
		db.exec(t, `CREATE TABLE ev_date (id int PRIMARY KEY, d date NULL, ts timestamp(3) NOT NULL)`)
		// 5 is in the hour the start of daylight saving time skips,
		// 4 in the one its end repeats: read as PostgreSQL reads them.
		db.exec(t, `INSERT INTO ev_date VALUES (1, '2026-03-07', '2026-03-08 01:59:59'), (5, NULL, '2026-03-08 02:30:00'),
			(2, NULL, '2026-03-08 03:00:00'), (3, '2026-11-01', '2026-10-01 00:00:00'), (4, NULL, '2026-11-01 01:00:00')`)
		props := db.props(map[string]string{
			ModeConfig: ModeTimestamp, TimestampColumnConfig: "d,ts", TopicPrefixConfig: "d-", TablesConfig: `["ev_date"]`,
			DBTimezoneConfig: nonUTC,
		})
		committed := memOffsets{}
		// 2 is 07:00Z, 5 (02:30 EST) 07:30Z; 3 is 2026-11-01T00:00Z,
		// 4 (01:00 EST) 06:00Z.
		checkIDs(t, sourceLease(t, props, committed, 0), []int64{1, 2, 5, 3, 4})
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
	})
}

// MariaDB: the server's default time_zone is +09:00. A TIMESTAMP (an
// instant, rendered by the server in the session's zone) and a DATETIME
// (a wall clock in db.timezone) holding the same instants read as them,
// and timestamp mode on either, across both DST changes of db.timezone,
// reads each row once and a row of a moment ago at the next lease.
func TestSourceMySQLSessionZoneIsServerDefault(t *testing.T) {
	srv := mariadbtest.Start(t, mariadbtest.Options{Settings: map[string]string{"default-time-zone": "+09:00"}})
	mdb := srv.NewDB(t)
	db := testDB{kind: "mariadb", url: mdb.JDBCURL, user: mariadbtest.User, pass: srv.Password, schema: mdb.Name, sql: mdb.SQL}
	utc := utcSession(t, db)
	db.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, ts timestamp(3) NULL, dt datetime(3) NULL)`)
	for _, r := range zoneRows {
		utc(fmt.Sprintf("INSERT INTO ev VALUES (%d, '%s', '%s')", r.id, r.at.Format("2006-01-02 15:04:05"), r.ts))
	}
	newRow := func(id int) {
		// dt: now's wall clock in db.timezone.
		utc(fmt.Sprintf("INSERT INTO ev (id, ts, dt) VALUES (%d, UTC_TIMESTAMP(3) - INTERVAL 1 SECOND, CONVERT_TZ(UTC_TIMESTAMP(3), '+00:00', '%s') - INTERVAL 1 SECOND)",
			id, time.Now().In(mustZone(t, nonUTC)).Format("-07:00")))
	}

	t.Run("query", func(t *testing.T) {
		props, committed, recs := sessionZoneQuery(t, db, "SELECT id, ts, dt, @@session.time_zone AS session_zone FROM ev WHERE id < 5",
			"the server's", "+09:00")
		for i, r := range recs {
			ts, dt := field(r, "ts").(time.Time), field(r, "dt").(time.Time)
			if want := zoneRows[i].at; !ts.Equal(want) || !dt.Equal(want) {
				t.Errorf("row %d: ts %s, dt %s, want both %s", i+1, ts.UTC(), dt.UTC(), want)
			}
		}
		checkIDs(t, sourceLease(t, props, committed, 0), nil)
	})

	for _, col := range []string{"ts", "dt"} {
		t.Run(col, func(t *testing.T) {
			props := db.props(map[string]string{
				ModeConfig: ModeTimestamp, TimestampColumnConfig: col, TopicPrefixConfig: col + "-", TablesConfig: `["ev"]`,
				DBTimezoneConfig: nonUTC, ValidateNonNullConfig: "false",
			})
			committed := memOffsets{}
			first, id := []int64{1, 2, 3, 4}, 5
			if col == "dt" { // after ts's row 5
				first, id = []int64{1, 2, 3, 4, 5}, 6
			}
			checkIDs(t, sourceLease(t, props, committed, 0), first)
			checkIDs(t, sourceLease(t, props, committed, 0), nil)
			newRow(id)
			checkIDs(t, sourceLease(t, props, committed, 0), []int64{int64(id)})
			checkIDs(t, sourceLease(t, props, committed, 0), nil)
		})
	}
}

// sessionZoneQuery runs a lease of query (timestamp mode on ts, in
// db.timezone), checks that it read the zoneRows, 1 to 4, and that each
// row's session_zone is zone, whose default it is; it returns the lease's
// props and offsets, for the next leases, and its records.
func sessionZoneQuery(t *testing.T, db testDB, query, whose, zone string) (map[string]string, memOffsets, []connect.SourceRecord) {
	t.Helper()
	props := db.props(map[string]string{
		ModeConfig: ModeTimestamp, TimestampColumnConfig: "ts", TopicPrefixConfig: "q-", DBTimezoneConfig: nonUTC,
		QueryConfig: query,
	})
	committed := memOffsets{}
	recs := sourceLease(t, props, committed, 0)
	checkIDs(t, recs, []int64{1, 2, 3, 4})
	for i, r := range recs {
		if z := field(r, "session_zone"); z != zone {
			t.Errorf("row %d: the query ran in the session zone %v, want %s default %s", i+1, z, whose, zone)
		}
	}
	return props, committed, recs
}

// checkIDs fails t unless recs are the rows want, in order.
func checkIDs(t *testing.T, recs []connect.SourceRecord, want []int64) {
	t.Helper()
	if got := ids(recs, false); !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
