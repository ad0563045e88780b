package jdbc

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// nonUTC is the db.timezone of the MySQL time zone tests: UTC-5 in
// January, UTC-4 in July.
const nonUTC = "America/New_York"

// MySQL/MariaDB with db.timezone=America/New_York: a DATETIME holds a wall
// clock in db.timezone, a TIMESTAMP an instant (MySQL stores it in UTC and
// the connector's session zone is UTC). The source reads both as the same
// instant, and timestamp mode on a TIMESTAMP column neither re-reads the
// last rows nor holds back new ones by the zone's offset.
func TestSourceMySQLTimestampWithDBTimezone(t *testing.T) {
	db := newMariaDB(t)
	utc := utcSession(t, db)
	db.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, ts timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), dt datetime(3) NULL)`)
	// The same instants: 2026-01-15 12:00:00 UTC is 07:00 in New York
	// (EST), 2026-07-15 12:00:00 UTC is 08:00 (EDT).
	utc(`INSERT INTO ev (id, ts, dt) VALUES (1, '2026-01-15 12:00:00.000', '2026-01-15 07:00:00.000'),
		(2, '2026-07-15 12:00:00.000', '2026-07-15 08:00:00.000')`)
	props := db.props(map[string]string{
		ModeConfig: ModeTimestamp, TimestampColumnConfig: "ts", TopicPrefixConfig: "db-", TablesConfig: `["ev"]`,
		DBTimezoneConfig: nonUTC,
	})
	committed := memOffsets{}
	recs := sourceLease(t, props, committed, 0)
	if got := ids(recs, false); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("lease 1 ids = %v, want [1 2]", got)
	}
	for i, want := range []time.Time{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)} {
		ts, dt := field(recs[i], "ts").(time.Time), field(recs[i], "dt").(time.Time)
		if !ts.Equal(want) || !dt.Equal(want) {
			t.Errorf("row %d: ts %s, dt %s; want both %s", i+1, ts.UTC(), dt.UTC(), want)
		}
	}
	// Nothing new: nothing read (the bound is not shifted back by the
	// zone's offset).
	if got := ids(sourceLease(t, props, committed, 0), false); len(got) != 0 {
		t.Fatalf("lease 2 re-read ids %v", got)
	}
	// A row of a moment ago is read by the next lease (the upper bound,
	// the database's now, is not shifted back by the zone's offset either).
	utc("INSERT INTO ev (id, ts) VALUES (3, UTC_TIMESTAMP(3) - INTERVAL 1 SECOND)")
	if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, []int64{3}) {
		t.Fatalf("lease 3 ids = %v, want [3]", got)
	}
}

// The sink with db.timezone=America/New_York writes a Connect Timestamp
// into a MySQL TIMESTAMP column as the same instant and into a DATETIME
// column as the wall clock in db.timezone.
func TestSinkMySQLTimestampWithDBTimezone(t *testing.T) {
	db := newMariaDB(t)
	db.exec(t, `CREATE TABLE ev (id bigint PRIMARY KEY, ts timestamp(3) NULL, dt datetime(3) NULL)`)
	schema := data.StructBuilder().Name("ev").Field("id", data.Int64Schema).
		Field("ts", data.TimestampSchema().MustBuild()).Field("dt", data.TimestampSchema().MustBuild()).MustBuild()
	instants := []time.Time{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)}
	var recs []connect.SinkRecord
	for i, at := range instants {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "ev", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "ev", connect.PartitionOf(0)
		v := data.NewStruct(schema)
		v.Set("id", int64(i+1))
		v.Set("ts", at)
		v.Set("dt", at)
		r.ValueSchema, r.Value = schema, v
		recs = append(recs, r)
	}
	props := db.props(map[string]string{"topics": "ev", DBTimezoneConfig: nonUTC})
	if err := sinkLease(t, props, recs, nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		epoch int64
		wall  string
	}{{instants[0].Unix(), "2026-01-15 07:00:00.000"}, {instants[1].Unix(), "2026-07-15 08:00:00.000"}} {
		var epoch int64
		var wall string
		if err := db.sql.QueryRow("SELECT CAST(UNIX_TIMESTAMP(ts) AS SIGNED), CAST(dt AS CHAR) FROM ev WHERE id = ?", i+1).Scan(&epoch, &wall); err != nil {
			t.Fatal(err)
		}
		if epoch != want.epoch || wall != want.wall {
			t.Errorf("row %d: ts epoch %d, dt %q; want %d and %q", i+1, epoch, wall, want.epoch, want.wall)
		}
	}
}

// utcSession returns a function running statements on one connection of
// db whose session time zone is UTC, so that TIMESTAMP literals are UTC.
func utcSession(t *testing.T, db testDB) func(query string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	exec := func(query string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec("SET time_zone = '+00:00'")
	return exec
}

// Timestamp columns mixing MySQL TIMESTAMP and DATETIME cannot be compared
// in one COALESCE under a db.timezone other than UTC: the lease fails
// rather than skip or repeat rows.
func TestSourceMySQLMixedTimestampColumnsRejected(t *testing.T) {
	db := newMariaDB(t)
	db.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, ts timestamp(3) NULL, dt datetime(3) NULL)`)
	props := db.props(map[string]string{
		ModeConfig: ModeTimestamp, TimestampColumnConfig: "ts,dt", TopicPrefixConfig: "db-", TablesConfig: `["ev"]`,
		DBTimezoneConfig: nonUTC,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	task := NewSourceTask()
	defer task.Stop()
	err := task.Start(ctx, memOffsets{}, props)
	if err == nil {
		_, err = task.Poll(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "mix MySQL TIMESTAMP and DATETIME") {
		t.Fatalf("error %v, want the mixed columns refused", err)
	}
}

// PostgreSQL with db.timezone=America/New_York: a timestamp (without time
// zone) column holds a wall clock in db.timezone, a timestamptz an
// instant. The source reads both as the same instant; timestamp mode's
// upper bound is the database's now as an instant (CURRENT_TIMESTAMP), so
// a row of a moment ago is read by the next lease and nothing is re-read.
func TestSourcePostgresTimestampWithDBTimezone(t *testing.T) {
	db := newPostgres(t)
	db.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, ts timestamp(3) NOT NULL, tz timestamptz(3) NULL)`)
	// 2026-01-15 12:00:00 UTC is 07:00 in New York (EST), 2026-07-15
	// 12:00:00 UTC is 08:00 (EDT).
	db.exec(t, `INSERT INTO ev (id, ts, tz) VALUES (1, '2026-01-15 07:00:00.000', '2026-01-15 12:00:00.000+00'),
		(2, '2026-07-15 08:00:00.000', '2026-07-15 12:00:00.000+00')`)
	props := db.props(map[string]string{
		ModeConfig: ModeTimestamp, TimestampColumnConfig: "ts", TopicPrefixConfig: "db-", TablesConfig: `["ev"]`,
		DBTimezoneConfig: nonUTC,
	})
	committed := memOffsets{}
	recs := sourceLease(t, props, committed, 0)
	if got := ids(recs, false); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("lease 1 ids = %v, want [1 2]", got)
	}
	for i, want := range []time.Time{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)} {
		ts, tz := field(recs[i], "ts").(time.Time), field(recs[i], "tz").(time.Time)
		if !ts.Equal(want) || !tz.Equal(want) {
			t.Errorf("row %d: ts %s, tz %s; want both %s", i+1, ts.UTC(), tz.UTC(), want)
		}
	}
	if got := ids(sourceLease(t, props, committed, 0), false); len(got) != 0 {
		t.Fatalf("lease 2 re-read ids %v", got)
	}
	db.exec(t, `INSERT INTO ev (id, ts) VALUES (3, (now() AT TIME ZONE 'America/New_York') - interval '1 second')`)
	if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, []int64{3}) {
		t.Fatalf("lease 3 ids = %v, want [3]", got)
	}
}

// The PostgreSQL sink with db.timezone=America/New_York writes a Connect
// Timestamp into a timestamp column as the wall clock in db.timezone and
// into a timestamptz column as the same instant, in upsert mode and in
// insert mode, with both columns (the timestamptz column has no binary
// form: the batch goes as CSV) and with the timestamp column alone
// (fields.whitelist: upsert as binary arrays, insert as binary COPY); an
// instant in the hour the end of daylight saving time repeats lands in
// timestamptz as itself, not as the standard-time reading of its wall clock.
func TestSinkPostgresTimestampWithDBTimezone(t *testing.T) {
	db := newPostgres(t)
	schema := data.StructBuilder().Name("ev").Field("id", data.Int64Schema).
		Field("ts", data.TimestampSchema().MustBuild()).Field("tz", data.TimestampSchema().MustBuild()).MustBuild()
	instants := []time.Time{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)} // 01:30 EDT, before the clocks go back to 01:00 EST
	walls := []string{"2026-01-15 07:00:00", "2026-07-15 08:00:00", "2026-11-01 01:30:00"}
	var recs []connect.SinkRecord
	for i, at := range instants {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "ev", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "ev", connect.PartitionOf(0)
		r.ValueSchema, r.Value = schema, data.NewStruct(schema).Set("id", int64(i+1)).Set("ts", at).Set("tz", at)
		recs = append(recs, r)
	}
	for _, mode := range []string{InsertModeUpsert, InsertModeInsert} {
		for _, fields := range []string{"", "id,ts"} {
			table := "ev_" + mode
			if fields != "" {
				table += "_ts"
			}
			db.exec(t, `CREATE TABLE `+table+` (id bigint PRIMARY KEY, ts timestamp(3) NULL, tz timestamptz(3) NULL)`)
			props := db.props(map[string]string{"name": table, "topics": "ev", TableNameFormatConfig: table, DBTimezoneConfig: nonUTC,
				InsertModeConfig: mode, PKModeConfig: PKModeRecordValue, PKFieldsConfig: "id", FieldsWhitelistConfig: fields})
			if err := sinkLease(t, props, recs, nil); err != nil {
				t.Fatal(err)
			}
			for i, want := range walls {
				var wall string
				var epoch sql.NullInt64
				if err := db.sql.QueryRow("SELECT ts::text, extract(epoch FROM tz)::bigint FROM "+table+" WHERE id = $1", i+1).Scan(&wall, &epoch); err != nil {
					t.Fatal(err)
				}
				if wall != want {
					t.Errorf("%s row %d: ts %q, want %q", table, i+1, wall, want)
				}
				if fields == "" && epoch.Int64 != instants[i].Unix() {
					t.Errorf("%s row %d: tz epoch %d (%v), want %d (%v)", table, i+1, epoch.Int64,
						time.Unix(epoch.Int64, 0).UTC(), instants[i].Unix(), instants[i])
				}
			}
		}
	}
}
