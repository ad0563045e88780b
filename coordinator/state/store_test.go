package state

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// TestWireFormat writes through a Store and compares the raw records of both
// topics, keys, values and partitions, with Connect's.
func TestWireFormat(t *testing.T) {
	env := startKafka(t, 1)
	s := open(t, env)
	ctx := testCtx(t)
	cs, ss := s.Configs, s.Statuses

	mustNil(t, cs.PutConnectorConfig(ctx, "src", map[string]string{"name": "src", "tasks.max": "2"}, TargetStopped))
	mustNil(t, cs.PutTaskConfigs(ctx, "src", []map[string]string{{"n": "0"}, {"n": "1"}}))
	mustNil(t, cs.PutTargetState(ctx, "src", TargetPaused))
	mustNil(t, cs.DeleteConnector(ctx, "src"))

	wantConfigs := []rec{
		{"target-state-src", `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"connector-src", `{"properties":{"name":"src","tasks.max":"2"}}`},
		{"task-src-0", `{"properties":{"n":"0"}}`},
		{"task-src-1", `{"properties":{"n":"1"}}`},
		{"commit-src", `{"tasks":2}`},
		{"target-state-src", `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{"connector-src", "<nil>"},
		{"target-state-src", "<nil>"},
	}
	if got := records(readAll(t, env.Client, DefaultConfigTopic, 0)); !reflect.DeepEqual(got, wantConfigs) {
		t.Errorf("configs topic:\ngot  %q\nwant %q", got, wantConfigs)
	}

	mustNil(t, ss.PutConnectorStatus(ctx, "src", Status{State: StateRunning, WorkerID: "10.0.0.7:8083", Generation: 3}))
	mustNil(t, ss.PutTaskStatus(ctx, "src", 0, Status{State: StateFailed, Trace: "boom\n\tat X", WorkerID: "10.0.0.7:8083", Generation: 3}))
	mustNil(t, ss.DeleteConnectorStatus(ctx, "src"))

	wantStatus := map[string][]string{
		"status-connector-src": {`{"state":"RUNNING","trace":null,"worker_id":"10.0.0.7:8083","generation":3}`, "<nil>"},
		"status-task-src-0":    {`{"state":"FAILED","trace":"boom\n\tat X","worker_id":"10.0.0.7:8083","generation":3}`, "<nil>"},
	}
	got := map[string][]string{}
	for p := range int32(DefaultStatusPartitions) {
		for _, m := range readAll(t, env.Client, DefaultStatusTopic, p) {
			// Keys land where Connect's producer puts them: murmur2.
			if want := kafka.PartitionForKey(m.Key, DefaultStatusPartitions); m.Partition != want {
				t.Errorf("%s on partition %d, want %d", m.Key, m.Partition, want)
			}
			r := records([]kafka.Message{m})[0]
			got[r.key] = append(got[r.key], r.value)
		}
	}
	if !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("status topic:\ngot  %q\nwant %q", got, wantStatus)
	}
	if _, ok := ss.Connector("src"); ok || len(ss.Tasks("src")) != 0 {
		t.Errorf("statuses of a deleted connector are still there")
	}
}

func records(ms []kafka.Message) []rec {
	out := make([]rec, len(ms))
	for i, m := range ms {
		v := "<nil>"
		if m.Value != nil {
			v = string(m.Value)
		}
		out[i] = rec{string(m.Key), v}
	}
	return out
}

