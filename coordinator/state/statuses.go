package state

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// State is a connector's or task's state (Connect's AbstractStatus.State).
type State string

// The states written to the status topic. Connect's DESTROYED is never
// written: a deleted connector's or task's status is a tombstone.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
	StateStopped    State = "STOPPED"
	stateDestroyed  State = "DESTROYED" // readable, as Connect can parse it
)

func (s State) writable() bool {
	switch s {
	case StateUnassigned, StateRunning, StatePaused, StateFailed, StateRestarting, StateStopped:
		return true
	}
	return false
}

// Status is one status record: Connect's ConnectorStatus or TaskStatus
// without its id.
type Status struct {
	State State
	// Trace is the failure's stack trace; "" is written as null.
	Trace string
	// WorkerID names the writer, host:port in Connect (its REST URL's
	// authority).
	WorkerID string
	// Generation is the writer's group generation; a status from an older
	// generation by another worker does not overwrite a newer one.
	Generation int32
}

// TaskStatus is a task's id and status.
type TaskStatus struct {
	Task int
	Status
}

// Keys of the status topic (KafkaStatusBackingStore's prefixes).
const (
	connectorStatusPrefix = "status-connector-"
	taskStatusPrefix      = "status-task-"
	// status-topic-<topic>:connector-<c>: a connector's active topics
	// (KIP-558).
	topicStatusPrefix    = "status-topic-"
	topicStatusSeparator = ":connector-"
)

// TopicStatusKey returns the status topic's key of a connector's active
// topic, as Connect spells it.
func TopicStatusKey(topic, connector string) string {
	return topicStatusPrefix + topic + topicStatusSeparator + connector
}

// TopicStatus is one of a connector's active topics (Connect's TopicStatus):
// a topic a task of the connector produced to or consumed from, first seen
// at Discovered.
type TopicStatus struct {
	Topic, Connector string
	Task             int
	Discovered       time.Time
}

// EncodeTopicStatus returns an active topic's value as Connect writes it:
// {"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1700000000000}}.
func EncodeTopicStatus(ts TopicStatus) []byte {
	b := append(make([]byte, 0, 96), `{"topic":{"name":`...)
	b = appendString(b, ts.Topic)
	b = append(b, `,"connector":`...)
	b = appendString(b, ts.Connector)
	b = append(b, `,"task":`...)
	b = strconv.AppendInt(b, int64(ts.Task), 10)
	b = append(b, `,"discoverTimestamp":`...)
	b = strconv.AppendInt(b, ts.Discovered.UnixMilli(), 10)
	return append(b, "}}"...)
}

// parseTopicStatus parses an active topic's value as Connect's
// parseTopicStatus does: the topic object with its name and connector.
func parseTopicStatus(v []byte) (TopicStatus, bool) {
	obj, null, ok := decodeValue(v)
	if !ok || null || obj == nil {
		return TopicStatus{}, false
	}
	inner, null, ok := decodeValue(obj["topic"])
	if !ok || null || inner == nil {
		return TopicStatus{}, false
	}
	var ts TopicStatus
	if ts.Topic, ok = inner.str("name"); !ok {
		return ts, false
	}
	if ts.Connector, ok = inner.str("connector"); !ok {
		return ts, false
	}
	task, _ := inner.integer("task")
	ts.Task = int(task)
	if ms, err := strconv.ParseInt(string(inner["discoverTimestamp"]), 10, 64); err == nil {
		ts.Discovered = time.UnixMilli(ms)
	}
	return ts, true
}

// ConnectorStatusKey and TaskStatusKey return the status topic's keys, as
// Connect spells them.
func ConnectorStatusKey(connector string) string { return connectorStatusPrefix + connector }
func TaskStatusKey(connector string, task int) string {
	return taskStatusPrefix + connector + "-" + strconv.Itoa(task)
}

// EncodeStatus returns a status value as Connect writes it:
// {"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":3}.
func EncodeStatus(st Status) []byte {
	b := append(make([]byte, 0, 96+len(st.Trace)), `{"state":`...)
	b = appendString(b, string(st.State))
	b = append(b, `,"trace":`...)
	if st.Trace == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, st.Trace)
	}
	b = append(b, `,"worker_id":`...)
	b = appendString(b, st.WorkerID)
	b = append(b, `,"generation":`...)
	b = strconv.AppendInt(b, int64(st.Generation), 10)
	return append(b, '}')
}

