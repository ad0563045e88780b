package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/jdbc"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// sink-batch built with -tags sluice.testhooks: the JDBC sink's crash hook
// (jdbc.KillAfterDBCommitEnv) is compiled in, and active only where a test
// sets the variable.
var (
	hookedOnce sync.Once
	hookedDir  string
	hookedErr  error
)

func hookedSinkBatch(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	hookedOnce.Do(func() {
		if hookedDir, hookedErr = os.MkdirTemp("", "sluice-functions-e2e-hooks-"); hookedErr != nil {
			return
		}
		out := filepath.Join(hookedDir, "sink-batch")
		cmd := exec.Command("go", "build", "-tags", "sluice.testhooks", "-o", out, "github.com/sluicehq/sluice/functions/sink-batch")
		if b, err := cmd.CombinedOutput(); err != nil {
			hookedErr = fmt.Errorf("go build -tags sluice.testhooks functions/sink-batch: %v\n%s", err, b)
		}
	})
	if hookedErr != nil {
		t.Fatal(hookedErr)
	}
	return filepath.Join(hookedDir, "sink-batch")
}

// jdbcTarget is a fresh database on the test binary's PostgreSQL or MariaDB.
type jdbcTarget struct {
	url, user, pass string
	sql             *sql.DB
}

// The JDBC sink's exactly-once across a real process death: a sink-batch
// worker (a separate process) takes a lease of 500 records in
// insert.mode=insert into a table without a key, commits the rows and
// __sluice_offsets in one database transaction and is SIGKILLed by its
// crash hook right after that commit, before the lease commits the group
// offset to Kafka. A fresh worker then takes the next lease, which the
// coordinator issues from the group offset (0) to the new end (700): it
// resumes from __sluice_offsets (500), so every row is there exactly once,
// and the group offset reaches 700.
func TestJDBCSinkKilledAfterDatabaseCommit(t *testing.T) {
	t.Parallel()
	bin := hookedSinkBatch(t)
	targets := map[string]func(t *testing.T) jdbcTarget{
		"postgres": func(t *testing.T) jdbcTarget {
			db := pgtest.NewDB(t)
			return jdbcTarget{db.JDBCURL, pgtest.User, db.Server.Password, db.SQL}
		},
		"mariadb": func(t *testing.T) jdbcTarget {
			db := mariadbtest.NewDB(t)
			return jdbcTarget{db.JDBCURL, mariadbtest.User, db.Server.Password, db.SQL}
		},
	}
	for _, name := range []string{"postgres", "mariadb"} {
		t.Run(name, func(t *testing.T) { jdbcKilledAfterCommit(t, bin, targets[name](t)) })
	}
}

