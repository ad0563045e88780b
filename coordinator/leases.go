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
	// Leader is the election generation the recording coordinator led
	// and had confirmed when it recorded the lease (0: unknown, as in
	// standalone mode). It invokes the lease only while that generation
	// is still confirmed, so a record that lands after one of a later
	// generation was never invoked (see KafkaLeaseLog).
	Leader int32 `json:"leader_generation,omitempty"`
}

// LeaseLog records the leases in flight, so that a coordinator that takes
// over (after a restart or a leader change) neither issues a task's next
// lease before its last one's deadline nor loses a sink lease's range
// (rules 2, 3 and 6 of docs/architecture.md). Begin is durable before the
// lease is invoked; End forgets it once its result is in.
type LeaseLog interface {
	// OutstandingFor returns one task's outstanding lease, if any.
	OutstandingFor(connector string, task int) (leaseRecord, bool)
	// Begin records l, issued by a coordinator leading in election
	// generation leader (0 without an election).
	Begin(ctx context.Context, connector string, l lease.Lease, leader int32) error
	End(ctx context.Context, connector string, task int, id string) error
	Refresh(ctx context.Context) error
}

func recordOf(l lease.Lease, leader int32) leaseRecord {
	return leaseRecord{ID: l.ID, Kind: l.Kind, Generation: l.Generation, Epoch: l.Epoch, Deadline: l.Deadline, Ranges: l.Ranges, Leader: leader}
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

func (m *MemoryLeaseLog) Begin(_ context.Context, c string, l lease.Lease, leader int32) error {
	m.set(taskKey{c, l.Task}, recordOf(l, leader))
	return nil
}

func (m *MemoryLeaseLog) End(_ context.Context, c string, task int, id string) error {
	m.remove(taskKey{c, task}, id)
	return nil
}

func (m *MemoryLeaseLog) Refresh(context.Context) error { return nil }

// KafkaLeaseLog keeps the lease log on a compacted topic: key
// lease-<connector>-<task>, value the leaseRecord as JSON, a tombstone once
// the lease has ended (its header sluice.lease.id names that lease).
//
// The log is read when a coordinator becomes leader (Refresh) and then
// followed while it leads, so that it also learns of leases recorded after
// its tasks started (a deposed leader's late record). The table holds, per
// task, what the log says at the latest offset known: a record read back
// at or below the offset of this coordinator's own acknowledged write for
// that task is older than the table's and is skipped. Two kinds of records
// a deposed leader's delayed writes (producer retries) can land after its
// successor's are skipped too, as they say nothing about a lease that may
// act:
//
//   - a record of an earlier leader generation than the task's last
//     record, written before that record's deadline: its coordinator
//     invokes a lease only while the generation it recorded it in is
//     confirmed, and that confirmation ended before the later generation's
//     leader was elected, before the later record was written, so before
//     this one landed and was acknowledged: it was never invoked. (A
//     record written at or after the deadline is not skipped: after the
//     group's generations restart, which needs every coordinator gone
//     from the group, a new leader's records carry smaller generations,
//     and it writes them only after waiting out the last one.)
//   - a tombstone of another lease than the one the table holds (the late
//     End of a lease its successor has already replaced).
//
// The topic keeps every record for at least minCompactionLag, so that
// compaction, which keeps a key's last record, cannot drop a successor's
// record in favour of such a late write while the successor's lease may
// still act.
type KafkaLeaseLog struct {
	leaseTable
	log *state.Log
	// under leaseTable.mu:
	at      map[taskKey]int64       // the offset the table's entry stands for
	written map[taskKey]time.Time   // when the table's entry was written
	last    map[taskKey]leaseRecord // the last record applied for the task, kept past its tombstone
	// sent is this coordinator's record of a task's lease whose write has
	// not been acknowledged (or failed, and may still land): End clears
	// it all the same.
	sent map[taskKey]leaseRecord
}

const (
	leaseKeyPrefix = "lease-"
	// leaseIDHeader names the lease a tombstone ends.
	leaseIDHeader = "sluice.lease.id"
	// minCompactionLag is the lease topic's min.compaction.lag.ms: far
	// beyond any lease's deadline (twice MaxLeaseTimeout).
	minCompactionLag = time.Hour
)

// OpenKafkaLeaseLog opens (creating if missing) the lease topic and reads it.
func OpenKafkaLeaseLog(ctx context.Context, client *kafka.Client, topic string, replication int16, logger *slog.Logger) (*KafkaLeaseLog, error) {
	k := &KafkaLeaseLog{leaseTable: newLeaseTable(), at: map[taskKey]int64{}, written: map[taskKey]time.Time{}, last: map[taskKey]leaseRecord{}, sent: map[taskKey]leaseRecord{}}
	log, err := state.NewLog(ctx, client, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: replication,
		Configs: map[string]string{"cleanup.policy": "compact", "min.compaction.lag.ms": strconv.FormatInt(minCompactionLag.Milliseconds(), 10)}}, k.consume, logger)
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
	if m.Value == nil {
		var ends string
		for _, h := range m.Headers {
			if h.Key == leaseIDHeader {
				ends = string(h.Value)
			}
		}
		k.apply(key, m.Offset, m.Timestamp, true, ends, leaseRecord{})
		return
	}
	var r leaseRecord
	if json.Unmarshal(m.Value, &r) != nil {
		return
	}
	k.apply(key, m.Offset, m.Timestamp, false, "", r)
}

