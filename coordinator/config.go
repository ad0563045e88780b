package coordinator

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Config is the coordinator's process configuration, read from SLUICE_*
// environment variables (see `coordinator --help`). Connector settings never
// come from here: they come from connector configurations.
type Config struct {
	// Kafka is how the coordinator reaches Kafka: empty BootstrapServers
	// start the embedded broker (dev mode); in standalone mode the worker
	// properties' security settings win.
	env.Kafka
	// EmbeddedKafkaAddr is where the embedded broker listens.
	EmbeddedKafkaAddr string `envconfig:"EMBEDDED_KAFKA_ADDR" default:"127.0.0.1:9092" desc:"listen address of the embedded dev broker (127.0.0.1 only)"`
	// EmbeddedPartitions is the partition count of topics the embedded broker creates automatically.
	EmbeddedPartitions int `envconfig:"EMBEDDED_PARTITIONS" default:"4" desc:"partitions of topics auto-created by the embedded dev broker"`
	// DataDir holds the embedded broker's data.
	DataDir string `envconfig:"DATA_DIR" default:"data" desc:"folder for the embedded broker's data; empty keeps it in memory only"`
	// GroupID is Connect's group.id: the coordinators that share it form one
	// cluster and elect a leader.
	GroupID string `envconfig:"GROUP_ID" default:"connect-cluster" desc:"cluster id: coordinators sharing it elect one leader (Connect's group.id)"`
	// StateTopics are Connect's configs and status topics.
	env.StateTopics
	// StatusStoragePartitions is Connect's status.storage.partitions.
	StatusStoragePartitions int32 `envconfig:"STATUS_STORAGE_PARTITIONS" default:"5" desc:"partitions of the status topic when created (status.storage.partitions)"`
	// LeaseStorageTopic records the leases in flight.
	LeaseStorageTopic string `envconfig:"LEASE_STORAGE_TOPIC" default:"sluice-leases" desc:"topic recording leases in flight, for restarts and leader changes"`
	// RestListener is where the REST API listens (Connect's listeners).
	RestListener string `envconfig:"REST_LISTENER" default:":8083" desc:"REST API listen address, host:port, http://host:port or https://host:port (Connect's listeners; https:// needs SLUICE_REST_TLS_CERT_FILE)"`
	// RestAdvertisedURL is how other coordinators and workers reach this one.
	RestAdvertisedURL string `envconfig:"REST_ADVERTISED_URL" desc:"URL other coordinators and workers use to reach this one (default http://<hostname>:<port>)"`
	// Invoker is where leases run: inprocess, lambda or pull.
	Invoker string `envconfig:"INVOKER" default:"inprocess" desc:"where leases run: inprocess, lambda (AWS Lambda Invoke) or pull (workers poll over HTTP)"`
	// PullMaxWait caps a pull worker's long poll.
	PullMaxWait time.Duration `envconfig:"PULL_MAX_WAIT" default:"30s" desc:"longest a pull worker's poll waits for a lease (with SLUICE_INVOKER=pull)"`
	// LambdaSourceFunction and LambdaSinkFunction name the functions.
	LambdaSourceFunction string `envconfig:"LAMBDA_SOURCE_FUNCTION" desc:"Lambda function running source leases (with SLUICE_INVOKER=lambda)"`
	LambdaSinkFunction   string `envconfig:"LAMBDA_SINK_FUNCTION" desc:"Lambda function running sink leases (with SLUICE_INVOKER=lambda)"`
	// LambdaEndpoint overrides the Lambda API endpoint (tests, VPC endpoints).
	LambdaEndpoint string `envconfig:"LAMBDA_ENDPOINT" desc:"Lambda API endpoint override (optional)"`
	// ElectionSessionTimeout is how long a crashed leader keeps leadership.
	ElectionSessionTimeout time.Duration `envconfig:"ELECTION_SESSION_TIMEOUT" default:"6s" desc:"how long a crashed leader keeps leadership before another coordinator takes over"`
	// ReconcileInterval is how often configurations are re-read and applied.
	ReconcileInterval time.Duration `envconfig:"RECONCILE_INTERVAL" default:"500ms" desc:"how often the configurations are re-read and applied"`
	// OffsetStorage is Connect's offsets topic; its ReplicationFactor
	// applies to every internal topic the coordinator creates.
	env.OffsetStorage
	// LeaseTimeout is how long a lease may run before it is given up and re-issued.
	LeaseTimeout time.Duration `envconfig:"LEASE_TIMEOUT" default:"60s" desc:"deadline of each lease, from issue (at most 30m)"`
	// LeaseMaxTime is how long a source lease works before it commits and
	// ends; a sink lease, which commits its exact ranges or nothing, works
	// until the safety margins before its deadline (LeaseTimeout).
	LeaseMaxTime time.Duration `envconfig:"LEASE_MAX_TIME" default:"10s" desc:"work time of a source lease before it commits and returns (a sink lease works on its exact ranges until its deadline's safety margins)"`
	// Executor is how leases run in-process: the SafetyMargin kept free
	// before each lease's deadline, the Kafka Connect worker.properties
	// (WorkerProperties) whose config.providers settings Sluice reads, and
	// whether source leases create their topics (TopicCreationEnable).
	env.Executor
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
	// ConfigProviders are the names of the configured config providers
	// (set by the process from WorkerProperties and
	// InlineConfigProviders, not from the environment).
	ConfigProviders []string `ignored:"true"`
	// InlineConfigProviders are config.providers settings inline, as the
	// functions take them, over those of WorkerProperties.
	InlineConfigProviders string `envconfig:"CONFIG_PROVIDERS" desc:"config.providers settings inline, separated by ';' (as the functions take them), over those of SLUICE_WORKER_PROPERTIES: connector configurations are checked against them when submitted"`
	// TopicTrackingEnable is Connect's topic.tracking.enable: the active
	// topics API (KIP-558).
	TopicTrackingEnable bool `envconfig:"TOPIC_TRACKING_ENABLE" default:"true" desc:"record the topics each connector uses in the status topic (topic.tracking.enable)"`
	// TopicTrackingAllowReset is Connect's topic.tracking.allow.reset.
	TopicTrackingAllowReset bool `envconfig:"TOPIC_TRACKING_ALLOW_RESET" default:"true" desc:"allow PUT /connectors/{name}/topics/reset (topic.tracking.allow.reset)"`
	// RestSecurity is the REST listener's TLS and authentication.
	RestSecurity
	// MaxTasks caps a connector's tasks.max; 0 is DefaultMaxTasks.
	MaxTasks int `envconfig:"MAX_TASKS" default:"1000" desc:"highest tasks.max a connector may set (a validation error above it)"`
	// MaxConnectors caps the number of connectors; 0 is DefaultMaxConnectors.
	MaxConnectors int `envconfig:"MAX_CONNECTORS" default:"10000" desc:"most connectors the cluster keeps: creating one more is refused with 409"`
	// FileAccess is where connectors may read and write local files.
	env.FileAccess
	// WorkerAuth is the pull workers' shared secret.
	env.WorkerAuth
	// Logging's LogLevel is debug, info, warn or error (or another log4j
	// level).
	env.Logging
	// ExactlyOnce is exactly.once.source.support: when enabled, source
	// leases run with transactions (lease.ExactlyOnce).
	env.ExactlyOnce
	// Cost is the lease history kept and how leases are priced.
	Cost
}

