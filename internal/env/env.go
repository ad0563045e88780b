// Package env declares the SLUICE_* environment settings that Sluice's
// processes (the coordinator and the functions) share, once, as structs to
// embed in each process's envconfig configuration (as kafka.SecurityEnv
// is), and names and lists variables from the struct tags: Var for errors,
// Usage for --help.
//
// Embedded without a tag of its own, a struct's variables keep the
// process's prefix: SLUICE_OFFSET_STORAGE_TOPIC, not
// SLUICE_OFFSET_STORAGE_OFFSET_STORAGE_TOPIC.
package env

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect/fileaccess"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// Prefix is the prefix of every variable of Sluice's processes, as
// envconfig.Process takes it.
const Prefix = "sluice"

// Kafka is how a process reaches Kafka: Connect's bootstrap.servers and
// its security settings (SLUICE_SECURITY_PROTOCOL, SLUICE_SASL_*,
// SLUICE_SSL_*).
type Kafka struct {
	// BootstrapServers are the Kafka brokers (Connect's bootstrap.servers).
	// The coordinator starts an embedded broker when they are empty; the
	// functions require them.
	BootstrapServers []string `envconfig:"BOOTSTRAP_SERVERS" desc:"Kafka bootstrap servers (host:port,...)"`
	kafka.SecurityEnv
}

// OffsetStorage is Connect's offsets topic, which the coordinator and the
// functions open, and create with these settings when they come first.
type OffsetStorage struct {
	// OffsetStorageTopic is Connect's offset.storage.topic.
	OffsetStorageTopic string `envconfig:"OFFSET_STORAGE_TOPIC" default:"connect-offsets" desc:"source offsets topic (Connect's offset.storage.topic)"`
	// OffsetStoragePartitions is Connect's offset.storage.partitions.
	OffsetStoragePartitions int32 `envconfig:"OFFSET_STORAGE_PARTITIONS" default:"25" desc:"partitions of the offsets topic when created (offset.storage.partitions)"`
	// ReplicationFactor of the internal topics the process creates (the
	// coordinator creates all of them); -1 uses the broker's default.
	ReplicationFactor int16 `envconfig:"REPLICATION_FACTOR" default:"-1" desc:"replication factor of the internal topics when created; -1 = broker default (offset.storage.replication.factor)"`
}

// Topic is the offsets topic's specification.
func (o OffsetStorage) Topic() kafka.TopicSpec {
	return kafka.TopicSpec{Name: o.OffsetStorageTopic, Partitions: o.OffsetStoragePartitions, ReplicationFactor: o.ReplicationFactor}
}

// Problems returns what is wrong with the settings, naming each variable.
func (o *OffsetStorage) Problems() []error {
	if o.OffsetStoragePartitions <= 0 {
		return []error{fmt.Errorf("%s %d must be positive", Var(o, &o.OffsetStoragePartitions), o.OffsetStoragePartitions)}
	}
	return nil
}

// StateTopics are Connect's configs and status topics, which the
// coordinator keeps and sink-batch reads.
type StateTopics struct {
	// ConfigStorageTopic is Connect's config.storage.topic.
	ConfigStorageTopic string `envconfig:"CONFIG_STORAGE_TOPIC" default:"connect-configs" desc:"connector configurations topic (config.storage.topic)"`
	// StatusStorageTopic is Connect's status.storage.topic.
	StatusStorageTopic string `envconfig:"STATUS_STORAGE_TOPIC" default:"connect-status" desc:"connector and task status topic (status.storage.topic)"`
}

// Executor is how the process runs leases (pkg/connect/lease): the
// coordinator with its in-process invoker, the functions always.
type Executor struct {
	// SafetyMargin is kept free before a lease's deadline: its own or,
	// under Lambda, the invocation's when that is earlier.
	SafetyMargin time.Duration `envconfig:"SAFETY_MARGIN" default:"2s" desc:"no write or commit starts within this margin of a lease's deadline (or of the Lambda invocation's deadline when earlier)"`
	// WorkerProperties is a Kafka Connect worker.properties file; its
	// config.providers settings are resolved where the task runs.
	WorkerProperties string `envconfig:"WORKER_PROPERTIES" desc:"Kafka Connect worker.properties to read config.providers from (optional)"`
	// TopicCreationEnable is Connect's worker topic.creation.enable
	// (KIP-158): a source connector with topic.creation.* settings creates
	// each topic it produces to through the admin API, before the first
	// record.
	TopicCreationEnable bool `envconfig:"TOPIC_CREATION_ENABLE" default:"true" desc:"create source connectors' topics with their topic.creation.* settings before the first record (topic.creation.enable)"`
}

// Logging is the process's log level.
type Logging struct {
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
}

// WorkerAuth is the shared secret by which pull workers authenticate to
// the coordinator (sent in the Sluice-Worker-Secret header): the
// coordinator refuses worker requests without it, the workers send it. It
// comes from a file or from AWS Secrets Manager, not both.
type WorkerAuth struct {
	// WorkerSecretFile holds the secret (surrounding white space trimmed).
	WorkerSecretFile string `envconfig:"WORKER_SECRET_FILE" desc:"file holding the shared secret of pull workers and coordinator (required by the coordinator's worker endpoints when set)"`
	// WorkerSecretARN is the Secrets Manager secret (ARN or name) holding
	// the secret, read once at start-up with the SDK's default credentials
	// and region (AWS_REGION).
	WorkerSecretARN string `envconfig:"WORKER_SECRET_ARN" desc:"AWS Secrets Manager secret (ARN or name) holding the shared secret of pull workers and coordinator, instead of SLUICE_WORKER_SECRET_FILE (region from AWS_REGION)"`
	// WorkerSecretKey is the JSON key of the secret's value; unset, the
	// whole SecretString is the secret.
	WorkerSecretKey string `envconfig:"WORKER_SECRET_KEY" desc:"JSON key holding the shared secret when SLUICE_WORKER_SECRET_ARN's value is a JSON object (optional: unset, the whole SecretString)"`
	// WorkerSecretEndpoint is the Secrets Manager endpoint (VPC or FIPS
	// endpoints); unset, the region's.
	WorkerSecretEndpoint string `envconfig:"WORKER_SECRET_ENDPOINT" desc:"Secrets Manager endpoint URL for SLUICE_WORKER_SECRET_ARN (optional: unset, the region's)"`
}

