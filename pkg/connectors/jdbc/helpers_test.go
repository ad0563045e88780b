package jdbc

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/offsets"
)

type runFunc func() int

func (f runFunc) Run() int { return f() }

func TestMain(m *testing.M) {
	code := pgtest.Run(runFunc(func() int { return mariadbtest.Run(m) }))
	printRatios(os.Stdout)
	os.Exit(code)
}

// testDB is a fresh database on one of the two servers.
type testDB struct {
	kind   string // "postgres" or "mariadb"
	url    string // JDBC URL
	user   string
	pass   string
	schema string // where tables are created: public, or the MySQL database
	sql    *sql.DB
}

// forEachDB runs f against a fresh PostgreSQL and a fresh MariaDB database.
func forEachDB(t *testing.T, f func(t *testing.T, db testDB)) {
	t.Run("postgres", func(t *testing.T) { f(t, newPostgres(t)) })
	t.Run("mariadb", func(t *testing.T) { f(t, newMariaDB(t)) })
}

func newPostgres(t testing.TB) testDB {
	db := pgtest.NewDB(t)
	return testDB{kind: "postgres", url: db.JDBCURL, user: pgtest.User, pass: db.Server.Password, schema: "public", sql: db.SQL}
}

func newMariaDB(t testing.TB) testDB {
	db := mariadbtest.NewDB(t)
	return testDB{kind: "mariadb", url: db.JDBCURL, user: mariadbtest.User, pass: db.Server.Password, schema: db.Name, sql: db.SQL}
}

// pick returns pg for PostgreSQL and my for MariaDB.
func (db testDB) pick(pg, my string) string {
	if db.kind == "postgres" {
		return pg
	}
	return my
}

func (db testDB) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.sql.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (db testDB) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// props returns the connection keys and extra.
func (db testDB) props(extra map[string]string) map[string]string {
	p := map[string]string{
		"name":                   "jdbc-test",
		ConnectionURLConfig:      db.url,
		ConnectionUserConfig:     db.user,
		ConnectionPasswordConfig: db.pass,
		ConnectionAttemptsConfig: "1",
	}
	maps.Copy(p, extra)
	return p
}

// memOffsets is a committed-offsets store for source tasks: what the
// executor writes after a lease.
type memOffsets map[string]map[string]any

func (o memOffsets) Offset(partition map[string]any) map[string]any {
	return o[offsets.PartitionID(partition)]
}

func (o memOffsets) Offsets() connect.OffsetReader { return o }

// commit records the offsets of recs, as the executor does once they are
// produced.
func (o memOffsets) commit(recs []connect.SourceRecord) {
	for _, r := range recs {
		if r.SourcePartition != nil {
			o[offsets.PartitionID(r.SourcePartition)] = r.SourceOffset
		}
	}
}

// sourceLease runs a source task as one lease does: Start with the committed
// offsets, Poll until it returns nothing (or max records), Stop; the
// offsets of what was returned are committed.
func sourceLease(t *testing.T, props map[string]string, committed memOffsets, max int) []connect.SourceRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	task := NewSourceTask()
	if err := task.Start(ctx, committed, props); err != nil {
		task.Stop()
		t.Fatalf("Start: %v", err)
	}
	defer task.Stop()
	var all []connect.SourceRecord
	for max <= 0 || len(all) < max {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			break
		}
		all = append(all, recs...)
	}
	committed.commit(all)
	return all
}

// field reads a struct field of a record's value.
func field(r connect.SourceRecord, name string) any {
	return r.Value.(*data.Struct).Get(name)
}

// ids returns the "id" field of each record, as int64, sorted when asked.
func ids(recs []connect.SourceRecord, sorted bool) []int64 {
	var out []int64
	for _, r := range recs {
		switch v := field(r, "id").(type) {
		case int32:
			out = append(out, int64(v))
		case int64:
			out = append(out, v)
		}
	}
	if sorted {
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
