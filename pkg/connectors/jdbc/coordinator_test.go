package jdbc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// startCoordinator runs a coordinator leading alone on an in-process
// broker, invoking leases in process, with the JDBC connectors.
func startCoordinator(t *testing.T) (*coordinator.Coordinator, *kafkatest.Env) {
	t.Helper()
	k := kafkatest.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, k.Client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Follow(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	leases, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, "sluice-leases", -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leases.Close() })
	reg, err := connect.NewRegistry(append(converter.Plugins(), Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := coordinator.Config{
		LeaseTimeout: 10 * time.Second, LeaseMaxTime: time.Second, Executor: env.Executor{SafetyMargin: 300 * time.Millisecond},
		SinkPollInterval: 100 * time.Millisecond, SinkMaxRecords: 1000, DefaultFlushSize: 1,
		DefaultRotateInterval: 200 * time.Millisecond, IdleBackoffMax: 300 * time.Millisecond,
		TaskRetries: 1, RetryBackoffMax: 200 * time.Millisecond, OffsetStorage: env.OffsetStorage{OffsetStoragePartitions: 5},
		ReconcileInterval: 100 * time.Millisecond, Invoker: "inprocess", RestAdvertisedURL: "http://127.0.0.1:18083",
	}
	inv := coordinator.InProcess{Executor: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: cfg.SafetyMargin})}
	coord, err := coordinator.New(cfg, coordinator.Deps{Plugins: reg, Kafka: k.Client, Invoker: inv,
		Configs: st.Configs, Statuses: st.Statuses, Leases: leases, Offsets: k.Offsets})
	if err != nil {
		t.Fatal(err)
	}
	coord.Start()
	t.Cleanup(coord.Close)
	return coord, k
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func highWatermark(t *testing.T, k *kafkatest.Env, topic string) int64 {
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := k.Client.Watermarks(context.Background(), []kafka.TopicPartition{tp})
	if err != nil {
		return 0 // the topic does not exist yet
	}
	return wm[tp].High
}

// Through the coordinator: a table created while the connector runs (the
// first one included, when the connector had no task) is copied within
// table.poll.interval.ms without a restart, and a dropped one leaves the
// tasks' configurations.
func TestCoordinatorPicksUpNewTables(t *testing.T) {
	db := newPostgres(t)
	coord, k := startCoordinator(t)
	props := db.props(map[string]string{
		"name": "pg-src", "connector.class": ConfluentSourceClass, "tasks.max": "2",
		ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id", TopicPrefixConfig: "pg-",
		SchemaPatternConfig: "public", TablePollIntervalConfig: "200", PollIntervalConfig: "100",
	})
	for k, v := range jsonConverters {
		props[k] = v
	}
	if err := coord.Add(props); err != nil {
		t.Fatal(err)
	}
	// No table yet: no task. The first table gives the connector one.
	time.Sleep(500 * time.Millisecond)
	createOrders(t, db, "a")
	insertOrders(t, db, "a", 5)
	waitUntil(t, 30*time.Second, "table a's 5 rows in pg-a", func() bool { return highWatermark(t, k, "pg-a") == 5 })
	createOrders(t, db, "b")
	insertOrders(t, db, "b", 3)
	waitUntil(t, 30*time.Second, "new table b's 3 rows in pg-b", func() bool { return highWatermark(t, k, "pg-b") == 3 })
	tables := func() string {
		infos, err := coord.TaskConfigs(context.Background(), "pg-src")
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, ti := range infos {
			out = append(out, ti.Config[TablesConfig])
		}
		return strings.Join(out, " ")
	}
	waitUntil(t, 10*time.Second, "two tasks, one table each", func() bool { return tables() == `["public.a"] ["public.b"]` })
	db.exec(t, "DROP TABLE a")
	waitUntil(t, 10*time.Second, "table a released", func() bool { return tables() == `["public.b"]` })
	insertOrders(t, db, "b", 2)
	waitUntil(t, 30*time.Second, "b's new rows", func() bool { return highWatermark(t, k, "pg-b") == 5 })
}

// An unreachable database fails the task with a trace naming it, and no
// offset is committed.
func TestCoordinatorUnreachableDatabaseFailsTask(t *testing.T) {
	coord, k := startCoordinator(t)
	props := map[string]string{
		"name": "down", "connector.class": ConfluentSourceClass, ConnectionURLConfig: "jdbc:postgresql://127.0.0.1:1/nowhere",
		ConnectionUserConfig: "u", ConnectionAttemptsConfig: "2", ConnectionBackoffConfig: "10",
		ModeConfig: ModeBulk, TopicPrefixConfig: "x-", QueryConfig: "SELECT 1",
	}
	if err := coord.Add(props); err != nil {
		t.Fatal(err)
	}
	var trace string
	waitUntil(t, 60*time.Second, "task FAILED", func() bool {
		st, err := coord.ConnectorStatus(context.Background(), "down")
		if err != nil || len(st.Tasks) != 1 || st.Tasks[0].State != "FAILED" {
			return false
		}
		trace = st.Tasks[0].Trace
		return true
	})
	if !strings.Contains(trace, "127.0.0.1:1/nowhere") || !strings.Contains(trace, "failed after 2 attempt(s)") {
		t.Fatalf("trace does not say what failed: %q", trace)
	}
	stored, err := k.Offsets.Load(context.Background(), "down")
	if err != nil || len(stored) != 0 {
		t.Fatalf("offsets committed: %v %v", stored, err)
	}
}