// decodeStatus parses a status value as Connect's parseConnectorStatus
// does: state must name a state, generation must be an integer, trace and
// worker_id may be null.
func decodeStatus(obj object) (Status, bool) {
	var st Status
	s, ok := obj.str("state")
	if !ok {
		return st, false
	}
	st.State = State(s)
	if !st.State.writable() && st.State != stateDestroyed {
		return st, false
	}
	if st.Generation, ok = obj.integer("generation"); !ok {
		return st, false
	}
	if st.Trace, ok = obj.str("trace"); !ok && !obj.isNull("trace") {
		return st, false
	}
	if st.WorkerID, ok = obj.str("worker_id"); !ok && !obj.isNull("worker_id") {
		return st, false
	}
	return st, true
}

// statusState is what KafkaStatusBackingStore caches.
type statusState struct {
	connectors map[string]Status
	tasks      map[string]map[int]Status
	topics     map[string]map[string]TopicStatus // by connector, then topic
}

func (s *statusState) apply(m kafka.Message, logger *slog.Logger) {
	if m.Key == nil {
		logger.Warn("state: discarding status record with a null key", "partition", m.Partition, "offset", m.Offset)
		return
	}
	key := string(m.Key)
	bad := func(what string) {
		logger.Warn("state: discarding status record: "+what, "key", key, "partition", m.Partition, "offset", m.Offset)
	}
	switch {
	case strings.HasPrefix(key, connectorStatusPrefix):
		name := key[len(connectorStatusPrefix):]
		if name == "" {
			bad("invalid connector status key")
			return
		}
		if m.Value == nil {
			// A connector's tombstone removes its tasks' statuses too.
			delete(s.connectors, name)
			delete(s.tasks, name)
			return
		}
		st, ok := parseStatus(m.Value)
		if !ok {
			bad("failed to deserialize connector status")
			return
		}
		s.connectors[name] = st

	case strings.HasPrefix(key, taskStatusPrefix):
		name, task, ok := parseTaskKey(key[len(taskStatusPrefix):])
		if !ok {
			bad("invalid task status key")
			return
		}
		if m.Value == nil {
			deleteNested(s.tasks, name, task)
			return
		}
		st, ok := parseStatus(m.Value)
		if !ok {
			bad("failed to parse task status")
			return
		}
		// An UNASSIGNED from a worker that had not yet seen another's
		// RUNNING at the same or a newer generation is stale (KAFKA-12226).
		if cur, ok := s.tasks[name][task]; ok && st.State == StateUnassigned &&
			cur.State == StateRunning && cur.Generation >= st.Generation {
			return
		}
		putNested(s.tasks, name, task, st)

	case strings.HasPrefix(key, topicStatusPrefix):
		topic, connector, ok := strings.Cut(key[len(topicStatusPrefix):], topicStatusSeparator)
		if !ok || topic == "" || connector == "" {
			bad("invalid topic status key")
			return
		}
		if m.Value == nil {
			deleteNested(s.topics, connector, topic)
			return
		}
		ts, ok := parseTopicStatus(m.Value)
		if !ok {
			bad("failed to parse topic status")
			return
		}
		putNested(s.topics, connector, topic, ts)
	default:
		bad("invalid key")
	}
}

// putNested sets m[k1][k2], making the inner map when needed.
func putNested[K1, K2 comparable, V any](m map[K1]map[K2]V, k1 K1, k2 K2, v V) {
	if m[k1] == nil {
		m[k1] = map[K2]V{}
	}
	m[k1][k2] = v
}

// deleteNested deletes m[k1][k2], and the inner map once it is empty.
func deleteNested[K1, K2 comparable, V any](m map[K1]map[K2]V, k1 K1, k2 K2) {
	delete(m[k1], k2)
	if len(m[k1]) == 0 {
		delete(m, k1)
	}
}

func parseStatus(v []byte) (Status, bool) {
	obj, null, ok := decodeValue(v)
	if !ok || null || obj == nil {
		return Status{}, false
	}
	return decodeStatus(obj)
}

// canWrite is Connect's CacheEntry.canWriteSafely: a write is safe if there
// is no stored status, if the same worker wrote it, or if its generation is
// not newer.
func canWrite(cur Status, exists bool, st Status) bool {
	return !exists || cur.WorkerID == st.WorkerID || cur.Generation <= st.Generation
}

