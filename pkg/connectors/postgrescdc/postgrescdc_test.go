package postgrescdc

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/kafka"
)

func TestSnapshotThenStreaming(t *testing.T) {
	e := newEnv(t, nil)
	e.db.Exec(t, `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, score numeric(10,2))`)
	e.db.Exec(t, `CREATE TABLE audit (id bigserial PRIMARY KEY, note text)`)
	e.db.Exec(t, `ALTER TABLE audit REPLICA IDENTITY FULL`)
	e.db.Exec(t, `INSERT INTO customers VALUES (1, 'ann', 'ann@x', 1.50), (2, 'bob', NULL, NULL)`)
	e.db.Exec(t, `INSERT INTO audit (note) VALUES ('first')`)

	res := e.mustRun(t)
	if res.Records != 3 {
		t.Fatalf("snapshot produced %d records, want 3", res.Records)
	}
	snap := e.read(t, "srv.public.customers", 0)
	if got := ops(snap); !slices.Equal(got, []string{"r", "r"}) {
		t.Fatalf("snapshot ops = %v", got)
	}
	after := snap[0].Value["after"].(map[string]any)
	if after["id"] != 1.0 || after["name"] != "ann" || after["email"] != "ann@x" {
		t.Fatalf("snapshot row = %v", after)
	}
	if snap[0].Key["id"] != 1.0 {
		t.Fatalf("key = %v %s", snap[0].Key, e.rawKeys(t, "srv.public.customers")[0])
	}
	src := snap[0].Value["source"].(map[string]any)
	if src["connector"] != "postgresql" || src["name"] != "srv" || src["schema"] != "public" || src["table"] != "customers" || src["snapshot"] != "first_in_data_collection" {
		t.Fatalf("source = %v", src)
	}

	e.db.Exec(t, `BEGIN; INSERT INTO customers VALUES (3, 'cy', 'c@x', 3); UPDATE customers SET name = 'anne' WHERE id = 1; COMMIT`)
	e.db.Exec(t, `DELETE FROM customers WHERE id = 2`)
	e.db.Exec(t, `UPDATE audit SET note = 'changed'`)
	e.db.Exec(t, `DELETE FROM audit`)
	e.mustRun(t)

	stream := e.read(t, "srv.public.customers", 2)
	if got := ops(stream); !slices.Equal(got, []string{"c", "u", "d", "tombstone"}) {
		t.Fatalf("stream ops = %v", got)
	}
	upd := stream[1].Value
	if upd["before"] != nil || upd["after"].(map[string]any)["name"] != "anne" {
		t.Fatalf("update with REPLICA IDENTITY DEFAULT: before %v after %v", upd["before"], upd["after"])
	}
	del := stream[2].Value["before"].(map[string]any)
	if del["id"] != 2.0 || del["name"] != "" || del["email"] != nil {
		t.Fatalf("delete before (key only under DEFAULT) = %v", del)
	}
	audit := e.read(t, "srv.public.audit", 0)
	if got := ops(audit); !slices.Equal(got, []string{"r", "u", "d", "tombstone"}) {
		t.Fatalf("audit ops = %v", got)
	}
	if b := audit[1].Value["before"].(map[string]any); b["note"] != "first" {
		t.Fatalf("update with REPLICA IDENTITY FULL: before = %v", b)
	}
	if b := audit[2].Value["before"].(map[string]any); b["note"] != "changed" {
		t.Fatalf("delete with REPLICA IDENTITY FULL: before = %v", b)
	}

	// Nothing new: a further lease emits nothing.
	if res := e.mustRun(t); res.Records != 0 {
		t.Fatalf("idle lease produced %d records", res.Records)
	}
}

// An update that changes the primary key becomes a delete of the old key,
// its tombstone and a create of the new key, with Debezium's
// __debezium.newkey and __debezium.oldkey headers.
func TestPrimaryKeyChange(t *testing.T) {
	e := newEnv(t, nil)
	e.db.Exec(t, `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)`)
	e.db.Exec(t, `INSERT INTO customers VALUES (2, 'bob')`)
	e.mustRun(t) // the snapshot
	e.db.Exec(t, `INSERT INTO customers VALUES (1, 'ann')`)
	e.db.Exec(t, `UPDATE customers SET id = 10 WHERE id = 1`)
	e.mustRun(t)
	if got := ops(e.read(t, "srv.public.customers", 0)); !slices.Equal(got, []string{"r", "c", "d", "tombstone", "c"}) {
		t.Fatalf("ops = %v", got)
	}
	tp := kafka.TopicPartition{Topic: "srv.public.customers", Partition: 0}
	var got []string
	err := e.kafka.Client.FetchRange(t.Context(), tp, 2, 5, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			for _, h := range m.Headers {
				got = append(got, h.Key+"="+string(h.Value))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`__debezium.newkey={"id":10}`, `__debezium.newkey={"id":10}`, `__debezium.oldkey={"id":1}`}
	if !slices.Equal(got, want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
}
