package jdbc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// reporter records reported records; with tolerate it swallows them
// (errors.tolerance=all), else it returns the error (none).
type reporter struct {
	tolerate bool
	mu       sync.Mutex
	reported []reported
}

type reported struct {
	offset int64
	err    error
	value  string // the value as JsonConverter writes it into a dead letter
	key    string // the key so
}

func (r *reporter) Report(_ context.Context, rec *connect.SinkRecord, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reported = append(r.reported, reported{rec.OriginalOffset, err, deadLetterValue(rec), deadLetterKey(rec)})
	if r.tolerate {
		return nil
	}
	return fmt.Errorf("tolerance exceeded in error handler: %w", err)
}

type sinkCtx struct {
	assignment []connect.TopicPartition
	rep        *reporter
}

func (c sinkCtx) Assignment() []connect.TopicPartition               { return c.assignment }
func (c sinkCtx) ErrantRecordReporter() connect.ErrantRecordReporter { return c.rep }

// sinkLease runs a sink task over records as a lease does: Start, Open,
// Put in batches of 500, PreCommit with each partition's end offset, Close,
// Stop. It returns PreCommit's (or an earlier) error.
func sinkLease(t *testing.T, props map[string]string, recs []connect.SinkRecord, rep *reporter) error {
	t.Helper()
	return sinkLeaseThen(t, props, recs, rep, nil)
}

// sinkLeaseThen is sinkLease calling afterPut with each batch after its Put
// (nil: none).
func sinkLeaseThen(t *testing.T, props map[string]string, recs []connect.SinkRecord, rep *reporter, afterPut func([]connect.SinkRecord)) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if rep == nil {
		rep = &reporter{}
	}
	ends := map[connect.TopicPartition]int64{}
	var tps []connect.TopicPartition
	for _, r := range recs {
		tp := connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		if _, ok := ends[tp]; !ok {
			tps = append(tps, tp)
		}
		ends[tp] = r.OriginalOffset + 1
	}
	task := NewSinkTask()
	if err := task.Start(ctx, sinkCtx{tps, rep}, props); err != nil {
		task.Stop()
		return err
	}
	defer task.Stop()
	if err := task.Open(ctx, tps); err != nil {
		return err
	}
	for start := 0; start < len(recs); start += 500 {
		batch := append([]connect.SinkRecord(nil), recs[start:min(start+500, len(recs))]...)
		if err := task.Put(ctx, batch); err != nil {
			return err
		}
		if afterPut != nil {
			afterPut(batch)
		}
		clear(batch) // the executor reuses its slice
	}
	if _, err := task.PreCommit(ctx, ends); err != nil {
		return err
	}
	return task.Close(ctx, tps)
}

var (
	keySchema   = data.StructBuilder().Field("id", data.Int64Schema).MustBuild()
	orderSchema = data.StructBuilder().Name("order").
			Field("id", data.Int64Schema).
			Field("name", data.StringSchema).
			Field("amount", data.DecimalSchema(2).Optional().MustBuild()).
			MustBuild()
)

// order returns a record of topic "orders" partition 0 at offset off.
func order(off, id int64, name string, amount string) connect.SinkRecord {
	r := connect.SinkRecord{Offset: off, OriginalTopic: "orders", OriginalOffset: off}
	r.Topic, r.Partition = "orders", connect.PartitionOf(0)
	r.KeySchema, r.Key = keySchema, data.NewStruct(keySchema).Set("id", id)
	r.ValueSchema = orderSchema
	v := data.NewStruct(orderSchema).Set("id", id).Set("name", name)
	if amount != "" {
		d, _ := data.ParseDecimal(amount)
		v.Set("amount", d)
	}
	r.Value = v
	return r
}

func tombstone(off, id int64) connect.SinkRecord {
	r := order(off, id, "", "")
	r.Value, r.ValueSchema = nil, nil
	return r
}