// staleAfter reports whether r, written at written, landed after prev
// only because its coordinator's write was delayed: it was recorded in an
// earlier leader generation, before prev's deadline (see KafkaLeaseLog).
func staleAfter(r leaseRecord, written time.Time, prev leaseRecord) bool {
	return r.Leader > 0 && r.Leader < prev.Leader && written.Before(prev.Deadline)
}

// apply makes the table hold what the record at offset says for key (a
// lease, or none for a tombstone of the lease ends, "" for any), unless
// it holds a later one already or the record is a deposed leader's late
// write (see KafkaLeaseLog).
func (k *KafkaLeaseLog) apply(key taskKey, offset int64, written time.Time, tombstone bool, ends string, r leaseRecord) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if at, ok := k.at[key]; ok && offset <= at {
		// Read back below this coordinator's own acknowledged write: older
		// than the table's entry, unless that write is a deposed
		// leader's late one after this (later generation's) record.
		if cur, ok := k.m[key]; ok && !tombstone && staleAfter(cur, k.written[key], r) {
			k.m[key], k.last[key], k.written[key] = r, r, written
		}
		return
	}
	if tombstone {
		if cur, ok := k.m[key]; ok && ends != "" && cur.ID != ends {
			return
		}
		k.at[key] = offset
		delete(k.m, key)
		return
	}
	if prev, ok := k.last[key]; ok && staleAfter(r, written, prev) {
		return
	}
	k.at[key] = offset
	k.m[key], k.last[key], k.written[key] = r, r, written
}

func leaseKey(c string, task int) []byte {
	return []byte(fmt.Sprintf("%s%s-%d", leaseKeyPrefix, c, task))
}

func (k *KafkaLeaseLog) Begin(ctx context.Context, c string, l lease.Lease, leader int32) error {
	rec := recordOf(l, leader)
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	// Remember the lease before sending: a send that fails (or whose
	// context ends) may still land, and End must then clear it.
	key := taskKey{c, l.Task}
	k.mu.Lock()
	k.sent[key] = rec
	k.mu.Unlock()
	written := time.Now() // no later than the record's timestamp
	off, err := k.log.SendAt(ctx, leaseKey(c, l.Task), b)
	if err != nil {
		return err
	}
	// Acknowledged: the table holds it unless it holds a later record, or
	// this one landed after a later generation's (this coordinator was
	// deposed; it will not invoke it).
	k.apply(key, off, written, false, "", rec)
	k.mu.Lock()
	if k.sent[key].ID == rec.ID {
		delete(k.sent, key)
	}
	k.mu.Unlock()
	return nil
}

// End writes the tombstone of the task's lease id, unless the table holds
// another lease for the task (one recorded after it, which a tombstone
// would erase). The tombstone names the lease it ends, so that readers
// ignore it if it lands after another lease's record all the same.
func (k *KafkaLeaseLog) End(ctx context.Context, c string, task int, id string) error {
	key := taskKey{c, task}
	k.mu.Lock()
	r, ok := k.m[key]
	unacked := k.sent[key].ID == id
	if unacked {
		delete(k.sent, key)
	}
	k.mu.Unlock()
	if !unacked && (!ok || r.ID != id) {
		return nil
	}
	off, err := k.log.SendAt(ctx, leaseKey(c, task), nil, kafka.Header{Key: leaseIDHeader, Value: []byte(id)})
	if err != nil {
		return err
	}
	k.apply(taskKey{c, task}, off, time.Now(), true, id, leaseRecord{})
	return nil
}

func (k *KafkaLeaseLog) Refresh(ctx context.Context) error { return k.log.ReadToEnd(ctx) }

// Close closes the topic log.
func (k *KafkaLeaseLog) Close() error { return k.log.Close() }