func jdbcKilledAfterCommit(t *testing.T, bin string, db jdbcTarget) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := kafkatest.Start(t, 1)
	const topic, connector = "orders", "orders-jdbc"
	const offsetsQuery = "SELECT next_offset FROM __sluice_offsets WHERE connector = '" + connector + "' AND topic = '" + topic + "' AND kafka_partition = 0"
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	if _, err := db.sql.ExecContext(ctx, "CREATE TABLE orders (id INT NOT NULL, item VARCHAR(40) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	produceOrders(t, k, topic, 0, 500)

	cfg := map[string]string{
		"name": connector, "connector.class": jdbc.ConfluentSinkClass, "topics": topic,
		"connection.url": db.url, "connection.user": db.user, "connection.password": db.pass,
		"insert.mode": "insert", "pk.mode": "none", "auto.create": "false",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter",
	}
	sinkLease := func(id string, epoch, end int64) lease.Lease {
		return lease.Lease{ID: id, Kind: lease.KindSink, Connector: connector, Epoch: epoch, Generation: 1,
			Deadline: time.Now().Add(90 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: topic, Partition: 0, Start: 0, End: end}}}
	}

	// Lease 1, on a worker with the crash hook on.
	pull, srv, _, secretEnv := pullServer(t)
	env := append(functionEnv(k.Brokers), secretEnv, "SLUICE_COORDINATOR_URL="+srv.URL, "SLUICE_POLL_WAIT=2s")
	w1 := proctest.Start(t, "sink-batch worker 1", bin, append(env, "SLUICE_WORKER_ID=w1", jdbc.KillAfterDBCommitEnv+"=1"))
	invokeCtx, stopInvoke := context.WithCancel(ctx)
	answer := make(chan error, 1)
	go func() {
		res, err := pull.Invoke(invokeCtx, sinkLease("orders-1", 1, 500))
		if err == nil {
			err = fmt.Errorf("lease 1 reported %s (committed %v): the worker was to die first", res.Status, res.Committed)
		}
		answer <- err
	}()
	select {
	case <-w1.Done():
	case <-time.After(2 * time.Minute):
		t.Fatal("worker 1 did not die within 2 minutes")
	}
	var exit *exec.ExitError
	if err := w1.Err(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("worker 1 exited with %v, want killed by SIGKILL", err)
	}
	stopInvoke()
	if err := <-answer; !errors.Is(err, invoke.ErrNoResult) {
		t.Fatal(err)
	}
	if n := queryInt(t, db.sql, "SELECT count(*) FROM orders"); n != 500 {
		t.Fatalf("after the kill: %d rows, want the 500 of the committed transaction", n)
	}
	if n := queryInt(t, db.sql, offsetsQuery); n != 500 {
		t.Fatalf("after the kill: __sluice_offsets says %d, want 500", n)
	}
	if off := groupOffset(t, k, connector, tp); off > 0 {
		t.Fatalf("after the kill: group offset %d, want none committed", off)
	}

	// The next lease, from the group offset (nothing committed: 0) to the
	// new end, on a fresh worker without the hook.
	produceOrders(t, k, topic, 500, 700)
	proctest.Start(t, "sink-batch worker 2", bin, append(env, "SLUICE_WORKER_ID=w2"))
	res, err := pull.Invoke(ctx, sinkLease("orders-2", 2, 700))
	if err != nil || res.Status != lease.Succeeded {
		t.Fatalf("lease 2: %+v, %v", res, err)
	}
	if len(res.Committed) != 1 || res.Committed[0].End != 700 {
		t.Fatalf("lease 2 committed %v, want %s-0 up to 700", res.Committed, topic)
	}
	if n, distinct := queryInt(t, db.sql, "SELECT count(*) FROM orders"), queryInt(t, db.sql, "SELECT count(DISTINCT id) FROM orders"); n != 700 || distinct != 700 {
		t.Fatalf("after lease 2: %d rows, %d distinct ids; want 700 and 700 (each record exactly once)", n, distinct)
	}
	if lo, hi := queryInt(t, db.sql, "SELECT min(id) FROM orders"), queryInt(t, db.sql, "SELECT max(id) FROM orders"); lo != 0 || hi != 699 {
		t.Fatalf("after lease 2: ids %d..%d, want 0..699", lo, hi)
	}
	if n := queryInt(t, db.sql, offsetsQuery); n != 700 {
		t.Fatalf("after lease 2: __sluice_offsets says %d, want 700", n)
	}
	if off := groupOffset(t, k, connector, tp); off != 700 {
		t.Fatalf("after lease 2: group offset %d, want 700", off)
	}
}

// produceOrders writes records [from, to) of topic partition 0, JSON with
// a struct schema: {"id": i, "item": "item-i"}.
func produceOrders(t *testing.T, k *kafkatest.Env, topic string, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const schema = `{"type":"struct","fields":[{"field":"id","type":"int32","optional":false},{"field":"item","type":"string","optional":false}]}`
	for i := from; i < to; i++ {
		v := fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"item":"item-%d"}}`, schema, i, i)
		if err := p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// queryInt runs a query of one integer (NULL reads as 0).
func queryInt(t *testing.T, db *sql.DB, query string) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n.Int64
}

// groupOffset is the committed offset of tp in the connector's group
// (negative when none).
func groupOffset(t *testing.T, k *kafkatest.Env, connector string, tp kafka.TopicPartition) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := k.Client.CommittedOffsets(ctx, lease.GroupID(connector), []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	off, ok := offs[tp]
	if !ok {
		return -1
	}
	return off
}