// rows returns "id:name:amount" of every row of table orders, by id.
func rows(t *testing.T, db testDB, table string) []string {
	t.Helper()
	q := db.pick(`SELECT id, name, COALESCE(amount::text, '') FROM `+table+` ORDER BY id`,
		`SELECT id, name, COALESCE(CAST(amount AS CHAR), '') FROM `+table+` ORDER BY id`)
	rs, err := db.sql.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id int64
		var name, amount string
		if err := rs.Scan(&id, &name, &amount); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%s:%s", id, name, amount))
	}
	return out
}

func TestSinkUpsertAndDelete(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		props := db.props(map[string]string{
			InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, AutoCreateConfig: "true", DeleteEnabledConfig: "true",
		})
		var recs []connect.SinkRecord
		for i := range int64(5) {
			recs = append(recs, order(i, i+1, fmt.Sprintf("n%d", i+1), "1.50"))
		}
		if err := sinkLease(t, props, recs, nil); err != nil {
			t.Fatal(err)
		}
		want := "1:n1:1.50 2:n2:1.50 3:n3:1.50 4:n4:1.50 5:n5:1.50"
		if got := strings.Join(rows(t, db, "orders"), " "); got != want {
			t.Fatalf("after insert: %s, want %s", got, want)
		}
		// Updates of existing keys (twice in one batch: the last wins), a
		// delete, a new row, and a delete of a missing row.
		recs = []connect.SinkRecord{
			order(5, 2, "two", "2.00"), order(6, 2, "TWO", ""), tombstone(7, 3), order(8, 6, "n6", "0.01"), tombstone(9, 42),
		}
		if err := sinkLease(t, props, recs, nil); err != nil {
			t.Fatal(err)
		}
		want = "1:n1:1.50 2:TWO: 4:n4:1.50 5:n5:1.50 6:n6:0.01"
		if got := strings.Join(rows(t, db, "orders"), " "); got != want {
			t.Fatalf("after upserts and deletes: %s, want %s", got, want)
		}
	})
}

func TestSinkUpdateModeAndKafkaPK(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2))")
		db.exec(t, "INSERT INTO orders VALUES (1, 'a', 1.00), (2, 'b', 2.00)")
		props := db.props(map[string]string{InsertModeConfig: InsertModeUpdate, PKModeConfig: PKModeRecordValue, PKFieldsConfig: "id"})
		if err := sinkLease(t, props, []connect.SinkRecord{order(0, 2, "bb", "2.50"), order(1, 3, "c", "")}, nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows(t, db, "orders"), " "); got != "1:a:1.00 2:bb:2.50" {
			t.Fatalf("update mode: %s (a missing row is not inserted)", got)
		}
		kafka := db.props(map[string]string{PKModeConfig: PKModeKafka, AutoCreateConfig: "true", TableNameFormatConfig: "kafka_${topic}"})
		if err := sinkLease(t, kafka, []connect.SinkRecord{order(10, 1, "x", ""), order(11, 1, "y", "")}, nil); err != nil {
			t.Fatal(err)
		}
		n := db.count(t, "SELECT count(*) FROM kafka_orders WHERE __connect_topic = 'orders' AND __connect_partition = 0 AND __connect_offset IN (10, 11)")
		if n != 2 {
			t.Fatalf("pk.mode=kafka rows = %d, want 2", n)
		}
	})
}

// auto.evolve adds a nullable column for a new field; a field that goes
// away leaves its column.
func TestSinkAutoEvolve(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		props := db.props(map[string]string{PKModeConfig: PKModeRecordKey, InsertModeConfig: InsertModeUpsert, AutoCreateConfig: "true"})
		if err := sinkLease(t, props, []connect.SinkRecord{order(0, 1, "a", "1.00")}, nil); err != nil {
			t.Fatal(err)
		}
		v2 := data.StructBuilder().Name("order").Field("id", data.Int64Schema).Field("name", data.StringSchema).
			Field("note", data.NewBuilder(data.TypeString).Optional().MustBuild()).
			Field("qty", data.Int32Schema).MustBuild()
		rec := order(1, 2, "b", "")
		rec.ValueSchema = v2
		rec.Value = data.NewStruct(v2).Set("id", int64(2)).Set("name", "b").Set("note", "hello").Set("qty", int32(3))
		err := sinkLease(t, props, []connect.SinkRecord{rec}, nil)
		if err == nil || !strings.Contains(err.Error(), "auto.evolve is disabled") {
			t.Fatalf("without auto.evolve: %v, want a missing columns error", err)
		}
		props[AutoEvolveConfig] = "true"
		if err := sinkLease(t, props, []connect.SinkRecord{rec, order(2, 3, "c", "3.00")}, nil); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders WHERE note = 'hello' AND qty = 3 AND amount IS NULL"); n != 1 {
			t.Fatalf("evolved row count = %d", n)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 3 {
			t.Fatalf("rows = %d, want 3", n)
		}
		// The new columns are nullable even though qty is required in v2.
		if n := db.count(t, "SELECT count(*) FROM orders WHERE qty IS NULL"); n != 2 {
			t.Fatalf("rows without qty = %d, want 2", n)
		}
	})
}

