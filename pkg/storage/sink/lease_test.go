package sink_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// These tests run the engine inside the real lease executor against the
// embedded Kafka broker, with the in-test store and format.

const leaseTopic = "events"

// leaseEnv is a broker holding 60 records (one a minute from t0 with an
// hour boundary at offset 50) and an executor whose registry has the
// storage sink writing to store, with taskWrap applied to each task.
type leaseEnv struct {
	client *kafka.Client
	exec   *lease.Executor
}

func newLeaseEnv(t *testing.T, store storage.Store, taskWrap func(*sink.Task) connect.SinkTask) *leaseEnv {
	t.Helper()
	k := kafkatest.Start(t, 1)
	produceTimed(t, k.Client, 60)
	if taskWrap == nil {
		taskWrap = func(t *sink.Task) connect.SinkTask { return t }
	}
	plugin := connect.Plugin{Class: "test.StorageSinkConnector", Kind: connect.KindSink,
		NewConnector: func() connect.Connector { return passConnector{} },
		NewSinkTask:  func() connect.SinkTask { return taskWrap(sink.NewTask(testOptions(store))) },
	}
	reg, err := connect.NewRegistry(append(converter.Plugins(), plugin)...)
	if err != nil {
		t.Fatal(err)
	}
	return &leaseEnv{client: k.Client, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})}
}

func produceTimed(t *testing.T, c *kafka.Client, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: leaseTopic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := t0.Add(-50 * time.Minute) // offset 50 starts hour 10
	for i := range n {
		p.Send(context.Background(), kafka.Message{Topic: leaseTopic, Partition: 0, Key: []byte(fmt.Sprintf("k%02d", i)),
			Value: []byte(fmt.Sprintf("v%02d", i)), Timestamp: start.Add(time.Duration(i) * time.Minute)})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *leaseEnv) run(t *testing.T, id string, epoch int64, start, end int64, deadline time.Duration) lease.Result {
	t.Helper()
	cfg := map[string]string{
		"name": "exp", "connector.class": "test.StorageSinkConnector", "topics": leaseTopic,
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"format.class": "test.Lines", "flush.size": "20", "store.kafka.keys": "true",
		"partitioner.class": "HourlyPartitioner", "locale": "en-US", "timezone": "UTC", "timestamp.extractor": "Record",
	}
	l := lease.Lease{ID: id, Kind: lease.KindSink, Connector: "exp", Epoch: epoch, Deadline: time.Now().Add(deadline),
		ConnectorConfig: cfg, TaskConfig: maps.Clone(cfg),
		Ranges: []lease.Range{{Topic: leaseTopic, Partition: 0, Start: start, End: end}}}
	return e.exec.Run(context.Background(), l)
}

func (e *leaseEnv) committed(t *testing.T) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: leaseTopic, Partition: 0}
	m, err := e.client.CommittedOffsets(ctx, lease.GroupID("exp"), []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	return m[tp]
}

type passConnector struct{}

func (passConnector) Start(context.Context, connect.ConnectorContext, map[string]string) error {
	return nil
}
func (passConnector) TaskConfigs(int) ([]map[string]string, error) { return nil, nil }
func (passConnector) Stop() error                                  { return nil }
func (passConnector) Config() *config.Def                          { return sink.EngineConfig() }

func requireStatus(t *testing.T, res lease.Result, want lease.Status) {
	t.Helper()
	if res.Status != want {
		t.Fatalf("lease %s: status %s, want %s (%s)", res.LeaseID, res.Status, want, res.Error)
	}
}

func requireSame(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, keysOf(got), keysOf(want))
	}
}

// Rule 2: the same range written twice, or into another store, gives
// byte-identical objects under identical keys.
func TestLeaseSameRangeSameObjects(t *testing.T) {
	store := newTestStore()
	e := newLeaseEnv(t, store, nil)
	requireStatus(t, e.run(t, "a1", 1, 0, 55, 20*time.Second), lease.Succeeded)
	first := store.snapshot()
	want := []string{
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000000.keys.txt",
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000000.txt",
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000020.keys.txt",
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000020.txt",
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000040.keys.txt",
		"topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000040.txt",
		"topics/events/year=2024/month=03/day=01/hour=10/events+0+0000000050.keys.txt",
		"topics/events/year=2024/month=03/day=01/hour=10/events+0+0000000050.txt",
	}
	if got := keysOf(first); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("objects:\n%v\nwant\n%v", got, want)
	}
	if got := e.committed(t); got != 55 {
		t.Fatalf("committed %d, want 55", got)
	}

	requireStatus(t, e.run(t, "a2", 2, 0, 55, 20*time.Second), lease.Succeeded)
	requireSame(t, "the replay's objects", store.snapshot(), first)

	other := newTestStore()
	e2 := newLeaseEnv(t, other, nil)
	requireStatus(t, e2.run(t, "b1", 1, 0, 55, 20*time.Second), lease.Succeeded)
	requireSame(t, "another run's objects", other.snapshot(), first)
}