// TestAtomicTaskPublication: task records without their commit stay
// invisible, even to a Store opened afterwards, and a late commit makes
// them visible.
func TestAtomicTaskPublication(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	s := open(t, env)
	mustNil(t, s.Configs.PutConnectorConfig(ctx, "c", map[string]string{"name": "c"}, ""))
	old := []map[string]string{{"v": "old-0"}, {"v": "old-1"}}
	mustNil(t, s.Configs.PutTaskConfigs(ctx, "c", old))

	// A leader crashes after writing new task records, before the commit.
	raw := rawLog(t, env, DefaultConfigTopic)
	mustNil(t, raw.SendAll(ctx, []Record{
		{Key: []byte(TaskKey("c", 0)), Value: EncodeConnectorConfig(map[string]string{"v": "new-0"})},
		{Key: []byte(TaskKey("c", 1)), Value: EncodeConnectorConfig(map[string]string{"v": "new-1"})},
		{Key: []byte(TaskKey("c", 2)), Value: EncodeConnectorConfig(map[string]string{"v": "new-2"})},
	}))
	mustNil(t, s.Configs.Refresh(ctx))
	restarted := open(t, env)
	for name, st := range map[string]*Store{"running store": s, "restarted store": restarted} {
		if got := st.Configs.Snapshot().Connectors["c"]; got.TaskCount != 2 || !reflect.DeepEqual(got.Tasks, old) {
			t.Errorf("%s: tasks without commit visible: %+v", name, got)
		}
	}

	mustNil(t, raw.Send(ctx, []byte(CommitKey("c")), EncodeCommit(3)))
	mustNil(t, restarted.Configs.Refresh(ctx))
	want := []map[string]string{{"v": "new-0"}, {"v": "new-1"}, {"v": "new-2"}}
	if got := restarted.Configs.Snapshot().Connectors["c"]; got.TaskCount != 3 || !reflect.DeepEqual(got.Tasks, want) {
		t.Errorf("after the commit: got %+v, want tasks %v", got, want)
	}

	// A fresh publication replaces them all, including with fewer tasks.
	mustNil(t, restarted.Configs.PutTaskConfigs(ctx, "c", []map[string]string{{"v": "only"}}))
	if got := restarted.Configs.Snapshot().Connectors["c"]; got.TaskCount != 1 || !reflect.DeepEqual(got.Tasks, []map[string]string{{"v": "only"}}) {
		t.Errorf("after republishing: %+v", got)
	}
}

func TestDeleteConnector(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	s := open(t, env)
	cs := s.Configs
	mustNil(t, cs.PutConnectorConfig(ctx, "keep", map[string]string{"a": "1"}, ""))
	mustNil(t, cs.PutConnectorConfig(ctx, "gone", map[string]string{"a": "2"}, TargetPaused))
	mustNil(t, cs.PutTaskConfigs(ctx, "gone", []map[string]string{{"t": "0"}}))
	mustNil(t, cs.DeleteConnector(ctx, "gone"))

	check := func(name string, snap Snapshot) {
		t.Helper()
		if _, ok := snap.Connectors["gone"]; ok {
			t.Errorf("%s: deleted connector still present", name)
		}
		if _, ok := snap.Connectors["keep"]; !ok {
			t.Errorf("%s: other connector lost", name)
		}
	}
	check("writer", cs.Snapshot())
	check("restarted", open(t, env).Configs.Snapshot())

	if err := cs.PutTaskConfigs(ctx, "gone", []map[string]string{{}}); !errors.Is(err, ErrUnknownConnector) {
		t.Errorf("PutTaskConfigs of a deleted connector: %v, want ErrUnknownConnector", err)
	}
	// Recreated, it starts STARTED and without the old tasks.
	mustNil(t, cs.PutConnectorConfig(ctx, "gone", map[string]string{"a": "3"}, ""))
	got := cs.Snapshot().Connectors["gone"]
	want := ConnectorState{Config: map[string]string{"a": "3"}, TargetState: TargetStarted}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recreated: got %+v, want %+v", got, want)
	}
}

