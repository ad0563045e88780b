package coordinator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/coordinator/rest"
)

// Validate names every bad variable, as the environment spells it, in one
// error.
func TestConfigValidateNamesEveryVariable(t *testing.T) {
	tests := []struct {
		name string
		edit func(*coordinator.Config)
		want []string
	}{
		{name: "valid", edit: func(*coordinator.Config) {}},
		{name: "lease timeout and margin", edit: func(c *coordinator.Config) { c.LeaseTimeout = c.SafetyMargin },
			want: []string{"SLUICE_LEASE_TIMEOUT 500ms must be more than twice SLUICE_SAFETY_MARGIN 500ms"}},
		{name: "lease timeout beyond the lease log's compaction lag", edit: func(c *coordinator.Config) { c.LeaseTimeout = 2 * time.Hour },
			want: []string{"SLUICE_LEASE_TIMEOUT 2h0m0s must be at most 30m0s"}},
		{name: "several at once", edit: func(c *coordinator.Config) {
			c.LeaseMaxTime, c.SinkMaxRecords, c.OffsetStoragePartitions, c.TaskRetries, c.LogLevel = 0, 0, 0, -1, "loud"
		}, want: []string{"SLUICE_LEASE_MAX_TIME must be positive", "SLUICE_SINK_MAX_RECORDS must be positive",
			"SLUICE_OFFSET_STORAGE_PARTITIONS 0 must be positive", "SLUICE_TASK_RETRIES must not be negative", `SLUICE_LOG_LEVEL "loud"`}},
		{name: "lambda without functions", edit: func(c *coordinator.Config) { c.Invoker = "lambda" },
			want: []string{"SLUICE_INVOKER=lambda needs SLUICE_LAMBDA_SOURCE_FUNCTION and/or SLUICE_LAMBDA_SINK_FUNCTION"}},
		{name: "limits and REST security", edit: func(c *coordinator.Config) {
			c.MaxTasks, c.RestTLSCertFile, c.Invoker, c.RestBasicAuthFile = -1, "cert.pem", "pull", "users.properties"
		}, want: []string{"SLUICE_MAX_TASKS must not be negative", "SLUICE_REST_TLS_CERT_FILE and SLUICE_REST_TLS_KEY_FILE go together",
			"REST authentication with SLUICE_INVOKER=pull needs SLUICE_WORKER_SECRET_FILE or SLUICE_WORKER_SECRET_ARN"}},
		{name: "caps, admin listener and inter-worker key", edit: func(c *coordinator.Config) {
			c.MaxConnectors, c.RestMaxConnections, c.AdminListeners = -1, -1, []string{"https://127.0.0.1:8084"}
			c.InterWorkerSignatureAlgorithm, c.InterWorkerVerificationAlgorithms = "HmacSHA512", []string{"HmacSHA256"}
			c.InterWorkerKeyGenerationAlgorithm, c.InterWorkerKeySize = "HmacMD5", 100
		}, want: []string{"SLUICE_MAX_CONNECTORS must not be negative", "SLUICE_REST_MAX_CONNECTIONS must not be negative",
			"SLUICE_ADMIN_LISTENERS https://127.0.0.1:8084 needs SLUICE_REST_TLS_CERT_FILE", `inter-worker algorithm "HmacMD5"`,
			"SLUICE_INTER_WORKER_VERIFICATION_ALGORITHMS must include SLUICE_INTER_WORKER_SIGNATURE_ALGORITHM HmacSHA512",
			"SLUICE_INTER_WORKER_KEY_SIZE 100: want a multiple of 8, at least 128"}},
		{name: "worker secret from a file and Secrets Manager", edit: func(c *coordinator.Config) {
			c.WorkerSecretFile, c.WorkerSecretARN = "secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:w-AbCdEf"
		}, want: []string{"set one of SLUICE_WORKER_SECRET_FILE and SLUICE_WORKER_SECRET_ARN, not both"}},
		{name: "worker secret key without ARN", edit: func(c *coordinator.Config) { c.WorkerSecretKey = "secret" },
			want: []string{"SLUICE_WORKER_SECRET_KEY and SLUICE_WORKER_SECRET_ENDPOINT need SLUICE_WORKER_SECRET_ARN"}},
		{name: "REST authentication with a worker secret from Secrets Manager", edit: func(c *coordinator.Config) {
			c.Invoker, c.RestBasicAuthFile, c.WorkerSecretARN = "pull", "users.properties", "sluice/worker"
		}},
		{name: "unknown invoker", edit: func(c *coordinator.Config) { c.Invoker = "carrier-pigeon" },
			want: []string{`SLUICE_INVOKER "carrier-pigeon": want inprocess, lambda or pull`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			if !strings.HasPrefix(err.Error(), "invalid configuration: ") {
				t.Errorf("error %q does not start with invalid configuration", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if lines := strings.Count(err.Error(), "\n") + 1; lines != len(tt.want) {
				t.Errorf("%d problems reported, want %d:\n%s", lines, len(tt.want), err)
			}
		})
	}
}

// The REST listener's timeouts outlast a pull worker's long poll, at its
// default and at the longest SLUICE_PULL_MAX_WAIT that Validate accepts:
// the write timeout leaves room for a forwarded write besides, and the
// idle timeout does not close a worker's connection between polls.
func TestListenerTimeoutsOutlastThePullLongPoll(t *testing.T) {
	if rest.WriteTimeout < invoke.DefaultMaxWait+rest.DefaultForwardTimeout {
		t.Errorf("write timeout %s does not outlast the long poll %s and a forwarded write %s", rest.WriteTimeout, invoke.DefaultMaxWait, rest.DefaultForwardTimeout)
	}
	if coordinator.WriteTimeoutBound < invoke.DefaultMaxWait || coordinator.WriteTimeoutBound >= rest.WriteTimeout {
		t.Errorf("WriteTimeoutBound %s: want between the default long poll %s and the write timeout %s", coordinator.WriteTimeoutBound, invoke.DefaultMaxWait, rest.WriteTimeout)
	}
	if rest.IdleTimeout <= invoke.DefaultMaxWait || rest.ReadTimeout <= invoke.DefaultMaxWait {
		t.Errorf("idle timeout %s or read timeout %s not longer than the long poll %s", rest.IdleTimeout, rest.ReadTimeout, invoke.DefaultMaxWait)
	}
	cfg := testConfig()
	cfg.Invoker, cfg.PullMaxWait = "pull", coordinator.WriteTimeoutBound
	if err := cfg.Validate(); err != nil {
		t.Errorf("SLUICE_PULL_MAX_WAIT at the bound: %v", err)
	}
	cfg.PullMaxWait = coordinator.WriteTimeoutBound + time.Second
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "SLUICE_PULL_MAX_WAIT") {
		t.Errorf("SLUICE_PULL_MAX_WAIT past the write timeout: Validate() = %v", err)
	}
	var defaults coordinator.Config
	if err := envconfig.Process("sluice_test_unset", &defaults); err != nil {
		t.Fatal(err)
	}
	if defaults.PullMaxWait != invoke.DefaultMaxWait {
		t.Errorf("SLUICE_PULL_MAX_WAIT defaults to %s, the pull invoker to %s", defaults.PullMaxWait, invoke.DefaultMaxWait)
	}
}
