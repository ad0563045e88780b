package state

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// TargetState is the state a connector is asked to be in (Connect's
// TargetState), set through the REST API's pause, resume and stop.
type TargetState string

// The target states.
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	// TargetStopped (Connect 3.5+, KIP-875) is written with "state" PAUSED
	// and "state.v2" STOPPED, so that older workers pause the connector.
	TargetStopped TargetState = "STOPPED"
)

func (t TargetState) valid() bool {
	return t == TargetStarted || t == TargetPaused || t == TargetStopped
}

// Keys of the configs topic (KafkaConfigBackingStore's prefixes).
const (
	connectorPrefix   = "connector-"
	taskPrefix        = "task-"
	commitPrefix      = "commit-"
	targetStatePrefix = "target-state-"
	// Records Connect writes that Sluice reads past: restart requests
	// (KIP-745), exactly-once task counts (KIP-618) and cluster-wide logger
	// levels (KIP-976); and the session key (KIP-507), which it reads.
	restartPrefix     = "restart-connector-"
	taskCountPrefix   = "task-count-record-"
	sessionKeyKey     = "session-key"
	loggerLevelPrefix = "logger-cluster-"
)

// ConnectorKey, TaskKey, CommitKey and TargetStateKey return the configs
// topic's keys for a connector, as Connect spells them.
func ConnectorKey(connector string) string { return connectorPrefix + connector }
func TaskKey(connector string, task int) string {
	return taskPrefix + connector + "-" + strconv.Itoa(task)
}
func CommitKey(connector string) string      { return commitPrefix + connector }
func TargetStateKey(connector string) string { return targetStatePrefix + connector }

// EncodeConnectorConfig returns a connector-<c> or task-<c>-<n> value:
// {"properties":{...}}, keys sorted.
func EncodeConnectorConfig(props map[string]string) []byte {
	return appendProperties(make([]byte, 0, 64+32*len(props)), props)
}

// EncodeCommit returns a commit-<c> value: {"tasks":<count>}.
func EncodeCommit(tasks int) []byte {
	b := append(make([]byte, 0, 24), `{"tasks":`...)
	b = strconv.AppendInt(b, int64(tasks), 10)
	return append(b, '}')
}

// EncodeTargetState returns a target-state-<c> value as Connect 3.5+ writes
// it: {"state":"<s>","state.v2":"<s>"}, with "state" PAUSED for STOPPED.
func EncodeTargetState(s TargetState) []byte {
	old := s
	if s == TargetStopped {
		old = TargetPaused
	}
	b := append(make([]byte, 0, 48), `{"state":`...)
	b = appendString(b, string(old))
	b = append(b, `,"state.v2":`...)
	b = appendString(b, string(s))
	return append(b, '}')
}

// Snapshot is the configs topic as read up to a point, Connect's
// ClusterConfigState. It is a deep copy: the caller may keep and modify it.
type Snapshot struct {
	// Generation is Connect's config offset: the offset after the last
	// record read from the configs topic, -1 before any. It increases with
	// every record, so two snapshots with the same Generation are equal.
	Generation int64
	// Connectors holds the connectors that have a configuration, by name.
	Connectors map[string]ConnectorState
}

// ConnectorState is one connector's configuration and committed tasks.
type ConnectorState struct {
	Config      map[string]string
	TargetState TargetState
	// TaskCount is the count of the last commit record, 0 before any.
	TaskCount int
	// Tasks are the configs of tasks 0..TaskCount-1, from the last commit
	// whose task records were all read; empty when Inconsistent.
	Tasks []map[string]string
	// Inconsistent is set when a commit record was read without all the
	// task records it covers (compaction, or a leader that failed half way):
	// the connector must publish its task configs again. Connect exposes the
	// same flag in ClusterConfigState.inconsistentConnectors().
	Inconsistent bool
}

// Clone returns a deep copy of s.
func (s Snapshot) Clone() Snapshot {
	out := Snapshot{Generation: s.Generation, Connectors: make(map[string]ConnectorState, len(s.Connectors))}
	for name, c := range s.Connectors {
		out.Connectors[name] = c.clone()
	}
	return out
}

func (c ConnectorState) clone() ConnectorState {
	c.Config = maps.Clone(c.Config)
	if c.Tasks != nil {
		tasks := make([]map[string]string, len(c.Tasks))
		for i, t := range c.Tasks {
			tasks[i] = maps.Clone(t)
		}
		c.Tasks = tasks
	}
	return c
}