func TestTargetStates(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	s := open(t, env)
	cs := s.Configs
	tests := []struct {
		name    string
		create  TargetState // "" for the default
		set     []TargetState
		want    TargetState
		wantErr error
	}{
		{name: "new connector defaults to STARTED", want: TargetStarted},
		{name: "created stopped", create: TargetStopped, want: TargetStopped},
		{name: "created paused", create: TargetPaused, want: TargetPaused},
		{name: "paused", set: []TargetState{TargetPaused}, want: TargetPaused},
		{name: "stopped then resumed", set: []TargetState{TargetStopped, TargetStarted}, want: TargetStarted},
		{name: "stopped", create: TargetPaused, set: []TargetState{TargetStopped}, want: TargetStopped},
		{name: "unknown state", set: []TargetState{"SLEEPING"}, want: TargetStarted, wantErr: ErrInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("c%d", i)
			mustNil(t, cs.PutConnectorConfig(ctx, name, map[string]string{"name": name}, tt.create))
			for _, st := range tt.set {
				if err := cs.PutTargetState(ctx, name, st); !errors.Is(err, tt.wantErr) {
					t.Fatalf("PutTargetState(%s): %v, want %v", st, err, tt.wantErr)
				}
			}
			if got := cs.Snapshot().Connectors[name].TargetState; got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// A restarted store agrees on every one.
	if a, b := cs.Snapshot(), open(t, env).Configs.Snapshot(); !reflect.DeepEqual(a, b) {
		t.Errorf("restarted store differs:\n%+v\n%+v", a, b)
	}
}

// TestRestartRecovery: a Store opened on the same topics rebuilds the same
// snapshot and statuses.
func TestRestartRecovery(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	first, err := Open(ctx, env.Client, Config{Logger: quiet})
	mustNil(t, err)
	for i := range 5 {
		name := fmt.Sprintf("conn-%d", i)
		mustNil(t, first.Configs.PutConnectorConfig(ctx, name, map[string]string{"name": name, "tasks.max": "3"}, ""))
		tasks := make([]map[string]string, i%3+1)
		for n := range tasks {
			tasks[n] = map[string]string{"task.id": fmt.Sprint(n), "x": "y\n\"z\""}
		}
		mustNil(t, first.Configs.PutTaskConfigs(ctx, name, tasks))
		mustNil(t, first.Statuses.PutConnectorStatus(ctx, name, Status{State: StateRunning, WorkerID: "w:8083", Generation: 1}))
		for n := range tasks {
			mustNil(t, first.Statuses.PutTaskStatus(ctx, name, n, Status{State: StateRunning, WorkerID: "w:8083", Generation: 1}))
		}
	}
	mustNil(t, first.Configs.PutTargetState(ctx, "conn-1", TargetPaused))
	mustNil(t, first.Configs.PutTargetState(ctx, "conn-2", TargetStopped))
	mustNil(t, first.Configs.DeleteConnector(ctx, "conn-3"))
	mustNil(t, first.Statuses.DeleteConnectorStatus(ctx, "conn-3"))
	mustNil(t, first.Statuses.PutTaskStatus(ctx, "conn-4", 0, Status{State: StateFailed, Trace: "trace", WorkerID: "w:8083", Generation: 2}))

	snap := first.Configs.Snapshot()
	statuses := dumpStatuses(first.Statuses)
	mustNil(t, first.Close())

	second := open(t, env)
	if got := second.Configs.Snapshot(); !reflect.DeepEqual(got, snap) {
		t.Errorf("snapshot after restart:\ngot  %+v\nwant %+v", got, snap)
	}
	if got := dumpStatuses(second.Statuses); !reflect.DeepEqual(got, statuses) {
		t.Errorf("statuses after restart:\ngot  %+v\nwant %+v", got, statuses)
	}
	if len(snap.Connectors) != 4 || len(statuses) != 4 {
		t.Errorf("%d connectors, %d statuses, want 4 of each", len(snap.Connectors), len(statuses))
	}
}

type connectorStatuses struct {
	Connector Status
	Tasks     []TaskStatus
}

func dumpStatuses(s *StatusStore) map[string]connectorStatuses {
	out := map[string]connectorStatuses{}
	for _, name := range s.Connectors() {
		st, _ := s.Connector(name)
		out[name] = connectorStatuses{Connector: st, Tasks: s.Tasks(name)}
	}
	return out
}

// TestFollower: a follower sees a leader's writes within its Follow interval.
func TestFollower(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	leader := open(t, env)
	follower := open(t, env)
	const interval = 50 * time.Millisecond
	mustNil(t, follower.Follow(ctx, interval))

	mustNil(t, leader.Configs.PutConnectorConfig(ctx, "c", map[string]string{"name": "c"}, ""))
	mustNil(t, leader.Configs.PutTaskConfigs(ctx, "c", []map[string]string{{"t": "0"}}))
	mustNil(t, leader.Statuses.PutConnectorStatus(ctx, "c", Status{State: StateRunning, WorkerID: "leader:8083"}))
	want := leader.Configs.Snapshot()

	checkFor(t, 5*time.Second, interval/5, func() error {
		if got := follower.Configs.Snapshot(); !reflect.DeepEqual(got, want) {
			return fmt.Errorf("follower snapshot %+v, want %+v", got, want)
		}
		if _, ok := follower.Statuses.Connector("c"); !ok {
			return errors.New("follower has no connector status")
		}
		return nil
	})
	// Close stops the Follow goroutines and waits for them.
	done := make(chan error, 1)
	go func() { done <- follower.Close() }()
	select {
	case err := <-done:
		mustNil(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := follower.Follow(ctx, interval); !errors.Is(err, ErrClosed) {
		t.Errorf("Follow after Close: %v, want ErrClosed", err)
	}
}

// TestConfigTopicPartitions: Open refuses a configs topic with more than one
// partition, with Connect's message.
func TestConfigTopicPartitions(t *testing.T) {
	tests := []struct {
		name       string
		partitions int32
		wantErr    bool
	}{
		{name: "one partition", partitions: 1},
		{name: "two partitions", partitions: 2, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startKafka(t, 1)
			ctx := testCtx(t)
			mustNil(t, env.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "my-configs", Partitions: tt.partitions}))
			s, err := Open(ctx, env.Client, Config{ConfigTopic: "my-configs", Logger: quiet})
			if !tt.wantErr {
				mustNil(t, err)
				mustNil(t, s.Close())
				return
			}
			var pe *PartitionCountError
			if !errors.As(err, &pe) {
				t.Fatalf("Open: %v, want a *PartitionCountError", err)
			}
			want := "Topic 'my-configs' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found 2 partitions."
			if err.Error() != want {
				t.Errorf("message:\ngot  %s\nwant %s", err, want)
			}
		})
	}
}

func TestGenerations(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	cs := open(t, env).Configs
	last := cs.Snapshot().Generation
	if last != -1 {
		t.Fatalf("empty topic: generation %d, want -1", last)
	}
	writes := []struct {
		name  string
		write func() error
	}{
		{"create", func() error { return cs.PutConnectorConfig(ctx, "c", map[string]string{}, "") }},
		{"tasks", func() error { return cs.PutTaskConfigs(ctx, "c", []map[string]string{{}}) }},
		{"no tasks", func() error { return cs.PutTaskConfigs(ctx, "c", nil) }},
		{"pause", func() error { return cs.PutTargetState(ctx, "c", TargetPaused) }},
		{"reconfigure", func() error { return cs.PutConnectorConfig(ctx, "c", map[string]string{"a": "b"}, TargetStarted) }},
		{"delete", func() error { return cs.DeleteConnector(ctx, "c") }},
	}
	for _, w := range writes {
		mustNil(t, w.write())
		g := cs.Snapshot().Generation
		if g <= last {
			t.Errorf("after %s: generation %d, not above %d", w.name, g, last)
		}
		last = g
	}
}

// TestStatusGenerations: Connect's putSafe rule.
func TestStatusGenerations(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	ss := open(t, env).Statuses
	mustNil(t, ss.PutTaskStatus(ctx, "c", 0, Status{State: StateRunning, WorkerID: "a:8083", Generation: 5}))
	tests := []struct {
		name    string
		st      Status
		wantErr error
	}{
		{name: "other worker, older generation", st: Status{State: StateUnassigned, WorkerID: "b:8083", Generation: 4}, wantErr: ErrStaleStatus},
		{name: "same worker, older generation", st: Status{State: StatePaused, WorkerID: "a:8083", Generation: 4}},
		{name: "other worker, same generation", st: Status{State: StateRunning, WorkerID: "b:8083", Generation: 4}},
		{name: "other worker, newer generation", st: Status{State: StateFailed, WorkerID: "a:8083", Generation: 9}},
		{name: "previous worker, older generation", st: Status{State: StateRunning, WorkerID: "b:8083", Generation: 5}, wantErr: ErrStaleStatus},
		{name: "destroyed is not a state to write", st: Status{State: "DESTROYED", WorkerID: "a:8083", Generation: 9}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ss.Tasks("c")
			err := ss.PutTaskStatus(ctx, "c", 0, tt.st)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PutTaskStatus: %v, want %v", err, tt.wantErr)
			}
			got := ss.Tasks("c")
			if tt.wantErr != nil {
				if !reflect.DeepEqual(got, before) {
					t.Errorf("refused write changed the status: %+v", got)
				}
				return
			}
			if want := []TaskStatus{{Task: 0, Status: tt.st}}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestPutTaskStatuses: several tasks' statuses in one put, each checked by
// Connect's putSafe rule; the put fails when one of them is refused, and
// the others are written all the same.
func TestPutTaskStatuses(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	ss := open(t, env).Statuses
	mustNil(t, ss.PutTaskStatus(ctx, "c", 2, Status{State: StateRunning, WorkerID: "b:8083", Generation: 7}))
	err := ss.PutTaskStatuses(ctx, "c", map[int]Status{
		0: {State: StateRunning, WorkerID: "a:8083", Generation: 5},
		1: {State: StateUnassigned, WorkerID: "a:8083", Generation: 5},
		2: {State: StateRunning, WorkerID: "a:8083", Generation: 5}, // older than b's
	})
	if !errors.Is(err, ErrStaleStatus) {
		t.Fatalf("PutTaskStatuses: %v, want ErrStaleStatus for task 2", err)
	}
	want := []TaskStatus{
		{Task: 0, Status: Status{State: StateRunning, WorkerID: "a:8083", Generation: 5}},
		{Task: 1, Status: Status{State: StateUnassigned, WorkerID: "a:8083", Generation: 5}},
		{Task: 2, Status: Status{State: StateRunning, WorkerID: "b:8083", Generation: 7}},
	}
	if got := ss.Tasks("c"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if err := ss.PutTaskStatuses(ctx, "c", map[int]Status{0: {State: "DESTROYED"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("writing DESTROYED: %v, want ErrInvalid", err)
	}
}

// TestActiveTopics: a connector's active topics are written in Connect's
// format, read back by another store (a restarted coordinator), reset, and
// removed with the connector's statuses.
func TestActiveTopics(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	ss := open(t, env).Statuses
	at := time.UnixMilli(1700000000000)
	for _, ts := range []TopicStatus{{"orders", "c", 0, at}, {"users", "c", 1, at}, {"orders", "d", 0, at}} {
		mustNil(t, ss.PutTopicStatus(ctx, ts))
	}
	if got := string(EncodeTopicStatus(TopicStatus{"orders", "c", 0, at})); got != `{"topic":{"name":"orders","connector":"c","task":0,"discoverTimestamp":1700000000000}}` {
		t.Errorf("encoded %s", got)
	}
	other := open(t, env).Statuses
	if got := other.Topics("c"); !reflect.DeepEqual(got, []string{"orders", "users"}) {
		t.Fatalf("read back: %v", got)
	}
	mustNil(t, ss.DeleteTopicStatuses(ctx, "c"))
	if got := ss.Topics("c"); len(got) != 0 {
		t.Errorf("after reset: %v", got)
	}
	if got := ss.Topics("d"); !reflect.DeepEqual(got, []string{"orders"}) {
		t.Errorf("another connector's topics after reset: %v", got)
	}
	mustNil(t, ss.PutConnectorStatus(ctx, "d", Status{State: StateRunning, WorkerID: "a:8083"}))
	mustNil(t, ss.DeleteConnectorStatus(ctx, "d"))
	if got := ss.Topics("d"); len(got) != 0 {
		t.Errorf("after deleting the connector: %v", got)
	}
	if err := ss.PutTopicStatus(ctx, TopicStatus{Connector: "c"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty topic: %v, want ErrInvalid", err)
	}
}

// Names stays sorted as connectors come, change and go, and
// ConnectorConfig is a copy of the configuration with the task count; both
// read the same after a restart.
func TestNamesAndConnectorConfig(t *testing.T) {
	env := startKafka(t, 1)
	ctx := testCtx(t)
	cs := open(t, env).Configs
	for _, n := range []string{"b", "c", "a", "b"} {
		mustNil(t, cs.PutConnectorConfig(ctx, n, map[string]string{"name": n}, ""))
	}
	mustNil(t, cs.PutTaskConfigs(ctx, "b", []map[string]string{{"t": "0"}, {"t": "1"}}))
	mustNil(t, cs.DeleteConnector(ctx, "c"))
	for _, tc := range []struct {
		name string
		cs   *ConfigStore
	}{{"writer", cs}, {"restarted", open(t, env).Configs}} {
		t.Run(tc.name, func(t *testing.T) {
			names := tc.cs.Names()
			if want := []string{"a", "b"}; !reflect.DeepEqual(names, want) {
				t.Fatalf("Names = %q, want %q", names, want)
			}
			names[0] = "changed"
			cfg, tasks, ok := tc.cs.ConnectorConfig("b")
			if !ok || tasks != 2 || !reflect.DeepEqual(cfg, map[string]string{"name": "b"}) {
				t.Fatalf("ConnectorConfig(b) = %v, %d, %v", cfg, tasks, ok)
			}
			cfg["name"] = "changed"
			if again, _, _ := tc.cs.ConnectorConfig("b"); again["name"] != "b" || tc.cs.Names()[0] != "a" {
				t.Fatal("changing what Names or ConnectorConfig returned changed the store")
			}
			if _, _, ok := tc.cs.ConnectorConfig("c"); ok {
				t.Fatal("ConnectorConfig of a deleted connector")
			}
		})
	}
}
