package state

import (
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// rec is a configs or status record as Connect would have written it; a
// value of "<nil>" is a tombstone.
type rec struct{ key, value string }

func applyConfigs(recs []rec) Snapshot {
	s := newConfigState()
	for i, r := range recs {
		m := kafka.Message{Offset: int64(i), Key: []byte(r.key)}
		if r.value != "<nil>" {
			m.Value = []byte(r.value)
		}
		s.apply(m, quiet)
	}
	return s.snapshot()
}

const (
	cfgA  = `{"properties":{"connector.class":"X","name":"a-b"}}`
	task0 = `{"properties":{"task":"0"}}`
	task1 = `{"properties":{"task":"1"}}`
)

var (
	propsA = map[string]string{"connector.class": "X", "name": "a-b"}
	t0     = map[string]string{"task": "0"}
	t1     = map[string]string{"task": "1"}
)

// TestApplyConfigs reads configs-topic records as Connect's
// KafkaConfigBackingStore reads them.
func TestApplyConfigs(t *testing.T) {
	tests := []struct {
		name string
		recs []rec
		want Snapshot
	}{
		{name: "empty", want: Snapshot{Generation: -1, Connectors: map[string]ConnectorState{}}},
		{
			name: "connector with a dash and committed tasks",
			recs: []rec{{"connector-a-b", cfgA}, {"task-a-b-0", task0}, {"task-a-b-1", task1}, {"commit-a-b", `{"tasks":2}`}},
			want: Snapshot{Generation: 4, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted, TaskCount: 2, Tasks: []map[string]string{t0, t1}},
			}},
		},
		{
			name: "tasks without commit are invisible",
			recs: []rec{{"connector-a-b", cfgA}, {"task-a-b-0", task0}},
			want: Snapshot{Generation: 2, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted},
			}},
		},
		{
			name: "uncommitted tasks leave the previous ones in force",
			recs: []rec{{"connector-a-b", cfgA}, {"task-a-b-0", task0}, {"commit-a-b", `{"tasks":1}`}, {"task-a-b-0", task1}},
			want: Snapshot{Generation: 4, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted, TaskCount: 1, Tasks: []map[string]string{t0}},
			}},
		},
		{
			name: "commit missing a task is inconsistent",
			recs: []rec{{"connector-a-b", cfgA}, {"task-a-b-1", task1}, {"commit-a-b", `{"tasks":2}`}},
			want: Snapshot{Generation: 3, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted, TaskCount: 2, Inconsistent: true},
			}},
		},
		{
			name: "shrinking task count after compaction",
			recs: []rec{{"connector-a-b", cfgA}, {"task-a-b-1", task1}, {"task-a-b-0", task0}, {"commit-a-b", `{"tasks":1}`}},
			want: Snapshot{Generation: 4, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted, TaskCount: 1, Tasks: []map[string]string{t0}},
			}},
		},
		{
			name: "commit for a compacted-away connector is ignored",
			recs: []rec{{"task-gone-0", task0}, {"commit-gone", `{"tasks":1}`}},
			want: Snapshot{Generation: 2, Connectors: map[string]ConnectorState{}},
		},
		{
			name: "pre-3.5 target state",
			recs: []rec{{"target-state-a-b", `{"state":"PAUSED"}`}, {"connector-a-b", cfgA}},
			want: Snapshot{Generation: 2, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetPaused},
			}},
		},
		{
			name: "stopped is read from state.v2",
			recs: []rec{{"connector-a-b", cfgA}, {"target-state-a-b", `{"state":"PAUSED","state.v2":"STOPPED"}`}},
			want: Snapshot{Generation: 2, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStopped},
			}},
		},
		{
			name: "malformed state.v2 falls back on state",
			recs: []rec{{"connector-a-b", cfgA}, {"target-state-a-b", `{"state":"PAUSED","state.v2":7}`}},
			want: Snapshot{Generation: 2, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetPaused},
			}},
		},
		{
			name: "target state tombstone of a live connector means STARTED",
			recs: []rec{{"connector-a-b", cfgA}, {"target-state-a-b", `{"state":"PAUSED","state.v2":"PAUSED"}`}, {"target-state-a-b", "<nil>"}},
			want: Snapshot{Generation: 3, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted},
			}},
		},
		{
			name: "delete drops tasks and recreation starts with none",
			recs: []rec{
				{"connector-a-b", cfgA}, {"task-a-b-0", task0}, {"commit-a-b", `{"tasks":1}`},
				{"connector-a-b", "<nil>"}, {"target-state-a-b", "<nil>"}, {"connector-a-b", cfgA},
			},
			want: Snapshot{Generation: 6, Connectors: map[string]ConnectorState{
				"a-b": {Config: propsA, TargetState: TargetStarted},
			}},
		},
		{
			name: "null property values are dropped",
			recs: []rec{{"connector-c", `{"properties":{"a":"1","b":null}}`}},
			want: Snapshot{Generation: 1, Connectors: map[string]ConnectorState{
				"c": {Config: map[string]string{"a": "1"}, TargetState: TargetStarted},
			}},
		},
		{
			name: "undecodable value is skipped without moving the offset",
			recs: []rec{{"connector-c", `{"properties":{}}`}, {"connector-d", `not json`}},
			want: Snapshot{Generation: 1, Connectors: map[string]ConnectorState{
				"c": {Config: map[string]string{}, TargetState: TargetStarted},
			}},
		},
		{
			name: "records Sluice reads past still move the offset",
			recs: []rec{
				{"connector-c", `{"properties":{}}`},
				{"task-count-record-c", `{"task-count":1}`},
				{"restart-connector-c", `{"include-tasks":true,"only-failed":false}`},
				{"session-key", `{"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1}`},
				{"logger-cluster-org.foo", `{"level":"DEBUG"}`},
				{"unknown", `{}`},
				{"connector-x", `{"props":{}}`},
			},
			want: Snapshot{Generation: 7, Connectors: map[string]ConnectorState{
				"c": {Config: map[string]string{}, TargetState: TargetStarted},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := applyConfigs(tt.recs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestApplyStatuses reads status-topic records as KafkaStatusBackingStore
// reads them.
func TestApplyStatuses(t *testing.T) {
	running := func(gen int32) string {
		return string(EncodeStatus(Status{State: StateRunning, WorkerID: "w1:8083", Generation: gen}))
	}
	tests := []struct {
		name      string
		recs      []rec
		connector map[string]Status
		tasks     map[string]map[int]Status
	}{
		{
			name:      "connector and tasks",
			recs:      []rec{{"status-connector-a-b", running(1)}, {"status-task-a-b-0", running(1)}, {"status-task-a-b-10", running(2)}},
			connector: map[string]Status{"a-b": {State: StateRunning, WorkerID: "w1:8083", Generation: 1}},
			tasks: map[string]map[int]Status{"a-b": {
				0:  {State: StateRunning, WorkerID: "w1:8083", Generation: 1},
				10: {State: StateRunning, WorkerID: "w1:8083", Generation: 2},
			}},
		},
		{
			name:      "connector tombstone removes its tasks",
			recs:      []rec{{"status-connector-a", running(1)}, {"status-task-a-0", running(1)}, {"status-connector-a", "<nil>"}},
			connector: map[string]Status{},
			tasks:     map[string]map[int]Status{},
		},
		{
			name: "stale UNASSIGNED does not replace RUNNING",
			recs: []rec{
				{"status-task-a-0", running(3)},
				{"status-task-a-0", `{"state":"UNASSIGNED","trace":null,"worker_id":"w2:8083","generation":3}`},
			},
			connector: map[string]Status{},
			tasks:     map[string]map[int]Status{"a": {0: {State: StateRunning, WorkerID: "w1:8083", Generation: 3}}},
		},
		{
			name: "newer UNASSIGNED replaces RUNNING",
			recs: []rec{
				{"status-task-a-0", running(3)},
				{"status-task-a-0", `{"state":"UNASSIGNED","trace":null,"worker_id":"w2:8083","generation":4}`},
			},
			connector: map[string]Status{},
			tasks:     map[string]map[int]Status{"a": {0: {State: StateUnassigned, WorkerID: "w2:8083", Generation: 4}}},
		},
		{
			name: "invalid records are discarded",
			recs: []rec{
				{"status-connector-", running(1)},
				{"status-task-a-#", running(1)},
				{"status-connector-a", `invalid`},
				{"status-connector-b", `{"state":"SLEEPING","trace":null,"worker_id":"w","generation":1}`},
				{"status-connector-c", `{"state":"RUNNING","trace":null,"worker_id":"w"}`},
				{"status-topic-t:connector-a", `{"topic":{"name":"t","connector":"a","task":0,"discoverTimestamp":1}}`},
			},
			connector: map[string]Status{},
			tasks:     map[string]map[int]Status{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := statusState{connectors: map[string]Status{}, tasks: map[string]map[int]Status{}, topics: map[string]map[string]TopicStatus{}}
			for i, r := range tt.recs {
				m := kafka.Message{Offset: int64(i), Key: []byte(r.key)}
				if r.value != "<nil>" {
					m.Value = []byte(r.value)
				}
				s.apply(m, quiet)
			}
			if !reflect.DeepEqual(s.connectors, tt.connector) {
				t.Errorf("connectors: got %+v, want %+v", s.connectors, tt.connector)
			}
			if !reflect.DeepEqual(s.tasks, tt.tasks) {
				t.Errorf("tasks: got %+v, want %+v", s.tasks, tt.tasks)
			}
		})
	}
}

// TestApplyTopicStatuses reads active-topic records (KIP-558) as
// KafkaStatusBackingStore does: status-topic-<topic>:connector-<c> keys, the
// topic struct as value, tombstones forgetting a topic; malformed keys and
// values are skipped.
func TestApplyTopicStatuses(t *testing.T) {
	s := statusState{connectors: map[string]Status{}, tasks: map[string]map[int]Status{}, topics: map[string]map[string]TopicStatus{}}
	recs := []struct{ key, value string }{
		{"status-topic-orders:connector-sink", `{"topic":{"name":"orders","connector":"sink","task":2,"discoverTimestamp":1700000000000}}`},
		{"status-topic-users:connector-sink", `{"topic":{"name":"users","connector":"sink","task":0,"discoverTimestamp":1700000000001}}`},
		{"status-topic-orders:connector-src", `{"topic":{"name":"orders","connector":"src","task":0,"discoverTimestamp":1700000000002}}`},
		{"status-topic-users:connector-sink", "<nil>"},
		{"status-topic-nosep", `{"topic":{"name":"nosep","connector":"x","task":0,"discoverTimestamp":1}}`},
		{"status-topic-bad:connector-x", `{"name":"bad"}`},
		{"status-topic-bad:connector-y", `not json`},
	}
	for i, r := range recs {
		m := kafka.Message{Offset: int64(i), Key: []byte(r.key)}
		if r.value != "<nil>" {
			m.Value = []byte(r.value)
		}
		s.apply(m, quiet)
	}
	want := map[string]map[string]TopicStatus{
		"sink": {"orders": {Topic: "orders", Connector: "sink", Task: 2, Discovered: time.UnixMilli(1700000000000)}},
		"src":  {"orders": {Topic: "orders", Connector: "src", Task: 0, Discovered: time.UnixMilli(1700000000002)}},
	}
	if !reflect.DeepEqual(s.topics, want) {
		t.Errorf("topics: got %+v, want %+v", s.topics, want)
	}
}
