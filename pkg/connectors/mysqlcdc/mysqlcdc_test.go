package mysqlcdc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/transforms"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Run(m)) }

// serverIDs gives each test its own replica server id: the server drops
// an earlier connection with the same id.
var serverIDs atomic.Int64

type env struct {
	db     *mariadbtest.DB
	kafka  *kafkatest.Env
	store  *crashingStore
	exec   *lease.Executor
	config map[string]string
	epoch  int64
	// maxRecords bounds each lease (0: the executor's default).
	maxRecords int64
}

func newEnv(t *testing.T, class string) *env {
	t.Helper()
	db := mariadbtest.NewDB(t)
	k := kafkatest.Start(t, 1)
	reg, err := connect.NewRegistry(append(append(converter.Plugins(), transforms.Plugins()...), Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	store := &crashingStore{Store: k.Offsets}
	e := &env{db: db, kafka: k, store: store,
		exec: lease.NewExecutor(reg, k.Client, store, lease.Options{SafetyMargin: 200 * time.Millisecond})}
	e.config = map[string]string{
		"name": "cdc", "connector.class": class,
		HostnameConfig: db.Server.Host, PortConfig: strconv.Itoa(db.Server.Port), UserConfig: mariadbtest.User,
		PasswordConfig: db.Server.Password, ServerIDConfig: strconv.FormatInt(6000+serverIDs.Add(1), 10),
		TopicPrefixConfig: "srv", DatabaseIncludeConfig: db.Name,
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false", "key.converter.schemas.enable": "false",
		// Schema change events (on by default) are tested by
		// schemachange_test.go; the other tests count change events only.
		IncludeSchemaChangesConfig: "false",
	}
	return e
}

func (e *env) run(t *testing.T) lease.Result {
	t.Helper()
	e.epoch++
	l := lease.Lease{ID: fmt.Sprintf("l%d", e.epoch), Kind: lease.KindSource, Connector: "cdc", Epoch: e.epoch,
		Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: e.config, TaskConfig: e.config,
		Budget: lease.Budget{MaxIdle: lease.Duration(700 * time.Millisecond), MaxRecords: e.maxRecords}}
	return e.exec.Run(context.Background(), l)
}

func (e *env) mustRun(t *testing.T) lease.Result {
	t.Helper()
	res := e.run(t)
	if res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s\n%s", res.LeaseID, res.Status, res.Trace)
	}
	return res
}

// read returns a topic's values (nil for tombstones), decoded.
func (e *env) read(t *testing.T, topic string) []map[string]any {
	t.Helper()
	ctx := t.Context()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	err = e.kafka.Client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			var v map[string]any
			if m.Value != nil {
				if err := json.Unmarshal(m.Value, &v); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ops(vs []map[string]any) []string {
	var out []string
	for _, v := range vs {
		if v == nil {
			out = append(out, "tombstone")
		} else {
			out = append(out, v["op"].(string))
		}
	}
	return out
}

type crashingStore struct {
	offsets.Store
	mu    sync.Mutex
	crash bool
}

func (s *crashingStore) set(c bool) { s.mu.Lock(); s.crash = c; s.mu.Unlock() }

func (s *crashingStore) Write(ctx context.Context, connector string, entries []offsets.Entry) error {
	s.mu.Lock()
	c := s.crash
	s.mu.Unlock()
	if c {
		return fmt.Errorf("simulated crash before the offset write")
	}
	return s.Store.Write(ctx, connector, entries)
}

func TestSnapshotThenBinlog(t *testing.T) {
	for _, class := range []string{MariaDBClass, MySQLClass} {
		t.Run(class, func(t *testing.T) {
			e := newEnv(t, class)
			e.db.Exec(t, `CREATE TABLE customers (id int PRIMARY KEY, name varchar(40) NOT NULL, score decimal(10,2), born date, seen datetime(6), kind enum('a','b'))`)
			e.db.Exec(t, `INSERT INTO customers VALUES (1, 'ann', 1.50, '2000-01-02', '2024-01-15 10:20:30.123456', 'b'), (2, 'bob', NULL, NULL, NULL, NULL)`)
			res := e.mustRun(t)
			if res.Records != 2 {
				t.Fatalf("snapshot: %d records", res.Records)
			}
			e.db.Exec(t, `INSERT INTO customers VALUES (3, 'cy', 3, NULL, NULL, 'a')`)
			e.db.Exec(t, `UPDATE customers SET name = 'anne' WHERE id = 1`)
			e.db.Exec(t, `DELETE FROM customers WHERE id = 2`)
			e.mustRun(t)
			topic := "srv." + e.db.Name + ".customers"
			vs := e.read(t, topic)
			if got := ops(vs); !slices.Equal(got, []string{"r", "r", "c", "u", "d", "tombstone"}) {
				t.Fatalf("ops = %v", got)
			}
			first := vs[0]["after"].(map[string]any)
			if first["name"] != "ann" || first["born"] != 10958.0 || first["seen"] != 1705314030123456.0 || first["kind"] != "b" {
				t.Fatalf("snapshot row = %v", first)
			}
			upd := vs[3]
			if upd["before"].(map[string]any)["name"] != "ann" || upd["after"].(map[string]any)["name"] != "anne" {
				t.Fatalf("update = %v", upd)
			}
			src := upd["source"].(map[string]any)
			want := map[string]string{MariaDBClass: "mariadb", MySQLClass: "mysql"}[class]
			if src["connector"] != want || src["table"] != "customers" || src["db"] != e.db.Name || src["file"] == "" || src["server_id"] != 1.0 {
				t.Fatalf("source = %v", src)
			}
			if res := e.mustRun(t); res.Records != 0 {
				t.Fatalf("an idle lease emitted %d records", res.Records)
			}
		})
	}
}

// An update that changes the primary key becomes a delete of the old key,
// its tombstone and a create of the new key, with Debezium's
// __debezium.newkey and __debezium.oldkey headers, so that a keyed sink
// (a compacted topic, the JDBC sink) drops the old row.
func TestPrimaryKeyChange(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.db.Exec(t, `CREATE TABLE customers (id int PRIMARY KEY, name varchar(40) NOT NULL)`)
	e.db.Exec(t, `INSERT INTO customers VALUES (2, 'bob')`)
	e.mustRun(t) // the snapshot
	e.db.Exec(t, `INSERT INTO customers VALUES (1, 'ann')`)
	e.db.Exec(t, `UPDATE customers SET id = 10 WHERE id = 1`)
	e.mustRun(t)
	topic := "srv." + e.db.Name + ".customers"
	if got := ops(e.read(t, topic)); !slices.Equal(got, []string{"r", "c", "d", "tombstone", "c"}) {
		t.Fatalf("ops = %v", got)
	}
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	var got []string
	err := e.kafka.Client.FetchRange(t.Context(), tp, 1, 5, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			var hs []string
			for _, h := range m.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			got = append(got, string(m.Key)+" "+strings.Join(hs, ","))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":1} `, `{"id":1} __debezium.newkey={"id":10}`, `{"id":1} __debezium.newkey={"id":10}`,
		`{"id":10} __debezium.oldkey={"id":1}`}
	if !slices.Equal(got, want) {
		t.Fatalf("keys and headers:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A lease killed after produce and before its offset write: the next one
// replays from the committed position (at least once), then nothing more.
func TestCrashBeforeOffsetCommitReplays(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.db.Exec(t, `CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL)`)
	e.db.Exec(t, `INSERT INTO items VALUES (0, 0)`) // the snapshot's record commits an offset
	e.mustRun(t)
	e.db.Exec(t, `INSERT INTO items VALUES (1, 1), (2, 2), (3, 3)`)
	e.db.Exec(t, `UPDATE items SET v = v + 10`)
	e.store.set(true)
	if res := e.run(t); res.Status != lease.Failed {
		t.Fatalf("crashed lease: %s", res.Status)
	}
	e.store.set(false)
	e.mustRun(t)
	topic := "srv." + e.db.Name + ".items"
	vs := e.read(t, topic)
	if got := ops(vs); !slices.Equal(got, []string{"r", "c", "c", "c", "u", "u", "u", "u", "c", "c", "c", "u", "u", "u", "u"}) {
		t.Fatalf("after the replay: %v (the 7 changes twice, at least once)", got)
	}
	e.db.Exec(t, `INSERT INTO items VALUES (4, 4)`)
	e.mustRun(t)
	if got := ops(e.read(t, topic)); len(got) != 16 || got[15] != "c" {
		t.Fatalf("after the replay: %v", got)
	}
}

func TestAddColumnAndNewTable(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, x varchar(10))`)
	e.mustRun(t)
	e.db.Exec(t, `INSERT INTO a VALUES (1, 'one')`)
	e.mustRun(t)
	e.db.Exec(t, `ALTER TABLE a ADD COLUMN y int`)
	e.db.Exec(t, `INSERT INTO a VALUES (2, 'two', 22)`)
	e.db.Exec(t, `CREATE TABLE b (id int PRIMARY KEY)`)
	e.db.Exec(t, `INSERT INTO b VALUES (7)`)
	e.mustRun(t)
	a := e.read(t, "srv."+e.db.Name+".a")
	if len(a) != 2 || a[1]["after"].(map[string]any)["y"] != 22.0 {
		t.Fatalf("table a: %v", a)
	}
	if _, ok := a[0]["after"].(map[string]any)["y"]; ok {
		t.Fatalf("the row before ADD COLUMN has y: %v", a[0])
	}
	b := e.read(t, "srv."+e.db.Name+".b")
	if len(b) != 1 || b[0]["op"] != "c" {
		t.Fatalf("table b: %v", b)
	}
}

// Leases too small for a transaction end inside it: the next one resumes
// at the transaction's start and skips what was emitted, so every change
// arrives once, in order.
func TestLeasesEndInsideTransactions(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.config[MaxBatchSizeConfig] = "7"
	e.maxRecords = 10
	e.db.Exec(t, `CREATE TABLE n (id int PRIMARY KEY, v int NOT NULL)`)
	e.db.Exec(t, `INSERT INTO n VALUES (0, 0)`)
	e.mustRun(t)
	for i := range 3 {
		e.db.Exec(t, fmt.Sprintf(`INSERT INTO n SELECT seq, %d FROM seq_%d_to_%d`, i, i*30+1, i*30+30))
		e.db.Exec(t, `UPDATE n SET v = v + 100 WHERE id > 0`)
	}
	for range 40 {
		if res := e.mustRun(t); !res.MorePending && res.Records == 0 {
			break
		}
	}
	vs := e.read(t, "srv."+e.db.Name+".n")
	seen := map[string]bool{}
	for _, v := range vs[1:] {
		after := v["after"].(map[string]any)
		k := fmt.Sprint(v["op"], after["id"], after["v"])
		if seen[k] {
			t.Fatalf("change %s arrived twice", k)
		}
		seen[k] = true
	}
	// 90 inserts, then updates of 30, 60 and 90 rows.
	if len(vs) != 1+90+30+60+90 {
		t.Fatalf("%d records, want %d", len(vs), 1+90+30+60+90)
	}
}

// snapshot.mode=no_data: the first lease commits the position it starts
// streaming at (with a heartbeat), so changes made between leases are read
// by the next one, not skipped.
func TestNoDataKeepsChangesBetweenLeases(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.config[SnapshotModeConfig] = SnapshotNoData
	e.db.Exec(t, `CREATE TABLE items (id int PRIMARY KEY)`)
	e.db.Exec(t, `INSERT INTO items VALUES (1)`) // before the start: not captured
	e.mustRun(t)
	e.db.Exec(t, `INSERT INTO items VALUES (2)`) // between leases
	e.mustRun(t)
	vs := e.read(t, "srv."+e.db.Name+".items")
	if len(vs) != 1 || vs[0]["after"].(map[string]any)["id"] != 2.0 {
		t.Fatalf("records %v, want the insert of id 2", vs)
	}
	if hb := e.read(t, "__debezium-heartbeat.srv"); len(hb) != 1 {
		t.Fatalf("%d heartbeats, want 1", len(hb))
	}
}

// A Debezium offset inside a transaction ({event: 2, row: 1}: the GTID and
// table map events handled, one row of the rows event emitted) counts
// binlog events, not row changes: taking it over reads the transaction
// again from its start, so no row of it is lost.
func TestDebeziumOffsetInsideTransactionLosesNothing(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.config[SnapshotModeConfig] = SnapshotNoData
	e.db.Exec(t, `CREATE TABLE d (id int PRIMARY KEY)`)
	e.mustRun(t)
	var file string
	var pos uint32
	var a, b any
	if err := e.db.SQL.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &a, &b); err != nil {
		t.Fatal(err)
	}
	e.db.Exec(t, `INSERT INTO d VALUES (1), (2), (3)`)
	// Where that transaction's GTID event starts: the offset's pos, as
	// Debezium's MariaDB connector stores it.
	rows, err := e.db.SQL.Query(fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d", file, pos))
	if err != nil {
		t.Fatal(err)
	}
	var gtidPos int64 = -1
	for rows.Next() {
		var logName, evType, info string
		var p, serverID, end int64
		if err := rows.Scan(&logName, &p, &evType, &serverID, &end, &info); err != nil {
			t.Fatal(err)
		}
		if evType == "Gtid" && gtidPos < 0 {
			gtidPos = p
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if gtidPos < 0 {
		t.Fatal("no GTID event after the first lease's position")
	}
	err = e.store.Write(t.Context(), "cdc", []offsets.Entry{{
		Partition: map[string]any{"server": "srv"},
		Offset:    map[string]any{"file": file, "pos": gtidPos, "event": int64(2), "row": int64(1), "server_id": int64(1), "ts_sec": time.Now().Unix()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(t)
	var ids []float64
	for _, v := range e.read(t, "srv."+e.db.Name+".d") {
		ids = append(ids, v["after"].(map[string]any)["id"].(float64))
	}
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Fatalf("ids %v after taking over Debezium's offset inside the transaction, want [1 2 3]", ids)
	}
}
