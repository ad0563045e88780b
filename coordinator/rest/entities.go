package rest

import "encoding/json"

// ServerInfo is the body of GET /, Connect's ServerInfo.
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// WorkerStatus is the body of GET /health, Connect's WorkerStatus.
type WorkerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// ConnectorType is how Connect names a connector's kind in REST bodies.
type ConnectorType string

// The connector types Connect writes (ConnectorType.toString).
const (
	SourceType  ConnectorType = "source"
	SinkType    ConnectorType = "sink"
	UnknownType ConnectorType = "unknown"
)

// TaskID names one task, Connect's ConnectorTaskId.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is a connector's configuration and tasks, Connect's
// ConnectorInfo: the body of GET /connectors/{name}, POST /connectors and
// PUT|PATCH /connectors/{name}/config.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   ConnectorType     `json:"type"`
}

// MarshalJSON writes empty collections as {} and [] rather than null, as
// Connect does.
func (c ConnectorInfo) MarshalJSON() ([]byte, error) {
	type plain ConnectorInfo
	if c.Config == nil {
		c.Config = map[string]string{}
	}
	if c.Tasks == nil {
		c.Tasks = []TaskID{}
	}
	return json.Marshal(plain(c))
}

// ConnectorStateInfo is the body of GET /connectors/{name}/status and of a
// restart with includeTasks or onlyFailed, Connect's ConnectorStateInfo.
type ConnectorStateInfo struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      ConnectorType  `json:"type"`
}

// MarshalJSON writes no tasks as [] rather than null, as Connect does.
func (c ConnectorStateInfo) MarshalJSON() ([]byte, error) {
	type plain ConnectorStateInfo
	if c.Tasks == nil {
		c.Tasks = []TaskState{}
	}
	return json.Marshal(plain(c))
}

// Connector and task states as Connect writes them.
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateStopped    = "STOPPED"
	StateFailed     = "FAILED"
	StateRestarting = "RESTARTING"
)

// ConnectorState is a connector's state, Connect's
// ConnectorStateInfo.ConnectorState. Trace is omitted when empty.
type ConnectorState struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is a task's state, Connect's ConnectorStateInfo.TaskState and the
// body of GET /connectors/{name}/tasks/{id}/status. Trace is omitted when
// empty.
type TaskState struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskInfo is one task's configuration, Connect's TaskInfo: the elements of
// GET /connectors/{name}/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// MarshalJSON writes an empty config as {} rather than null.
func (t TaskInfo) MarshalJSON() ([]byte, error) {
	type plain TaskInfo
	if t.Config == nil {
		t.Config = map[string]string{}
	}
	return json.Marshal(plain(t))
}

// Plugin types as Connect writes them (PluginType.toString).
const (
	PluginSource          = "source"
	PluginSink            = "sink"
	PluginConverter       = "converter"
	PluginHeaderConverter = "header_converter"
	PluginTransformation  = "transformation"
	PluginPredicate       = "predicate"
)

// PluginInfo is one element of GET /connector-plugins, Connect's PluginInfo.
// An empty Version (Connect's "undefined") is omitted.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// ActiveTopicsInfo lists the topics a connector has used, Connect's
// ActiveTopicsInfo. GET /connectors/{name}/topics writes it keyed by the
// connector's name: {"<name>":{"topics":[...]}}.
type ActiveTopicsInfo struct {
	Connector string   `json:"-"`
	Topics    []string `json:"topics"`
}

// MarshalJSON writes no topics as [] rather than null.
func (a ActiveTopicsInfo) MarshalJSON() ([]byte, error) {
	type plain ActiveTopicsInfo
	if a.Topics == nil {
		a.Topics = []string{}
	}
	return json.Marshal(plain(a))
}

// ConnectorOffsets is the body of GET and PATCH /connectors/{name}/offsets,
// Connect's ConnectorOffsets. Numbers decoded from a request are
// json.Number, so offsets keep their precision.
type ConnectorOffsets struct {
	Offsets []ConnectorOffset `json:"offsets"`
}

// MarshalJSON writes no offsets as [] rather than null.
func (c ConnectorOffsets) MarshalJSON() ([]byte, error) {
	type plain ConnectorOffsets
	if c.Offsets == nil {
		c.Offsets = []ConnectorOffset{}
	}
	return json.Marshal(plain(c))
}

// ConnectorOffset is one source partition or Kafka topic-partition and its
// offset, Connect's ConnectorOffset. For sinks the partition is
// {"kafka_topic","kafka_partition"} and the offset {"kafka_offset"}. A nil
// Offset in a PATCH request removes the partition's offset.
type ConnectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// Message is a human-readable outcome, Connect's Message: the body of
// PATCH and DELETE /connectors/{name}/offsets.
type Message struct {
	Message string `json:"message"`
}

// ErrorMessage is the body of every error response, Connect's ErrorMessage.
// ErrorCode repeats the HTTP status.
type ErrorMessage struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// LoggerLevel is one logger's level, Connect's LoggerLevel. LastModified is
// the Unix time in milliseconds of the last change through the REST API, or
// null if it never changed.
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// CreateConnectorRequest is the body of POST /connectors, Connect's
// CreateConnectorRequest. InitialState is RUNNING, PAUSED or STOPPED (any
// case), or empty for RUNNING.
type CreateConnectorRequest struct {
	Name         string            `json:"name"`
	Config       map[string]string `json:"config"`
	InitialState string            `json:"initial_state,omitempty"`
}
