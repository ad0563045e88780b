package postgrescdc

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// fieldNames returns the names of the after struct's fields in a record's
// value schema (JsonConverter with schemas).
func afterFields(t *testing.T, raw []byte) []string {
	t.Helper()
	var env struct {
		Schema struct {
			Fields []struct {
				Field  string `json:"field"`
				Fields []struct {
					Field string `json:"field"`
				} `json:"fields"`
			} `json:"fields"`
		} `json:"schema"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	for _, f := range env.Schema.Fields {
		if f.Field == "after" {
			var out []string
			for _, g := range f.Fields {
				out = append(out, g.Field)
			}
			return out
		}
	}
	t.Fatalf("no after field in %s", raw)
	return nil
}

func TestNewTableAndAddColumnWhileRunning(t *testing.T) {
	e := newEnv(t, nil)
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, x text)`)
	e.db.Exec(t, `INSERT INTO a VALUES (1, 'one')`)
	e.mustRun(t)

	e.db.Exec(t, `INSERT INTO a VALUES (2, 'two')`)
	e.db.Exec(t, `ALTER TABLE a ADD COLUMN y int`)
	e.db.Exec(t, `INSERT INTO a VALUES (3, 'three', 33)`)
	e.db.Exec(t, `CREATE TABLE b (id int PRIMARY KEY, z text)`)
	e.db.Exec(t, `INSERT INTO b VALUES (1, 'bee')`)
	e.mustRun(t)

	raw := e.rawValues(t, "srv.public.a")
	if len(raw) != 3 {
		t.Fatalf("table a has %d records, want 3", len(raw))
	}
	if got := afterFields(t, raw[1]); !slices.Equal(got, []string{"id", "x"}) {
		t.Fatalf("before ADD COLUMN the schema has %v", got)
	}
	if got := afterFields(t, raw[2]); !slices.Equal(got, []string{"id", "x", "y"}) {
		t.Fatalf("after ADD COLUMN the schema has %v", got)
	}
	a := e.read(t, "srv.public.a", 2)
	if a[0].Value["after"].(map[string]any)["y"] != 33.0 {
		t.Fatalf("new column value: %v", a[0].Value["after"])
	}
	b := e.read(t, "srv.public.b", 0)
	if len(b) != 1 || b[0].Value["op"] != "c" || b[0].Value["after"].(map[string]any)["z"] != "bee" {
		t.Fatalf("new table's records: %v", b)
	}
}

func TestMissingPublicationFails(t *testing.T) {
	e := newEnv(t, map[string]string{PublicationAutocreateConfig: PublicationDisabled})
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY)`)
	res := e.run(t)
	if res.Status != lease.Failed || res.Retriable || !strings.Contains(res.Trace, `publication "`+e.config[PublicationNameConfig]+`" does not exist and publication.autocreate.mode is disabled`) {
		t.Fatalf("lease without publication: %s retriable=%v\n%s", res.Status, res.Retriable, res.Trace)
	}
}

func TestPublicationDroppedBetweenLeasesFails(t *testing.T) {
	e := newEnv(t, nil)
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY)`)
	e.mustRun(t)
	e.db.Exec(t, `DROP PUBLICATION `+ident(e.config[PublicationNameConfig]))
	e.db.Exec(t, `INSERT INTO a VALUES (1)`)
	e.config[PublicationAutocreateConfig] = PublicationDisabled
	res := e.run(t)
	if res.Status != lease.Failed || !strings.Contains(res.Trace, "does not exist") {
		t.Fatalf("lease after the publication was dropped: %s\n%s", res.Status, res.Trace)
	}
}

func TestDroppedSlotFails(t *testing.T) {
	e := newEnv(t, nil)
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY)`)
	e.db.Exec(t, `INSERT INTO a VALUES (1)`)
	e.mustRun(t)
	e.waitSlotInactive(t)
	e.db.Exec(t, `SELECT pg_drop_replication_slot($1)`, e.config[SlotNameConfig])
	e.db.Exec(t, `INSERT INTO a VALUES (2)`)

	res := e.run(t)
	if res.Status != lease.Failed || res.Retriable || !strings.Contains(res.Trace, "replication slot does not exist") ||
		!strings.Contains(res.Trace, "snapshot.mode=when_needed") {
		t.Fatalf("lease with the slot dropped: %s retriable=%v\n%s", res.Status, res.Retriable, res.Trace)
	}

	// when_needed recovers with a new snapshot.
	e.config[SnapshotModeConfig] = SnapshotWhenNeeded
	e.mustRun(t)
	got := e.read(t, "srv.public.a", 1)
	if ops := ops(got); !slices.Equal(ops, []string{"r", "r"}) {
		t.Fatalf("recovery snapshot: %v", ops)
	}
}
