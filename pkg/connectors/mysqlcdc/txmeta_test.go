package mysqlcdc

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// txTopicName is the transaction topic of the tests' connectors.
const txTopicName = "srv.transaction"

// txRecord is a record of the transaction topic.
type txRecord = debeziumgolden.TxItem

func (e *env) txRecords(t *testing.T) []txRecord {
	t.Helper()
	var out []txRecord
	for _, v := range e.read(t, txTopicName) {
		r := txRecord{Status: v["status"].(string), ID: v["id"].(string)}
		if r.Status == "END" {
			r.Count = int64(v["event_count"].(float64))
			r.Per = map[string]int64{}
			for _, dc := range v["data_collections"].([]any) {
				m := dc.(map[string]any)
				r.Per[m["data_collection"].(string)] = int64(m["event_count"].(float64))
			}
		} else if v["event_count"] != nil || v["data_collections"] != nil {
			t.Fatalf("BEGIN record with counts: %v", v)
		}
		out = append(out, r)
	}
	return out
}

// txChange is a streamed change event's place in its transaction.
type txChange = debeziumgolden.TxItem

// txChanges reads the change events of tables (topic order within each)
// with their transaction blocks; snapshot records must have none.
func (e *env) txChanges(t *testing.T, tables ...string) []txChange {
	t.Helper()
	var out []txChange
	for _, name := range tables {
		for _, v := range e.read(t, "srv."+e.db.Name+"."+name) {
			if v == nil {
				continue // a tombstone
			}
			if v["op"] == "r" {
				if v["transaction"] != nil {
					t.Fatalf("snapshot record of %s with a transaction block: %v", name, v)
				}
				continue
			}
			tx, ok := v["transaction"].(map[string]any)
			if !ok {
				t.Fatalf("change of %s without a transaction block: %v", name, v)
			}
			out = append(out, txChange{Table: e.db.Name + "." + name, ID: tx["id"].(string),
				Total: int64(tx["total_order"].(float64)), PerTable: int64(tx["data_collection_order"].(float64)),
				Desc: fmt.Sprint(v["op"], v["before"], v["after"])})
		}
	}
	return out
}

// checkTransactions checks the transaction topic against the changes:
// each transaction has one BEGIN record, then at most one END record (a
// DDL statement's has none); a transaction's changes have total orders
// 1..n and, in each table's topic order, table orders 1..k; the END
// record counts them; no change arrives twice. It returns the ids of the
// transactions ended, in order.
func checkTransactions(t *testing.T, txs []txRecord, changes []txChange) []string {
	t.Helper()
	begun, ended := map[string]bool{}, map[string]txRecord{}
	var order []string
	for _, r := range txs {
		switch r.Status {
		case "BEGIN":
			if begun[r.ID] {
				t.Fatalf("transaction %s begun twice", r.ID)
			}
			begun[r.ID] = true
		case "END":
			if !begun[r.ID] {
				t.Fatalf("transaction %s ended before its BEGIN record", r.ID)
			}
			if _, ok := ended[r.ID]; ok {
				t.Fatalf("transaction %s ended twice", r.ID)
			}
			ended[r.ID] = r
			order = append(order, r.ID)
		default:
			t.Fatalf("status %q", r.Status)
		}
	}
	byTx := debeziumgolden.ByTransaction(t, changes)
	for id, cs := range byTx {
		end, ok := ended[id]
		if !ok {
			t.Fatalf("transaction %s of %d changes has no END record", id, len(cs))
		}
		debeziumgolden.CheckOrders(t, id, cs, end)
	}
	for id, end := range ended {
		if _, ok := byTx[id]; !ok && (end.Count != 0 || len(end.Per) != 0) {
			t.Fatalf("transaction %s: END counts %d %v, no changes", id, end.Count, end.Per)
		}
	}
	return order
}

