package mysqlcdc

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
)

// The golden scenario: the tables and rows the snapshot reads, then the
// changes the binlog carries. testdata/debezium/mariadb.jsonl holds what
// Debezium 3.5.0.Final's MariaDbConnector emitted for exactly these
// statements (recorded by testdata/debezium/record.sh), with the test
// database's name replaced by goldenDB.
var (
	goldenSetup = []string{
		`CREATE TABLE kinds (id int PRIMARY KEY, ti tinyint, tu tinyint unsigned, si smallint, su smallint unsigned,
  mi mediumint, mu mediumint unsigned, iu int unsigned, bi bigint NOT NULL, bu bigint unsigned, f float, d double,
  n decimal(10,2), n0 decimal(5), vc varchar(20), ch char(3), tx text, bl blob, bn binary(2), vb varbinary(4),
  dt date, tm time, tm3 time(3), dtm datetime, dtm3 datetime(3), dtm6 datetime(6), ts timestamp NULL, ts6 timestamp(6) NULL,
  yr year, e enum('a','b','c'), st set('x','y'), j json, b1 bit(1), b9 bit(9), bo boolean,
  dv int NOT NULL DEFAULT 5, ds varchar(5) DEFAULT 'it''s', dn decimal(4,1) NOT NULL DEFAULT 1.5, de enum('p','q') NOT NULL DEFAULT 'q', dz date NOT NULL DEFAULT '2000-01-01', dzt datetime NOT NULL DEFAULT '2000-01-01 00:00:00')`,
		`INSERT INTO kinds VALUES (1, -2, 200, -300, 60000, -8000000, 16000000, 4000000000, 3000000000, 18000000000000000000,
  1.5, 2.25, 12.34, 99999, 'vc', 'abc', 'text', x'0102', x'0a0b', x'0c', '2024-01-15', '10:20:30', '-01:02:03.456',
  '2024-01-15 10:20:30', '2024-01-15 10:20:30.123', '2024-01-15 10:20:30.123456', '2024-01-15 10:20:30',
  '2024-01-15 10:20:30.123456', 2024, 'b', 'x,y', '{"a": 1}', b'1', b'100000011', true, 7, NULL, 2.5, 'p', '0000-00-00', '0000-00-00 00:00:00')`,
		`INSERT INTO kinds (id, bi) VALUES (2, 0)`,
		`INSERT INTO kinds (id, bi, vc, dt, dtm, dtm6) VALUES (5, 0, 'ü€', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')`,
		`INSERT INTO kinds VALUES (7, -128, 255, -32768, 65535, -8388608, 16777215, 4294967295, -9223372036854775808, 18446744073709551615,
  -3.25, 1e-300, -99999999.99, -99999, '', 'a', '', x'01', x'', x'00', '1000-01-01', '838:59:59', '-838:59:59.000',
  '9999-12-31 23:59:59', '1970-01-01 00:00:00.001', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01',
  '2038-01-19 03:14:07.999999', 1901, 'a', '', '{"ü": [1.5, null]}', b'0', b'0', false, -1, '', 0, 'p', '1000-01-01', '1000-01-01 00:00:00')`,
		`CREATE TABLE two_keys (a int, b varchar(5), v text NOT NULL, PRIMARY KEY (a, b))`,
		`INSERT INTO two_keys VALUES (1, 'x', 'one')`,
		`CREATE TABLE latin (id int PRIMARY KEY, v varchar(10), t text) CHARACTER SET latin1`,
		`INSERT INTO latin VALUES (1, 'café', 'ß')`,
		"CREATE TABLE `Odd$Name` (`select` int PRIMARY KEY, `größe` varchar(5))",
		"INSERT INTO `Odd$Name` VALUES (1, 'XL')",
		`CREATE TABLE no_key (v int)`,
		`INSERT INTO no_key VALUES (1)`,
	}
	goldenChanges = []string{
		`INSERT INTO kinds (id, bi, vc, n, dtm6, e, j, b9) VALUES (3, 7, 'new', -0.5, '2020-02-29 23:59:59.000001', 'c', '[1, "x"]', b'11')`,
		`UPDATE kinds SET vc = 'changed', n = 99.99, st = 'y' WHERE id = 1`,
		`DELETE FROM kinds WHERE id = 2`,
		`UPDATE kinds SET id = 10 WHERE id = 3`,
		`INSERT INTO kinds VALUES (8, -128, 255, -32768, 65535, -8388608, 16777215, 4294967295, -9223372036854775808, 18446744073709551615,
  -3.25, 1e-300, -99999999.99, -99999, '', 'a', '', x'01', x'', x'00', '1000-01-01', '838:59:59', '-838:59:59.000',
  '9999-12-31 23:59:59', '1970-01-01 00:00:00.001', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01',
  '2038-01-19 03:14:07.999999', 1901, 'a', '', '{"ü": [1.5, null]}', b'0', b'0', false, -1, '', 0, 'p', '1000-01-01', '1000-01-01 00:00:00')`,
		`INSERT INTO kinds (id, bi, tx, dt, dtm3) VALUES (6, 0, 'ü€', '0000-00-00', '0000-00-00 00:00:00.000')`,
		`UPDATE two_keys SET v = 'two' WHERE a = 1`,
		`DELETE FROM two_keys WHERE a = 1`,
		`ALTER TABLE two_keys ADD COLUMN w int DEFAULT 3`,
		`INSERT INTO two_keys VALUES (2, 'y', 'after ALTER', 4)`,
		`INSERT INTO no_key VALUES (2), (3)`,
		`DELETE FROM no_key WHERE v = 1`,
		`UPDATE latin SET v = 'crème', t = '€' WHERE id = 1`,
		"UPDATE `Odd$Name` SET `größe` = 'S'",
		// One transaction over two tables: its changes share a GTID.
		"INSERT INTO no_key VALUES (4);\nUPDATE two_keys SET v = 'in tx' WHERE a = 2;\nDELETE FROM no_key WHERE v = 4",
	}
	goldenTopics = []string{"srv." + goldenDB + ".Odd_Name", "srv." + goldenDB + ".kinds", "srv." + goldenDB + ".latin", "srv." + goldenDB + ".no_key", "srv." + goldenDB + ".two_keys"}
)

