package jdbc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// createOrders creates table orders(id auto-increment primary key, name,
// updated_at timestamp(3)).
func createOrders(t *testing.T, db testDB, table string) {
	t.Helper()
	db.exec(t, db.pick(
		"CREATE TABLE "+table+" (id serial PRIMARY KEY, name text NOT NULL, updated_at timestamp(3) NOT NULL DEFAULT date_trunc('milliseconds', now()::timestamp))",
		"CREATE TABLE "+table+" (id int AUTO_INCREMENT PRIMARY KEY, name text NOT NULL, updated_at datetime(3) NOT NULL DEFAULT NOW(3))"))
}

func insertOrders(t *testing.T, db testDB, table string, n int) {
	t.Helper()
	var vals []string
	for i := range n {
		vals = append(vals, fmt.Sprintf("('order-%d')", i))
	}
	db.exec(t, "INSERT INTO "+table+" (name) VALUES "+strings.Join(vals, ", "))
}

func TestSourceIncrementing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 250)
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-",
			BatchMaxRowsConfig: "100", TablesConfig: `["` + db.schema + `.orders"]`,
		})
		committed := memOffsets{}
		recs := sourceLease(t, props, committed, 0)
		if got := ids(recs, false); !slices.Equal(got, seq(1, 250)) {
			t.Fatalf("first lease ids = %v, want 1..250", got)
		}
		r := recs[249]
		if r.Topic != "db-orders" {
			t.Errorf("topic = %q", r.Topic)
		}
		wantPartition := map[string]any{"protocol": "1", "table": db.schema + ".orders"}
		if offsets.PartitionID(r.SourcePartition) != offsets.PartitionID(wantPartition) {
			t.Errorf("partition = %v, want %v", r.SourcePartition, wantPartition)
		}
		if r.SourceOffset["incrementing"] != int64(250) || len(r.SourceOffset) != 1 {
			t.Errorf("offset = %v, want {incrementing:250}", r.SourceOffset)
		}
		key, ok := r.Key.(*data.Struct)
		if !ok || key.Get("id") != int32(250) || len(r.KeySchema.Fields) != 1 {
			t.Errorf("key = %v (%v), want struct{id=250}", r.Key, r.KeySchema)
		}
		if r.ValueSchema.Name != "orders" || field(r, "name") != "order-249" {
			t.Errorf("value = %v (schema %s)", r.Value, r.ValueSchema.Name)
		}
		// Updates are not seen in incrementing mode; new rows are.
		db.exec(t, "UPDATE orders SET name = 'changed' WHERE id = 3")
		insertOrders(t, db, "orders", 10)
		if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, seq(251, 260)) {
			t.Fatalf("second lease ids = %v, want 251..260", got)
		}
		if got := sourceLease(t, props, committed, 0); len(got) != 0 {
			t.Fatalf("third lease returned %d records, want none", len(got))
		}
	})
}

// Rows inserted while a lease runs are read by it or by the next one,
// never skipped or repeated.
func TestSourceIncrementingWhileInserting(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-",
			BatchMaxRowsConfig: "7", TablesConfig: `["orders"]`, PollIntervalConfig: "10",
		})
		committed := memOffsets{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 20 {
				insertOrders(t, db, "orders", 5)
				time.Sleep(5 * time.Millisecond)
			}
		}()
		var got []int64
		for i := 0; len(got) < 100 && i < 200; i++ {
			got = append(got, ids(sourceLease(t, props, committed, 20), false)...)
		}
		<-done
		got = append(got, ids(sourceLease(t, props, committed, 0), false)...)
		if !slices.Equal(got, seq(1, 100)) {
			t.Fatalf("ids = %v, want 1..100 once each in order", got)
		}
	})
}