// Concurrent transactions over two tables, and one on a table that is not
// captured: each committed transaction has a BEGIN and an END record in
// commit order (the binlog's), its changes carry its GTID and their
// orders; a transaction without captured changes has its BEGIN and END
// records with no events, as Debezium writes them. Snapshot records have
// no transaction block.
func TestTransactionMetadata(t *testing.T) {
	e := newEnv(t, MariaDBClass)
	e.config[TransactionMetadataConfig] = "true"
	e.config[TableExcludeConfig] = e.db.Name + `\.other`
	for _, q := range []string{`CREATE TABLE a (id int PRIMARY KEY, v int)`, `CREATE TABLE b (id int PRIMARY KEY, v int)`,
		`CREATE TABLE other (id int PRIMARY KEY)`, `INSERT INTO a VALUES (100, 0)`, `INSERT INTO b VALUES (100, 0)`} {
		e.db.Exec(t, q)
	}
	e.mustRun(t) // the snapshot
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
	steps := []struct {
		conn int
		q    string
	}{
		{1, "BEGIN"}, {2, "BEGIN"},
		{1, "INSERT INTO a VALUES (1, 1)"},
		{2, "INSERT INTO b VALUES (2, 2)"},
		{1, "INSERT INTO b VALUES (1, 1), (3, 3)"},
		{2, "UPDATE a SET v = 5 WHERE id = 100"},
		{2, "COMMIT"},                            // first in the binlog: a 1, b 1
		{1, "UPDATE a SET id = 10 WHERE id = 1"}, // a delete and a create
		{1, "DELETE FROM b WHERE id = 100"},
		{1, "COMMIT"}, // a 3, b 3
	}
	for _, s := range steps {
		c := c1
		if s.conn == 2 {
			c = c2
		}
		if _, err := c.ExecContext(ctx, s.q); err != nil {
			t.Fatalf("%s: %v", s.q, err)
		}
	}
	e.db.Exec(t, `INSERT INTO other VALUES (1)`) // no captured change
	e.mustRun(t)
	txs := e.txRecords(t)
	changes := e.txChanges(t, "a", "b")
	order := checkTransactions(t, txs, changes)
	if len(txs) != 6 || len(order) != 3 {
		t.Fatalf("transaction records %v, want a BEGIN and an END for each of 3 transactions", txs)
	}
	a, b := e.db.Name+".a", e.db.Name+".b"
	want := []map[string]int64{{a: 1, b: 1}, {a: 3, b: 3}, {}}
	for i, r := range txs {
		if wantStatus := []string{"BEGIN", "END"}[i%2]; r.Status != wantStatus || r.ID != order[i/2] {
			t.Fatalf("record %d: %s %s, want %s %s", i, r.Status, r.ID, wantStatus, order[i/2])
		}
		if r.Status == "END" && !maps.Equal(r.Per, want[i/2]) {
			t.Fatalf("transaction %d: %v, want %v", i/2, r.Per, want[i/2])
		}
	}
	// MariaDB's GTIDs, one after another.
	for i := 1; i < len(order); i++ {
		p, s, _ := gtidSeq(order[i-1])
		q, s2, _ := gtidSeq(order[i])
		if p != q || s2 != s+1 {
			t.Fatalf("transaction ids %v: not consecutive GTIDs", order)
		}
	}
	for _, c := range changes {
		if c.ID == order[2] {
			t.Fatalf("a change of the transaction on the table not captured: %+v", c)
		}
	}
}