// configState is what KafkaConfigBackingStore keeps in memory, updated by
// apply exactly as its ConsumeCallback updates it.
type configState struct {
	offset       int64
	configs      map[string]map[string]string
	names        []string // the keys of configs, sorted
	targetStates map[string]TargetState
	taskCounts   map[string]int
	taskConfigs  map[string]map[int]map[string]string // applied, by connector and task
	deferred     map[string]map[int]map[string]string // read, awaiting their commit
	inconsistent map[string]bool
	sessionKey   *SessionKey // the last valid session-key record
}

func newConfigState() *configState {
	return &configState{
		offset:       -1,
		configs:      map[string]map[string]string{},
		targetStates: map[string]TargetState{},
		taskCounts:   map[string]int{},
		taskConfigs:  map[string]map[int]map[string]string{},
		deferred:     map[string]map[int]map[string]string{},
		inconsistent: map[string]bool{},
	}
}

// apply reads one record of the configs topic. Malformed records are logged
// and skipped, as Connect skips them.
func (s *configState) apply(m kafka.Message, logger *slog.Logger) {
	if m.Key == nil {
		logger.Error("state: discarding config record with a null key", "offset", m.Offset)
		return
	}
	key := string(m.Key)
	obj, null, ok := decodeValue(m.Value)
	if !ok {
		logger.Error("state: failed to decode config record", "key", key, "offset", m.Offset)
		return
	}
	// Connect's offset is the position after the last converted record,
	// whatever the record turns out to hold.
	s.offset = m.Offset + 1
	bad := func(what string) {
		logger.Error("state: ignoring config record: "+what, "key", key, "offset", m.Offset)
	}

	switch {
	case strings.HasPrefix(key, targetStatePrefix):
		name := key[len(targetStatePrefix):]
		if null {
			delete(s.targetStates, name)
			if _, ok := s.configs[name]; ok {
				s.targetStates[name] = TargetStarted
			}
			return
		}
		if obj == nil {
			bad("target state is not an object")
			return
		}
		st, ok := obj.str("state.v2")
		if !ok {
			// Written by a worker older than 3.5, or state.v2 malformed.
			if st, ok = obj.str("state"); !ok {
				bad("'state' field should be a String")
				return
			}
		}
		if !TargetState(st).valid() {
			bad("invalid target state " + strconv.Quote(st))
			return
		}
		s.targetStates[name] = TargetState(st)

	case strings.HasPrefix(key, connectorPrefix):
		name := key[len(connectorPrefix):]
		if null {
			s.removeConnector(name)
			return
		}
		if obj == nil {
			bad("connector config is not an object")
			return
		}
		props, ok := obj.properties("properties")
		if !ok {
			bad("'properties' field should be a Map")
			return
		}
		if _, ok := s.configs[name]; !ok {
			i, _ := slices.BinarySearch(s.names, name)
			s.names = slices.Insert(s.names, i, name)
		}
		s.configs[name] = props
		// Connectors created by Connect 0.9 have no target state record.
		if _, ok := s.targetStates[name]; !ok {
			s.targetStates[name] = TargetStarted
		}

	case key == sessionKeyKey:
		if obj == nil || !s.applySessionKey(obj) {
			bad("session key is not {\"key\":<base64>,\"algorithm\":<string>,\"creation-timestamp\":<ms>}")
		}

	case strings.HasPrefix(key, taskCountPrefix), strings.HasPrefix(key, restartPrefix),
		strings.HasPrefix(key, loggerLevelPrefix):
		// Read past (see the prefixes); Sluice does not act on them yet.
		// task-count-record- must be matched before task-.

	case strings.HasPrefix(key, taskPrefix):
		name, task, ok := parseTaskKey(key[len(taskPrefix):])
		if !ok {
			bad("key couldn't be parsed as a task config key")
			return
		}
		if null {
			bad("task configuration is unexpectedly null")
			return
		}
		if obj == nil {
			bad("task config is not an object")
			return
		}
		props, ok := obj.properties("properties")
		if !ok {
			bad("'properties' field should be a Map")
			return
		}
		d := s.deferred[name]
		if d == nil {
			d = map[int]map[string]string{}
			s.deferred[name] = d
		}
		d[task] = props

	case strings.HasPrefix(key, commitPrefix):
		name := key[len(commitPrefix):]
		if _, ok := s.configs[name]; !ok {
			// The connector was deleted and compaction removed both its
			// config and its tombstone: its tasks are garbage.
			s.removeConnector(name)
			return
		}
		if obj == nil {
			bad("task commit is not an object")
			return
		}
		count, ok := obj.integer("tasks")
		if !ok || count < 0 {
			bad("'tasks' field should be a non-negative integer")
			return
		}
		d := s.deferred[name]
		if complete(d, int(count)) {
			if d != nil {
				applied := s.taskConfigs[name]
				if applied == nil {
					applied = map[int]map[string]string{}
					s.taskConfigs[name] = applied
				}
				maps.Copy(applied, d)
			}
			delete(s.inconsistent, name)
		} else {
			s.inconsistent[name] = true
		}
		// Applied or not, these task records are used up: a fresh, complete
		// set must follow.
		delete(s.deferred, name)
		s.taskCounts[name] = int(count)

	default:
		bad("invalid key")
	}
}

