package runner

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/properties"
)

// Config is a function binary's process configuration, read from SLUICE_*
// environment variables (see --help). Connector settings never come from
// here: they travel in each lease.
type Config struct {
	// Kafka is how the function reaches Kafka (SLUICE_BOOTSTRAP_SERVERS,
	// required here, and the security settings).
	env.Kafka
	// OffsetStorage applies when this process is the first to create the
	// offsets topic; it matches the coordinator's.
	env.OffsetStorage
	// Executor's SafetyMargin is kept free before a lease's deadline, which
	// is the lease's own or, under Lambda, the invocation's when that is
	// earlier; its WorkerProperties, with ConfigProviders, declare the
	// config providers; TopicCreationEnable lets source leases create
	// their topics.
	env.Executor
	// DialTimeout bounds connecting to Kafka at start-up (Lambda's init
	// phase lasts at most 10 s).
	DialTimeout time.Duration `envconfig:"DIAL_TIMEOUT" default:"8s" desc:"how long start-up may take to connect to Kafka"`
	// CoordinatorURL is where a long-lived worker pulls leases from.
	CoordinatorURL string `envconfig:"COORDINATOR_URL" desc:"worker mode (AWS_LAMBDA_RUNTIME_API unset): the coordinator's REST URL to pull leases from, e.g. http://coordinator:8083"`
	// WorkerID names the worker to the coordinator; default host-pid.
	WorkerID string `envconfig:"WORKER_ID" desc:"worker mode: this worker's id in the coordinator's logs (default <hostname>-<pid>)"`
	// PollWait is how long one poll for a lease waits at the coordinator.
	PollWait time.Duration `envconfig:"POLL_WAIT" default:"20s" desc:"worker mode: how long one poll for a lease waits at the coordinator (capped by the coordinator)"`
	// CoordinatorTLSCAFile, CoordinatorTLSCertFile and
	// CoordinatorTLSKeyFile are how a worker reaches a coordinator serving
	// HTTPS: the CAs that signed its certificate, and the worker's own
	// certificate when the coordinator requires one (mTLS).
	CoordinatorTLSCAFile   string `envconfig:"COORDINATOR_TLS_CA_FILE" desc:"worker mode: PEM CA certificates that signed the coordinator's HTTPS certificate (default: the system's)"`
	CoordinatorTLSCertFile string `envconfig:"COORDINATOR_TLS_CERT_FILE" desc:"worker mode: PEM client certificate for a coordinator that requires one (its SLUICE_REST_TLS_CLIENT_CA_FILE, mTLS), with SLUICE_COORDINATOR_TLS_KEY_FILE"`
	CoordinatorTLSKeyFile  string `envconfig:"COORDINATOR_TLS_KEY_FILE" desc:"worker mode: PEM private key of SLUICE_COORDINATOR_TLS_CERT_FILE"`
	// Concurrency is how many leases a worker runs at once.
	Concurrency int `envconfig:"CONCURRENCY" default:"1" desc:"worker mode: leases run at the same time"`
	// ConfigProviders are config.providers settings inline, separated by
	// ";" or newlines (convenient in a Lambda environment), over those of
	// WorkerProperties.
	ConfigProviders string `envconfig:"CONFIG_PROVIDERS" desc:"config.providers settings inline, e.g. config.providers=sm;config.providers.sm.class=io.sluice.config.provider.SecretsManagerConfigProvider (optional)"`
	// FileAccess is where connectors may read and write local files.
	env.FileAccess
	// WorkerAuth is the secret a worker sends the coordinator.
	env.WorkerAuth
	env.Logging
}

// providerProperties merges the config provider settings of
// WorkerProperties and ConfigProviders (inline wins).
func (c *Config) providerProperties() (map[string]string, error) {
	props := map[string]string{}
	if c.WorkerProperties != "" {
		file, err := properties.LoadFile(c.WorkerProperties)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Var(c, &c.WorkerProperties), err)
		}
		maps.Copy(props, file)
	}
	if c.ConfigProviders != "" {
		inline, err := properties.Load(strings.NewReader(strings.ReplaceAll(c.ConfigProviders, ";", "\n")))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Var(c, &c.ConfigProviders), err)
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
		problems = append(problems, fmt.Errorf("%s is required: the Kafka brokers (host:port,...)", env.Var(c, &c.BootstrapServers)))
	}
	if c.SafetyMargin <= 0 {
		problems = append(problems, fmt.Errorf("%s %s must be positive", env.Var(c, &c.SafetyMargin), c.SafetyMargin))
	}
	if c.DialTimeout <= 0 {
		problems = append(problems, fmt.Errorf("%s %s must be positive", env.Var(c, &c.DialTimeout), c.DialTimeout))
	}
	problems = append(problems, c.OffsetStorage.Problems()...)
	problems = append(problems, c.WorkerAuth.Problems()...)
	if _, err := c.level(); err != nil {
		problems = append(problems, err)
	}
	if m == modeWorker {
		if c.CoordinatorURL == "" {
			problems = append(problems, fmt.Errorf("%s is required outside AWS Lambda (AWS_LAMBDA_RUNTIME_API is unset): "+
				"a long-lived worker pulls its leases from the coordinator", env.Var(c, &c.CoordinatorURL)))
		}
		if c.PollWait <= 0 {
			problems = append(problems, fmt.Errorf("%s %s must be positive", env.Var(c, &c.PollWait), c.PollWait))
		}
		if c.Concurrency < 1 {
			problems = append(problems, fmt.Errorf("%s %d must be at least 1", env.Var(c, &c.Concurrency), c.Concurrency))
		}
		if (c.CoordinatorTLSCertFile == "") != (c.CoordinatorTLSKeyFile == "") {
			problems = append(problems, fmt.Errorf("%s and %s go together", env.Var(c, &c.CoordinatorTLSCertFile), env.Var(c, &c.CoordinatorTLSKeyFile)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(problems...))
	}
	return nil
}

// coordinatorClient is the HTTP client a worker polls the coordinator
// with: a timeout past the long poll, and the coordinator TLS settings
// (TLS 1.2 or later) when any is set.
func (c *Config) coordinatorClient() (*http.Client, error) {
	client := &http.Client{Timeout: c.PollWait + 30*time.Second}
	if c.CoordinatorTLSCAFile == "" && c.CoordinatorTLSCertFile == "" {
		return client, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CoordinatorTLSCAFile != "" {
		b, err := os.ReadFile(c.CoordinatorTLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Var(c, &c.CoordinatorTLSCAFile), err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", env.Var(c, &c.CoordinatorTLSCAFile), c.CoordinatorTLSCAFile)
		}
	}
	if c.CoordinatorTLSCertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.CoordinatorTLSCertFile, c.CoordinatorTLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Var(c, &c.CoordinatorTLSCertFile), err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	client.Transport = t
	return client, nil
}

// level is the log level LogLevel names.
func (c *Config) level() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return level, fmt.Errorf("%s %q: want debug, info, warn or error", env.Var(c, &c.LogLevel), c.LogLevel)
	}
	return level, nil
}
