// Package runner is what the function binaries share: process
// configuration, the Kafka client, the offsets store and the lease executor,
// and the choice between running under Lambda and running as a long-lived
// worker.
package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// Config is a function's process configuration (SLUICE_* variables).
type Config struct {
	BootstrapServers   []string      `envconfig:"BOOTSTRAP_SERVERS" required:"true" desc:"Kafka bootstrap servers (host:port,...)"`
	OffsetStorageTopic string        `envconfig:"OFFSET_STORAGE_TOPIC" default:"connect-offsets" desc:"source offsets topic (Connect's offset.storage.topic)"`
	SafetyMargin       time.Duration `envconfig:"SAFETY_MARGIN" default:"2s" desc:"no write or commit starts within this margin of the lease deadline"`
	LogLevel           string        `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
}

// Main runs a function binary: it parses --help, reads the configuration
// and either serves Lambda invocations (AWS_LAMBDA_RUNTIME_API set) or fails
// clearly, since the long-lived worker mode needs the coordinator's HTTP
// lease API. kind is the lease kind the binary accepts.
func Main(name string, kind lease.Kind, args []string, out io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\nRuns Sluice %s leases: one lease per Lambda invocation under AWS Lambda.\n\nEnvironment:\n", name, kind)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		_ = envconfig.Usagef("sluice", &cfg, tw, "  {{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}")
		tw.Flush()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := envconfig.Process("sluice", &cfg); err != nil {
		return err
	}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return errors.New("not running under AWS Lambda (AWS_LAMBDA_RUNTIME_API is unset); " +
			"the long-lived worker mode pulls leases from the coordinator's HTTP lease API, which this build does not have yet")
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	client, err := kafka.Dial(ctx, kafka.Config{Brokers: cfg.BootstrapServers, ClientID: "sluice-" + name})
	if err != nil {
		cancel()
		return err
	}
	store, err := kafka.NewOffsetStore(ctx, client, kafka.TopicSpec{Name: cfg.OffsetStorageTopic})
	cancel()
	if err != nil {
		return err
	}
	exec := lease.NewExecutor(plugins.Registry(), client, store, lease.Options{SafetyMargin: cfg.SafetyMargin, Logger: log})
	h := Handler{Kind: kind, Executor: exec}
	lambda.StartWithOptions(h.Handle, lambda.WithEnableSIGTERM(func() {
		store.Close()
		client.Close()
	}))
	return nil // not reached: lambda.StartWithOptions does not return
}

// Handler runs one lease per invocation.
type Handler struct {
	Kind     lease.Kind
	Executor *lease.Executor
}

// Handle runs the lease. A lease of the wrong kind is an error (Lambda's
// error shape); a lease that ran and failed is a result with status failed,
// so that the coordinator sees its trace.
func (h Handler) Handle(ctx context.Context, l lease.Lease) (lease.Result, error) {
	if l.Kind != h.Kind {
		return lease.Result{}, fmt.Errorf("%w: this function runs %s leases, got %q", lease.ErrBadLease, h.Kind, l.Kind)
	}
	return h.Executor.Run(ctx, l), nil
}
