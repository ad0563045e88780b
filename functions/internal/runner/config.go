package runner

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/properties"
)

// Config is a function binary's process configuration, read from SLUICE_*
// environment variables (see --help). Connector settings never come from
// here: they travel in each lease.
type Config struct {
	// BootstrapServers are the Kafka brokers (Connect's bootstrap.servers).
	BootstrapServers []string `envconfig:"BOOTSTRAP_SERVERS" required:"true" desc:"Kafka bootstrap servers (host:port,...)"`
	// SecurityEnv is how the function reaches Kafka (SLUICE_SECURITY_PROTOCOL,
	// SLUICE_SASL_*, SLUICE_SSL_*).
	kafka.SecurityEnv
	// OffsetStorageTopic is Connect's offset.storage.topic.
	OffsetStorageTopic string `envconfig:"OFFSET_STORAGE_TOPIC" default:"connect-offsets" desc:"source offsets topic (Connect's offset.storage.topic)"`
	// OffsetStoragePartitions and ReplicationFactor apply when this process
	// is the first to create the offsets topic; they match the coordinator's.
	OffsetStoragePartitions int32 `envconfig:"OFFSET_STORAGE_PARTITIONS" default:"25" desc:"partitions of the offsets topic when created (offset.storage.partitions)"`
	ReplicationFactor       int16 `envconfig:"REPLICATION_FACTOR" default:"-1" desc:"replication factor of the offsets topic when created; -1 = broker default"`
	// SafetyMargin is kept free before a lease's deadline, which is the
	// lease's own or, under Lambda, the invocation's when that is earlier.
	SafetyMargin time.Duration `envconfig:"SAFETY_MARGIN" default:"2s" desc:"no write or commit starts within this margin of the lease deadline (or of the Lambda invocation deadline when earlier)"`
	// DialTimeout bounds connecting to Kafka at start-up (Lambda's init
	// phase lasts at most 10 s).
	DialTimeout time.Duration `envconfig:"DIAL_TIMEOUT" default:"8s" desc:"how long start-up may take to connect to Kafka"`
	// CoordinatorURL is where a long-lived worker pulls leases from.
	CoordinatorURL string `envconfig:"COORDINATOR_URL" desc:"worker mode (AWS_LAMBDA_RUNTIME_API unset): the coordinator's REST URL to pull leases from, e.g. http://coordinator:8083"`
	// WorkerID names the worker to the coordinator; default host-pid.
	WorkerID string `envconfig:"WORKER_ID" desc:"worker mode: this worker's id in the coordinator's logs (default <hostname>-<pid>)"`
	// PollWait is how long one poll for a lease waits at the coordinator.
	PollWait time.Duration `envconfig:"POLL_WAIT" default:"20s" desc:"worker mode: how long one poll for a lease waits at the coordinator (capped by the coordinator)"`
	// Concurrency is how many leases a worker runs at once.
	Concurrency int `envconfig:"CONCURRENCY" default:"1" desc:"worker mode: leases run at the same time"`
	// WorkerProperties and ConfigProviders declare Connect config providers
	// (config.providers=...), resolved where the task runs: a
	// worker.properties file, or the same properties inline, separated by
	// ";" or newlines (convenient in a Lambda environment).
	WorkerProperties string `envconfig:"WORKER_PROPERTIES" desc:"Kafka Connect worker.properties to read config.providers from (optional)"`
	ConfigProviders  string `envconfig:"CONFIG_PROVIDERS" desc:"config.providers settings inline, e.g. config.providers=sm;config.providers.sm.class=io.sluice.config.provider.SecretsManagerConfigProvider (optional)"`
	// TopicCreationEnable is Connect's worker topic.creation.enable
	// (KIP-158), for the source leases this process runs.
	TopicCreationEnable bool `envconfig:"TOPIC_CREATION_ENABLE" default:"true" desc:"create source connectors' topics with their topic.creation.* settings before the first record (topic.creation.enable)"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
}

// providerProperties merges the config provider settings of
// WorkerProperties and ConfigProviders (inline wins).
func (c *Config) providerProperties() (map[string]string, error) {
	props := map[string]string{}
	if c.WorkerProperties != "" {
		file, err := properties.LoadFile(c.WorkerProperties)
		if err != nil {
			return nil, fmt.Errorf("SLUICE_WORKER_PROPERTIES: %w", err)
		}
		maps.Copy(props, file)
	}
	if c.ConfigProviders != "" {
		inline, err := properties.Load(strings.NewReader(strings.ReplaceAll(c.ConfigProviders, ";", "\n")))
		if err != nil {
			return nil, fmt.Errorf("SLUICE_CONFIG_PROVIDERS: %w", err)
		}
		maps.Copy(props, inline)
	}
	return props, nil
}

// validate checks the configuration once for the chosen mode and names
// every bad variable.
func (c *Config) validate(m mode) error {
	var problems []error
	if len(c.BootstrapServers) == 0 {
		problems = append(problems, errors.New("SLUICE_BOOTSTRAP_SERVERS is required: the Kafka brokers (host:port,...)"))
	}
	if c.SafetyMargin <= 0 {
		problems = append(problems, fmt.Errorf("SLUICE_SAFETY_MARGIN %s must be positive", c.SafetyMargin))
	}
	if c.DialTimeout <= 0 {
		problems = append(problems, fmt.Errorf("SLUICE_DIAL_TIMEOUT %s must be positive", c.DialTimeout))
	}
	if c.OffsetStoragePartitions <= 0 {
		problems = append(problems, fmt.Errorf("SLUICE_OFFSET_STORAGE_PARTITIONS %d must be positive", c.OffsetStoragePartitions))
	}
	if m == modeWorker {
		if c.CoordinatorURL == "" {
			problems = append(problems, errors.New("SLUICE_COORDINATOR_URL is required outside AWS Lambda (AWS_LAMBDA_RUNTIME_API is unset): "+
				"a long-lived worker pulls its leases from the coordinator"))
		}
		if c.PollWait <= 0 {
			problems = append(problems, fmt.Errorf("SLUICE_POLL_WAIT %s must be positive", c.PollWait))
		}
		if c.Concurrency < 1 {
			problems = append(problems, fmt.Errorf("SLUICE_CONCURRENCY %d must be at least 1", c.Concurrency))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(problems...))
	}
	return nil
}
