package coordinator

import (
	"fmt"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// Config is the coordinator's process configuration, read from SLUICE_*
// environment variables (see `coordinator --help`). Connector settings never
// come from here: they come from connector configurations.
type Config struct {
	// BootstrapServers are the Kafka brokers; empty starts the embedded
	// broker (dev mode). Connect: bootstrap.servers.
	BootstrapServers []string `envconfig:"BOOTSTRAP_SERVERS" desc:"Kafka bootstrap servers (host:port,...); empty starts the embedded dev broker"`
	// SecurityEnv is how the coordinator reaches Kafka (SLUICE_SECURITY_PROTOCOL,
	// SLUICE_SASL_*, SLUICE_SSL_*); in standalone mode the worker
	// properties' security settings win.
	kafka.SecurityEnv
	// EmbeddedKafkaAddr is where the embedded broker listens.
	EmbeddedKafkaAddr string `envconfig:"EMBEDDED_KAFKA_ADDR" default:"127.0.0.1:9092" desc:"listen address of the embedded dev broker (127.0.0.1 only)"`
	// EmbeddedPartitions is the partition count of topics the embedded broker creates automatically.
	EmbeddedPartitions int `envconfig:"EMBEDDED_PARTITIONS" default:"4" desc:"partitions of topics auto-created by the embedded dev broker"`
	// DataDir holds the embedded broker's data.
	DataDir string `envconfig:"DATA_DIR" default:"data" desc:"folder for the embedded broker's data; empty keeps it in memory only"`
	// GroupID is Connect's group.id: the coordinators that share it form one
	// cluster and elect a leader.
	GroupID string `envconfig:"GROUP_ID" default:"connect-cluster" desc:"cluster id: coordinators sharing it elect one leader (Connect's group.id)"`
	// ConfigStorageTopic is Connect's config.storage.topic.
	ConfigStorageTopic string `envconfig:"CONFIG_STORAGE_TOPIC" default:"connect-configs" desc:"connector configurations topic (config.storage.topic)"`
	// StatusStorageTopic is Connect's status.storage.topic.
	StatusStorageTopic string `envconfig:"STATUS_STORAGE_TOPIC" default:"connect-status" desc:"connector and task status topic (status.storage.topic)"`
	// StatusStoragePartitions is Connect's status.storage.partitions.
	StatusStoragePartitions int32 `envconfig:"STATUS_STORAGE_PARTITIONS" default:"5" desc:"partitions of the status topic when created (status.storage.partitions)"`
	// LeaseStorageTopic records the leases in flight.
	LeaseStorageTopic string `envconfig:"LEASE_STORAGE_TOPIC" default:"sluice-leases" desc:"topic recording leases in flight, for restarts and leader changes"`
	// RestListener is where the REST API listens (Connect's listeners).
	RestListener string `envconfig:"REST_LISTENER" default:":8083" desc:"REST API listen address (Connect's listeners)"`
	// RestAdvertisedURL is how other coordinators and workers reach this one.
	RestAdvertisedURL string `envconfig:"REST_ADVERTISED_URL" desc:"URL other coordinators and workers use to reach this one (default http://<hostname>:<port>)"`
	// Invoker is where leases run: inprocess, lambda or pull.
	Invoker string `envconfig:"INVOKER" default:"inprocess" desc:"where leases run: inprocess, lambda (AWS Lambda Invoke) or pull (workers poll over HTTP)"`
	// LambdaSourceFunction and LambdaSinkFunction name the functions.
	LambdaSourceFunction string `envconfig:"LAMBDA_SOURCE_FUNCTION" desc:"Lambda function running source leases (with SLUICE_INVOKER=lambda)"`
	LambdaSinkFunction   string `envconfig:"LAMBDA_SINK_FUNCTION" desc:"Lambda function running sink leases (with SLUICE_INVOKER=lambda)"`
	// LambdaEndpoint overrides the Lambda API endpoint (tests, VPC endpoints).
	LambdaEndpoint string `envconfig:"LAMBDA_ENDPOINT" desc:"Lambda API endpoint override (optional)"`
	// ElectionSessionTimeout is how long a crashed leader keeps leadership.
	ElectionSessionTimeout time.Duration `envconfig:"ELECTION_SESSION_TIMEOUT" default:"6s" desc:"how long a crashed leader keeps leadership before another coordinator takes over"`
	// ReconcileInterval is how often configurations are re-read and applied.
	ReconcileInterval time.Duration `envconfig:"RECONCILE_INTERVAL" default:"500ms" desc:"how often the configurations are re-read and applied"`
	// OffsetStorageTopic is Connect's offset.storage.topic.
	OffsetStorageTopic string `envconfig:"OFFSET_STORAGE_TOPIC" default:"connect-offsets" desc:"source offsets topic (Connect's offset.storage.topic)"`
	// OffsetStoragePartitions is Connect's offset.storage.partitions.
	OffsetStoragePartitions int32 `envconfig:"OFFSET_STORAGE_PARTITIONS" default:"25" desc:"partitions of the offsets topic when created (offset.storage.partitions)"`
	// ReplicationFactor of the internal topics; -1 uses the broker's default.
	ReplicationFactor int16 `envconfig:"REPLICATION_FACTOR" default:"-1" desc:"replication factor of internal topics; -1 = broker default (offset.storage.replication.factor)"`
	// LeaseTimeout is how long a lease may run before it is given up and re-issued.
	LeaseTimeout time.Duration `envconfig:"LEASE_TIMEOUT" default:"60s" desc:"deadline of each lease, from issue"`
	// LeaseMaxTime is how long a lease works before it commits and ends.
	LeaseMaxTime time.Duration `envconfig:"LEASE_MAX_TIME" default:"10s" desc:"work time of a lease before it commits and returns"`
	// SafetyMargin is kept free before each lease's deadline.
	SafetyMargin time.Duration `envconfig:"SAFETY_MARGIN" default:"2s" desc:"no write or commit starts within this margin of a lease's deadline"`
	// SinkPollInterval is how often sink lag is checked.
	SinkPollInterval time.Duration `envconfig:"SINK_POLL_INTERVAL" default:"1s" desc:"how often sink lag is checked for new leases"`
	// SinkMaxRecords bounds the records of one sink lease.
	SinkMaxRecords int64 `envconfig:"SINK_MAX_RECORDS" default:"500000" desc:"most records one sink lease covers"`
	// DefaultFlushSize is the lag that triggers a sink lease for connectors without flush.size.
	DefaultFlushSize int64 `envconfig:"DEFAULT_FLUSH_SIZE" default:"1" desc:"lag that triggers a sink lease when a connector sets no flush.size"`
	// DefaultRotateInterval issues a sink lease for any lag this old, when a connector sets no rotate.interval.ms.
	DefaultRotateInterval time.Duration `envconfig:"DEFAULT_ROTATE_INTERVAL" default:"5s" desc:"age of pending records that triggers a sink lease below flush.size"`
	// IdleBackoffMax caps the wait between leases of an idle source.
	IdleBackoffMax time.Duration `envconfig:"IDLE_BACKOFF_MAX" default:"5s" desc:"longest wait between leases of an idle source task"`
	// TaskRetries is how many times a failing task is retried before it is FAILED.
	TaskRetries int `envconfig:"TASK_RETRIES" default:"5" desc:"retries of a failing task (with exponential backoff) before it is marked FAILED"`
	// RetryBackoffMax caps the backoff between retries.
	RetryBackoffMax time.Duration `envconfig:"RETRY_BACKOFF_MAX" default:"30s" desc:"longest backoff between retries of a failing task"`
	// WorkerProperties is a Kafka Connect worker.properties file; Sluice
	// reads its config.providers settings from it.
	WorkerProperties string `envconfig:"WORKER_PROPERTIES" desc:"Kafka Connect worker.properties to read config.providers from (optional)"`
	// ConfigProviders are the names of the configured config providers
	// (set by the process from WorkerProperties, not from the environment).
	ConfigProviders []string `ignored:"true"`
	// TopicTrackingEnable is Connect's topic.tracking.enable: the active
	// topics API (KIP-558).
	TopicTrackingEnable bool `envconfig:"TOPIC_TRACKING_ENABLE" default:"true" desc:"record the topics each connector uses in the status topic (topic.tracking.enable)"`
	// TopicTrackingAllowReset is Connect's topic.tracking.allow.reset.
	TopicTrackingAllowReset bool `envconfig:"TOPIC_TRACKING_ALLOW_RESET" default:"true" desc:"allow PUT /connectors/{name}/topics/reset (topic.tracking.allow.reset)"`
	// TopicCreationEnable is Connect's topic.creation.enable (KIP-158): a
	// source connector with topic.creation.* settings creates each topic it
	// produces to through the admin API, before the first record.
	TopicCreationEnable bool `envconfig:"TOPIC_CREATION_ENABLE" default:"true" desc:"create source connectors' topics with their topic.creation.* settings before the first record (topic.creation.enable)"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
}

// Validate checks the configuration once, naming every bad field.
func (c *Config) Validate() error {
	var problems []string
	if c.LeaseTimeout <= 2*c.SafetyMargin {
		problems = append(problems, fmt.Sprintf("SLUICE_LEASE_TIMEOUT %s must be more than twice SLUICE_SAFETY_MARGIN %s", c.LeaseTimeout, c.SafetyMargin))
	}
	if c.LeaseMaxTime <= 0 {
		problems = append(problems, "SLUICE_LEASE_MAX_TIME must be positive")
	}
	if c.SinkPollInterval <= 0 {
		problems = append(problems, "SLUICE_SINK_POLL_INTERVAL must be positive")
	}
	if c.SinkMaxRecords <= 0 {
		problems = append(problems, "SLUICE_SINK_MAX_RECORDS must be positive")
	}
	if c.OffsetStoragePartitions <= 0 {
		problems = append(problems, "SLUICE_OFFSET_STORAGE_PARTITIONS must be positive")
	}
	if c.ReconcileInterval <= 0 {
		problems = append(problems, "SLUICE_RECONCILE_INTERVAL must be positive")
	}
	switch c.Invoker {
	case "inprocess", "pull":
	case "lambda":
		if c.LambdaSourceFunction == "" && c.LambdaSinkFunction == "" {
			problems = append(problems, "SLUICE_INVOKER=lambda needs SLUICE_LAMBDA_SOURCE_FUNCTION and/or SLUICE_LAMBDA_SINK_FUNCTION")
		}
	default:
		problems = append(problems, fmt.Sprintf("SLUICE_INVOKER %q: want inprocess, lambda or pull", c.Invoker))
	}
	if c.TaskRetries < 0 {
		problems = append(problems, "SLUICE_TASK_RETRIES must not be negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %v", problems)
	}
	return nil
}

// KafkaSecurity returns the Kafka security settings of the SLUICE_SECURITY_*,
// SLUICE_SASL_* and SLUICE_SSL_* variables, overridden by those that worker
// (a Connect worker.properties in standalone mode, or nil) sets:
// security.protocol, sasl.mechanism, sasl.jaas.config and PEM
// ssl.truststore.location / ssl.keystore.location. kafka.Dial validates the
// result.
func (c *Config) KafkaSecurity(worker map[string]string) (kafka.Security, error) {
	sec := c.Settings()
	if worker == nil {
		return sec, nil
	}
	w, err := kafka.SecurityFromProperties(worker)
	if err != nil {
		return sec, fmt.Errorf("worker properties: %w", err)
	}
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&sec.Protocol, w.Protocol},
		{&sec.SASLMechanism, w.SASLMechanism},
		{&sec.SASLUsername, w.SASLUsername},
		{&sec.SASLPassword, w.SASLPassword},
		{&sec.CAFile, w.CAFile},
		{&sec.CertFile, w.CertFile},
		{&sec.KeyFile, w.KeyFile},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	return sec, nil
}