// timestamp+incrementing: 250 rows with one timestamp cross batch and
// lease boundaries without a row skipped or repeated; an updated row comes
// again.
func TestSourceTimestampIncrementingEqualTimestamps(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 250)
		db.exec(t, "UPDATE orders SET updated_at = '2026-01-01 10:00:00.123'")
		props := db.props(map[string]string{
			ModeConfig: ModeTimestampIncrementing, IncrementingColumnConfig: "id", TimestampColumnConfig: "updated_at",
			TopicPrefixConfig: "db-", BatchMaxRowsConfig: "100", TablesConfig: `["orders"]`,
		})
		committed := memOffsets{}
		var got []int64
		for range 3 { // each lease takes one batch
			got = append(got, ids(sourceLease(t, props, committed, 100), false)...)
		}
		if !slices.Equal(got, seq(1, 250)) {
			t.Fatalf("ids = %v, want 1..250", got)
		}
		off := committed[offsets.PartitionID(map[string]any{"protocol": "1", "table": db.schema + ".orders"})]
		want := time.Date(2026, 1, 1, 10, 0, 0, 123e6, time.UTC)
		if off["incrementing"] != int64(250) || off["timestamp"] != want.UnixMilli() || off["timestamp_nanos"] != int64(123e6) {
			t.Fatalf("offset = %v, want incrementing 250, timestamp %d, timestamp_nanos 123000000", off, want.UnixMilli())
		}
		db.exec(t, "UPDATE orders SET updated_at = '2026-01-01 10:00:01', name = 'again' WHERE id = 7")
		recs := sourceLease(t, props, committed, 0)
		if len(recs) != 1 || field(recs[0], "name") != "again" {
			t.Fatalf("after an update: %d records, want the updated row", len(recs))
		}
		if ts := field(recs[0], "updated_at").(time.Time); !ts.Equal(time.Date(2026, 1, 1, 10, 0, 1, 0, time.UTC)) {
			t.Fatalf("updated_at = %v", ts)
		}
	})
}

// timestamp mode: rows sharing a timestamp at a batch boundary are neither
// skipped (the offset holds only a timestamp) nor repeated.
func TestSourceTimestampEqualAtBatchBoundary(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 30)
		// ids 1-8 at :01, 9-25 at :02 (more than a batch), 26-30 at :03.
		db.exec(t, "UPDATE orders SET updated_at = '2026-01-01 00:00:01' WHERE id <= 8")
		db.exec(t, "UPDATE orders SET updated_at = '2026-01-01 00:00:02' WHERE id > 8 AND id <= 25")
		db.exec(t, "UPDATE orders SET updated_at = '2026-01-01 00:00:03' WHERE id > 25")
		props := db.props(map[string]string{
			ModeConfig: ModeTimestamp, TimestampColumnConfig: "updated_at",
			TopicPrefixConfig: "db-", BatchMaxRowsConfig: "10", TablesConfig: `["orders"]`,
		})
		committed := memOffsets{}
		var got []int64
		for range 6 {
			got = append(got, ids(sourceLease(t, props, committed, 1), false)...)
		}
		slices.Sort(got)
		if !slices.Equal(got, seq(1, 30)) {
			t.Fatalf("ids = %v, want 1..30 once each", got)
		}
	})
}

// timestamp.delay.interval.ms: a row whose timestamp is not yet that far
// behind the database's clock waits.
func TestSourceTimestampDelay(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 1)
		db.exec(t, db.pick("UPDATE orders SET updated_at = now()::timestamp - interval '1 hour'",
			"UPDATE orders SET updated_at = NOW(3) - INTERVAL 1 HOUR"))
		insertOrders(t, db, "orders", 1) // id 2: now
		props := db.props(map[string]string{
			ModeConfig: ModeTimestampIncrementing, IncrementingColumnConfig: "id", TimestampColumnConfig: "updated_at",
			TopicPrefixConfig: "db-", TablesConfig: `["orders"]`, TimestampDelayConfig: "2000",
		})
		committed := memOffsets{}
		if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, []int64{1}) {
			t.Fatalf("ids = %v, want [1]: row 2 is younger than the delay", got)
		}
		time.Sleep(2100 * time.Millisecond)
		if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, []int64{2}) {
			t.Fatalf("after the delay ids = %v, want [2]", got)
		}
	})
}

