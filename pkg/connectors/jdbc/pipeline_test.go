package jdbc

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// pipeline is an in-process Kafka broker and a lease executor with the
// JDBC connectors and the converters.
type pipeline struct {
	k    *kafkatest.Env
	exec *lease.Executor
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	k := kafkatest.Start(t, 1)
	reg, err := connect.NewRegistry(append(converter.Plugins(), Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{k: k, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})}
}

var jsonConverters = map[string]string{
	"key.converter":   "org.apache.kafka.connect.json.JsonConverter",
	"value.converter": "org.apache.kafka.connect.json.JsonConverter",
}

// source runs one source lease of connector name with props.
func (p *pipeline) source(t *testing.T, name string, props map[string]string) lease.Result {
	t.Helper()
	cfg := maps.Clone(props)
	maps.Copy(cfg, jsonConverters)
	cfg["name"], cfg["connector.class"] = name, ConfluentSourceClass
	l := lease.Lease{ID: name + "-" + fmt.Sprint(time.Now().UnixNano()), Kind: lease.KindSource, Connector: name, Epoch: 1,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
		Budget: lease.Budget{MaxIdle: lease.Duration(300 * time.Millisecond)}}
	res := p.exec.Run(context.Background(), l)
	if res.Status != lease.Succeeded {
		t.Fatalf("source lease %s: %s\n%s", res.Status, res.Error, res.Trace)
	}
	return res
}

// sink runs one sink lease of connector name over topic partition 0 up to
// its high watermark.
func (p *pipeline) sink(t *testing.T, name, topic string, props map[string]string) lease.Result {
	t.Helper()
	ctx := context.Background()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := p.k.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	committed, err := p.k.Client.CommittedOffsets(ctx, lease.GroupID(name), []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	start := max(committed[tp], 0)
	cfg := maps.Clone(props)
	maps.Copy(cfg, jsonConverters)
	cfg["name"], cfg["connector.class"], cfg["topics"] = name, ConfluentSinkClass, topic
	l := lease.Lease{ID: name + "-" + fmt.Sprint(time.Now().UnixNano()), Kind: lease.KindSink, Connector: name, Epoch: 1,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
		Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: start, End: wm[tp].High}}}
	res := p.exec.Run(ctx, l)
	if res.Status != lease.Succeeded {
		t.Fatalf("sink lease %s: %s\n%s", res.Status, res.Error, res.Trace)
	}
	return res
}

// typeMatrix is a table with one column per type the mapping documents,
// the same in the source and the destination database.
type typeMatrix struct {
	ddl    string   // CREATE TABLE %s (...)
	rows   []string // INSERT values
	asText string   // a select list rendering every column as text, for comparing
}

