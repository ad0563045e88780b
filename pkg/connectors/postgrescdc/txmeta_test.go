package postgrescdc

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// txItem is a record of the transaction topic (status BEGIN or END) or a
// streamed change event (status empty) with its transaction block.
type txItem = debeziumgolden.TxItem

// txScenario makes the transactions of the tests below on tables a and b
// (captured) and other (not captured), which must exist, and returns each
// transaction's changes by table, in commit order:
//
//   - three transactions of inserts, updates, a primary key change (a
//     delete and a create) and a delete over a and b, with one on other
//     only between the second and the third (no records);
//   - two concurrent transactions over a and b, the one begun second
//     committed first;
//   - one whose captured changes are between changes of other.
func txScenario(t *testing.T, e *env) []map[string]int64 {
	t.Helper()
	var want []map[string]int64
	for i := range 3 {
		if i == 2 {
			e.db.Exec(t, `INSERT INTO other VALUES (1), (2)`)
		}
		e.db.Exec(t, strings.Join([]string{"BEGIN",
			fmt.Sprintf(`INSERT INTO a SELECT g, %d FROM generate_series(%d, %d) g`, i, i*5+1, i*5+5),
			fmt.Sprintf(`INSERT INTO b SELECT g, %d FROM generate_series(%d, %d) g`, i, i*5+1, i*5+3),
			fmt.Sprintf(`UPDATE a SET v = v + 100 WHERE id > %d`, i*5+2),
			fmt.Sprintf(`UPDATE b SET id = id + 1000 WHERE id = %d`, i*5+1),
			fmt.Sprintf(`DELETE FROM a WHERE id = %d`, i*5+1),
			"COMMIT"}, ";\n"))
		want = append(want, map[string]int64{"public.a": 5 + 3 + 1, "public.b": 3 + 2})
	}
	ctx := t.Context()
	c1, err := e.db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := e.db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for _, s := range []struct {
		conn int
		q    string
	}{
		{1, "BEGIN"}, {2, "BEGIN"},
		{1, "INSERT INTO a VALUES (101, 1)"},
		{2, "INSERT INTO b VALUES (102, 2)"},
		{1, "INSERT INTO b VALUES (101, 1), (103, 3)"},
		{2, "UPDATE a SET v = 5 WHERE id = 2"},
		{2, "COMMIT"},
		{1, "UPDATE a SET id = 110 WHERE id = 101"},
		{1, "DELETE FROM b WHERE id = 3"},
		{1, "COMMIT"},
	} {
		c := c1
		if s.conn == 2 {
			c = c2
		}
		if _, err := c.ExecContext(ctx, s.q); err != nil {
			t.Fatalf("%s: %v", s.q, err)
		}
	}
	want = append(want, map[string]int64{"public.a": 1, "public.b": 1}, map[string]int64{"public.a": 3, "public.b": 3})
	e.db.Exec(t, `BEGIN; INSERT INTO other VALUES (3); INSERT INTO a VALUES (200, 7); INSERT INTO other VALUES (4);
INSERT INTO b VALUES (200, 7); INSERT INTO other VALUES (5); COMMIT`)
	return append(want, map[string]int64{"public.a": 1, "public.b": 1})
}

// txTables creates the scenario's tables with transaction metadata on
// and other not captured.
func txTables(t *testing.T, extra map[string]string) *env {
	t.Helper()
	cfg := map[string]string{TransactionMetadataConfig: "true", TableExcludeConfig: `public\.other`}
	maps.Copy(cfg, extra)
	e := newEnv(t, cfg)
	for _, q := range []string{`CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL)`,
		`CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL)`, `CREATE TABLE other (id int PRIMARY KEY)`} {
		e.db.Exec(t, q)
	}
	return e
}

