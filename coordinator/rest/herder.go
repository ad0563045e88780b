package rest

import (
	"context"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Herder is what the REST API needs from the coordinator, the Go shape of
// Kafka Connect's Herder interface. Each method names its Connect
// equivalent. Methods return the typed errors of this package
// (NotFoundError, AlreadyExistsError, BadRequestError, *config.ValidationError,
// ConflictError, NotLeaderError, StatusError); anything else becomes a 500.
//
// Methods are called concurrently, one call per HTTP request; ctx is
// cancelled when the client goes away.
type Herder interface {
	// Leader reports the REST base URL of the leader ("" if none is known)
	// and whether this node is the leader. Writes reaching a follower are
	// forwarded to the leader, as Connect's workers do.
	Leader() (url string, isLeader bool)

	// KafkaClusterID is the ID of the Kafka cluster that holds the
	// internal topics, Herder.kafkaClusterId (GET /).
	KafkaClusterID(ctx context.Context) (string, error)

	// Connectors lists connector names, Herder.connectors (GET /connectors).
	// The list may be shared between calls: callers do not modify it.
	Connectors(ctx context.Context) ([]string, error)
	// ConnectorInfo is Herder.connectorInfo (GET /connectors/{name}).
	ConnectorInfo(ctx context.Context, name string) (ConnectorInfo, error)
	// ConnectorConfig returns the configuration as submitted, "name"
	// included, Herder.connectorConfig (GET /connectors/{name}/config).
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	// PutConnectorConfig validates and stores a connector's configuration
	// (which always holds "name"), Herder.putConnectorConfig. With
	// allowReplace false an existing connector is an AlreadyExistsError
	// (POST /connectors); with true it is replaced (PUT .../config).
	// initialState is "", "RUNNING", "PAUSED" or "STOPPED" (upper case) and
	// only applies to a new connector. created reports a new connector.
	PutConnectorConfig(ctx context.Context, name string, config map[string]string, allowReplace bool, initialState string) (created bool, info ConnectorInfo, err error)
	// PatchConnectorConfig merges patch into the stored configuration: a
	// non-nil value sets a key, nil removes it. Herder.patchConnectorConfig
	// (PATCH /connectors/{name}/config).
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error)
	// DeleteConnector stops and removes a connector,
	// Herder.deleteConnectorConfig (DELETE /connectors/{name}).
	DeleteConnector(ctx context.Context, name string) error

	// ConnectorStatus is Herder.connectorStatus (GET /connectors/{name}/status).
	ConnectorStatus(ctx context.Context, name string) (ConnectorStateInfo, error)
	// TaskConfigs is Herder.taskConfigs (GET /connectors/{name}/tasks).
	TaskConfigs(ctx context.Context, name string) ([]TaskInfo, error)
	// TaskStatus is Herder.taskStatus (GET /connectors/{name}/tasks/{id}/status);
	// Connect's message for an unknown task is "No status found for task <c>-<n>".
	TaskStatus(ctx context.Context, id TaskID) (TaskState, error)

	// RestartConnector is Herder.restartConnector when includeTasks and
	// onlyFailed are both false, and must then return a nil state (the
	// REST answer is 204). Otherwise it is Herder.restartConnectorAndTasks
	// and returns the state after the restart was scheduled (202).
	// POST /connectors/{name}/restart.
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error)
	// RestartTask is Herder.restartTask (POST /connectors/{name}/tasks/{id}/restart).
	RestartTask(ctx context.Context, id TaskID) error
	// PauseConnector is Herder.pauseConnector (PUT /connectors/{name}/pause).
	PauseConnector(ctx context.Context, name string) error
	// ResumeConnector is Herder.resumeConnector (PUT /connectors/{name}/resume).
	ResumeConnector(ctx context.Context, name string) error
	// StopConnector is Herder.stopConnector (PUT /connectors/{name}/stop).
	StopConnector(ctx context.Context, name string) error
	// FenceZombies is Herder.fenceZombieSourceTasks
	// (PUT /connectors/{name}/fence, KIP-618): older invocations of the
	// source connector's tasks can no longer write.
	FenceZombies(ctx context.Context, name string) error

	// ConnectorActiveTopics is Herder.connectorActiveTopics
	// (GET /connectors/{name}/topics). A StatusError with 403 "Topic
	// tracking is disabled." reproduces Connect with topic.tracking.enable=false.
	ConnectorActiveTopics(ctx context.Context, name string) (ActiveTopicsInfo, error)
	// ResetConnectorActiveTopics is Herder.resetConnectorActiveTopics
	// (PUT /connectors/{name}/topics/reset).
	ResetConnectorActiveTopics(ctx context.Context, name string) error

	// ConnectorOffsets is Herder.connectorOffsets (GET /connectors/{name}/offsets).
	ConnectorOffsets(ctx context.Context, name string) (ConnectorOffsets, error)
	// AlterConnectorOffsets is Herder.alterConnectorOffsets
	// (PATCH /connectors/{name}/offsets). As in Connect, a connector that is
	// not STOPPED is a BadRequestError. offsets holds at least one entry.
	AlterConnectorOffsets(ctx context.Context, name string, offsets ConnectorOffsets) (Message, error)
	// ResetConnectorOffsets is Herder.resetConnectorOffsets
	// (DELETE /connectors/{name}/offsets); a connector that is not STOPPED
	// is a BadRequestError.
	ResetConnectorOffsets(ctx context.Context, name string) (Message, error)

	// ValidateConnectorConfig is Herder.validateConnectorConfig
	// (PUT /connector-plugins/{plugin}/config/validate). pluginName is the
	// plugin named in the URL; config may lack connector.class.
	// Password values must be rendered "[hidden]", as config.Def.Infos does.
	ValidateConnectorConfig(ctx context.Context, pluginName string, config map[string]string) (config.Infos, error)
	// ConnectorPlugins lists installed plugins, only source and sink
	// connectors when connectorsOnly (GET /connector-plugins).
	ConnectorPlugins(ctx context.Context, connectorsOnly bool) []PluginInfo
	// PluginConfig describes a plugin's configuration keys,
	// Herder.connectorPluginConfig (GET /connector-plugins/{plugin}/config).
	PluginConfig(ctx context.Context, pluginName string) ([]config.KeyInfo, error)
}

// HealthChecker is an optional Herder capability: GET /health calls it and
// answers 500 "unhealthy" when it fails, as Connect's Herder.healthCheck.
// Without it, a serving handler is healthy.
type HealthChecker interface {
	HealthCheck(ctx context.Context) error
}

// ClusterLoggerLevelSetter is an optional Herder capability for
// PUT /admin/loggers/{name}?scope=cluster, Herder.setClusterLoggerLevel:
// it records the level for every coordinator. Without it, cluster scope
// changes this node's levels only.
type ClusterLoggerLevelSetter interface {
	SetClusterLoggerLevel(ctx context.Context, namespace, level string) error
}