// Leases too small for a transaction end inside it: the next lease takes
// the transaction's id and counts from the committed offset, so no BEGIN
// or END record is lost or written twice, no change arrives twice, and
// the orders go on where they stopped. With one record a lease (each
// binlog event's records are one batch) leases end after a BEGIN record,
// between changes, and after a transaction's last change before its END
// record; with more, at other places. A DDL statement between them has a
// BEGIN record and no END record, as Debezium writes it, once.
func TestTransactionMetadataAcrossLeases(t *testing.T) {
	// Where leases ended inside transactions: after the BEGIN record,
	// between changes, after the last change.
	var afterBegin, between, beforeEnd, afterDDL int
	for _, c := range []struct{ batch, maxRecords int64 }{{1, 1}, {3, 4}} {
		t.Run(fmt.Sprintf("batch%d-lease%d", c.batch, c.maxRecords), func(t *testing.T) {
			e := newEnv(t, MariaDBClass)
			e.config[TransactionMetadataConfig] = "true"
			e.config[MaxBatchSizeConfig] = fmt.Sprint(c.batch)
			e.maxRecords = c.maxRecords
			e.db.Exec(t, `CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL)`)
			e.db.Exec(t, `CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL)`)
			e.db.Exec(t, `INSERT INTO a VALUES (0, 0)`)
			e.mustRun(t)     // the snapshot
			var ddlID string // the GTID of the CREATE TABLE
			for i := range 4 {
				if i == 2 {
					e.db.Exec(t, `CREATE TABLE c (id int PRIMARY KEY)`)
					if err := e.db.SQL.QueryRowContext(t.Context(), `SELECT @@gtid_binlog_pos`).Scan(&ddlID); err != nil {
						t.Fatal(err)
					}
				}
				goldenExec(t, e.db.SQL, strings.Join([]string{
					fmt.Sprintf(`INSERT INTO a SELECT seq, %d FROM seq_%d_to_%d`, i, i*5+1, i*5+5),
					fmt.Sprintf(`INSERT INTO b SELECT seq, %d FROM seq_%d_to_%d`, i, i*5+1, i*5+3),
					fmt.Sprintf(`UPDATE a SET v = v + 100 WHERE id > %d`, i*5+2),
					fmt.Sprintf(`UPDATE b SET id = id + 1000 WHERE id = %d`, i*5+1),
					fmt.Sprintf(`DELETE FROM a WHERE id = %d`, i*5+1),
				}, ";\n"))
			}
			// open: after each lease, the changes emitted of the
			// transaction it ended inside.
			type open struct {
				id      string
				changes int
			}
			var opens []open
			for n := 0; ; n++ {
				if n == 100 {
					t.Fatal("100 leases did not read the changes")
				}
				res := e.mustRun(t)
				if !res.MorePending && res.Records == 0 {
					break
				}
				ended := map[string]bool{}
				var last string
				for _, r := range e.txRecords(t) {
					if r.Status == "END" {
						ended[r.ID] = true
					}
					last = r.ID
				}
				if last == ddlID {
					afterDDL++
				}
				if last != "" && !ended[last] && last != ddlID {
					o := open{id: last}
					for _, ch := range e.txChanges(t, "a", "b") {
						if ch.ID == last {
							o.changes++
						}
					}
					opens = append(opens, o)
				}
			}
			txs := e.txRecords(t)
			changes := e.txChanges(t, "a", "b")
			order := checkTransactions(t, txs, changes)
			if len(order) != 4 || len(txs) != 9 {
				t.Fatalf("transactions %v, records %d: want 4, each with a BEGIN and an END, and the BEGIN of the DDL statement", order, len(txs))
			}
			if txs[4].Status != "BEGIN" || txs[4].ID != ddlID {
				t.Fatalf("record 4 %v, want the BEGIN record of the DDL statement (%s)", txs[4], ddlID)
			}
			// Each transaction: 5 and 3 inserts, the update of its a rows
			// above i*5+2 (3; earlier transactions' rows are below), a key
			// change (a delete and a create), a delete.
			const perTx = 5 + 3 + 3 + 2 + 1
			if len(changes) != 4*perTx {
				t.Fatalf("%d changes, want %d", len(changes), 4*perTx)
			}
			for _, o := range opens {
				switch o.changes {
				case 0:
					afterBegin++
				case perTx:
					beforeEnd++
				default:
					between++
				}
			}
			t.Logf("%d changes in %d transactions; leases ended inside transactions %d times", len(changes), len(order), len(opens))
		})
	}
	if afterBegin == 0 || between == 0 || beforeEnd == 0 || afterDDL == 0 {
		t.Fatalf("leases ended after a BEGIN record %d times, between changes %d, after the last change %d, after the DDL statement's BEGIN %d: each must happen",
			afterBegin, between, beforeEnd, afterDDL)
	}
}

