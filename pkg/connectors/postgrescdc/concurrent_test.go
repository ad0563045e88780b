package postgrescdc

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// Concurrent transactions of inserts, updates and deletes, read by leases
// so small that they end inside transactions: every change arrives exactly
// once and in commit order per row (each update bumps the row's version by
// one), and replaying the events rebuilds the table.
func TestConcurrentTransactionsOnceInOrder(t *testing.T) {
	e := newEnv(t, map[string]string{MaxBatchSizeConfig: "7", SkippedOperationsConfig: "none"})
	e.maxRecords = 23
	e.db.Exec(t, `CREATE TABLE acc (id int PRIMARY KEY, ver int NOT NULL, note text)`)
	e.db.Exec(t, `CREATE TABLE scratch (id int PRIMARY KEY)`)
	e.db.Exec(t, `INSERT INTO acc SELECT g, 0, 'seed' FROM generate_series(1, 20) g`)
	e.mustRun(t)

	const workers, txs = 4, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range txs {
				id := 1000 + w*100 + i
				q := fmt.Sprintf(`BEGIN;
INSERT INTO acc VALUES (%d, 0, 'w%d');
UPDATE acc SET ver = ver + 1 WHERE id = %d;
UPDATE acc SET ver = ver + 1, note = 'x' WHERE id = %d;
UPDATE acc SET ver = ver + 1 WHERE id = %d;
DELETE FROM acc WHERE id = %d AND ver > 2;
COMMIT`, id, w, id, 1+rng.IntN(20), 1+rng.IntN(20), 1000+w*100+rng.IntN(i+1))
				// Serialisation conflicts cannot happen at READ COMMITTED;
				// row locks order the updates of one row.
				e.db.Exec(t, q)
			}
		}()
	}
	e.db.Exec(t, `INSERT INTO scratch VALUES (1), (2)`)
	e.db.Exec(t, `TRUNCATE scratch`)
	wg.Wait()

	for range 100 {
		res := e.mustRun(t)
		if res.Records == 0 {
			break
		}
	}
	events := e.read(t, "srv.public.acc", 0)
	state := map[float64]float64{} // id → version
	for i, m := range events {
		if m.Value == nil {
			continue // tombstone
		}
		switch op := m.Value["op"]; op {
		case "r", "c":
			after := m.Value["after"].(map[string]any)
			id := after["id"].(float64)
			if _, dup := state[id]; dup {
				for j := max(0, i-20); j <= i; j++ {
					if v := events[j].Value; v != nil {
						s := v["source"].(map[string]any)
						t.Logf("%d %v %v %v %v", j, v["op"], s["txId"], s["sequence"], v["after"])
					}
				}
				t.Fatalf("event %d: row %v created twice", i, id)
			}
			state[id] = after["ver"].(float64)
		case "u":
			after := m.Value["after"].(map[string]any)
			id := after["id"].(float64)
			if want := state[id] + 1; after["ver"].(float64) != want {
				t.Fatalf("event %d: row %v at version %v, want %v (a change lost, repeated or out of order)", i, id, after["ver"], want)
			}
			state[id] = after["ver"].(float64)
		case "d":
			id := m.Value["before"].(map[string]any)["id"].(float64)
			if _, ok := state[id]; !ok {
				t.Fatalf("event %d: row %v deleted twice or never created", i, id)
			}
			delete(state, id)
		default:
			t.Fatalf("event %d: op %v", i, op)
		}
	}
	rows, err := e.db.SQL.Query(`SELECT id, ver FROM acc`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, ver float64
		if err := rows.Scan(&id, &ver); err != nil {
			t.Fatal(err)
		}
		if state[id] != ver {
			t.Fatalf("row %v: table has version %v, the events say %v", id, ver, state[id])
		}
		n++
	}
	if n != len(state) {
		t.Fatalf("table has %d rows, the events %d", n, len(state))
	}
	if got := ops(e.read(t, "srv.public.scratch", 0)); len(got) != 3 || got[2] != "t" {
		t.Fatalf("scratch events = %v, want c, c, t", got)
	}
}

// A snapshot larger than a lease resumes where the last lease stopped:
// every row is read once, the last record says so, and streaming follows.
func TestSnapshotAcrossLeases(t *testing.T) {
	e := newEnv(t, map[string]string{MaxBatchSizeConfig: "10"})
	e.maxRecords = 25
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, v text)`)
	e.db.Exec(t, `CREATE TABLE b (k1 int, k2 text, PRIMARY KEY (k1, k2))`)
	e.db.Exec(t, `CREATE TABLE c (id int PRIMARY KEY)`) // empty, last
	e.db.Exec(t, `INSERT INTO a SELECT g, 'v' FROM generate_series(1, 60) g`)
	e.db.Exec(t, `INSERT INTO b SELECT g % 7, 'k' || g FROM generate_series(1, 45) g`)
	leases := 0
	for range 20 {
		res := e.mustRun(t)
		leases++
		if !res.MorePending {
			break
		}
	}
	if leases < 4 {
		t.Fatalf("the snapshot took %d leases; the test wants it split", leases)
	}
	a, b := e.read(t, "srv.public.a", 0), e.read(t, "srv.public.b", 0)
	if len(a) != 60 || len(b) != 45 {
		t.Fatalf("snapshot read %d and %d rows, want 60 and 45", len(a), len(b))
	}
	seen := map[string]bool{}
	for _, m := range append(a, b...) {
		k := fmt.Sprint(m.Key)
		if seen[k] || m.Value["op"] != "r" {
			t.Fatalf("row %s read twice or not as a read: %v", k, m.Value["op"])
		}
		seen[k] = true
	}
	if last := b[len(b)-1].Value["source"].(map[string]any)["snapshot"]; last != "last" {
		t.Fatalf("the snapshot's last record is marked %v", last)
	}
	if off := e.committedOffset(t); off[lastSnapshotRecordKey] != true {
		t.Fatalf("committed offset after the snapshot: %v", off)
	}
	e.db.Exec(t, `INSERT INTO c VALUES (1)`)
	e.mustRun(t)
	if got := ops(e.read(t, "srv.public.c", 0)); len(got) != 1 || got[0] != "c" {
		t.Fatalf("streaming after the snapshot: %v", got)
	}
}