// RestSecurity is the REST listener's TLS and authentication (Connect's
// listeners=https://..., listeners.https.ssl.* and
// BasicAuthSecurityRestExtension).
type RestSecurity struct {
	RestTLSCertFile      string `envconfig:"REST_TLS_CERT_FILE" desc:"PEM certificate (chain) of the REST listener: serves HTTPS, TLS 1.2 or later (with SLUICE_REST_TLS_KEY_FILE)"`
	RestTLSKeyFile       string `envconfig:"REST_TLS_KEY_FILE" desc:"PEM private key of the REST listener's certificate"`
	RestTLSClientCAFile  string `envconfig:"REST_TLS_CLIENT_CA_FILE" desc:"PEM CA certificates: REST clients must present a certificate they signed (mTLS; optional)"`
	RestBasicAuthFile    string `envconfig:"REST_BASIC_AUTH_FILE" desc:"JAAS PropertyFileLoginModule credentials file (user: password[,role...]) as Connect's BasicAuthSecurityRestExtension takes: HTTP Basic authentication on the REST API; role readonly may only GET"`
	RestBearerTokensFile string `envconfig:"REST_BEARER_TOKENS_FILE" desc:"bearer tokens file (name: token[,role...] per line): Authorization: Bearer authentication on the REST API"`
	// RestAuthOpenPaths are served without credentials.
	RestAuthOpenPaths []string `envconfig:"REST_AUTH_OPEN_PATHS" default:"/health" desc:"paths served without credentials when authentication is on (comma-separated; e.g. /health,/metrics)"`
	// InterWorkerKey signs and verifies forwarded requests (KIP-507).
	InterWorkerKey
	// RestMaxConnections bounds the connections each REST listener keeps open.
	RestMaxConnections int `envconfig:"REST_MAX_CONNECTIONS" default:"1024" desc:"most connections each REST listener serves at once (more wait to be accepted); keep it above the pull workers' count"`
	// AdminListeners is Connect's admin.listeners (KIP-495): where the
	// /admin/* endpoints are served instead of the REST listener; set and
	// empty, nowhere. AdminListenersSet says whether it was set at all.
	AdminListeners    []string `envconfig:"ADMIN_LISTENERS" desc:"listeners (host:port, http://host:port or https://host:port, comma-separated) serving /admin/loggers instead of the REST listener (Connect's admin.listeners); set but empty turns /admin/* off; unset serves it on the REST listener"`
	AdminListenersSet bool     `ignored:"true"`
	// MaxLoggers bounds the loggers PUT /admin/loggers may create.
	MaxLoggers int `envconfig:"MAX_LOGGERS" default:"1000" desc:"most loggers PUT /admin/loggers may add (names up to 256 bytes); more are refused with 400"`
}