// StatusStore is the status topic (Java status.storage.topic), Connect's
// KafkaStatusBackingStore. A status is visible once read back from the
// topic; writers read it back before they return. StatusStore is safe for
// concurrent use.
//
// Writes follow Connect's putSafe: a status is not written over one that
// another worker wrote in a newer generation (ErrStaleStatus). Connect also
// numbers writes per key so that its asynchronous retries never resend a
// superseded status; Sluice's writes are synchronous, retried by the
// producer in order, so that sequence is not needed.
type StatusStore struct {
	log    *Log
	logger *slog.Logger

	writeMu sync.Mutex // a check-then-write must not interleave

	queueMu sync.Mutex
	queue   []*statusWrite // puts waiting for the next batch

	mu    sync.RWMutex
	state statusState
}

func newStatusStore(ctx context.Context, client *kafka.Client, cfg Config) (*StatusStore, error) {
	s := &StatusStore{
		logger: cfg.Logger.With("topic", cfg.StatusTopic),
		state:  statusState{connectors: map[string]Status{}, tasks: map[string]map[int]Status{}, topics: map[string]map[string]TopicStatus{}},
	}
	l, err := NewLog(ctx, client, kafka.TopicSpec{
		Name:              cfg.StatusTopic,
		Partitions:        cfg.StatusPartitions,
		ReplicationFactor: cfg.ReplicationFactor,
		Configs:           map[string]string{"cleanup.policy": "compact"},
	}, s.consume, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

func (s *StatusStore) consume(m kafka.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.apply(m, s.logger)
}

// Refresh reads the status topic to its end.
func (s *StatusStore) Refresh(ctx context.Context) error { return s.log.ReadToEnd(ctx) }

// Connector returns a connector's status.
func (s *StatusStore) Connector(connector string) (Status, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.state.connectors[connector]
	return st, ok
}

// Tasks returns the statuses of a connector's tasks, by task id.
func (s *StatusStore) Tasks(connector string) []TaskStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]TaskStatus, 0, len(s.state.tasks[connector]))
	for id, st := range s.state.tasks[connector] {
		out = append(out, TaskStatus{Task: id, Status: st})
	}
	slices.SortFunc(out, func(a, b TaskStatus) int { return cmp.Compare(a.Task, b.Task) })
	return out
}

// Connectors returns the names of the connectors that have a status, sorted.
func (s *StatusStore) Connectors() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.state.connectors))
	for name := range s.state.connectors {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// PutConnectorStatus writes a connector's status unless another worker
// wrote a newer generation's (ErrStaleStatus).
func (s *StatusStore) PutConnectorStatus(ctx context.Context, connector string, st Status) error {
	if connector == "" || !st.State.writable() {
		return fmt.Errorf("%w: status %q of connector %q", ErrInvalid, st.State, connector)
	}
	return s.put(ctx, &statusWrite{key: ConnectorStatusKey(connector), st: st, current: func() (Status, bool) {
		cur, ok := s.state.connectors[connector]
		return cur, ok
	}})
}

// PutTaskStatus writes a task's status unless another worker wrote a newer
// generation's (ErrStaleStatus).
func (s *StatusStore) PutTaskStatus(ctx context.Context, connector string, task int, st Status) error {
	if connector == "" || task < 0 || !st.State.writable() {
		return fmt.Errorf("%w: status %q of task %q-%d", ErrInvalid, st.State, connector, task)
	}
	return s.put(ctx, s.taskWrite(connector, task, st))
}

// PutTaskStatuses writes the statuses of several of a connector's tasks
// (by task id) together, as PutTaskStatus writes one: in one batch with
// any other writes waiting. It returns the first failure.
func (s *StatusStore) PutTaskStatuses(ctx context.Context, connector string, statuses map[int]Status) error {
	ws := make([]*statusWrite, 0, len(statuses))
	for _, task := range slices.Sorted(maps.Keys(statuses)) {
		st := statuses[task]
		if connector == "" || task < 0 || !st.State.writable() {
			return fmt.Errorf("%w: status %q of task %q-%d", ErrInvalid, st.State, connector, task)
		}
		ws = append(ws, s.taskWrite(connector, task, st))
	}
	return s.put(ctx, ws...)
}

func (s *StatusStore) taskWrite(connector string, task int, st Status) *statusWrite {
	return &statusWrite{key: TaskStatusKey(connector, task), st: st, current: func() (Status, bool) {
		cur, ok := s.state.tasks[connector][task]
		return cur, ok
	}}
}

// statusWrite is one put waiting for its batch.
type statusWrite struct {
	key     string
	st      Status
	current func() (Status, bool)
	err     error
}

// put writes statuses and reads them back. Puts that arrive while another
// batch is being written are written together in the next one (group
// commit): one produce round trip and one read-back for all of them, so
// that a coordinator starting thousands of tasks at once is not serialized
// behind one round trip per status. Each put still returns only once its
// own records are acknowledged and read back, or with the first error of
// its own.
func (s *StatusStore) put(ctx context.Context, ws ...*statusWrite) error {
	s.queueMu.Lock()
	s.queue = append(s.queue, ws...)
	s.queueMu.Unlock()

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Either the batch before took w (and set its result before releasing
	// writeMu), or w is in the queue that this holder now writes.
	s.queueMu.Lock()
	batch := s.queue
	s.queue = nil
	s.queueMu.Unlock()
	if len(batch) > 0 {
		s.writeBatch(ctx, batch)
	}
	for _, w := range ws {
		if w.err != nil {
			return w.err
		}
	}
	return nil
}

// writeBatch checks every write against the stored status (and the ones
// before it in the batch), sends the writable ones in order and reads them
// back; it sets each write's err. Called with writeMu held.
func (s *StatusStore) writeBatch(ctx context.Context, batch []*statusWrite) {
	written := map[string]Status{}
	var recs []Record
	var sent []*statusWrite
	s.mu.RLock()
	for _, w := range batch {
		cur, ok := written[w.key]
		if !ok {
			cur, ok = w.current()
		}
		if !canWrite(cur, ok, w.st) {
			w.err = fmt.Errorf("%w: %s is %s by %s in generation %d, not overwritten by %s in generation %d",
				ErrStaleStatus, w.key, cur.State, cur.WorkerID, cur.Generation, w.st.WorkerID, w.st.Generation)
			continue
		}
		written[w.key] = w.st
		recs = append(recs, Record{Key: []byte(w.key), Value: EncodeStatus(w.st)})
		sent = append(sent, w)
	}
	s.mu.RUnlock()
	err := s.log.SendAll(ctx, recs)
	if err == nil && len(recs) > 0 {
		err = s.log.ReadToEnd(ctx)
	}
	for _, w := range sent {
		w.err = err
	}
}

// Topics returns the connector's active topics, sorted by name.
func (s *StatusStore) Topics(connector string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.state.topics[connector]))
}