var pgMatrix = typeMatrix{
	ddl: `CREATE TABLE %s (id int PRIMARY KEY, c_smallint smallint, c_int integer, c_bigint bigint,
		c_numeric numeric(12,3), c_free numeric, c_real real, c_double double precision, c_bool boolean,
		c_text text, c_varchar varchar(20), c_char char(3), c_bytea bytea, c_date date, c_time time(3),
		c_ts timestamp(3), c_tstz timestamptz(3), c_uuid uuid, c_json json, c_jsonb jsonb, c_enum mood)`,
	rows: []string{
		`(1, -32768, -2147483648, -9223372036854775808, -123456789.123, 1.000000000000000000001, 3.5, -1.25e300, true,
		  'héllo ✓', 'v', 'abc', '\x00ff10', '0001-01-01', '23:59:59.999', '1969-12-31 23:59:59.999',
		  '2026-12-06 23:05:00.123+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": null}', 'happy')`,
		`(2, 32767, 2147483647, 9223372036854775807, 999999999.999, -0.5, -0, 0, false,
		  '', '', '   ', '', '9999-12-31', '00:00:00', '2262-04-11 23:47:16.854', '1970-01-01 00:00:00+00',
		  '00000000-0000-0000-0000-000000000000', '[]', '{}', 'sad')`,
		`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	},
	asText: `id, c_smallint::text, c_int::text, c_bigint::text, c_numeric::text, c_free::text, c_real::text, c_double::text,
		c_bool::text, c_text, c_varchar, c_char::text, c_bytea::text, c_date::text, c_time::text, c_ts::text, c_tstz::text,
		c_uuid::text, c_json::text, c_jsonb::text, c_enum::text`,
}

var mariaMatrix = typeMatrix{
	ddl: `CREATE TABLE %s (id int PRIMARY KEY, c_tinyint tinyint, c_smallint smallint, c_mediumint mediumint, c_int int,
		c_bigint bigint, c_ubigint bigint unsigned, c_uint int unsigned, c_decimal decimal(12,3), c_float float,
		c_double double, c_bool tinyint(1), c_varchar varchar(20), c_text text, c_blob blob, c_varbinary varbinary(10),
		c_date date, c_time time(3), c_datetime datetime(3), c_timestamp timestamp(3) NULL, c_json json,
		c_enum enum('a','b'), c_year year)`,
	rows: []string{
		`(1, -128, -32768, -8388608, -2147483648, -9223372036854775808, 18446744073709551615, 4294967295, -123456789.123,
		  3.5, -1.25e300, 1, 'héllo ✓', 'text', x'00ff10', x'0102', '1000-01-01', '23:59:59.999', '1969-12-31 23:59:59.999',
		  '2026-12-06 23:05:00.123', '{"a": [1, 2]}', 'b', 2026)`,
		`(2, 127, 32767, 8388607, 2147483647, 9223372036854775807, 0, 0, 999999999.999,
		  -0.5, 0, 0, '', '', x'', x'', '9999-12-31', '00:00:00', '2038-01-19 03:14:07.999', '1970-01-01 00:00:01', '[]', 'a', 1901)`,
		`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	},
	asText: `id, CAST(c_tinyint AS CHAR), CAST(c_smallint AS CHAR), CAST(c_mediumint AS CHAR), CAST(c_int AS CHAR),
		CAST(c_bigint AS CHAR), CAST(c_ubigint AS CHAR), CAST(c_uint AS CHAR), CAST(c_decimal AS CHAR), CAST(c_float AS CHAR),
		CAST(c_double AS CHAR), CAST(c_bool AS CHAR), c_varchar, c_text, HEX(c_blob), HEX(c_varbinary), CAST(c_date AS CHAR),
		CAST(c_time AS CHAR), CAST(c_datetime AS CHAR), CAST(c_timestamp AS CHAR), c_json, c_enum, CAST(c_year AS CHAR)`,
}

// textRows renders every row of table as text, column by column.
func textRows(t *testing.T, db testDB, m typeMatrix, table string) [][]string {
	t.Helper()
	rs, err := db.sql.Query("SELECT " + m.asText + " FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]*string, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rs.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v != nil {
				row[i] = *v
			}
		}
		out = append(out, row)
	}
	return out
}

// The type matrix goes source → Kafka (JsonConverter with schemas) → sink
// into a table of the same types, and every column reads back the same.
func TestPipelineTypeMatrix(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		m := mariaMatrix
		if db.kind == "postgres" {
			m = pgMatrix
			db.exec(t, "CREATE TYPE mood AS ENUM ('happy', 'sad')")
		}
		db.exec(t, fmt.Sprintf(m.ddl, "src"))
		db.exec(t, fmt.Sprintf(m.ddl, "dst"))
		db.exec(t, "INSERT INTO src VALUES "+strings.Join(m.rows, ", "))
		p := newPipeline(t)
		res := p.source(t, "matrix-src", db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "m-", TableWhitelistConfig: "src",
			TablesConfig: `["src"]`,
		}))
		if res.Records != 3 {
			t.Fatalf("source produced %d records, want 3", res.Records)
		}
		p.sink(t, "matrix-sink", "m-src", db.props(map[string]string{
			TableNameFormatConfig: "dst", InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey,
		}))
		want, got := textRows(t, db, m, "src"), textRows(t, db, m, "dst")
		if len(got) != len(want) {
			t.Fatalf("dst has %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Errorf("row %d column %d: dst %q, src %q", i+1, j, got[i][j], want[i][j])
				}
			}
		}
	})
}