// InterWorkerKey is Connect's inter.worker.* settings (KIP-507): the
// session key the leader generates and keeps in the configs topic, with
// which the coordinators sign the requests they forward to the leader.
type InterWorkerKey struct {
	InterWorkerKeyGenerationAlgorithm string        `envconfig:"INTER_WORKER_KEY_GENERATION_ALGORITHM" default:"HmacSHA256" desc:"algorithm of the session key the leader generates (inter.worker.key.generation.algorithm): HmacSHA256, HmacSHA384 or HmacSHA512"`
	InterWorkerKeySize                int           `envconfig:"INTER_WORKER_KEY_SIZE" desc:"session key size in bits (inter.worker.key.size; default the algorithm's: 256, 384 or 512)"`
	InterWorkerKeyTTL                 time.Duration `envconfig:"INTER_WORKER_KEY_TTL" default:"1h" desc:"how long a session key is used before the leader rotates it (inter.worker.key.ttl.ms)"`
	InterWorkerSignatureAlgorithm     string        `envconfig:"INTER_WORKER_SIGNATURE_ALGORITHM" default:"HmacSHA256" desc:"MAC that signs forwarded requests (inter.worker.signature.algorithm)"`
	InterWorkerVerificationAlgorithms []string      `envconfig:"INTER_WORKER_VERIFICATION_ALGORITHMS" default:"HmacSHA256" desc:"MACs accepted on forwarded requests (inter.worker.verification.algorithms); must include the signature algorithm"`
}