// goldenExec runs a statement of the golden scenario, or the statements
// of one on several lines in one transaction.
func goldenExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(q, ";\n") {
		if _, err := tx.ExecContext(t.Context(), stmt); err != nil {
			_ = tx.Rollback()
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// goldenDB stands for the test database's name in the golden files.
const goldenDB = "golden_db"

// goldenVariants: the golden scenario without transforms and with some
// (in Topics, goldenDB stands for the database).
var goldenVariants = []debeziumgolden.Variant{
	{File: "mariadb.jsonl", Snapshot: 8, Total: 31, Topics: goldenTopics},
	{File: "mariadb-unwrap.jsonl", Snapshot: 8, Total: 31, Topics: goldenTopics, Transforms: map[string]string{
		"transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite-with-tombstone",
		"transforms.unwrap.add.fields":                     "op,db,table,source.snapshot,source.row"}},
	{File: "mariadb-router.jsonl", Snapshot: 8, Total: 31, Topics: []string{"srv.all"}, Transforms: map[string]string{
		"transforms": "route", "transforms.route.type": "io.debezium.transforms.ByLogicalTableRouter",
		"transforms.route.topic.regex": `srv\.[^.]+\.(.*)`, "transforms.route.topic.replacement": "srv.all"}},
	// provide.transaction.metadata: on srv.transaction, a BEGIN and an END
	// record for each of the 14 streamed transactions and a BEGIN record
	// without an END for the ALTER TABLE's GTID (Debezium begins a
	// transaction at each MariaDB GTID event and ends one at a commit);
	// each streamed change's transaction block.
	{File: "mariadb-tx.jsonl", Snapshot: 8, Total: 60, Topics: append(goldenTopics[:len(goldenTopics):len(goldenTopics)], "srv.transaction"),
		Transforms: map[string]string{"provide.transaction.metadata": "true"}},
	// include.schema.changes: the schema change events on srv, of the
	// snapshot and of the ALTER TABLE.
	{File: "mariadb-schema.jsonl", Snapshot: 22, Total: 46, Topics: append(goldenTopics[:len(goldenTopics):len(goldenTopics)], "srv"),
		Transforms: map[string]string{"include.schema.changes": "true"}},
}

// binlogBase is where a run's changes start in the binlog: the least pos
// and GTID sequence number of its streamed records.
type binlogBase struct {
	pos, seq float64
	ok       bool
}

// gtidSeq splits a MariaDB GTID, domain-server-sequence.
func gtidSeq(g string) (prefix string, seq float64, ok bool) {
	i := strings.LastIndexByte(g, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(g[i+1:], 10, 64)
	return g[:i+1], float64(n), err == nil
}

// streamBase finds the binlogBase of a run's records.
func streamBase(t *testing.T, recs map[string][]debeziumgolden.Record) binlogBase {
	var b binlogBase
	for _, rs := range recs {
		for _, r := range rs {
			if len(r.Value) == 0 || string(r.Value) == "null" {
				continue
			}
			var doc struct {
				Payload struct {
					Source *struct {
						Snapshot string  `json:"snapshot"`
						Pos      float64 `json:"pos"`
						GTID     string  `json:"gtid"`
					} `json:"source"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(r.Value, &doc); err != nil {
				t.Fatal(err)
			}
			src := doc.Payload.Source
			if src == nil || src.Snapshot != "false" {
				continue
			}
			_, seq, ok := gtidSeq(src.GTID)
			if !ok {
				t.Fatalf("gtid %q", src.GTID)
			}
			if !b.ok || src.Pos < b.pos {
				b.pos = src.Pos
			}
			if !b.ok || seq < b.seq {
				b.seq = seq
			}
			b.ok = true
		}
	}
	return b
}

// relativeGTID is a streamed transaction's GTID with its sequence number
// relative to base's.
func relativeGTID(g string, base binlogBase) string {
	if prefix, seq, ok := gtidSeq(g); ok && base.ok {
		return fmt.Sprintf("%s+%v", prefix, seq-base.seq)
	}
	return g
}

// normaliseTx normalises a record of the transaction topic (key or
// value): the transaction id is its GTID, compared relative to base; the
// time whether it is in whole seconds, as the binlog's are (Sluice gives
// a BEGIN record the time of the transaction's first event and an END
// record that of its commit; Debezium gives them the time of the binlog
// event read before, so its first BEGIN record after a start has the
// binlog file's creation time); the data collections of an END record by
// name (Debezium lists them in a HashMap's order, which depends on the
// database's name).
func normaliseTx(p map[string]any, base binlogBase) {
	if id, ok := p["id"].(string); ok {
		p["id"] = relativeGTID(id, base)
	}
	if ms, ok := p["ts_ms"].(json.Number); ok {
		p["ts_ms"] = strings.HasSuffix(string(ms), "000")
	}
	if dcs, ok := p["data_collections"].([]any); ok {
		slices.SortFunc(dcs, func(a, b any) int {
			return strings.Compare(fmt.Sprint(a.(map[string]any)["data_collection"]), fmt.Sprint(b.(map[string]any)["data_collection"]))
		})
	}
}

// normalise decodes a JsonConverter document and drops what differs from
// run to run or server to server: processing times (the envelope's and
// the source block's ts_ms, ts_us, ts_ns) and the connector's version
// (Sluice's is 3.6.1.Final-sluice). Where the changes are in the binlog
// depends on what the server ran before: a record's pos (the snapshot's
// position for a snapshot record) and a streamed record's GTID sequence
// number (in the source block, and as the transaction id in the
// transaction block and the transaction topic's records, see normaliseTx)
// are compared relative to base (the binlog events of the same statements
// have the same sizes, and nothing else is written between the snapshot
// and the changes); file, and the gtid of a snapshot record, only for
// whether they are set.
func normalise(t *testing.T, raw json.RawMessage, base binlogBase) any {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	// Numbers as their text: exact, whatever their size.
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if schema, _ := doc["schema"].(map[string]any); schema != nil && strings.HasPrefix(fmt.Sprint(schema["name"]), "io.debezium.connector.common.TransactionMetadata") {
		if p, ok := doc["payload"].(map[string]any); ok {
			normaliseTx(p, base)
		}
		return doc
	}
	schemaChange := false
	if schema, _ := doc["schema"].(map[string]any); schema != nil {
		schemaChange = strings.HasSuffix(fmt.Sprint(schema["name"]), ".SchemaChangeValue")
	}
	if p, ok := doc["payload"].(map[string]any); ok {
		if schemaChange {
			normaliseSchemaChange(p)
		}
		tsShape(p, false)
		if tx, ok := p["transaction"].(map[string]any); ok {
			if id, ok := tx["id"].(string); ok {
				tx["id"] = relativeGTID(id, base)
			}
		}
		if src, ok := p["source"].(map[string]any); ok {
			delete(src, "version")
			// A snapshot's schema change events have the time they were
			// read at, in milliseconds (Debezium's and Sluice's alike).
			tsShape(src, !(schemaChange && src["snapshot"] == "true"))
			if pos, ok := src["pos"].(json.Number); ok && base.ok {
				p, _ := pos.Float64()
				src["pos"] = p - base.pos
			}
			if src["snapshot"] == "false" && base.ok {
				if g, ok := src["gtid"].(string); ok {
					src["gtid"] = relativeGTID(g, base)
				}
				src["file"] = src["file"] != nil
			} else {
				for _, k := range []string{"file", "gtid"} {
					if _, ok := src[k]; ok {
						src[k] = src[k] != nil
					}
				}
			}
		}
	}
	return doc
}

// defaultWidths are the display widths MariaDB gives the integer types
// when a statement names none.
var defaultWidths = map[string]string{"TINYINT": "4", "TINYINT UNSIGNED": "3", "SMALLINT": "6", "SMALLINT UNSIGNED": "5",
	"MEDIUMINT": "9", "MEDIUMINT UNSIGNED": "8", "INT": "11", "INT UNSIGNED": "10", "BIGINT": "20", "BIGINT UNSIGNED": "20"}

// normaliseSchemaChange normalises a schema change event's table
// definitions: an integer column's length is its display width as the
// statement read has it (Debezium parses the statement: none for a plain
// int) or as the server reports it (Sluice reads information_schema:
// MariaDB's default width); both are compared as "default" when they are
// either. Any other length is compared as it is.
func normaliseSchemaChange(p map[string]any) {
	changes, _ := p["tableChanges"].([]any)
	for _, c := range changes {
		table, _ := c.(map[string]any)["table"].(map[string]any)
		cols, _ := table["columns"].([]any)
		for _, col := range cols {
			m := col.(map[string]any)
			w, ok := defaultWidths[fmt.Sprint(m["typeName"])]
			if !ok {
				continue
			}
			if n, _ := m["length"].(json.Number); m["length"] == nil || string(n) == w {
				m["length"] = "default"
			}
		}
	}
}

// tsShape replaces the times ts_ms, ts_us and ts_ns of an envelope or a
// source block (exact) by how they relate: ts_us is ts_ms with three more
// digits, ts_ns ts_us with three more; and in a source block whether they
// are whole seconds (the binlog's times are), and ts_us exactly ts_ms
// times 1000 and ts_ns ts_us times 1000.
func tsShape(m map[string]any, source bool) {
	ms, _ := m["ts_ms"].(json.Number)
	us, _ := m["ts_us"].(json.Number)
	ns, _ := m["ts_ns"].(json.Number)
	if ms == "" {
		return
	}
	extends := func(long, short json.Number) bool {
		return len(long) == len(short)+3 && strings.HasPrefix(string(long), string(short))
	}
	m["ts_ms"], m["ts_us"], m["ts_ns"] = true, extends(us, ms), extends(ns, us)
	if source {
		m["ts_ms"] = strings.HasSuffix(string(ms), "000")
		m["ts_us"] = us == ms+"000"
		m["ts_ns"] = ns == us+"000"
	}
}

// TestMatchesDebeziumGolden runs the golden scenario through Sluice's
// MariaDB connector and compares every record with Debezium's, field by
// field: topic, key and value, schemas included, minus what normalise
// drops; with Debezium's transforms too.
func TestMatchesDebeziumGolden(t *testing.T) {
	for _, v := range goldenVariants {
		t.Run(v.File, func(t *testing.T) { matchGolden(t, v) })
	}
}

func matchGolden(t *testing.T, v debeziumgolden.Variant) {
	golden := debeziumgolden.Read(t, v.File)
	e := newEnv(t, MariaDBClass)
	e.config["key.converter.schemas.enable"] = "true"
	e.config["value.converter.schemas.enable"] = "true"
	// The recordings' setting, unless the variant sets it.
	e.config[IncludeSchemaChangesConfig] = "false"
	maps.Copy(e.config, v.Transforms)
	// As Debezium does, with a schema history: the changes logged before
	// the ALTER TABLE are read after it ran.
	withHistory(e)
	for _, q := range goldenSetup {
		goldenExec(t, e.db.SQL, q)
	}
	e.mustRun(t)
	for _, q := range goldenChanges {
		goldenExec(t, e.db.SQL, q)
	}
	e.mustRun(t)
	// The database's name is in topics, schema names and the source block.
	anon := func(b []byte) json.RawMessage {
		return json.RawMessage(strings.ReplaceAll(string(b), e.db.Name, goldenDB))
	}
	got := map[string][]debeziumgolden.Record{}
	for _, topic := range v.Topics {
		got[topic] = debeziumgolden.Fetch(t, e.kafka.Client, topic, strings.ReplaceAll(topic, goldenDB, e.db.Name), anon)
	}
	gotBase, wantBase := streamBase(t, got), streamBase(t, golden)
	total := 0
	for _, topic := range v.Topics {
		debeziumgolden.Compare(t, topic, got[topic], golden[topic], func(raw json.RawMessage, debezium bool) any {
			if debezium {
				return normalise(t, raw, wantBase)
			}
			return normalise(t, raw, gotBase)
		}, 0)
		total += len(got[topic])
	}
	if total != v.Total {
		t.Fatalf("%d records, want %d", total, v.Total)
	}
}
