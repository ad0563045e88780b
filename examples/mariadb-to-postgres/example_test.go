// Package example runs this folder's two connector files as they are, but
// for the servers' addresses and credentials: a real MariaDB, the
// in-process broker and a real PostgreSQL.
package example

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
	"github.com/sluicehq/sluice/pkg/properties"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(runner(func() int { return mariadbtest.Run(m) })))
}

type runner func() int

func (r runner) Run() int { return r() }

const topic = "maria.shop.customers"

// TestMariaDBToPostgres: the snapshot, then inserts, updates and deletes
// in MariaDB's binlog reach PostgreSQL's table through Kafka; PostgreSQL
// ends with exactly MariaDB's rows.
func TestMariaDBToPostgres(t *testing.T) {
	maria := mariadbtest.NewDB(t)
	pg := pgtest.NewDB(t)
	k := kafkatest.Start(t, 1)
	exec := lease.NewExecutor(plugins.Registry(), k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})

	source := load(t, "mariadb-cdc-source.properties")
	maps.Copy(source, map[string]string{
		"database.hostname": maria.Server.Host, "database.port": strconv.Itoa(maria.Server.Port),
		"database.user": mariadbtest.User, "database.password": maria.Server.Password,
		"database.include.list": maria.Name, "table.include.list": maria.Name + ".customers",
		// The database has a generated name; the topic keeps the example's.
		"transforms": "name", "transforms.name.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.name.regex": `maria\..*\.customers`, "transforms.name.replacement": topic,
	})
	sink := load(t, "postgres-customers-sink.properties")
	maps.Copy(sink, map[string]string{"connection.url": pg.JDBCURL, "connection.user": pgtest.User,
		"connection.password": pg.Server.Password})

	maria.Exec(t, `CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200), balance DECIMAL(10,2))`)
	maria.Exec(t, `INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', 10.50), (2, 'Brian', NULL, 0), (3, 'Chidi', 'c@example.com', 99.99)`)
	run(t, exec, k, source, sink) // the snapshot
	check(t, maria, pg)

	maria.Exec(t, `INSERT INTO customers VALUES (4, 'Dana', 'd@example.com', 1.25)`)
	maria.Exec(t, `UPDATE customers SET email = 'brian@example.com', balance = 5 WHERE id = 2`)
	maria.Exec(t, `DELETE FROM customers WHERE id = 3`)
	maria.Exec(t, `UPDATE customers SET id = 30 WHERE id = 1`) // a key change: a delete and an insert
	run(t, exec, k, source, sink)
	check(t, maria, pg)
}

func load(t *testing.T, name string) map[string]string {
	t.Helper()
	props, err := properties.LoadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return props
}

// run runs one source lease, then one sink lease over everything the topic
// holds past the sink's committed offset.
func run(t *testing.T, exec *lease.Executor, k *kafkatest.Env, source, sink map[string]string) {
	t.Helper()
	ctx := context.Background()
	res := exec.Run(ctx, lease.Lease{ID: fmt.Sprint("src-", time.Now().UnixNano()), Kind: lease.KindSource,
		Connector: source["name"], Epoch: 1, Deadline: time.Now().Add(60 * time.Second),
		ConnectorConfig: source, TaskConfig: source, Budget: lease.Budget{MaxIdle: lease.Duration(700 * time.Millisecond)}})
	if res.Status != lease.Succeeded {
		t.Fatalf("source lease: %s\n%s", res.Status, res.Trace)
	}
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := k.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	committed, err := k.Client.CommittedOffsets(ctx, lease.GroupID(sink["name"]), []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	res = exec.Run(ctx, lease.Lease{ID: fmt.Sprint("sink-", time.Now().UnixNano()), Kind: lease.KindSink,
		Connector: sink["name"], Epoch: 1, Deadline: time.Now().Add(60 * time.Second),
		ConnectorConfig: sink, TaskConfig: sink,
		Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: max(committed[tp], 0), End: wm[tp].High}}})
	if res.Status != lease.Succeeded {
		t.Fatalf("sink lease: %s\n%s", res.Status, res.Trace)
	}
}

// check compares the rows of both tables, as text.
func check(t *testing.T, maria *mariadbtest.DB, pg *pgtest.DB) {
	t.Helper()
	want := rows(t, maria.SQL, `SELECT id, name, COALESCE(email, '-'), CAST(balance AS CHAR) FROM customers ORDER BY id`)
	got := rows(t, pg.SQL, `SELECT id, name, COALESCE(email, '-'), balance::text FROM customers ORDER BY id`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("PostgreSQL has\n%s\nMariaDB has\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func rows(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rs, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id int
		var name, email, balance string
		if err := rs.Scan(&id, &name, &email, &balance); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s %s %s", id, name, email, balance))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