// checkTxItems checks the transaction records and changes read against
// want (each transaction's changes by table, in commit order): one BEGIN
// and then one END record per transaction, in commit order (PostgreSQL
// streams a transaction whole at its commit); a transaction's changes
// have total orders 1..n and, in each table's order, data collection
// orders 1..k; its END record counts them; no change arrives twice or is
// lost. txs holds the transaction topic's records; changes the change
// events in each table's order.
func checkTxItems(t *testing.T, txs, changes []txItem, want []map[string]int64) {
	t.Helper()
	if len(txs) != 2*len(want) {
		t.Fatalf("%d transaction records, want a BEGIN and an END for each of %d transactions: %v", len(txs), len(want), txs)
	}
	var order []string
	ends := map[string]txItem{}
	for i, r := range txs {
		if wantStatus := []string{"BEGIN", "END"}[i%2]; r.Status != wantStatus || i%2 == 1 && r.ID != txs[i-1].ID {
			t.Fatalf("transaction record %d: %s %s after %v, want %s", i, r.Status, r.ID, txs[max(0, i-1)], wantStatus)
		}
		if r.Status == "END" {
			if _, dup := ends[r.ID]; dup {
				t.Fatalf("transaction %s begun and ended twice", r.ID)
			}
			ends[r.ID] = r
			order = append(order, r.ID)
		}
	}
	byTx := debeziumgolden.ByTransaction(t, changes)
	total := 0
	for i, id := range order {
		cs := byTx[id]
		counts := debeziumgolden.CheckOrders(t, id, cs, ends[id])
		if !maps.Equal(counts, want[i]) {
			t.Fatalf("transaction %d (%s): changes %v, want %v", i, id, counts, want[i])
		}
		total += len(cs)
		delete(byTx, id)
	}
	if len(byTx) > 0 {
		t.Fatalf("changes of transactions with no BEGIN and END records: %v", byTx)
	}
	if total != len(changes) {
		t.Fatalf("%d changes, %d in transactions", len(changes), total)
	}
}

// kafkaTxItems reads the transaction topic and the changes of a and b
// from Kafka.
func (e *env) kafkaTxItems(t *testing.T) (txs, changes []txItem) {
	t.Helper()
	for _, m := range e.read(t, "srv.transaction", 0) {
		v := m.Value
		r := txItem{Status: v["status"].(string), ID: v["id"].(string)}
		if r.Status == "END" {
			r.Count = int64(v["event_count"].(float64))
			r.Per = map[string]int64{}
			for _, dc := range v["data_collections"].([]any) {
				d := dc.(map[string]any)
				r.Per[d["data_collection"].(string)] = int64(d["event_count"].(float64))
			}
		}
		txs = append(txs, r)
	}
	for _, table := range []string{"a", "b"} {
		for _, m := range e.read(t, "srv.public."+table, 0) {
			v := m.Value
			if v == nil {
				continue // a tombstone
			}
			tx, ok := v["transaction"].(map[string]any)
			if !ok {
				t.Fatalf("change of %s without a transaction block: %v", table, v)
			}
			before, _ := v["before"].(map[string]any)
			after, _ := v["after"].(map[string]any)
			changes = append(changes, txItem{Table: "public." + table, ID: tx["id"].(string),
				Total: int64(tx["total_order"].(float64)), PerTable: int64(tx["data_collection_order"].(float64)),
				Desc: fmt.Sprint(v["op"], " ", before["id"], " ", after["id"], " ", after["v"])})
		}
	}
	return txs, changes
}