// Offsets committed by Confluent's connector, read back from the offsets
// topic as JSON (numbers as float64), are carried over: protocol 1 and the
// older protocol 0 partition.
func TestSourceOffsetsFromConnect(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 20)
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-", TablesConfig: `["orders"]`,
		})
		for _, tc := range []struct {
			name      string
			partition string
			offset    string
			want      []int64
		}{
			{"protocol 1", `{"protocol":"1","table":"` + db.schema + `.orders"}`, `{"incrementing":15}`, seq(16, 20)},
			{"protocol 0", `{"table":"orders"}`, `{"incrementing":18}`, seq(19, 20)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var p, o map[string]any
				if err := json.Unmarshal([]byte(tc.partition), &p); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(tc.offset), &o); err != nil {
					t.Fatal(err)
				}
				committed := memOffsets{offsets.PartitionID(p): o}
				if got := ids(sourceLease(t, props, committed, 0), false); !slices.Equal(got, tc.want) {
					t.Fatalf("ids = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestSourceBulkAndQuery(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		insertOrders(t, db, "orders", 12)
		bulk := db.props(map[string]string{ModeConfig: ModeBulk, TopicPrefixConfig: "db-", TablesConfig: `["orders"]`, BatchMaxRowsConfig: "5"})
		for range 2 { // every lease copies the whole table
			if got := ids(sourceLease(t, bulk, memOffsets{}, 0), true); !slices.Equal(got, seq(1, 12)) {
				t.Fatalf("bulk ids = %v", got)
			}
		}
		query := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "big-orders",
			QueryConfig: "SELECT id, name FROM orders WHERE id % 2 = 0", BatchMaxRowsConfig: "4",
		})
		committed := memOffsets{}
		recs := sourceLease(t, query, committed, 0)
		if got := ids(recs, false); !slices.Equal(got, []int64{2, 4, 6, 8, 10, 12}) {
			t.Fatalf("query ids = %v", got)
		}
		if recs[0].Topic != "big-orders" || recs[0].Key != nil || recs[0].SourcePartition["query"] != "query" {
			t.Fatalf("query record: topic %q key %v partition %v", recs[0].Topic, recs[0].Key, recs[0].SourcePartition)
		}
		insertOrders(t, db, "orders", 2)
		if got := ids(sourceLease(t, query, committed, 0), false); !slices.Equal(got, []int64{14}) {
			t.Fatalf("query second lease ids = %v", got)
		}
	})
}

// reconfigurations counts RequestTaskReconfiguration calls.
type reconfigurations struct{ n atomic.Int32 }

func (r *reconfigurations) RequestTaskReconfiguration() { r.n.Add(1) }
func (r *reconfigurations) RaiseError(error)            {}

// The connector spreads tables over tasks, and a table created or dropped
// while it runs reconfigures them without a restart.
func TestSourceConnectorTables(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		for _, n := range []string{"a", "b", "c", "skipped"} {
			createOrders(t, db, n)
		}
		c := NewSourceConnector()
		cc := &reconfigurations{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-",
			TableBlacklistConfig: "skipped", TablePollIntervalConfig: "100",
		})
		if db.kind == "postgres" {
			props[SchemaPatternConfig] = "public"
		}
		if err := c.Start(ctx, cc, props); err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		tables := func(max int) [][]string {
			configs, err := c.TaskConfigs(max)
			if err != nil {
				t.Fatal(err)
			}
			var out [][]string
			for _, tc := range configs {
				var names []string
				if err := json.Unmarshal([]byte(tc[TablesConfig]), &names); err != nil {
					t.Fatal(err)
				}
				out = append(out, names)
			}
			return out
		}
		s := db.schema + "."
		if got := fmt.Sprint(tables(2)); got != fmt.Sprint([][]string{{s + "a", s + "b"}, {s + "c"}}) {
			t.Fatalf("2 tasks: %s", got)
		}
		if got := len(tables(10)); got != 3 {
			t.Fatalf("10 tasks max: %d configs, want 3", got)
		}
		waitFor := func(want int32) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for cc.n.Load() < want {
				if time.Now().After(deadline) {
					t.Fatalf("no task reconfiguration requested within 10s (%d)", cc.n.Load())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		createOrders(t, db, "d")
		waitFor(1)
		if got := fmt.Sprint(tables(1)); got != fmt.Sprint([][]string{{s + "a", s + "b", s + "c", s + "d"}}) {
			t.Fatalf("after create: %s", got)
		}
		db.exec(t, "DROP TABLE a")
		waitFor(2)
		if got := fmt.Sprint(tables(1)); got != fmt.Sprint([][]string{{s + "b", s + "c", s + "d"}}) {
			t.Fatalf("after drop: %s", got)
		}
		time.Sleep(300 * time.Millisecond)
		if n := cc.n.Load(); n != 2 {
			t.Fatalf("%d reconfigurations without a change, want 2", n)
		}
	})
}

