package postgrescdc

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// offsetLSN is where a committed offset says streaming resumes.
func offsetLSN(t *testing.T, off map[string]any) int64 {
	t.Helper()
	p := parsePosition(off)
	if p == nil {
		t.Fatal("no committed offset")
	}
	return int64(p.streamStart())
}

// walSegments lists the WAL segment files in pg_wal.
func (e *env) walSegments(t *testing.T) []string {
	t.Helper()
	rows, err := e.db.SQL.Query("SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func (e *env) queryString(t *testing.T, q string) string {
	t.Helper()
	var s string
	if err := e.db.SQL.QueryRow(q).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A lease killed after it produced and before its offsets were written
// must leave the slot where the committed offset is: the WAL stays, the
// next lease replays the changes (at least once), and only once that
// lease's offsets are written does the slot move and the WAL go.
func TestCrashBeforeOffsetCommitKeepsWAL(t *testing.T) {
	e := newEnv(t, map[string]string{HeartbeatIntervalConfig: "100"})
	e.db.Exec(t, `CREATE TABLE items (id int PRIMARY KEY, v text)`)
	e.mustRun(t) // creates the slot; nothing to snapshot

	// The changes, in a WAL segment of their own.
	e.db.Exec(t, `SELECT pg_switch_wal()`)
	changeLSN := e.db.QueryInt(t, `SELECT pg_current_wal_lsn() - '0/0'::pg_lsn`)
	segment := e.queryString(t, `SELECT pg_walfile_name(pg_current_wal_lsn())`)
	e.db.Exec(t, `INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 50) g`)
	e.db.Exec(t, `UPDATE items SET v = 'w' WHERE id <= 10`)
	e.db.Exec(t, `SELECT pg_switch_wal()`)
	e.db.Exec(t, `CREATE TABLE filler (id int)`)
	e.db.Exec(t, `INSERT INTO filler VALUES (1)`)
	e.db.Exec(t, `SELECT pg_switch_wal()`)

	before := e.committedOffset(t)
	confirmedBefore, _ := e.slotLSN(t)

	e.store.set(true)
	res := e.run(t)
	if res.Status != lease.Failed || !res.Retriable {
		t.Fatalf("crashed lease: %s %s", res.Status, res.Trace)
	}
	if got := len(e.read(t, "srv.public.items", 0)); got != 60 {
		t.Fatalf("the crashed lease produced %d records, want 60", got)
	}
	if after := e.committedOffset(t); offsetLSN(t, after) != offsetLSN(t, before) {
		t.Fatalf("committed offset moved without a commit: %v -> %v", before, after)
	}
	e.db.Exec(t, `CHECKPOINT`)
	confirmed, restart := e.slotLSN(t)
	if confirmed != confirmedBefore || confirmed > offsetLSN(t, before) {
		t.Fatalf("slot confirmed LSN %d moved (was %d) past the committed offset %d", confirmed, confirmedBefore, offsetLSN(t, before))
	}
	if restart > changeLSN {
		t.Fatalf("slot restart LSN %d is past the uncommitted changes at %d: their WAL may be removed", restart, changeLSN)
	}
	if !slices.Contains(e.walSegments(t), segment) {
		t.Fatalf("WAL segment %s holding the uncommitted changes was removed; pg_wal has %v", segment, e.walSegments(t))
	}

	// The next lease replays the same changes and commits them.
	e.store.set(false)
	res = e.mustRun(t)
	items := e.read(t, "srv.public.items", 0)
	if len(items) != 120 {
		t.Fatalf("after the replay the topic has %d records, want 120 (60 replayed)", len(items))
	}
	for i := range 60 {
		a, b := items[i].Value, items[60+i].Value
		if a["op"] != b["op"] || a["after"].(map[string]any)["id"] != b["after"].(map[string]any)["id"] {
			t.Fatalf("replayed record %d differs: %v vs %v", i, a, b)
		}
	}
	committed := offsetLSN(t, e.committedOffset(t))
	if committed <= changeLSN {
		t.Fatalf("committed offset %d did not pass the changes at %d", committed, changeLSN)
	}
	confirmed, _ = e.slotLSN(t)
	if confirmed > committed || confirmed <= changeLSN {
		t.Fatalf("after the commit the slot confirmed %d; committed offset %d, changes at %d", confirmed, committed, changeLSN)
	}

	// With the changes committed, the slot lets the server release their WAL
	// (restart_lsn moves once the server has decoded a running-transactions
	// record after the confirmed position: a checkpoint writes one).
	released := false
	for range 6 {
		e.db.Exec(t, `CHECKPOINT`)
		e.mustRun(t)
		e.db.Exec(t, `SELECT pg_switch_wal()`)
		e.db.Exec(t, `INSERT INTO filler VALUES (1)`)
		e.db.Exec(t, `CHECKPOINT`)
		if !slices.Contains(e.walSegments(t), segment) {
			released = true
			break
		}
		off := offsetLSN(t, e.committedOffset(t))
		if c, _ := e.slotLSN(t); c > off {
			t.Fatalf("slot confirmed %d past the committed offset %d", c, off)
		}
	}
	if !released {
		_, restart = e.slotLSN(t)
		t.Fatalf("WAL segment %s is still kept after the commit (restart LSN %d, changes at %d)", segment, restart, changeLSN)
	}
	if got := len(e.read(t, "srv.public.items", 0)); got != 120 {
		t.Fatalf("later leases re-emitted committed changes: %d records", got)
	}
}
