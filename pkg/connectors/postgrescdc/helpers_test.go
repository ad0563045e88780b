package postgrescdc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/transforms"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// env is a database, a broker and an executor whose offsets store can be
// made to fail (a lease killed after produce, before its offsets are written).
type env struct {
	db     *pgtest.DB
	kafka  *kafkatest.Env
	store  *crashingStore
	exec   *lease.Executor
	config map[string]string
	epoch  int64
	// maxRecords bounds each lease (0: the executor's default).
	maxRecords int64
}

func newEnv(t *testing.T, extra map[string]string) *env {
	t.Helper()
	db := pgtest.NewDB(t)
	k := kafkatest.Start(t, 1)
	store := &crashingStore{Store: k.Offsets}
	e := &env{db: db, kafka: k, store: store,
		exec: lease.NewExecutor(registry(t), k.Client, store, lease.Options{SafetyMargin: 200 * time.Millisecond})}
	slot := "sluice_" + db.Name
	e.config = map[string]string{
		"name": "cdc", "connector.class": Class,
		HostnameConfig: db.Server.Host, PortConfig: strconv.Itoa(db.Server.Port), UserConfig: pgtest.User,
		PasswordConfig: db.Server.Password, DBNameConfig: db.Name, SSLModeConfig: "disable",
		TopicPrefixConfig: "srv", SlotNameConfig: slot, PublicationNameConfig: "pub_" + db.Name,
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
	}
	maps.Copy(e.config, extra)
	t.Cleanup(func() {
		// The slot pins WAL and blocks DROP DATABASE: drop it with the test.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			var n int
			err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", slot).Scan(&n)
			if err != nil || n == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, _ = db.SQL.ExecContext(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", slot)
	})
	return e
}

// run runs one source lease and returns its result.
func (e *env) run(t *testing.T) lease.Result {
	t.Helper()
	e.epoch++
	l := lease.Lease{ID: fmt.Sprintf("l%d", e.epoch), Kind: lease.KindSource, Connector: "cdc", Epoch: e.epoch,
		Deadline: time.Now().Add(60 * time.Second), ConnectorConfig: e.config, TaskConfig: e.config,
		Budget: lease.Budget{MaxIdle: lease.Duration(700 * time.Millisecond), MaxRecords: e.maxRecords}}
	return e.exec.Run(context.Background(), l)
}

// mustRun runs a lease that must succeed.
func (e *env) mustRun(t *testing.T) lease.Result {
	t.Helper()
	res := e.run(t)
	if res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s\n%s", res.LeaseID, res.Status, res.Trace)
	}
	return res
}

// message is a record read back from Kafka, its key and value decoded.
type message struct {
	Key   map[string]any
	Value map[string]any // nil for a tombstone
}

// payload returns a JsonConverter envelope's payload.
func payload(b []byte) map[string]any {
	if b == nil {
		return nil
	}
	var env struct {
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		panic(err)
	}
	return env.Payload
}

// read returns a topic's records from offset from on.
func (e *env) read(t *testing.T, topic string, from int64) []message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []message
	if wm[tp].High <= from {
		return nil
	}
	err = e.kafka.Client.FetchRange(ctx, tp, max(from, wm[tp].Low), wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			out = append(out, message{Key: payload(m.Key), Value: payload(m.Value)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawValues returns a topic's raw record values.
func (e *env) rawValues(t *testing.T, topic string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	err = e.kafka.Client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			out = append(out, m.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// slotLSN returns the slot's confirmed flush LSN and restart LSN, as numbers.
func (e *env) slotLSN(t *testing.T) (confirmed, restart int64) {
	t.Helper()
	confirmed = e.db.QueryInt(t, "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = $1", e.config[SlotNameConfig])
	restart = e.db.QueryInt(t, "SELECT restart_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = $1", e.config[SlotNameConfig])
	return confirmed, restart
}

// committedOffset returns the connector's committed source offset.
func (e *env) committedOffset(t *testing.T) map[string]any {
	t.Helper()
	loaded, err := e.kafka.Offsets.Load(context.Background(), "cdc")
	if err != nil {
		t.Fatal(err)
	}
	return loaded[offsets.PartitionID(map[string]any{serverKey: "srv"})].Offset
}

// crashingStore fails offset writes while crash is set: the lease has
// produced its records but dies before its offsets are written.
type crashingStore struct {
	offsets.Store
	mu    sync.Mutex
	crash bool
}

func (s *crashingStore) set(crash bool) { s.mu.Lock(); s.crash = crash; s.mu.Unlock() }

func (s *crashingStore) Write(ctx context.Context, connector string, entries []offsets.Entry) error {
	s.mu.Lock()
	crash := s.crash
	s.mu.Unlock()
	if crash {
		return fmt.Errorf("simulated crash before the offset write")
	}
	return s.Store.Write(ctx, connector, entries)
}

func ops(ms []message) []string {
	var out []string
	for _, m := range ms {
		if m.Value == nil {
			out = append(out, "tombstone")
			continue
		}
		out = append(out, m.Value["op"].(string))
	}
	return out
}

// registry holds the converters, transforms and this connector (the
// plugins package imports this one).
func registry(t *testing.T) *connect.Registry {
	t.Helper()
	r, err := connect.NewRegistry(append(append(converter.Plugins(), transforms.Plugins()...), Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) rawKeys(t *testing.T, topic string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := e.kafka.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	err = e.kafka.Client.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			out = append(out, m.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitSlotInactive waits until the last lease's server process has let go
// of the slot (it exits just after the lease closes its connection).
func (e *env) waitSlotInactive(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.db.QueryInt(t, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", e.config[SlotNameConfig]) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slot is still active 10 s after the lease ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
