package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// taskKey names one task.
type taskKey struct {
	connector string
	task      int
}

// leaseRecord is what the lease log keeps of an outstanding lease: enough
// to wait out its deadline and to re-issue a sink lease's exact ranges.
type leaseRecord struct {
	ID         string        `json:"id"`
	Kind       lease.Kind    `json:"kind"`
	Generation int64         `json:"generation"`
	Epoch      int64         `json:"epoch"`
	Deadline   time.Time     `json:"deadline"`
	Ranges     []lease.Range `json:"ranges,omitempty"`
}

// LeaseLog records the leases in flight, so that a coordinator that takes
// over (after a restart or a leader change) neither issues a task's next
// lease before its last one's deadline nor loses a sink lease's range
// (rules 2, 3 and 6 of docs/architecture.md). Begin is durable before the
// lease is invoked; End forgets it once its result is in.
type LeaseLog interface {
	// OutstandingFor returns one task's outstanding lease, if any.
	OutstandingFor(connector string, task int) (leaseRecord, bool)
	Begin(ctx context.Context, connector string, l lease.Lease) error
	End(ctx context.Context, connector string, task int, id string) error
	Refresh(ctx context.Context) error
}

func recordOf(l lease.Lease) leaseRecord {
	return leaseRecord{ID: l.ID, Kind: l.Kind, Generation: l.Generation, Epoch: l.Epoch, Deadline: l.Deadline, Ranges: l.Ranges}
}

// leaseTable is the outstanding leases by task, safe for concurrent use:
// the whole of MemoryLeaseLog, and KafkaLeaseLog's view of its topic.
type leaseTable struct {
	mu sync.Mutex
	m  map[taskKey]leaseRecord
}

func newLeaseTable() leaseTable { return leaseTable{m: map[taskKey]leaseRecord{}} }

// OutstandingFor returns one task's outstanding lease.
func (t *leaseTable) OutstandingFor(c string, task int) (leaseRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.m[taskKey{c, task}]
	return r, ok
}

func (t *leaseTable) set(k taskKey, r leaseRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[k] = r
}

// remove forgets k's lease if it is still the lease id ("" for any).
func (t *leaseTable) remove(k taskKey, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.m[k]; ok && (id == "" || r.ID == id) {
		delete(t.m, k)
	}
}

// MemoryLeaseLog keeps the lease log in memory (standalone mode, where
// one process owns everything).
type MemoryLeaseLog struct{ leaseTable }

// NewMemoryLeaseLog returns an empty log.
func NewMemoryLeaseLog() *MemoryLeaseLog { return &MemoryLeaseLog{newLeaseTable()} }

func (m *MemoryLeaseLog) Begin(_ context.Context, c string, l lease.Lease) error {
	m.set(taskKey{c, l.Task}, recordOf(l))
	return nil
}

func (m *MemoryLeaseLog) End(_ context.Context, c string, task int, id string) error {
	m.remove(taskKey{c, task}, id)
	return nil
}

func (m *MemoryLeaseLog) Refresh(context.Context) error { return nil }

// KafkaLeaseLog keeps the lease log on a compacted topic: key
// lease-<connector>-<task>, value the leaseRecord as JSON, a tombstone once
// the lease has ended.
//
// The log is read when a coordinator becomes leader (Refresh) and then
// followed while it leads, so that it also learns of leases recorded after
// its tasks started (a deposed leader's late record). The table holds, per
// task, what the log says at the latest offset known: a record read back
// at or below the offset of this coordinator's own acknowledged write for
// that task is older than the table's and is skipped.
type KafkaLeaseLog struct {
	leaseTable
	log *state.Log
	at  map[taskKey]int64 // under leaseTable.mu: the offset the table's entry stands for
}

const leaseKeyPrefix = "lease-"

// OpenKafkaLeaseLog opens (creating if missing) the lease topic and reads it.
func OpenKafkaLeaseLog(ctx context.Context, client *kafka.Client, topic string, replication int16, logger *slog.Logger) (*KafkaLeaseLog, error) {
	k := &KafkaLeaseLog{leaseTable: newLeaseTable(), at: map[taskKey]int64{}}
	log, err := state.NewLog(ctx, client, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: replication,
		Configs: map[string]string{"cleanup.policy": "compact"}}, k.consume, logger)
	if err != nil {
		return nil, err
	}
	k.log = log
	if err := log.ReadToEnd(ctx); err != nil {
		log.Close()
		return nil, err
	}
	return k, nil
}

func (k *KafkaLeaseLog) consume(m kafka.Message) {
	rest, ok := strings.CutPrefix(string(m.Key), leaseKeyPrefix)
	if !ok {
		return
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return
	}
	task, err := strconv.Atoi(rest[i+1:])
	if err != nil {
		return
	}
	key := taskKey{rest[:i], task}
	var r leaseRecord
	if m.Value != nil && json.Unmarshal(m.Value, &r) != nil {
		return
	}
	k.apply(key, m.Offset, m.Value == nil, r)
}

// apply makes the table hold what the record at offset says for key (a
// lease, or none for a tombstone), unless it holds a later one already.
func (k *KafkaLeaseLog) apply(key taskKey, offset int64, tombstone bool, r leaseRecord) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if at, ok := k.at[key]; ok && offset <= at {
		return
	}
	k.at[key] = offset
	if tombstone {
		delete(k.m, key)
	} else {
		k.m[key] = r
	}
}

func leaseKey(c string, task int) []byte {
	return []byte(fmt.Sprintf("%s%s-%d", leaseKeyPrefix, c, task))
}

func (k *KafkaLeaseLog) Begin(ctx context.Context, c string, l lease.Lease) error {
	b, err := json.Marshal(recordOf(l))
	if err != nil {
		return err
	}
	// Remember the lease before sending: a send that fails (or whose
	// context ends) may still land, and End must then clear it.
	key := taskKey{c, l.Task}
	k.set(key, recordOf(l))
	off, err := k.log.SendAt(ctx, leaseKey(c, l.Task), b)
	if err != nil {
		return err
	}
	k.apply(key, off, false, recordOf(l))
	return nil
}

// End writes the tombstone of the task's lease id, unless the table holds
// another lease for the task (one recorded after it, which a tombstone
// would erase).
func (k *KafkaLeaseLog) End(ctx context.Context, c string, task int, id string) error {
	if r, ok := k.OutstandingFor(c, task); !ok || r.ID != id {
		return nil
	}
	off, err := k.log.SendAt(ctx, leaseKey(c, task), nil)
	if err != nil {
		return err
	}
	k.apply(taskKey{c, task}, off, true, leaseRecord{})
	return nil
}

func (k *KafkaLeaseLog) Refresh(ctx context.Context) error { return k.log.ReadToEnd(ctx) }

// Close closes the topic log.
func (k *KafkaLeaseLog) Close() error { return k.log.Close() }
