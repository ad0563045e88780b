package coordinator

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/sluicehq/sluice/coordinator/state"
)

// ConfigStore holds connector configurations, task configurations and
// target states: the configs topic in distributed mode (*state.ConfigStore),
// memory in standalone mode (MemoryConfigStore).
type ConfigStore interface {
	// Snapshot is a deep copy of everything; Connector, ConnectorConfig,
	// Names and Generation read without it (a copy of every
	// configuration, on every REST read, costs milliseconds with 1,000
	// connectors).
	Snapshot() state.Snapshot
	Connector(name string) (state.ConnectorState, bool)
	// ConnectorConfig is a copy of the connector's configuration and its
	// task count, without the task configurations Connector copies.
	ConnectorConfig(name string) (cfg map[string]string, taskCount int, ok bool)
	Names() []string // sorted, a copy
	Generation() int64
	Refresh(ctx context.Context) error
	PutConnectorConfig(ctx context.Context, connector string, props map[string]string, target state.TargetState) error
	DeleteConnector(ctx context.Context, connector string) error
	PutTargetState(ctx context.Context, connector string, target state.TargetState) error
	PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error
}

// StatusStore holds connector and task statuses: the status topic in
// distributed mode (*state.StatusStore), memory in standalone mode.
type StatusStore interface {
	Connector(connector string) (state.Status, bool)
	Tasks(connector string) []state.TaskStatus
	PutConnectorStatus(ctx context.Context, connector string, st state.Status) error
	PutTaskStatus(ctx context.Context, connector string, task int, st state.Status) error
	// PutTaskStatuses writes several tasks' statuses (by task id) at once.
	PutTaskStatuses(ctx context.Context, connector string, statuses map[int]state.Status) error
	// DeleteConnectorStatus removes the connector's statuses and active
	// topics.
	DeleteConnectorStatus(ctx context.Context, connector string) error
	// Topics, PutTopicStatus and DeleteTopicStatuses are the connector's
	// active topics (KIP-558).
	Topics(connector string) []string
	PutTopicStatus(ctx context.Context, ts state.TopicStatus) error
	DeleteTopicStatuses(ctx context.Context, connector string) error
}

var (
	_ ConfigStore = (*state.ConfigStore)(nil)
	_ StatusStore = (*state.StatusStore)(nil)
	_ ConfigStore = (*MemoryConfigStore)(nil)
	_ StatusStore = (*MemoryStatusStore)(nil)
)

// MemoryConfigStore keeps configurations in memory, as Connect's
// standalone mode does (MemoryConfigBackingStore): they live as long as the
// process and come from the connector files it is started with.
type MemoryConfigStore struct {
	mu   sync.Mutex
	snap state.Snapshot
}

// NewMemoryConfigStore returns an empty store.
func NewMemoryConfigStore() *MemoryConfigStore {
	return &MemoryConfigStore{snap: state.Snapshot{Generation: -1, Connectors: map[string]state.ConnectorState{}}}
}

func (m *MemoryConfigStore) Snapshot() state.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap.Clone()
}

func (m *MemoryConfigStore) Connector(name string) (state.ConnectorState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.snap.Connectors[name]
	if !ok {
		return c, false
	}
	one := state.Snapshot{Connectors: map[string]state.ConnectorState{name: c}}.Clone()
	return one.Connectors[name], true
}

func (m *MemoryConfigStore) ConnectorConfig(name string) (map[string]string, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.snap.Connectors[name]
	if !ok {
		return nil, 0, false
	}
	return maps.Clone(c.Config), c.TaskCount, true
}

func (m *MemoryConfigStore) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.snap.Connectors))
}

func (m *MemoryConfigStore) Generation() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap.Generation
}

func (m *MemoryConfigStore) Refresh(context.Context) error { return nil }

func (m *MemoryConfigStore) update(fn func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn()
	m.snap.Generation++
}

func (m *MemoryConfigStore) PutConnectorConfig(_ context.Context, name string, props map[string]string, target state.TargetState) error {
	m.update(func() {
		c, ok := m.snap.Connectors[name]
		if !ok {
			c.TargetState = state.TargetStarted
		}
		if target != "" {
			c.TargetState = target
		}
		c.Config = maps.Clone(props)
		m.snap.Connectors[name] = c
	})
	return nil
}

func (m *MemoryConfigStore) DeleteConnector(_ context.Context, name string) error {
	m.update(func() { delete(m.snap.Connectors, name) })
	return nil
}

func (m *MemoryConfigStore) PutTargetState(_ context.Context, name string, target state.TargetState) error {
	var err error
	m.update(func() {
		c, ok := m.snap.Connectors[name]
		if !ok {
			err = state.ErrUnknownConnector
			return
		}
		c.TargetState = target
		m.snap.Connectors[name] = c
	})
	return err
}

func (m *MemoryConfigStore) PutTaskConfigs(_ context.Context, name string, configs []map[string]string) error {
	var err error
	m.update(func() {
		c, ok := m.snap.Connectors[name]
		if !ok {
			err = state.ErrUnknownConnector
			return
		}
		c.Tasks = make([]map[string]string, len(configs))
		for i, tc := range configs {
			c.Tasks[i] = maps.Clone(tc)
		}
		c.TaskCount = len(configs)
		m.snap.Connectors[name] = c
	})
	return err
}

// MemoryStatusStore keeps statuses in memory (standalone mode).
type MemoryStatusStore struct {
	mu         sync.Mutex
	connectors map[string]state.Status
	tasks      map[string]map[int]state.Status
	topics     map[string]map[string]state.TopicStatus
}

// NewMemoryStatusStore returns an empty store.
func NewMemoryStatusStore() *MemoryStatusStore {
	return &MemoryStatusStore{connectors: map[string]state.Status{}, tasks: map[string]map[int]state.Status{},
		topics: map[string]map[string]state.TopicStatus{}}
}

func (m *MemoryStatusStore) Topics(name string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.topics[name]))
}

func (m *MemoryStatusStore) PutTopicStatus(_ context.Context, ts state.TopicStatus) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.topics[ts.Connector] == nil {
		m.topics[ts.Connector] = map[string]state.TopicStatus{}
	}
	m.topics[ts.Connector][ts.Topic] = ts
	return nil
}

func (m *MemoryStatusStore) DeleteTopicStatuses(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.topics, name)
	return nil
}

func (m *MemoryStatusStore) Connector(name string) (state.Status, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.connectors[name]
	return st, ok
}

func (m *MemoryStatusStore) Tasks(name string) []state.TaskStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []state.TaskStatus
	for id := 0; len(out) < len(m.tasks[name]); id++ {
		if st, ok := m.tasks[name][id]; ok {
			out = append(out, state.TaskStatus{Task: id, Status: st})
		}
	}
	return out
}

func (m *MemoryStatusStore) PutConnectorStatus(_ context.Context, name string, st state.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.connectors[name] = st
	return nil
}

func (m *MemoryStatusStore) PutTaskStatus(_ context.Context, name string, task int, st state.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tasks[name] == nil {
		m.tasks[name] = map[int]state.Status{}
	}
	m.tasks[name][task] = st
	return nil
}

func (m *MemoryStatusStore) PutTaskStatuses(ctx context.Context, name string, statuses map[int]state.Status) error {
	for task, st := range statuses {
		if err := m.PutTaskStatus(ctx, name, task, st); err != nil {
			return err
		}
	}
	return nil
}

func (m *MemoryStatusStore) DeleteConnectorStatus(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.connectors, name)
	delete(m.tasks, name)
	delete(m.topics, name)
	return nil
}