// A table dropped while a task copies it is released; the others go on.
func TestSourceTableDroppedWhileRunning(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "a")
		createOrders(t, db, "b")
		insertOrders(t, db, "a", 3)
		insertOrders(t, db, "b", 3)
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-", TablesConfig: `["a", "b"]`,
		})
		ctx := context.Background()
		task := NewSourceTask()
		if err := task.Start(ctx, memOffsets{}, props); err != nil {
			t.Fatal(err)
		}
		defer task.Stop()
		db.exec(t, "DROP TABLE a")
		var got []string
		for range 4 {
			recs, err := task.Poll(ctx)
			if err != nil {
				t.Fatalf("Poll after a drop: %v", err)
			}
			for _, r := range recs {
				got = append(got, r.Topic)
			}
		}
		if !slices.Equal(got, []string{"db-b", "db-b", "db-b"}) {
			t.Fatalf("topics = %v, want table b's 3 rows", got)
		}
	})
}

// A value Connect's type cannot hold exactly fails the lease with a
// message naming the table, row and column; it is never truncated.
func TestSourceUnrepresentable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE ev (id int PRIMARY KEY, at "+db.pick("timestamp(6)", "datetime(6)")+" NOT NULL)")
		db.exec(t, "INSERT INTO ev VALUES (1, '2026-01-01 00:00:00.123000'), (2, '2026-01-01 00:00:00.123456')")
		props := db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-", TablesConfig: `["ev"]`,
		})
		ctx := context.Background()
		task := NewSourceTask()
		if err := task.Start(ctx, memOffsets{}, props); err != nil {
			t.Fatal(err)
		}
		defer task.Stop()
		_, err := task.Poll(ctx)
		if err == nil || !strings.Contains(err.Error(), "row [id=2]") || !strings.Contains(err.Error(), "column at") ||
			!strings.Contains(err.Error(), "sub-millisecond") {
			t.Fatalf("Poll: %v, want an error naming row id=2, column at and the sub-millisecond digits", err)
		}
		props[TimestampGranularityConfig] = GranularityNanosLong
		recs := sourceLease(t, props, memOffsets{}, 0)
		if len(recs) != 2 || field(recs[1], "at") != time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC).UnixNano() {
			t.Fatalf("nanos_long: %d records, at = %v", len(recs), field(recs[len(recs)-1], "at"))
		}
	})
}

func TestSourceBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		createOrders(t, db, "orders")
		base := map[string]string{ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "db-", TablesConfig: `["orders"]`}
		for _, tc := range []struct {
			name  string
			props map[string]string
			start bool // the error comes from Start, not Poll
			want  string
		}{
			{"wrong password", map[string]string{ConnectionPasswordConfig: "wrong"}, true, db.pick("password authentication failed", "Access denied")},
			{"unreachable", map[string]string{ConnectionURLConfig: db.pick("jdbc:postgresql://127.0.0.1:1/x", "jdbc:mysql://127.0.0.1:1/x"),
				ConnectionAttemptsConfig: "2", ConnectionBackoffConfig: "10"}, true, "failed after 2 attempt(s)"},
			{"no such incrementing column", map[string]string{IncrementingColumnConfig: "nope"}, true, `has no column "nope"`},
			{"nullable timestamp", map[string]string{ModeConfig: ModeTimestamp, TimestampColumnConfig: "name"}, true, "has type text"},
			{"failing query", map[string]string{TablesConfig: "", QueryConfig: "SELECT id FROM no_such_table"}, false, "no_such_table"},
			{"missing mode", map[string]string{ModeConfig: ""}, true, `"mode"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				props := db.props(base)
				maps.Copy(props, tc.props)
				ctx := context.Background()
				task := NewSourceTask()
				defer task.Stop()
				err := task.Start(ctx, memOffsets{}, props)
				if err == nil && !tc.start {
					_, err = task.Poll(ctx)
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error = %v, want %q", err, tc.want)
				}
			})
		}
	})
}