// PutTopicStatus records one of the connector's active topics and reads it
// back.
func (s *StatusStore) PutTopicStatus(ctx context.Context, ts TopicStatus) error {
	if ts.Topic == "" || ts.Connector == "" || ts.Task < 0 {
		return fmt.Errorf("%w: active topic %q of connector %q", ErrInvalid, ts.Topic, ts.Connector)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.log.Send(ctx, []byte(TopicStatusKey(ts.Topic, ts.Connector)), EncodeTopicStatus(ts)); err != nil {
		return err
	}
	return s.log.ReadToEnd(ctx)
}

// DeleteTopicStatuses forgets the connector's active topics (tombstones),
// as Connect's PUT /connectors/{name}/topics/reset does.
func (s *StatusStore) DeleteTopicStatuses(ctx context.Context, connector string) error {
	if connector == "" {
		return fmt.Errorf("%w: empty connector name", ErrInvalid)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.log.SendAll(ctx, s.topicTombstones(connector)); err != nil {
		return err
	}
	return s.log.ReadToEnd(ctx)
}

func (s *StatusStore) topicTombstones(connector string) []Record {
	var recs []Record
	for _, topic := range s.Topics(connector) {
		recs = append(recs, Record{Key: []byte(TopicStatusKey(topic, connector))})
	}
	return recs
}

// DeleteConnectorStatus writes tombstones for the connector's active
// topics, then (Connect's DESTROYED) for the statuses of its tasks and of
// the connector, as Connect's herder does when a connector is deleted.
func (s *StatusStore) DeleteConnectorStatus(ctx context.Context, connector string) error {
	if connector == "" {
		return fmt.Errorf("%w: empty connector name", ErrInvalid)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	recs := s.topicTombstones(connector)
	for _, t := range s.Tasks(connector) {
		recs = append(recs, Record{Key: []byte(TaskStatusKey(connector, t.Task))})
	}
	recs = append(recs, Record{Key: []byte(ConnectorStatusKey(connector))})
	if err := s.log.SendAll(ctx, recs); err != nil {
		return err
	}
	return s.log.ReadToEnd(ctx)
}

// Close closes the store's log.
func (s *StatusStore) Close() error { return s.log.Close() }