// Leases of 1, 2 and 4 records (batches as large) end inside the
// scenario's transactions, between their changes and after their last
// change before the END record: the next lease takes the transaction's
// id and counts from the committed offset, so each transaction has one
// BEGIN and one END record, contiguous orders, right counts, and each
// change arrives once.
func TestTransactionMetadataAcrossLeases(t *testing.T) {
	var between, beforeEnd int
	for _, n := range []int64{1, 2, 4} {
		t.Run(fmt.Sprintf("lease%d", n), func(t *testing.T) {
			e := txTables(t, map[string]string{SnapshotModeConfig: SnapshotNoData, MaxBatchSizeConfig: fmt.Sprint(n)})
			e.mustRun(t) // creates the slot
			want := txScenario(t, e)
			e.maxRecords = n
			leases := 0
			for ; ; leases++ {
				if leases == 200 {
					t.Fatal("200 leases did not read the changes")
				}
				res := e.mustRun(t)
				if res.Records == 0 {
					break
				}
				// Where the lease ended: inside a transaction when the
				// last transaction record is a BEGIN.
				txs, changes := e.kafkaTxItems(t)
				begun, ended := map[string]int{}, 0
				for _, r := range txs {
					if r.Status == "BEGIN" {
						if begun[r.ID]++; begun[r.ID] > 1 {
							t.Fatalf("after %d leases: transaction %s begun again", leases+1, r.ID)
						}
					} else {
						ended++
					}
				}
				if len(txs) == 0 || txs[len(txs)-1].Status != "BEGIN" {
					continue
				}
				if ended >= len(want) {
					t.Fatalf("after %d leases: %d transactions ended and one begun, want %d", leases+1, ended, len(want))
				}
				open, emitted := txs[len(txs)-1].ID, 0
				for _, c := range changes {
					if c.ID == open {
						emitted++
					}
				}
				if emitted == int(sum(want[ended])) {
					beforeEnd++
				} else {
					between++
				}
			}
			txs, changes := e.kafkaTxItems(t)
			checkTxItems(t, txs, changes, want)
			t.Logf("%d changes in %d transactions, %d leases", len(changes), len(want), leases)
		})
	}
	t.Logf("leases ended between a transaction's changes %d times, after its last change %d times", between, beforeEnd)
	if between == 0 || beforeEnd == 0 {
		t.Fatalf("leases ended between a transaction's changes %d times, after its last change %d times: both must happen", between, beforeEnd)
	}
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// Debezium's TransactionContext offset keys.
const (
	txContextIDKey  = "transaction_id"
	txTableOrderKey = "transaction_data_collection_order_"
)

// offsetsOf is a committed offset, as a task's context and as what the
// executor hands CommitOffsets.
type offsetsOf map[string]any

func (o offsetsOf) Offsets() connect.OffsetReader        { return o }
func (o offsetsOf) Offset(map[string]any) map[string]any { return o }

// sameMessage reports whether b was made from the same pgoutput message as
// a (a key change's delete, tombstone and create): a Poll returns them
// together, so no lease ends between them.
func sameMessage(a, b connect.SourceRecord) bool {
	return a.Topic != "srv.transaction" && b.Topic != "srv.transaction" &&
		a.SourceOffset[lsnKey] == b.SourceOffset[lsnKey] && a.SourceOffset[eventKey] == b.SourceOffset[eventKey]
}

// cutLease runs a task from the committed offset off as a lease that ends
// after n records (or the record of the same message that ends after
// them), wherever that is in a Poll's records, and commits like the
// executor: CommitOffsets with the last record's offset, then Commit. It
// returns the records and the offset (off when there were none).
func cutLease(t *testing.T, e *env, off map[string]any, n int) ([]connect.SourceRecord, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	task := NewTask()
	defer func() {
		if err := task.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if err := task.Start(ctx, offsetsOf(off), e.config); err != nil {
		t.Fatal(err)
	}
	var recs []connect.SourceRecord
	for quiet := 0; len(recs) < n && quiet < 3; {
		got, err := task.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			quiet++
		}
		recs = append(recs, got...)
	}
	k := min(n, len(recs))
	for k > 0 && k < len(recs) && sameMessage(recs[k-1], recs[k]) {
		k++
	}
	recs = recs[:k]
	if k == 0 {
		return nil, off
	}
	off = recs[k-1].SourceOffset
	if err := task.CommitOffsets(ctx, offsetsOf(off)); err != nil {
		t.Fatal(err)
	}
	if err := task.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return recs, off
}

// recordTxItems turns the records of a task into txItems: the transaction
// topic's records into txs, the changes of a and b (in order) into
// changes.
func recordTxItems(t *testing.T, recs []connect.SourceRecord) (txs, changes []txItem) {
	t.Helper()
	for _, r := range recs {
		v, _ := r.Value.(*data.Struct)
		switch {
		case v == nil: // a tombstone
		case r.Topic == "srv.transaction":
			it := txItem{Status: v.Get("status").(string), ID: v.Get("id").(string)}
			if it.Status == "END" {
				it.Count, it.Per = v.Get("event_count").(int64), map[string]int64{}
				for _, dc := range v.Get("data_collections").([]any) {
					d := dc.(*data.Struct)
					it.Per[d.Get("data_collection").(string)] = d.Get("event_count").(int64)
				}
			}
			txs = append(txs, it)
		default:
			tx, _ := v.Get("transaction").(*data.Struct)
			if tx == nil {
				t.Fatalf("change on %s without a transaction block", r.Topic)
			}
			field := func(s any, f string) any {
				if s, ok := s.(*data.Struct); ok && s != nil {
					return s.Get(f)
				}
				return nil
			}
			before, after := v.Get("before"), v.Get("after")
			changes = append(changes, txItem{Table: strings.TrimPrefix(r.Topic, "srv."), ID: tx.Get("id").(string),
				Total: tx.Get("total_order").(int64), PerTable: tx.Get("data_collection_order").(int64),
				Desc: fmt.Sprint(v.Get("op"), " ", field(before, "id"), " ", field(after, "id"), " ", field(after, "v"))})
		}
	}
	return txs, changes
}

// Leases that end after exactly 1, 2 or 4 records, wherever that is: right
// after a BEGIN record too (a Poll returns a BEGIN record with the change
// it precedes, but a Debezium offset or a cut batch may end there), between
// changes, after a transaction's last change. Each resumes from the last
// record's offset; with 2, the offsets of changes lose Sluice's event key,
// as Debezium's lack it (the lease resumes after the change's LSN). The
// records of all leases in order are one BEGIN, the transaction's changes
// with total orders 1..n, one END, for each transaction; the offsets of
// the records of a transaction carry Debezium's transaction_id and
// transaction_data_collection_order_<schema>.<table> (the END record's
// not); and the slot's confirmed flush LSN is never past the committed
// offset.
func TestTransactionMetadataResumeAnywhere(t *testing.T) {
	var afterBegin, between, beforeEnd int
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("lease%d", n), func(t *testing.T) {
			e := txTables(t, map[string]string{SnapshotModeConfig: SnapshotNoData, MaxBatchSizeConfig: "3"})
			cutLease(t, e, nil, 1) // creates the slot
			want := txScenario(t, e)
			var all []connect.SourceRecord
			var ends []int // where leases ended in all
			var off map[string]any
			for leases := 0; ; leases++ {
				if leases == 300 {
					t.Fatal("300 leases did not read the changes")
				}
				recs, next := cutLease(t, e, off, n)
				if len(recs) == 0 {
					break
				}
				all, off = append(all, recs...), next
				if confirmed, _ := e.slotLSN(t); confirmed > offsetLSN(t, off) {
					t.Fatalf("the slot's confirmed LSN %d is past the committed offset's %d", confirmed, offsetLSN(t, off))
				}
				ends = append(ends, len(all)-1)
				if n == 2 && off[lsnKey] != nil {
					off = maps.Clone(off)
					delete(off, eventKey)
				}
			}
			txs, changes := recordTxItems(t, all)
			checkTxItems(t, txs, changes, want)
			// One stream: each change between its transaction's BEGIN and
			// END records, total orders 1..n in order, offsets with the
			// transaction's context.
			var open string
			var total int64
			per := map[string]int64{}
			for i, r := range all {
				v, _ := r.Value.(*data.Struct)
				ctxID, hasID := r.SourceOffset[txContextIDKey]
				switch {
				case r.Topic == "srv.transaction" && v.Get("status") == "BEGIN":
					if open != "" {
						t.Fatalf("record %d: BEGIN inside transaction %s", i, open)
					}
					open, total, per = v.Get("id").(string), 0, map[string]int64{}
					if ctxID != open {
						t.Fatalf("record %d: BEGIN record's offset %v, want %s=%s", i, r.SourceOffset, txContextIDKey, open)
					}
					for k := range r.SourceOffset {
						if strings.HasPrefix(k, txTableOrderKey) {
							t.Fatalf("record %d: BEGIN record's offset %v has counts", i, r.SourceOffset)
						}
					}
				case r.Topic == "srv.transaction":
					if v.Get("id") != open {
						t.Fatalf("record %d: END of %v inside %s", i, v.Get("id"), open)
					}
					if hasID {
						t.Fatalf("record %d: END record's offset %v has the transaction", i, r.SourceOffset)
					}
					open = ""
				default:
					if v != nil {
						tx := v.Get("transaction").(*data.Struct)
						if tx.Get("id") != open {
							t.Fatalf("record %d: change of %v inside %q", i, tx.Get("id"), open)
						}
						total++
						per[strings.TrimPrefix(r.Topic, "srv.")]++
						if got := tx.Get("total_order").(int64); got != total {
							t.Fatalf("record %d: total order %d, want %d", i, got, total)
						}
					}
					if ctxID != open {
						t.Fatalf("record %d: offset %v, want %s=%s", i, r.SourceOffset, txContextIDKey, open)
					}
					for table, c := range per {
						if got := r.SourceOffset[txTableOrderKey+table]; got != c {
							t.Fatalf("record %d: offset %v, want %s%s=%d", i, r.SourceOffset, txTableOrderKey, table, c)
						}
					}
				}
			}
			// Where the leases ended inside transactions.
			for _, i := range ends[:len(ends)-1] {
				if _, inTx := all[i].SourceOffset[txContextIDKey]; !inTx {
					continue
				}
				switch {
				case all[i].Topic == "srv.transaction":
					afterBegin++
				case all[i+1].Topic == "srv.transaction":
					beforeEnd++
				default:
					between++
				}
			}
		})
	}
	t.Logf("leases ended after a BEGIN record %d times, between changes %d times, after the last change %d times", afterBegin, between, beforeEnd)
	if afterBegin == 0 || between == 0 || beforeEnd == 0 {
		t.Fatalf("leases ended after a BEGIN record %d times, between changes %d times, after the last change %d times: each must happen",
			afterBegin, between, beforeEnd)
	}
}