// complete reports whether deferred holds tasks 0..count-1 (more is fine:
// compaction can leave task records of a larger, older task set).
func complete(deferred map[int]map[string]string, count int) bool {
	for i := range count {
		if _, ok := deferred[i]; !ok {
			return false
		}
	}
	return true
}

func (s *configState) removeConnector(name string) {
	if i, ok := slices.BinarySearch(s.names, name); ok {
		s.names = slices.Delete(s.names, i, i+1)
	}
	delete(s.configs, name)
	delete(s.taskCounts, name)
	delete(s.taskConfigs, name)
	delete(s.deferred, name)
	// The target state and inconsistency flag go with their own records,
	// as in Connect.
}

// parseTaskKey splits "<connector>-<task>" at the last dash, as Connect's
// parseTaskId does.
func parseTaskKey(rest string) (string, int, bool) {
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(rest[i+1:], 10, 32)
	if err != nil {
		return "", 0, false
	}
	return rest[:i], int(n), true
}

func (s *configState) snapshot() Snapshot {
	out := Snapshot{Generation: s.offset, Connectors: make(map[string]ConnectorState, len(s.configs))}
	for name := range s.configs {
		out.Connectors[name] = s.connector(name)
	}
	return out
}

// connector returns a deep copy of one configured connector's state.
func (s *configState) connector(name string) ConnectorState {
	c := ConnectorState{
		Config:       maps.Clone(s.configs[name]),
		TargetState:  s.targetStates[name],
		TaskCount:    s.taskCounts[name],
		Inconsistent: s.inconsistent[name],
	}
	if c.TargetState == "" {
		c.TargetState = TargetStarted
	}
	if !c.Inconsistent && c.TaskCount > 0 {
		c.Tasks = make([]map[string]string, c.TaskCount)
		for i := range c.Tasks {
			c.Tasks[i] = maps.Clone(s.taskConfigs[name][i])
		}
	}
	return c
}

// ConfigStore is the configs topic (Java config.storage.topic), Connect's
// KafkaConfigBackingStore. Writers return once their records are
// acknowledged and read back, so the next Snapshot shows them. Connect
// assumes one writer at a time (the leader); writes from one ConfigStore are
// serialized. ConfigStore is safe for concurrent use.
type ConfigStore struct {
	log    *Log
	logger *slog.Logger

	writeMu sync.Mutex

	mu    sync.RWMutex
	state *configState
}

func newConfigStore(ctx context.Context, client *kafka.Client, cfg Config) (*ConfigStore, error) {
	s := &ConfigStore{logger: cfg.Logger.With("topic", cfg.ConfigTopic), state: newConfigState()}
	l, err := NewLog(ctx, client, kafka.TopicSpec{
		Name:              cfg.ConfigTopic,
		Partitions:        1,
		ReplicationFactor: cfg.ReplicationFactor,
		Configs:           map[string]string{"cleanup.policy": "compact"},
	}, s.consume, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if n := l.Partitions(); n > 1 {
		_ = l.Close()
		return nil, &PartitionCountError{Topic: cfg.ConfigTopic, Property: configTopicProperty, Partitions: n}
	}
	s.log = l
	return s, nil
}

func (s *ConfigStore) consume(m kafka.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.apply(m, s.logger)
}

// Snapshot returns a deep copy of the state read so far.
func (s *ConfigStore) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state.snapshot()
}

// Contains reports whether the connector has a configuration.
func (s *ConfigStore) Contains(connector string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.state.configs[connector]
	return ok
}

// Connector returns a deep copy of one connector's state, as Snapshot would
// show it, without copying every other connector's (REST reads at scale).
func (s *ConfigStore) Connector(connector string) (ConnectorState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.state.configs[connector]; !ok {
		return ConnectorState{}, false
	}
	return s.state.connector(connector), true
}

// Names returns the connectors' names, sorted (a copy, kept sorted as
// connectors come and go: GET /connectors neither collects nor sorts a
// thousand names per request).
func (s *ConfigStore) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.state.names)
}