// The seeds' pipeline: a MariaDB table → Kafka → a PostgreSQL table that
// the sink creates, then changes flow through (timestamp+incrementing
// upserts).
func TestPipelineMariaDBToPostgres(t *testing.T) {
	my, pg := newMariaDB(t), newPostgres(t)
	my.exec(t, `CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL,
		balance decimal(10,2) NOT NULL, updated_at datetime(3) NOT NULL DEFAULT NOW(3) ON UPDATE NOW(3))`)
	my.exec(t, "INSERT INTO customers (name, balance) VALUES ('ada', 10.50), ('bob', 0.00), ('cy', -3.25)")
	p := newPipeline(t)
	src := my.props(map[string]string{
		ModeConfig: ModeTimestampIncrementing, IncrementingColumnConfig: "id", TimestampColumnConfig: "updated_at",
		TopicPrefixConfig: "shop-", TablesConfig: `["customers"]`,
	})
	sink := pg.props(map[string]string{
		InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, AutoCreateConfig: "true", AutoEvolveConfig: "true",
		TableNameFormatConfig: "${topic}",
	})
	p.source(t, "shop-src", src)
	p.sink(t, "shop-sink", "shop-customers", sink)
	check := func(want string) {
		t.Helper()
		var got []string
		rs, err := pg.sql.Query(`SELECT id, name, balance::text FROM "shop-customers" ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id int
			var name, bal string
			if err := rs.Scan(&id, &name, &bal); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d:%s:%s", id, name, bal))
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("postgres rows: %s, want %s", strings.Join(got, " "), want)
		}
	}
	check("1:ada:10.50 2:bob:0.00 3:cy:-3.25")
	time.Sleep(5 * time.Millisecond)
	my.exec(t, "UPDATE customers SET balance = 99.99 WHERE id = 2")
	my.exec(t, "INSERT INTO customers (name, balance) VALUES ('dee', 1.00)")
	p.source(t, "shop-src", src)
	p.sink(t, "shop-sink", "shop-customers", sink)
	check("1:ada:10.50 2:bob:99.99 3:cy:-3.25 4:dee:1.00")
	if n := pg.count(t, `SELECT next_offset FROM __sluice_offsets WHERE connector = 'shop-sink'`); n != 5 {
		t.Fatalf("next_offset = %d, want 5 (3 + 2 records)", n)
	}
}

// killAfterDBCommit is the JDBC sink task whose process "dies" right after
// its database commit: PreCommit returns only after the lease's commit
// cutoff, so the executor commits nothing to Kafka, as if killed.
type killAfterDBCommit struct {
	*SinkTask
	until time.Time // the lease's deadline
}

func (k killAfterDBCommit) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	safe, err := k.SinkTask.PreCommit(ctx, offsets)
	time.Sleep(time.Until(k.until))
	return safe, err
}

// Through the executor and Kafka: a lease whose database transaction
// committed but whose Kafka commit never happened is re-issued with the
// same range; with insert.mode=insert no row is written twice, and the
// group offset then advances.
func TestPipelineExactlyOnceKilledAfterDatabaseCommit(t *testing.T) {
	db := newPostgres(t)
	db.exec(t, "CREATE TABLE src (id int PRIMARY KEY, name text NOT NULL)")
	db.exec(t, "INSERT INTO src SELECT g, 'n' || g FROM generate_series(1, 500) g")
	k := kafkatest.Start(t, 1)
	var deadline time.Time // of the lease to kill
	killing := connect.Plugin{Class: "test.KillingJdbcSink", Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return NewSinkConnector() },
		NewSinkTask:  func() connect.SinkTask { return killAfterDBCommit{NewSinkTask(), deadline} }}
	reg, err := connect.NewRegistry(append(converter.Plugins(), append(Plugins(), killing)...)...)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{k: k, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})}
	p.source(t, "eos-src", db.props(map[string]string{
		ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "eos-", TablesConfig: `["src"]`,
	}))
	cfg := db.props(map[string]string{"name": "eos-sink", "connector.class": "test.KillingJdbcSink", "topics": "eos-src",
		TableNameFormatConfig: "dst", AutoCreateConfig: "true"}) // insert mode, no key
	maps.Copy(cfg, jsonConverters)
	rg := lease.Range{Topic: "eos-src", Partition: 0, Start: 0, End: 500}
	deadline = time.Now().Add(8 * time.Second)
	res := p.exec.Run(context.Background(), lease.Lease{ID: "eos-1", Kind: lease.KindSink, Connector: "eos-sink", Epoch: 1,
		Deadline: deadline, ConnectorConfig: cfg, TaskConfig: cfg, Ranges: []lease.Range{rg}})
	if res.Status == lease.Succeeded || len(res.Committed) != 0 {
		t.Fatalf("the killed lease: %s, committed %v; want nothing committed to Kafka", res.Status, res.Committed)
	}
	if n := db.count(t, "SELECT count(*) FROM dst"); n != 500 {
		t.Fatalf("after the database commit: %d rows, want 500", n)
	}
	tp := kafka.TopicPartition{Topic: "eos-src", Partition: 0}
	if off, _ := k.Client.CommittedOffsets(context.Background(), lease.GroupID("eos-sink"), []kafka.TopicPartition{tp}); off[tp] > 0 {
		t.Fatalf("group offset %d committed by the killed lease", off[tp])
	}
	// The coordinator re-issues the same range (a healthy task this time).
	cfg["connector.class"] = ConfluentSinkClass
	res = p.exec.Run(context.Background(), lease.Lease{ID: "eos-2", Kind: lease.KindSink, Connector: "eos-sink", Epoch: 2,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg, Ranges: []lease.Range{rg}})
	if res.Status != lease.Succeeded {
		t.Fatalf("replay: %s %s", res.Status, res.Error)
	}
	if n := db.count(t, "SELECT count(*) FROM dst"); n != 500 {
		t.Fatalf("after the replay: %d rows, want 500 (no duplicates)", n)
	}
	if off, _ := k.Client.CommittedOffsets(context.Background(), lease.GroupID("eos-sink"), []kafka.TopicPartition{tp}); off[tp] != 500 {
		t.Fatalf("group offset after the replay = %d, want 500", off[tp])
	}
}

// connection.password through a config provider: the lease resolves
// ${env:...} before the task starts.
func TestPipelinePasswordFromConfigProvider(t *testing.T) {
	db := newPostgres(t)
	createOrders(t, db, "orders")
	insertOrders(t, db, "orders", 2)
	t.Setenv("SLUICE_JDBC_TEST_PASSWORD", db.pass)
	resolver, err := configprovider.NewResolver(map[string]string{
		"config.providers": "env", "config.providers.env.class": configprovider.EnvVarClass,
		"config.providers.env.param.allowlist.pattern": "SLUICE_JDBC_TEST_.*",
	})
	if err != nil {
		t.Fatal(err)
	}
	k := kafkatest.Start(t, 1)
	reg, err := connect.NewRegistry(append(converter.Plugins(), Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{k: k, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond, Resolver: resolver})}
	props := db.props(map[string]string{
		ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "p-", TablesConfig: `["orders"]`,
		ConnectionPasswordConfig: "${env:SLUICE_JDBC_TEST_PASSWORD}",
	})
	if res := p.source(t, "secret-src", props); res.Records != 2 {
		t.Fatalf("records = %d, want 2", res.Records)
	}
}

// A row the database rejects (NOT NULL) goes to the dead letter queue with
// errors.tolerance=all, through the executor; the other rows are written
// and the offsets committed.
func TestPipelineRejectedRowToDeadLetterQueue(t *testing.T) {
	db := newPostgres(t)
	db.exec(t, "CREATE TABLE src (id int PRIMARY KEY, name text)")
	db.exec(t, "INSERT INTO src VALUES (1, 'a'), (2, NULL), (3, 'c')")
	db.exec(t, "CREATE TABLE dst (id int PRIMARY KEY, name text NOT NULL)")
	p := newPipeline(t)
	p.source(t, "dlq-src", db.props(map[string]string{
		ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "dlq-", TablesConfig: `["src"]`,
	}))
	res := p.sink(t, "dlq-sink", "dlq-src", db.props(map[string]string{
		TableNameFormatConfig: "dst", InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey,
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq-bad", "errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable": "true",
	}))
	if res.DeadLettered != 1 || len(res.Committed) != 1 || res.Committed[0].End != 3 {
		t.Fatalf("dead lettered %d, committed %v; want 1 and offset 3", res.DeadLettered, res.Committed)
	}
	if n := db.count(t, "SELECT count(*) FROM dst"); n != 2 {
		t.Fatalf("dst rows = %d, want 2", n)
	}
	var msgs []kafka.Message
	err := p.k.Client.FetchRange(context.Background(), kafka.TopicPartition{Topic: "dlq-bad", Partition: 0}, 0, 1, 1<<20,
		func(m []kafka.Message) error { msgs = append(msgs, m...); return nil })
	if err != nil || len(msgs) != 1 {
		t.Fatalf("dead letter queue: %d messages, %v", len(msgs), err)
	}
	var reason string
	for _, h := range msgs[0].Headers {
		if h.Key == "__connect.errors.exception.message" {
			reason = string(h.Value)
		}
	}
	if !strings.Contains(reason, "null") || !strings.Contains(reason, "dst") {
		t.Fatalf("the dead letter's exception message %q does not say what the table rejected", reason)
	}
}

// Identifiers that need quoting (mixed case; spaces where Kafka allows
// them: not in topic names) work both ways with
// quote.sql.identifiers=always (the default), and queries run at the
// configured transaction.isolation.mode.
func TestPipelineQuotedIdentifiersAndIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		q := func(s string) string { return db.pick(`"`+s+`"`, "`"+s+"`") }
		db.exec(t, "CREATE TABLE "+q("MixedCase")+" ("+q("Id")+" int PRIMARY KEY, "+q("Full Name")+" varchar(50) NOT NULL)")
		db.exec(t, "INSERT INTO "+q("MixedCase")+" VALUES (1, 'Ada'), (2, 'Bob')")
		p := newPipeline(t)
		res := p.source(t, "quoted-src", db.props(map[string]string{
			ModeConfig: ModeIncrementing, IncrementingColumnConfig: "Id", TopicPrefixConfig: "q-", TablesConfig: `["MixedCase"]`,
			TransactionIsolationConfig: "SERIALIZABLE",
		}))
		if res.Records != 2 {
			t.Fatalf("source records = %d, want 2", res.Records)
		}
		p.sink(t, "quoted-sink", "q-MixedCase", db.props(map[string]string{
			TableNameFormatConfig: "Copy of ${topic}", InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, AutoCreateConfig: "true",
		}))
		if n := db.count(t, "SELECT count(*) FROM "+q("Copy of q-MixedCase")+" WHERE "+q("Full Name")+" IN ('Ada', 'Bob')"); n != 2 {
			t.Fatalf("rows = %d, want 2", n)
		}
	})
}
