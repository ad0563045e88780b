// Package runner is what the function binaries share: process
// configuration, the Kafka client, the offsets store and the lease executor,
// and the choice, made once at start-up, between serving AWS Lambda
// invocations and running as a long-lived worker that pulls leases from the
// coordinator.
package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins/optional"
)

// RuntimeAPIEnv is set by AWS Lambda to the Runtime API's host:port; its
// presence selects Lambda mode.
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// Function describes a function binary.
type Function struct {
	// Name is the binary's name, in --help and logs.
	Name string
	// Kind is the lease kind it runs.
	Kind lease.Kind
	// Plugins lists the plugins the function runs (pkg/plugins/sources or
	// pkg/plugins/sinks): a binary links only its side's libraries.
	Plugins func() []connect.Plugin
	// Events handles Lambda payloads that are not leases; nil rejects them.
	Events EventHandler
	// Config optionally points to the function's own envconfig struct
	// (variables of Events, say). It is read with the SLUICE_ prefix at
	// start-up, before anything connects, and listed in --help.
	Config any
}

// Deps are what a running function holds for all its leases and events.
// They are safe for concurrent use.
type Deps struct {
	Config   Config
	Plugins  *connect.Registry
	Kafka    *kafka.Client
	Offsets  *state.OffsetStore
	Executor *lease.Executor
	Logger   *slog.Logger
}

// mode is how the process runs, chosen once at start-up.
type mode int

const (
	modeLambda mode = iota // one lease or event per Lambda invocation
	modeWorker             // pull leases from the coordinator until SIGTERM
)

func (m mode) String() string {
	if m == modeLambda {
		return "lambda"
	}
	return "worker"
}

const usage = `Usage: %[1]s [--help]

Runs Sluice %[2]s leases. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it
serves one lease per invocation. Otherwise it is a long-lived worker: it
pulls leases from the coordinator (SLUICE_COORDINATOR_URL), runs them and
reports their results; on SIGTERM it finishes and commits the lease in hand,
reports it and exits 0.

Environment:
`

// Main runs a function binary: it handles --help, reads the configuration,
// chooses the mode, connects to Kafka and then either serves Lambda
// invocations (it never returns then) or runs the worker until SIGTERM or
// SIGINT (it returns nil after a clean stop). out receives --help.
func Main(fn Function, args []string, out io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet(fn.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, usage, fn.Name, fn.Kind)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		_ = env.Usage(tw, env.Prefix, &cfg)
		if fn.Config != nil {
			_ = env.Usage(tw, env.Prefix, fn.Config)
		}
		tw.Flush()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; the configuration comes from the environment (see --help)", fs.Args())
	}
	// The mode is chosen before lambda.Start, which never returns and exits
	// the process when AWS_LAMBDA_RUNTIME_API is unset.
	m, api := modeWorker, os.Getenv(RuntimeAPIEnv)
	if api != "" {
		m = modeLambda
	}
	deps, err := setUp(fn, &cfg, m)
	if err != nil {
		if m == modeLambda {
			reportInitError(api, err)
		}
		return err
	}
	if m == modeWorker {
		return runWorker(fn, deps)
	}
	// SIGTERM (sent before Lambda shuts the environment down) cancels the
	// invocations' base context: a lease in hand wraps up and commits, and
	// its result is posted, before the SIGKILL that follows.
	base, stop := context.WithCancel(context.Background())
	h := &Handler{Kind: fn.Kind, Deps: deps, Events: fn.Events}
	deps.Logger.Info("serving Lambda invocations", "runtime_api", api)
	lambda.StartWithOptions(h, lambda.WithContext(base), lambda.WithEnableSIGTERM(stop))
	return nil // not reached: lambda.StartWithOptions does not return
}

// setUp reads and validates the configuration and connects to Kafka.
func setUp(fn Function, cfg *Config, m mode) (Deps, error) {
	if err := envconfig.Process(env.Prefix, cfg); err != nil {
		return Deps{}, err
	}
	if fn.Config != nil {
		if err := envconfig.Process(env.Prefix, fn.Config); err != nil {
			return Deps{}, err
		}
	}
	if err := cfg.validate(m); err != nil {
		return Deps{}, err
	}
	// No default roots: a function's FileStream connectors and local sink
	// use only the directories SLUICE_ALLOWED_PATHS names.
	if err := cfg.FileAccess.Apply(); err != nil {
		return Deps{}, err
	}
	level, err := cfg.level()
	if err != nil {
		return Deps{}, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("function", fn.Name, "mode", m.String())

	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	client, err := kafka.Dial(ctx, kafka.Config{Brokers: cfg.BootstrapServers, ClientID: "sluice-" + fn.Name, Security: cfg.Settings()})
	if err != nil {
		return Deps{}, fmt.Errorf("connecting to Kafka at %v: %w", cfg.BootstrapServers, err)
	}
	store, err := state.NewOffsetStore(ctx, client, cfg.OffsetStorage.Topic())
	if err != nil {
		client.Close()
		return Deps{}, fmt.Errorf("opening the offsets topic %s: %w", cfg.OffsetStorageTopic, err)
	}
	if fn.Plugins == nil {
		store.Close()
		client.Close()
		return Deps{}, fmt.Errorf("%s: no plugins", fn.Name)
	}
	opts := lease.Options{SafetyMargin: cfg.SafetyMargin, Logger: log, DisableTopicCreation: !cfg.TopicCreationEnable,
		OpenOffsets: state.OffsetStoreOpener(client, cfg.ReplicationFactor)}
	providerProps, err := cfg.providerProperties()
	if err == nil && providerProps["config.providers"] != "" {
		var resolver *configprovider.Resolver
		if resolver, err = configprovider.NewResolver(providerProps); err == nil {
			opts.Resolver = resolver // lives as long as the process
		}
	}
	if err != nil {
		store.Close()
		client.Close()
		return Deps{}, err
	}
	registry, err := connect.NewRegistry(fn.Plugins()...)
	if err != nil {
		store.Close()
		client.Close()
		return Deps{}, err
	}
	if left := optional.Excluded(); len(left) > 0 {
		// A lease for a connector of these families fails as an unknown
		// class; say why once, where the operator looks.
		log.Info("this build leaves out plugin families; name them in LAMBDA_PLUGINS to build them in",
			"families", strings.Join(left, ","))
	}
	return Deps{
		Config:   *cfg,
		Plugins:  registry,
		Kafka:    client,
		Offsets:  store,
		Executor: lease.NewExecutor(registry, client, store, opts),
		Logger:   log,
	}, nil
}

// close releases what setUp opened.
func (d Deps) close() {
	d.Offsets.Close()
	d.Kafka.Close()
}

// reportInitError tells the Lambda Runtime API why the function could not
// start (POST /2018-06-01/runtime/init/error), so that the invocation fails
// with the reason rather than only "Runtime exited". aws-lambda-go has no
// call for this; the process exits non-zero afterwards either way.
func reportInitError(api string, err error) {
	body, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "Sluice.InitError"})
	req, rerr := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Sluice.InitError")
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, rerr := c.Do(req); rerr == nil {
		resp.Body.Close()
	}
}

// signals returns a context cancelled by SIGTERM or SIGINT.
func signals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}