// Exactly-once: a lease killed after its database commit and before the
// Kafka commit is replayed whole; insert mode writes no row twice. A
// zombie lease running alongside its successor waits for it and skips.
func TestSinkExactlyOnceReplay(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		props := db.props(map[string]string{AutoCreateConfig: "true"}) // insert, pk.mode none
		var recs []connect.SinkRecord
		for i := range int64(1200) {
			recs = append(recs, order(i, i, "x", ""))
		}
		// Lease 1 commits the database transaction (PreCommit); the
		// process dies before the executor commits to Kafka: the range is
		// delivered again.
		if err := sinkLease(t, props, recs[:1000], nil); err != nil {
			t.Fatal(err)
		}
		if err := sinkLease(t, props, recs[:1000], nil); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 1000 {
			t.Fatalf("after a replay: %d rows, want 1000", n)
		}
		// A range overlapping what was written writes only the rest.
		if err := sinkLease(t, props, recs[900:], nil); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 1200 {
			t.Fatalf("after an overlapping lease: %d rows, want 1200", n)
		}
		if n := db.count(t, "SELECT next_offset FROM __sluice_offsets WHERE connector = 'jdbc-test' AND topic = 'orders' AND kafka_partition = 0"); n != 1200 {
			t.Fatalf("next_offset = %d, want 1200", n)
		}
		// Two leases of one range at once (a zombie and its successor).
		more := make([]connect.SinkRecord, 0, 100)
		for i := range int64(100) {
			more = append(more, order(1200+i, 1200+i, "z", ""))
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() { errs[i] = sinkLease(t, props, more, nil) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 1300 {
			t.Fatalf("after concurrent leases: %d rows, want 1300", n)
		}
		// Turned off, a replay duplicates (at least once).
		props[ExactlyOnceConfig] = "false"
		if err := sinkLease(t, props, more[:10], nil); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 1310 {
			t.Fatalf("exactly.once.enabled=false: %d rows, want 1310", n)
		}
	})
}

// A row the database rejects (NOT NULL) goes to the errant record reporter
// with errors.tolerance=all and the rest of the batch is written; with
// none the lease fails and nothing is committed.
func TestSinkRejectedRow(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NOT NULL)")
		props := db.props(nil)
		recs := []connect.SinkRecord{order(0, 1, "a", "1.00"), order(1, 2, "b", ""), order(2, 3, "c", "3.00")}
		err := sinkLease(t, props, recs, &reporter{})
		if err == nil || !strings.Contains(err.Error(), "tolerance exceeded") {
			t.Fatalf("errors.tolerance=none: %v, want the reporter's error", err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 0 {
			t.Fatalf("failed lease left %d rows", n)
		}
		rep := &reporter{tolerate: true}
		if err := sinkLease(t, props, recs, rep); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows(t, db, "orders"), " "); got != "1:a:1.00 3:c:3.00" {
			t.Fatalf("rows = %s", got)
		}
		if len(rep.reported) != 1 || rep.reported[0].offset != 1 || !strings.Contains(strings.ToLower(rep.reported[0].err.Error()), "null") {
			t.Fatalf("reported = %+v, want offset 1 with a NOT NULL error", rep.reported)
		}
		// A value the column cannot hold (PostgreSQL: NUL in text; MySQL:
		// too long) is reported the same way.
		long := order(3, 4, strings.Repeat("x", 60), "1.00")
		rep = &reporter{tolerate: true}
		if err := sinkLease(t, props, []connect.SinkRecord{long, order(4, 5, "e", "5.00")}, rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.reported) != 1 || rep.reported[0].offset != 3 {
			t.Fatalf("too long: reported %+v", rep.reported)
		}
	})
}

func TestSinkBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		for _, tc := range []struct {
			name  string
			props map[string]string
			want  string
		}{
			{"wrong password", map[string]string{ConnectionPasswordConfig: "wrong"}, db.pick("password authentication failed", "Access denied")},
			{"unreachable", map[string]string{ConnectionURLConfig: db.pick("jdbc:postgresql://127.0.0.1:1/x", "jdbc:mysql://127.0.0.1:1/x"),
				MaxRetriesConfig: "1", RetryBackoffConfig: "10"}, "failed after 2 attempt(s)"},
			{"not a jdbc url", map[string]string{ConnectionURLConfig: "postgres://x"}, "does not start with jdbc:"},
			{"missing table", map[string]string{}, "auto.create is disabled"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := sinkLease(t, db.props(tc.props), []connect.SinkRecord{order(0, 1, "a", "")}, nil)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error = %v, want %q", err, tc.want)
				}
			})
		}
	})
}

// A decimal with more places than its column is reported, not rounded by
// the database.
func TestSinkDecimalScale(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,1))")
		rep := &reporter{tolerate: true}
		recs := []connect.SinkRecord{order(0, 1, "a", "1.50"), order(1, 2, "b", "1.25")}
		if err := sinkLease(t, db.props(nil), recs, rep); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows(t, db, "orders"), " "); got != "1:a:1.5" {
			t.Fatalf("rows = %s, want only 1:a:1.5", got)
		}
		if len(rep.reported) != 1 || rep.reported[0].offset != 1 || !strings.Contains(rep.reported[0].err.Error(), "decimal places") {
			t.Fatalf("reported = %+v", rep.reported)
		}
	})
}

// The database writes one batch while Put maps the next: upserts of keys
// repeated across batches, tombstones between them (each switch of
// operation starts a write), NULLs, and rows the database rejects in
// later batches all end as if written one by one; a rejection without
// tolerance fails the lease with nothing committed.
func TestSinkPipelinedBatches(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NULL)")
		props := db.props(map[string]string{
			InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, DeleteEnabledConfig: "true", BatchSizeConfig: "7",
		})
		var recs []connect.SinkRecord
		model := map[int64]string{}
		var bad []int64
		for off := range int64(400) {
			id := off%45 + 1
			switch {
			case off%13 == 5:
				recs = append(recs, tombstone(off, id))
				delete(model, id)
			case off%37 == 20: // too long for name: rejected, a key of its own
				recs = append(recs, order(off, 1000+off, strings.Repeat("y", 60), "9.99"))
				bad = append(bad, off)
			default:
				name, amount := fmt.Sprintf("n%d", off), ""
				if off%5 != 0 {
					amount = fmt.Sprintf("%d.%02d", off, off%100)
				}
				recs = append(recs, order(off, id, name, amount))
				model[id] = fmt.Sprintf("%d:%s:%s", id, name, amount)
			}
		}
		var want []string
		for id := range int64(1046) {
			if r, ok := model[id]; ok {
				want = append(want, r)
			}
		}

		err := sinkLease(t, props, recs, &reporter{})
		if err == nil || !strings.Contains(err.Error(), "tolerance exceeded") {
			t.Fatalf("errors.tolerance=none: %v, want the reporter's error", err)
		}
		if n := db.count(t, "SELECT count(*) FROM orders"); n != 0 {
			t.Fatalf("failed lease left %d rows", n)
		}

		rep := &reporter{tolerate: true}
		if err := sinkLease(t, props, recs, rep); err != nil {
			t.Fatal(err)
		}
		if got, w := strings.Join(rows(t, db, "orders"), " "), strings.Join(want, " "); got != w {
			t.Fatalf("rows:\n got %s\nwant %s", got, w)
		}
		var got []int64
		for _, r := range rep.reported {
			got = append(got, r.offset)
		}
		if fmt.Sprint(got) != fmt.Sprint(bad) {
			t.Fatalf("reported offsets %v, want %v", got, bad)
		}
	})
}