// ConnectorConfig returns a copy of a connector's configuration and its
// task count: what Connector returns without the task configurations,
// which REST reads other than GET /connectors/{name}/tasks do not need.
func (s *ConfigStore) ConnectorConfig(connector string) (map[string]string, int, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cfg, ok := s.state.configs[connector]
	if !ok {
		return nil, 0, false
	}
	return maps.Clone(cfg), s.state.taskCounts[connector], true
}

// Generation is the Snapshot's Generation, without the copy.
func (s *ConfigStore) Generation() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state.offset
}

// Refresh reads the configs topic to its end (Connect's refresh).
func (s *ConfigStore) Refresh(ctx context.Context) error { return s.log.ReadToEnd(ctx) }

// PutConnectorConfig writes a connector's configuration. A non-empty
// targetState is written first, in the same batch, as Connect (3.7+,
// KIP-980) does when a connector is created in a given state; "" leaves the
// target state as it is (STARTED for a new connector).
func (s *ConfigStore) PutConnectorConfig(ctx context.Context, connector string, props map[string]string, targetState TargetState) error {
	if connector == "" {
		return fmt.Errorf("%w: empty connector name", ErrInvalid)
	}
	if targetState != "" && !targetState.valid() {
		return fmt.Errorf("%w: target state %q", ErrInvalid, targetState)
	}
	recs := make([]Record, 0, 2)
	if targetState != "" {
		recs = append(recs, Record{Key: []byte(TargetStateKey(connector)), Value: EncodeTargetState(targetState)})
	}
	recs = append(recs, Record{Key: []byte(ConnectorKey(connector)), Value: EncodeConnectorConfig(props)})
	return s.write(ctx, "connector config of "+connector, recs)
}

// DeleteConnector writes tombstones for the connector's config and target
// state, as Connect's removeConnectorConfig does. Task and commit records
// stay in the topic (Connect never deletes them); readers drop the tasks
// with the connector.
func (s *ConfigStore) DeleteConnector(ctx context.Context, connector string) error {
	if connector == "" {
		return fmt.Errorf("%w: empty connector name", ErrInvalid)
	}
	return s.write(ctx, "deletion of "+connector, []Record{
		{Key: []byte(ConnectorKey(connector))},
		{Key: []byte(TargetStateKey(connector))},
	})
}

// PutTargetState writes a connector's target state.
func (s *ConfigStore) PutTargetState(ctx context.Context, connector string, state TargetState) error {
	if connector == "" || !state.valid() {
		return fmt.Errorf("%w: target state %q of connector %q", ErrInvalid, state, connector)
	}
	return s.write(ctx, "target state of "+connector, []Record{
		{Key: []byte(TargetStateKey(connector)), Value: EncodeTargetState(state)},
	})
}

// PutTaskConfigs publishes a connector's task configurations atomically, as
// Connect's putTaskConfigs does: it reads to the end, writes task-<c>-<n>
// for each task, reads them back, then writes commit-<c>. Readers apply the
// task records only when the commit arrives, so a writer that fails before
// the commit leaves the previous tasks in force. It returns
// ErrUnknownConnector if the connector has no configuration.
func (s *ConfigStore) PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.log.ReadToEnd(ctx); err != nil {
		return err
	}
	if !s.Contains(connector) {
		return fmt.Errorf("%w: %q has no configuration in %s", ErrUnknownConnector, connector, s.log.Topic())
	}
	recs := make([]Record, len(configs))
	for i, c := range configs {
		recs[i] = Record{Key: []byte(TaskKey(connector, i)), Value: EncodeConnectorConfig(c)}
	}
	if err := s.log.SendAll(ctx, recs); err != nil {
		return fmt.Errorf("state: task configs of %s: %w", connector, err)
	}
	if len(recs) > 0 {
		if err := s.log.ReadToEnd(ctx); err != nil {
			return err
		}
	}
	commit := []Record{{Key: []byte(CommitKey(connector)), Value: EncodeCommit(len(configs))}}
	if err := s.log.SendAll(ctx, commit); err != nil {
		return fmt.Errorf("state: task commit of %s: %w", connector, err)
	}
	return s.log.ReadToEnd(ctx)
}

// write sends recs, waits for their acks and reads them back.
func (s *ConfigStore) write(ctx context.Context, what string, recs []Record) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.log.SendAll(ctx, recs); err != nil {
		return fmt.Errorf("state: %s: %w", what, err)
	}
	return s.log.ReadToEnd(ctx)
}

// Close closes the store's log.
func (s *ConfigStore) Close() error { return s.log.Close() }