// crashAfterUpload uploads everything in PreCommit and then "dies" before
// the executor commits the offsets.
type crashAfterUpload struct{ *sink.Task }

func (c crashAfterUpload) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if _, err := c.Task.PreCommit(ctx, offsets); err != nil {
		return nil, err
	}
	return nil, errors.New("killed after upload, before the offset commit")
}

// Rule 1: objects uploaded but offsets not committed are replayed, and the
// replay writes exactly the same object set.
func TestCrashAfterUploadBeforeCommitReplaysSameObjects(t *testing.T) {
	clean := newTestStore()
	requireStatus(t, newLeaseEnv(t, clean, nil).run(t, "c0", 1, 0, 55, 20*time.Second), lease.Succeeded)

	store := newTestStore()
	crashing := true
	e := newLeaseEnv(t, store, func(task *sink.Task) connect.SinkTask {
		if crashing {
			return crashAfterUpload{task}
		}
		return task
	})
	requireStatus(t, e.run(t, "c1", 1, 0, 55, 20*time.Second), lease.Failed)
	if got := e.committed(t); got >= 0 {
		t.Fatalf("committed %d after the crash, want nothing", got)
	}
	requireSame(t, "objects uploaded before the crash", store.snapshot(), clean.snapshot())

	crashing = false
	requireStatus(t, e.run(t, "c2", 2, 0, 55, 20*time.Second), lease.Succeeded)
	if got := e.committed(t); got != 55 {
		t.Fatalf("committed %d after the replay, want 55", got)
	}
	requireSame(t, "objects after the replay", store.snapshot(), clean.snapshot())
}

// A store that fails a commit fails the lease as retriable, with no offsets
// committed; the retry then writes the complete object set.
func TestFailedObjectCommitFailsLeaseRetriably(t *testing.T) {
	clean := newTestStore()
	requireStatus(t, newLeaseEnv(t, clean, nil).run(t, "f0", 1, 0, 55, 20*time.Second), lease.Succeeded)

	store := newTestStore()
	fail := true
	store.failCommit = func(key string) error {
		if fail && key == "topics/events/year=2024/month=03/day=01/hour=09/events+0+0000000020.txt" {
			return errors.New("injected: S3 CompleteMultipartUpload failed")
		}
		return nil
	}
	e := newLeaseEnv(t, store, nil)
	res := e.run(t, "f1", 1, 0, 55, 20*time.Second)
	requireStatus(t, res, lease.Failed)
	if !res.Retriable || len(res.Committed) != 0 {
		t.Fatalf("failed lease: retriable %v, committed %v", res.Retriable, res.Committed)
	}
	if got := e.committed(t); got >= 0 {
		t.Fatalf("committed %d after a failed object commit", got)
	}
	if store.open != 0 {
		t.Fatalf("%d uploads left open", store.open)
	}
	fail = false
	requireStatus(t, e.run(t, "f2", 2, 0, 55, 20*time.Second), lease.Succeeded)
	requireSame(t, "objects after the retry", store.snapshot(), clean.snapshot())
}

// Rule 3: a superseded lease (older epoch, same range) finishing late
// rewrites identical bytes and never moves the committed offset back; one
// past its deadline writes nothing at all.
func TestZombieLeaseChangesNothing(t *testing.T) {
	store := newTestStore()
	e := newLeaseEnv(t, store, nil)
	requireStatus(t, e.run(t, "z2", 2, 0, 30, 20*time.Second), lease.Succeeded)
	requireStatus(t, e.run(t, "z3", 3, 30, 60, 20*time.Second), lease.Succeeded)
	after := store.snapshot()
	commits := store.commits
	if got := e.committed(t); got != 60 {
		t.Fatalf("committed %d, want 60", got)
	}

	// Epoch 1 had the range [0,30) too, and finishes now.
	requireStatus(t, e.run(t, "z1", 1, 0, 30, 20*time.Second), lease.Succeeded)
	requireSame(t, "objects after the zombie", store.snapshot(), after)
	if got := e.committed(t); got != 60 {
		t.Fatalf("the zombie moved the committed offset to %d", got)
	}

	// A zombie past its deadline does nothing.
	res := e.run(t, "z0", 0, 0, 30, -time.Second)
	requireStatus(t, res, lease.Expired)
	if store.commits != commits+4 { // only z1's 4 identical rewrites
		t.Fatalf("%d object commits after the expired zombie, want %d", store.commits, commits+4)
	}
	requireSame(t, "objects after the expired zombie", store.snapshot(), after)
}