// Set reports whether a secret is configured, from a file or Secrets
// Manager.
func (w *WorkerAuth) Set() bool { return w.WorkerSecretFile != "" || w.WorkerSecretARN != "" }

// Problems returns what is wrong with the settings, naming each variable.
func (w *WorkerAuth) Problems() []error {
	var problems []error
	if w.WorkerSecretFile != "" && w.WorkerSecretARN != "" {
		problems = append(problems, fmt.Errorf("set one of %s and %s, not both", Var(w, &w.WorkerSecretFile), Var(w, &w.WorkerSecretARN)))
	}
	if w.WorkerSecretARN == "" && (w.WorkerSecretKey != "" || w.WorkerSecretEndpoint != "") {
		problems = append(problems, fmt.Errorf("%s and %s need %s", Var(w, &w.WorkerSecretKey), Var(w, &w.WorkerSecretEndpoint), Var(w, &w.WorkerSecretARN)))
	}
	return problems
}

// Secret reads the secret from its file or Secrets Manager; "" when
// neither is set.
func (w *WorkerAuth) Secret(ctx context.Context) (string, error) {
	if err := errors.Join(w.Problems()...); err != nil {
		return "", err
	}
	var s, from string
	switch {
	case w.WorkerSecretFile != "":
		b, err := os.ReadFile(w.WorkerSecretFile)
		if err != nil {
			return "", fmt.Errorf("reading the worker secret: %w", err)
		}
		s, from = string(b), w.WorkerSecretFile
	case w.WorkerSecretARN != "":
		v, err := configprovider.SecretsManagerValue(ctx, "", w.WorkerSecretEndpoint, w.WorkerSecretARN, w.WorkerSecretKey)
		if err != nil {
			return "", fmt.Errorf("reading the worker secret from Secrets Manager (%s): %w", Var(w, &w.WorkerSecretARN), err)
		}
		s, from = v, "secret "+w.WorkerSecretARN
		if w.WorkerSecretKey != "" {
			from += " key " + w.WorkerSecretKey
		}
	default:
		return "", nil
	}
	s = strings.TrimSpace(s)
	if len(s) < 16 {
		return "", fmt.Errorf("the worker secret in %s is shorter than 16 characters", from)
	}
	return s, nil
}

// FileAccess is where connectors may read and write local files
// (package fileaccess): SLUICE_ALLOWED_PATHS, as Kafka's allowed.paths.
type FileAccess struct {
	AllowedPaths []string `envconfig:"ALLOWED_PATHS" desc:"directories the FileStream connectors and the local storage sink may read and write (comma-separated); dev mode defaults to the data folder and the working directory; otherwise unset allows none"`
}

// Apply sets SLUICE_ALLOWED_PATHS for this process's connectors: the
// configured roots, else defaults (dev mode's), else none at all.
func (f FileAccess) Apply(defaults ...string) error {
	roots := f.AllowedPaths
	if len(roots) == 0 {
		for _, d := range defaults {
			if d == "" {
				continue
			}
			abs, err := filepath.Abs(d)
			if err != nil {
				return err
			}
			roots = append(roots, abs)
		}
	}
	return os.Setenv(fileaccess.EnvVar, strings.Join(roots, ","))
}

// ExactlyOnce is Connect's worker setting exactly.once.source.support
// (KIP-618), which the coordinator applies to the source leases it issues.
type ExactlyOnce struct {
	// ExactlyOnceSourceSupport is disabled, preparing or enabled.
	ExactlyOnceSourceSupport string `envconfig:"EXACTLY_ONCE_SOURCE_SUPPORT" default:"disabled" desc:"exactly-once source support (exactly.once.source.support): disabled, preparing (as disabled: the step of a rolling upgrade) or enabled (source leases write records and offsets in Kafka transactions)"`
}

// The values of SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT.
const (
	ExactlyOnceDisabled  = "disabled"
	ExactlyOncePreparing = "preparing"
	ExactlyOnceEnabled   = "enabled"
)

// Enabled reports whether exactly-once source support is enabled.
func (x ExactlyOnce) Enabled() bool {
	return strings.EqualFold(strings.TrimSpace(x.ExactlyOnceSourceSupport), ExactlyOnceEnabled)
}

// Problems returns what is wrong with the setting, naming the variable.
func (x *ExactlyOnce) Problems() []error {
	switch strings.ToLower(strings.TrimSpace(x.ExactlyOnceSourceSupport)) {
	case "", ExactlyOnceDisabled, ExactlyOncePreparing, ExactlyOnceEnabled:
		return nil // "": disabled, the default
	}
	return []error{fmt.Errorf("%s %q must be disabled, preparing or enabled", Var(x, &x.ExactlyOnceSourceSupport), x.ExactlyOnceSourceSupport)}
}
