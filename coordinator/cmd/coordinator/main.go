// Command coordinator runs Sluice's coordinator.
//
//	coordinator [connector.properties | connector.json ...]
//	coordinator standalone worker.properties [connector.properties ...]
//
// The first form is distributed mode: state in Kafka's configs, status and
// offsets topics, the Kafka Connect REST API on :8083, and, with several
// coordinators sharing SLUICE_GROUP_ID, one elected leader. With
// SLUICE_BOOTSTRAP_SERVERS unset it is dev mode: an embedded Kafka-protocol
// broker on 127.0.0.1:9092. The second form is Kafka Connect's standalone
// mode: connectors from files, offsets in offset.storage.file.filename.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/coordinator/invoke/awslambda"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/plugins"
	"github.com/sluicehq/sluice/pkg/properties"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usageHeader = `Usage:
  coordinator [connector.properties | connector.json ...]
  coordinator standalone worker.properties [connector.properties ...]

Runs the Sluice coordinator: the Kafka Connect REST API (SLUICE_REST_LISTENER,
default :8083), connector lifecycle and lease scheduling. Connector files are
Kafka Connect properties files or JSON ({"name": ..., "config": {...}}).

Distributed mode keeps its state in Kafka (configs, status and offsets
topics); coordinators sharing SLUICE_GROUP_ID elect one leader. With
SLUICE_BOOTSTRAP_SERVERS unset, an embedded Kafka-protocol broker starts on
SLUICE_EMBEDDED_KAFKA_ADDR (dev mode). Standalone mode reads a Connect
worker.properties (bootstrap.servers, offset.storage.file.filename,
listeners, key.converter, value.converter, config.providers).

Environment:
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coordinator:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	var cfg coordinator.Config
	fs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageHeader)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		_ = envconfig.Usagef("sluice", &cfg, tw, "  {{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}")
		tw.Flush()
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	healthCheck := fs.Bool("health-check", false, "check GET /health on this host's REST listener and exit 0 if healthy, 1 if not (container health checks)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := envconfig.Process("sluice", &cfg); err != nil {
		return err
	}
	if *healthCheck {
		return checkHealth(cfg.RestListener)
	}
	files := fs.Args()
	var worker map[string]string
	standalone := len(files) > 0 && files[0] == "standalone"
	if standalone {
		if len(files) < 2 {
			return errors.New("standalone mode needs a worker.properties file: coordinator standalone worker.properties [connector.properties ...]")
		}
		var err error
		if worker, err = properties.LoadFile(files[1]); err != nil {
			return err
		}
		applyWorkerProperties(&cfg, worker)
		files = files[2:]
	}
	if cfg.WorkerProperties != "" && worker == nil {
		var err error
		if worker, err = properties.LoadFile(cfg.WorkerProperties); err != nil {
			return err
		}
	}
	dev := len(cfg.BootstrapServers) == 0
	if _, set := os.LookupEnv("SLUICE_REST_LISTENER"); dev && !set && worker["listeners"] == "" {
		cfg.RestListener = "127.0.0.1:8083" // dev mode stays on loopback
	}
	if cfg.RestAdvertisedURL == "" {
		cfg.RestAdvertisedURL = advertisedURL(cfg.RestListener)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	level, ok := rest.ParseLevel(cfg.LogLevel)
	if !ok {
		return fmt.Errorf("invalid configuration: SLUICE_LOG_LEVEL %q: want debug, info, warn or error (or another log4j level)", cfg.LogLevel)
	}
	loggers := rest.NewLoggers(level)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: loggers.Leveler("root")}))
	slog.SetDefault(log)

	// Config providers come from a Connect worker.properties, as in Connect.
	var resolver *configprovider.Resolver
	if worker != nil {
		var err error
		if resolver, err = configprovider.NewResolver(worker); err != nil {
			return err
		}
		defer resolver.Close()
		cfg.ConfigProviders = resolver.Providers()
	}

	// Read and validate every connector file first: a mistake fails fast,
	// before any broker starts.
	registry := plugins.Registry()
	var connectors []map[string]string
	for _, path := range files {
		props, err := coordinator.LoadConnectorFile(path)
		if err != nil {
			return err
		}
		if standalone {
			inheritConverters(props, worker)
		}
		if _, infos, _ := coordinator.Validate(registry, cfg.ConfigProviders, props); infos.ErrorCount > 0 {
			return fmt.Errorf("%s: %w", path, connect.ConfigError(infos))
		}
		connectors = append(connectors, props)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	brokers := cfg.BootstrapServers
	if dev {
		dataDir, where := "", "in memory only"
		if cfg.DataDir != "" {
			dataDir = filepath.Join(cfg.DataDir, "kafka")
			where = "data in " + dataDir
		}
		b, err := devkafka.Start(devkafka.Options{Addr: cfg.EmbeddedKafkaAddr, DataDir: dataDir, Partitions: cfg.EmbeddedPartitions})
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs()
		fmt.Fprintf(out, "Embedded Kafka broker on %s (%s)\n", strings.Join(brokers, ","), where)
	}
	// Standalone mode reads security.protocol, sasl.* and PEM ssl.* from
	// the worker properties, as Connect does.
	var workerSecurity map[string]string
	if standalone {
		workerSecurity = worker
	}
	security, err := cfg.KafkaSecurity(workerSecurity)
	if err != nil {
		return err
	}
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	client, err := kafka.Dial(dialCtx, kafka.Config{Brokers: brokers, ClientID: "sluice-coordinator", Security: security})
	cancel()
	if err != nil {
		return err
	}
	defer client.Close()

	d := coordinator.Deps{Plugins: registry, Kafka: client, Logger: log}
	if standalone {
		d.Configs, d.Statuses, d.Leases = coordinator.NewMemoryConfigStore(), coordinator.NewMemoryStatusStore(), coordinator.NewMemoryLeaseLog()
		file := worker["offset.storage.file.filename"]
		if file == "" {
			return errors.New("standalone mode needs offset.storage.file.filename in the worker properties")
		}
		store, err := offsets.NewFile(file)
		if err != nil {
			return err
		}
		d.Offsets = store
	} else {
		store, err := kafka.NewOffsetStore(ctx, client, kafka.TopicSpec{
			Name: cfg.OffsetStorageTopic, Partitions: cfg.OffsetStoragePartitions, ReplicationFactor: cfg.ReplicationFactor})
		if err != nil {
			return err
		}
		defer store.Close()
		d.Offsets = store
		st, err := state.Open(ctx, client, state.Config{ConfigTopic: cfg.ConfigStorageTopic, StatusTopic: cfg.StatusStorageTopic,
			StatusPartitions: cfg.StatusStoragePartitions, ReplicationFactor: cfg.ReplicationFactor, Logger: log})
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Follow(ctx, cfg.ReconcileInterval); err != nil {
			return err
		}
		d.Configs, d.Statuses = st.Configs, st.Statuses
		leases, err := coordinator.OpenKafkaLeaseLog(ctx, client, cfg.LeaseStorageTopic, cfg.ReplicationFactor, log)
		if err != nil {
			return err
		}
		defer leases.Close()
		d.Leases = leases
		election, err := client.Campaign(ctx, kafka.ElectionOptions{Group: cfg.GroupID, Topic: cfg.GroupID + "-leader",
			URL: cfg.RestAdvertisedURL, SessionTimeout: cfg.ElectionSessionTimeout, Logger: log})
		if err != nil {
			return err
		}
		defer election.Close()
		d.Election = election
	}

	opts := lease.Options{SafetyMargin: cfg.SafetyMargin, Logger: log, DisableTopicCreation: !cfg.TopicCreationEnable}
	if resolver != nil {
		opts.Resolver = resolver
	}
	var pull *invoke.Pull
	switch cfg.Invoker {
	case "inprocess":
		d.Invoker = coordinator.InProcess{Executor: lease.NewExecutor(registry, client, d.Offsets, opts)}
	case "pull":
		pull = invoke.NewPull()
		d.Invoker = pull
	case "lambda":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("AWS configuration for the Lambda invoker: %w", err)
		}
		lc := lambda.NewFromConfig(awsCfg, func(o *lambda.Options) {
			if cfg.LambdaEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.LambdaEndpoint)
			}
		})
		d.Invoker = &awslambda.Lambda{Client: lc, SourceFunction: cfg.LambdaSourceFunction, SinkFunction: cfg.LambdaSinkFunction}
	}

	coord, err := coordinator.New(cfg, d)
	if err != nil {
		return err
	}
	srv, err := serve(cfg.RestListener, rest.NewHandler(coord, rest.Options{Version: version, Logger: log, Loggers: loggers}), coord.MetricsHandler(), pull)
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())
	fmt.Fprintf(out, "Kafka Connect REST API on %s (advertised as %s)\n", cfg.RestListener, cfg.RestAdvertisedURL)
	coord.Start()
	defer coord.Close()

	if len(connectors) > 0 {
		if !standalone {
			waitForLeadership(ctx, coord)
		}
		for _, props := range connectors {
			if err := coord.Add(props); err != nil {
				var nl *rest.NotLeaderError
				if errors.As(err, &nl) {
					fmt.Fprintf(out, "Connector %s: not created here, another coordinator leads (%s)\n", props["name"], nl.LeaderURL)
					continue
				}
				return fmt.Errorf("connector %q: %w", props["name"], err)
			}
			describe(out, props, brokers)
		}
	}
	fmt.Fprintln(out, "Running; press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping: finishing the leases in flight.")
	return nil
}

// checkHealth asks the REST listener of the coordinator running on this
// host for GET /health (for HEALTHCHECK in images without curl).
func checkHealth(listen string) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("SLUICE_REST_LISTENER %q: %w", listen, err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/health")
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET /health answered %s", resp.Status)
	}
	return nil
}

// waitForLeadership gives the election a moment so that a lone coordinator
// creates its connector files itself.
func waitForLeadership(ctx context.Context, c *coordinator.Coordinator) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, self := c.Leader(); self {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serve starts the REST listener; the Prometheus metrics (GET /metrics)
// and the pull invoker's worker endpoints (/sluice/v1/) share it.
func serve(addr string, api, metrics http.Handler, pull *invoke.Pull) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /metrics", metrics)
	if pull != nil {
		mux.Handle("/sluice/v1/", pull)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("REST listener: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// advertisedURL derives the URL other nodes use from the listen address.
func advertisedURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// applyWorkerProperties maps the Connect worker properties Sluice honours
// onto its configuration (standalone mode).
func applyWorkerProperties(cfg *coordinator.Config, w map[string]string) {
	if v := w["bootstrap.servers"]; v != "" {
		cfg.BootstrapServers = strings.Split(v, ",")
	}
	if v := w["listeners"]; v != "" {
		first := strings.TrimSpace(strings.Split(v, ",")[0])
		cfg.RestListener = strings.TrimPrefix(strings.TrimPrefix(first, "http://"), "HTTP://")
	}
	if v := w["rest.advertised.host.name"]; v != "" {
		port := w["rest.advertised.port"]
		if port == "" {
			_, port, _ = net.SplitHostPort(cfg.RestListener)
		}
		cfg.RestAdvertisedURL = "http://" + net.JoinHostPort(v, port)
	}
	for key, field := range map[string]*bool{"topic.tracking.enable": &cfg.TopicTrackingEnable,
		"topic.tracking.allow.reset": &cfg.TopicTrackingAllowReset, "topic.creation.enable": &cfg.TopicCreationEnable} {
		if b, err := strconv.ParseBool(strings.TrimSpace(w[key])); err == nil {
			*field = b
		}
	}
	if v := w["offset.flush.interval.ms"]; v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			cfg.LeaseMaxTime = time.Duration(ms) * time.Millisecond
		}
	}
}

// inheritConverters gives a connector the worker's converters where it sets
// none, as Connect's worker does.
func inheritConverters(props, w map[string]string) {
	for _, key := range []string{connect.KeyConverterConfig, connect.ValueConverterConfig, connect.HeaderConverterConfig} {
		if _, set := props[key]; set || w[key] == "" {
			continue
		}
		props[key] = w[key]
		for k, v := range w {
			if strings.HasPrefix(k, key+".") {
				if _, set := props[k]; !set {
					props[k] = v
				}
			}
		}
	}
}

// describe tells the user where a connector's data goes and how to look.
func describe(out io.Writer, props map[string]string, brokers []string) {
	name, class := props["name"], props["connector.class"]
	fmt.Fprintf(out, "Connector %s (%s)\n", name, class)
	if topic := firstNonEmpty(props["topic"], props["kafka.topic"]); topic != "" {
		fmt.Fprintf(out, "  writes to topic %s; look: kcat -b %s -t %s -C -o beginning -c 5 -e\n", topic, brokers[0], topic)
	}
	if topics := props["topics"]; topics != "" {
		fmt.Fprintf(out, "  reads topics %s (consumer group connect-%s)\n", topics, name)
	}
	if file := props["file"]; file != "" && strings.Contains(strings.ToLower(class), "sink") {
		fmt.Fprintf(out, "  writes to file %s; look: tail -f %s\n", file, file)
	}
	if dir := props["local.dir"]; dir != "" {
		fmt.Fprintf(out, "  writes Parquet files under %s; look: find %s -name '*.parquet'\n", dir, dir)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