// Problems returns what is wrong with the settings, naming each variable.
// Zero values stand for the defaults (New fills them in).
func (k *InterWorkerKey) Problems() []error {
	var problems []error
	known := rest.MACAlgorithms()
	for _, a := range append([]string{k.InterWorkerKeyGenerationAlgorithm, k.InterWorkerSignatureAlgorithm}, k.InterWorkerVerificationAlgorithms...) {
		if a != "" && !slices.Contains(known, a) {
			problems = append(problems, fmt.Errorf("inter-worker algorithm %q: want one of %v", a, known))
		}
	}
	sig := cmp.Or(k.InterWorkerSignatureAlgorithm, rest.DefaultSignatureAlgorithm)
	if len(k.InterWorkerVerificationAlgorithms) > 0 && !slices.Contains(k.InterWorkerVerificationAlgorithms, sig) {
		problems = append(problems, fmt.Errorf("%s must include %s %s", env.Var(k, &k.InterWorkerVerificationAlgorithms),
			env.Var(k, &k.InterWorkerSignatureAlgorithm), sig))
	}
	if k.InterWorkerKeySize != 0 && (k.InterWorkerKeySize < 128 || k.InterWorkerKeySize%8 != 0) {
		problems = append(problems, fmt.Errorf("%s %d: want a multiple of 8, at least 128", env.Var(k, &k.InterWorkerKeySize), k.InterWorkerKeySize))
	}
	if k.InterWorkerKeyTTL < 0 {
		problems = append(problems, fmt.Errorf("%s must be positive", env.Var(k, &k.InterWorkerKeyTTL)))
	}
	return problems
}

// AdminMode is where the /admin/* endpoints are served, from
// AdminListeners.
func (r *RestSecurity) AdminMode() rest.AdminMode {
	switch {
	case !r.AdminListenersSet:
		return rest.AdminOnMain
	case len(r.AdminListeners) == 0:
		return rest.AdminDisabled
	}
	return rest.AdminSeparate
}

// DefaultMaxTasks is SLUICE_MAX_TASKS's default.
const DefaultMaxTasks = 1000

// WriteTimeoutBound is the longest pull poll the REST listener's write
// timeout leaves room for.
const WriteTimeoutBound = rest.WriteTimeout - rest.DefaultForwardTimeout

// DefaultMaxConnectors is SLUICE_MAX_CONNECTORS's default.
const DefaultMaxConnectors = 10000

// MaxLeaseTimeout bounds SLUICE_LEASE_TIMEOUT: the lease log's topic keeps
// every record from compaction for twice as long (minCompactionLag), so
// that a deposed leader's late write cannot compact away a lease record
// before its deadline.
const MaxLeaseTimeout = minCompactionLag / 2