// The transaction ids of MySQL's binlog: the GTID with gtid_mode=ON,
// file=<file>,pos=<BEGIN's position> with anonymous GTIDs (gtid_mode=OFF),
// as Debezium's BinlogOffsetContext forms them; a transaction resumed from
// its BEGIN record's offset is not begun again.
func TestTransactionIDs(t *testing.T) {
	s, err := parseSettings(map[string]string{HostnameConfig: "h", UserConfig: "u", ServerIDConfig: "1", TopicPrefixConfig: "srv",
		TransactionMetadataConfig: "true"})
	if err != nil {
		t.Fatal(err)
	}
	newTask := func() *Task {
		tk := newTask(false)
		tk.s, tk.partition, tk.tables = s, map[string]any{serverKey: "srv"}, map[string]*table{}
		return tk
	}
	header := func(typ replication.EventType, end, size uint32) *replication.EventHeader {
		return &replication.EventHeader{EventType: typ, LogPos: end, EventSize: size, Timestamp: 1700000000, ServerID: 7}
	}
	sid := []byte{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62}
	type event struct {
		h *replication.EventHeader
		e replication.Event
	}
	// A transaction from 300: a GTID event (65 bytes), BEGIN (80), XID (31).
	tx := func(gtid replication.EventType) []event {
		return []event{
			{header(replication.ROTATE_EVENT, 0, 0), &replication.RotateEvent{NextLogName: []byte("binlog.000003"), Position: 4}},
			{header(gtid, 365, 65), &replication.GTIDEvent{SID: sid, GNO: 42}},
			{header(replication.QUERY_EVENT, 445, 80), &replication.QueryEvent{Query: []byte("BEGIN")}},
			{header(replication.XID_EVENT, 476, 31), &replication.XIDEvent{}},
		}
	}
	run := func(tk *Task, evs []event) (ids, statuses []string, offsets []map[string]any) {
		for _, ev := range evs {
			recs, err := tk.handle(t.Context(), &replication.BinlogEvent{Header: ev.h, Event: ev.e})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Topic != txTopicName {
					t.Fatalf("record on %s", r.Topic)
				}
				v := r.Value.(*data.Struct)
				ids = append(ids, fmt.Sprint(v.Get("id")))
				statuses = append(statuses, fmt.Sprint(v.Get("status")))
				offsets = append(offsets, r.SourceOffset)
			}
		}
		return
	}
	for _, c := range []struct {
		gtid replication.EventType
		id   string
	}{
		{replication.GTID_EVENT, "3e11fa47-71ca-11e1-9e33-c80aa9429562:42"},
		{replication.ANONYMOUS_GTID_EVENT, "file=binlog.000003,pos=365"},
	} {
		ids, statuses, offsets := run(newTask(), tx(c.gtid))
		if !slices.Equal(statuses, []string{"BEGIN", "END"}) || ids[0] != c.id || ids[1] != c.id {
			t.Fatalf("%v: %v %v, want BEGIN and END of %s", c.gtid, statuses, ids, c.id)
		}
		if offsets[0][debezium.TxIDOffsetKey] != c.id || offsets[0][posKey] != int64(300) || offsets[1][posKey] != int64(476) || offsets[1][debezium.TxIDOffsetKey] != nil {
			t.Fatalf("%v: offsets %v", c.gtid, offsets)
		}
		// A lease resuming at the BEGIN record's offset.
		tk := newTask()
		tk.resumeMeta, tk.skipFile, tk.skipPos = txMetaOf(offsets[0]), "binlog.000003", 300
		if _, statuses, _ := run(tk, tx(c.gtid)); !slices.Equal(statuses, []string{"END"}) {
			t.Fatalf("%v resumed after its BEGIN record: %v, want END", c.gtid, statuses)
		}
	}
}
