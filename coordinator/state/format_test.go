package state

import (
	"testing"
)

// The golden values are what Connect's JsonConverter (schemas.enable=false)
// writes for the structs of KafkaConfigBackingStore (CONNECTOR_CONFIGURATION_V0,
// CONNECTOR_TASKS_COMMIT_V0, TARGET_STATE_V1) and KafkaStatusBackingStore
// (STATUS_SCHEMA_V0): fields in schema order, nulls written, no spaces.
func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{
			name: "connector config",
			got: EncodeConnectorConfig(map[string]string{
				"name":            "local-file-source",
				"connector.class": "FileStreamSource",
				"tasks.max":       "1",
				"file":            "test.txt",
				"topic":           "connect-test",
			}),
			want: `{"properties":{"connector.class":"FileStreamSource","file":"test.txt","name":"local-file-source","tasks.max":"1","topic":"connect-test"}}`,
		},
		{name: "empty config", got: EncodeConnectorConfig(nil), want: `{"properties":{}}`},
		{name: "commit", got: EncodeCommit(2), want: `{"tasks":2}`},
		{name: "commit of no tasks", got: EncodeCommit(0), want: `{"tasks":0}`},
		{name: "target started", got: EncodeTargetState(TargetStarted), want: `{"state":"STARTED","state.v2":"STARTED"}`},
		{name: "target paused", got: EncodeTargetState(TargetPaused), want: `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{name: "target stopped", got: EncodeTargetState(TargetStopped), want: `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{
			name: "running status",
			got:  EncodeStatus(Status{State: StateRunning, WorkerID: "192.168.1.5:8083", Generation: 7}),
			want: `{"state":"RUNNING","trace":null,"worker_id":"192.168.1.5:8083","generation":7}`,
		},
		{
			name: "failed status with a stack trace",
			got: EncodeStatus(Status{State: StateFailed, WorkerID: "w:8083", Generation: 0,
				Trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat Foo.bar(Foo.java:12)\n"}),
			want: `{"state":"FAILED","trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat Foo.bar(Foo.java:12)\n","worker_id":"w:8083","generation":0}`,
		},
		{
			// Jackson escapes only '"', '\\' and control characters.
			name: "jackson escaping",
			got:  EncodeConnectorConfig(map[string]string{"k": "<a&b>/\"q\"\\\b\f\r\x01\x1f\x7fé\u2028"}),
			want: `{"properties":{"k":"<a&b>/\"q\"\\\b\f\r\u0001\u001F` + "\x7fé\u2028" + `"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"connector", ConnectorKey("my-conn"), "connector-my-conn"},
		{"task", TaskKey("my-conn", 12), "task-my-conn-12"},
		{"commit", CommitKey("my-conn"), "commit-my-conn"},
		{"target state", TargetStateKey("my-conn"), "target-state-my-conn"},
		{"connector status", ConnectorStatusKey("my-conn"), "status-connector-my-conn"},
		{"task status", TaskStatusKey("my-conn", 3), "status-task-my-conn-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