// Batches of upserts that name each key several times, between
// tombstones of some of those keys (twice one key in one run of deletes):
// the batched paths (PostgreSQL: one INSERT .. SELECT unnest(binary
// array), .. ON CONFLICT a batch, which cannot affect a row twice; MariaDB:
// one multi-row statement) leave the table as applying the records one by
// one does, and as the statement path (batch.size=1) does.
func TestSinkBatchDuplicateKeysAndDeletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		var recs []connect.SinkRecord
		model := map[int64]string{}
		off := int64(0)
		for round := range 8 {
			for i := range 30 { // 13 keys, 30 upserts: each key two or three times
				id := int64((round*7+i*5)%13 + 1)
				name, amount := fmt.Sprintf("r%d-%d", round, i), ""
				if i%4 != 0 {
					amount = fmt.Sprintf("%d.%02d", i, round)
				}
				recs = append(recs, order(off, id, name, amount))
				model[id] = fmt.Sprintf("%d:%s:%s", id, name, amount)
				off++
			}
			for _, id := range []int64{int64(round%13 + 1), int64(round*3%13 + 1), int64(round%13 + 1)} {
				recs = append(recs, tombstone(off, id))
				delete(model, id)
				off++
			}
		}
		var want []string
		for id := range int64(14) {
			if r, ok := model[id]; ok {
				want = append(want, r)
			}
		}
		for _, c := range []struct{ table, batchSize string }{{"batched", "3000"}, {"statements", "1"}} {
			db.exec(t, "CREATE TABLE "+c.table+" (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NULL)")
			props := db.props(map[string]string{
				InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, DeleteEnabledConfig: "true",
				TableNameFormatConfig: c.table, BatchSizeConfig: c.batchSize,
			})
			// Twice: into the empty table, then over the rows the first
			// lease left.
			for lease := range 2 {
				props["name"] = fmt.Sprintf("%s-%d", c.table, lease)
				if err := sinkLease(t, props, recs, nil); err != nil {
					t.Fatalf("%s, lease %d: %v", c.table, lease, err)
				}
				if got, w := strings.Join(rows(t, db, c.table), " "), strings.Join(want, " "); got != w {
					t.Fatalf("%s, lease %d:\n got %s\nwant %s", c.table, lease, got, w)
				}
			}
		}
	})
}

// A batch larger than one statement takes (batch.size above 65535
// placeholders' worth of rows: 21,845 of 3 columns) is written as several
// statements, each of its own rows (PostgreSQL: each statement's arrays
// encoded ahead of the write), and a row rejected in the second statement
// is the only one reported.
func TestSinkBatchOfSeveralStatements(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		db.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NULL)")
		props := db.props(map[string]string{InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, BatchSizeConfig: "40000"})
		const n, bad = 30000, 25000
		recs := make([]connect.SinkRecord, n)
		for off := range int64(n) {
			name := fmt.Sprintf("n%d", off)
			if off == bad {
				name = strings.Repeat("z", 60) // too long
			}
			recs[off] = order(off, off+1, name, fmt.Sprintf("%d.%02d", off%1000, off%100))
		}
		rep := &reporter{tolerate: true}
		if err := sinkLease(t, props, recs, rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.reported) != 1 || rep.reported[0].offset != bad {
			t.Fatalf("reported %d records (first %+v), want offset %d alone", len(rep.reported), rep.reported[:min(1, len(rep.reported))], bad)
		}
		got := rows(t, db, "orders")
		if len(got) != n-1 {
			t.Fatalf("%d rows, want %d", len(got), n-1)
		}
		for i, r := range got {
			off := int64(i)
			if off >= bad {
				off++
			}
			if want := fmt.Sprintf("%d:n%d:%d.%02d", off+1, off, off%1000, off%100); r != want {
				t.Fatalf("row %d = %s, want %s", i, r, want)
			}
		}
	})
}