// Validate checks the configuration once, naming every bad variable.
func (c *Config) Validate() error {
	var problems []error
	positive := func(field any, ok bool) {
		if !ok {
			problems = append(problems, fmt.Errorf("%s must be positive", env.Var(c, field)))
		}
	}
	if c.LeaseTimeout <= 2*c.SafetyMargin {
		problems = append(problems, fmt.Errorf("%s %s must be more than twice %s %s",
			env.Var(c, &c.LeaseTimeout), c.LeaseTimeout, env.Var(c, &c.SafetyMargin), c.SafetyMargin))
	}
	if c.LeaseTimeout > MaxLeaseTimeout {
		problems = append(problems, fmt.Errorf("%s %s must be at most %s (the lease log keeps a record from compaction for %s, far beyond its lease's deadline)",
			env.Var(c, &c.LeaseTimeout), c.LeaseTimeout, MaxLeaseTimeout, minCompactionLag))
	}
	positive(&c.LeaseMaxTime, c.LeaseMaxTime > 0)
	positive(&c.SinkPollInterval, c.SinkPollInterval > 0)
	positive(&c.SinkMaxRecords, c.SinkMaxRecords > 0)
	problems = append(problems, c.OffsetStorage.Problems()...)
	problems = append(problems, c.ExactlyOnce.Problems()...)
	positive(&c.ReconcileInterval, c.ReconcileInterval > 0)
	if c.MaxTasks < 0 {
		problems = append(problems, fmt.Errorf("%s must not be negative", env.Var(c, &c.MaxTasks)))
	}
	if c.RestMaxConnections < 0 {
		problems = append(problems, fmt.Errorf("%s must not be negative", env.Var(c, &c.RestMaxConnections)))
	}
	for _, l := range c.AdminListeners {
		if strings.HasPrefix(strings.ToLower(l), "https://") && c.RestTLSCertFile == "" {
			problems = append(problems, fmt.Errorf("%s %s needs %s", env.Var(c, &c.AdminListeners), l, env.Var(c, &c.RestTLSCertFile)))
		}
	}
	if c.PullMaxWait < 0 || c.PullMaxWait > WriteTimeoutBound {
		problems = append(problems, fmt.Errorf("%s %s must be between 0 and %s", env.Var(c, &c.PullMaxWait), c.PullMaxWait, WriteTimeoutBound))
	}
	problems = append(problems, c.InterWorkerKey.Problems()...)
	problems = append(problems, c.WorkerAuth.Problems()...)
	if c.MaxConnectors < 0 {
		problems = append(problems, fmt.Errorf("%s must not be negative", env.Var(c, &c.MaxConnectors)))
	}
	if (c.RestTLSCertFile == "") != (c.RestTLSKeyFile == "") {
		problems = append(problems, fmt.Errorf("%s and %s go together", env.Var(c, &c.RestTLSCertFile), env.Var(c, &c.RestTLSKeyFile)))
	}
	if (c.RestBasicAuthFile != "" || c.RestBearerTokensFile != "") && c.Invoker == "pull" && !c.WorkerAuth.Set() {
		problems = append(problems, fmt.Errorf("REST authentication with %s=pull needs %s or %s: the workers authenticate with it",
			env.Var(c, &c.Invoker), env.Var(c, &c.WorkerSecretFile), env.Var(c, &c.WorkerSecretARN)))
	}
	if c.RestTLSClientCAFile != "" && c.RestTLSCertFile == "" {
		problems = append(problems, fmt.Errorf("%s needs %s", env.Var(c, &c.RestTLSClientCAFile), env.Var(c, &c.RestTLSCertFile)))
	}
	switch c.Invoker {
	case "inprocess", "pull":
	case "lambda":
		if c.LambdaSourceFunction == "" && c.LambdaSinkFunction == "" {
			problems = append(problems, fmt.Errorf("%s=lambda needs %s and/or %s",
				env.Var(c, &c.Invoker), env.Var(c, &c.LambdaSourceFunction), env.Var(c, &c.LambdaSinkFunction)))
		}
	default:
		problems = append(problems, fmt.Errorf("%s %q: want inprocess, lambda or pull", env.Var(c, &c.Invoker), c.Invoker))
	}
	if c.TaskRetries < 0 {
		problems = append(problems, fmt.Errorf("%s must not be negative", env.Var(c, &c.TaskRetries)))
	}
	if _, err := c.Level(); err != nil {
		problems = append(problems, err)
	}
	problems = append(problems, c.Cost.problems()...)
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(problems...))
	}
	return nil
}

// Level is the log level LogLevel names: debug, info, warn or error, or
// another log4j level (rest.ParseLevel); empty is info, the default.
func (c *Config) Level() (slog.Level, error) {
	if c.LogLevel == "" {
		return slog.LevelInfo, nil
	}
	level, ok := rest.ParseLevel(c.LogLevel)
	if !ok {
		return level, fmt.Errorf("%s %q: want debug, info, warn or error (or another log4j level)", env.Var(c, &c.LogLevel), c.LogLevel)
	}
	return level, nil
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
