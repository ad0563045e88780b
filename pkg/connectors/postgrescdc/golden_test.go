package postgrescdc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
)

// The golden scenario: the tables and rows the snapshot reads, then the
// changes streaming captures. testdata/debezium/postgres.jsonl holds what
// Debezium 3.6.1.Final's PostgresConnector emitted for exactly these
// statements (recorded by testdata/debezium/record.sh).
var (
	goldenSetup = []string{
		`CREATE TABLE kinds (id int PRIMARY KEY, i2 smallint, i8 bigint NOT NULL, b boolean, f4 real, f8 double precision,
  n numeric(10,2), nv numeric, t text, vc varchar(20), ch char(3), by bytea, d date, tm time, ts timestamp, ts3 timestamp(3),
  tstz timestamptz, u uuid, j jsonb)`,
		`INSERT INTO kinds VALUES (1, 2, 3000000000, true, 1.5, 2.25, 12.34, 5.678, 'text', 'vc', 'abc', '\x0102', '2024-01-15',
  '10:20:30.123456', '2024-01-15 10:20:30.123456', '2024-01-15 10:20:30.123', '2024-01-15 10:20:30.123456+02',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}')`,
		`INSERT INTO kinds (id, i8) VALUES (2, 0)`,
		`CREATE TABLE full_rows (id int PRIMARY KEY, v text NOT NULL)`,
		`ALTER TABLE full_rows REPLICA IDENTITY FULL`,
		`INSERT INTO full_rows VALUES (1, 'a')`,
	}
	goldenChanges = []string{
		`INSERT INTO kinds (id, i8, t, tstz) VALUES (3, 7, 'new', '2020-02-29 23:59:59+00')`,
		`UPDATE kinds SET t = 'changed', n = 99.99 WHERE id = 1`,
		`DELETE FROM kinds WHERE id = 2`,
		`UPDATE full_rows SET v = 'b' WHERE id = 1`,
		`DELETE FROM full_rows WHERE id = 1`,
	}
	goldenTopics = []string{"srv.public.full_rows", "srv.public.kinds"}
)

// goldenVariants: the golden scenario without transforms and with some.
var goldenVariants = []debeziumgolden.Variant{
	{File: "postgres.jsonl", Snapshot: 3, Total: 10, Topics: goldenTopics},
	{File: "postgres-unwrap.jsonl", Snapshot: 3, Total: 10, Topics: goldenTopics, Transforms: map[string]string{
		"transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite-with-tombstone",
		"transforms.unwrap.add.fields":                     "op,table,source.snapshot", "transforms.unwrap.add.headers": "op"}},
	{File: "postgres-router.jsonl", Snapshot: 3, Total: 10, Topics: []string{"srv.all"}, Transforms: map[string]string{
		"transforms": "route", "transforms.route.type": "io.debezium.transforms.ByLogicalTableRouter",
		"transforms.route.topic.regex": `srv\.public\.(.*)`, "transforms.route.topic.replacement": "srv.all"}},
	// provide.transaction.metadata: a BEGIN and an END record per streamed
	// transaction on srv.transaction, and each change's transaction block.
	{File: "postgres-tx.jsonl", Snapshot: 3, Total: 20, Topics: append(goldenTopics[:len(goldenTopics):len(goldenTopics)], "srv.transaction"),
		Transforms: map[string]string{"provide.transaction.metadata": "true"}},
}

// normalise decodes a JsonConverter document and drops what differs from
// run to run: processing times, the database's name, positions in the WAL
// and transaction ids (in the source block, the transaction block and the
// transaction topic's records), and the connector's version.
func normalise(t *testing.T, topic string, raw json.RawMessage) any {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if p, ok := doc["payload"].(map[string]any); ok {
		for _, k := range []string{"ts_ms", "ts_us", "ts_ns"} {
			delete(p, k)
		}
		if strings.HasSuffix(topic, ".transaction") {
			delete(p, "id") // "<txId>:<commit LSN>"
		}
		if tx, ok := p["transaction"].(map[string]any); ok {
			delete(tx, "id")
		}
		if src, ok := p["source"].(map[string]any); ok {
			for _, k := range []string{"version", "ts_ms", "ts_us", "ts_ns", "db", "txId", "lsn", "sequence", "xmin"} {
				delete(src, k)
			}
		}
	}
	return doc
}

// TestMatchesDebeziumGolden runs the golden scenario through Sluice and
// compares every record with Debezium's, field by field: topic, key and
// value, schemas included, minus what differs between runs; with
// Debezium's transforms too.
func TestMatchesDebeziumGolden(t *testing.T) {
	for _, v := range goldenVariants {
		t.Run(v.File, func(t *testing.T) { matchGolden(t, v) })
	}
}

func matchGolden(t *testing.T, v debeziumgolden.Variant) {
	golden := debeziumgolden.Read(t, v.File)
	e := newEnv(t, v.Transforms)
	for _, q := range goldenSetup {
		e.db.Exec(t, q)
	}
	e.mustRun(t)
	for _, q := range goldenChanges {
		e.db.Exec(t, q)
	}
	e.mustRun(t)
	total := 0
	for _, topic := range v.Topics {
		got := debeziumgolden.Fetch(t, e.kafka.Client, topic, topic, nil)
		// A schema's field list is shown whole.
		debeziumgolden.Compare(t, topic, got, golden[topic], func(raw json.RawMessage, _ bool) any { return normalise(t, topic, raw) }, 12)
		total += len(got)
	}
	if total != v.Total {
		t.Fatalf("%d records, want %d", total, v.Total)
	}
}
