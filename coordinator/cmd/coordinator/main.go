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
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/console"
	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/coordinator/invoke/awslambda"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usageHeader = `Usage:
  coordinator [connector.properties | connector.json ...]
  coordinator standalone worker.properties [connector.properties ...]

Runs the Sluice coordinator: the Kafka Connect REST API (SLUICE_REST_LISTENER,
default :8083), connector lifecycle and lease scheduling, and on the same
listener the web console (/ui/), Prometheus metrics (/metrics) and the lease
history and cost (/sluice/v1/). Connector files are Kafka Connect properties
files or JSON ({"name": ..., "config": {...}}).

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

// run is the coordinator's life: read the settings and the connector
// files, dial Kafka, build the coordinator, and serve until SIGINT or
// SIGTERM.
func run(args []string, out io.Writer) error {
	s, err := parse(args, out)
	if err != nil || s == nil {
		return err // s is nil after --help
	}
	if s.healthCheck {
		return checkHealth(&s.cfg)
	}
	slog.SetDefault(s.log)
	resolver, err := s.configProviders()
	if err != nil {
		return err
	}
	if resolver != nil {
		defer resolver.Close()
	}
	registry := plugins.Registry()
	connectors, err := s.connectors(registry, resolver)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	k, err := dial(ctx, s, out)
	if err != nil {
		return err
	}
	defer k.Close()
	s.log.Debug("start-up step", "step", "kafka dialled")
	n, err := build(ctx, s, k.client, registry, resolver)
	if err != nil {
		return err
	}
	defer n.Close()
	return serve(ctx, s, n, connectors, k.brokers, out)
}

// cluster is the Kafka the coordinator works with: the cluster's, or the
// embedded broker in dev mode.
type cluster struct {
	client   *kafka.Client
	brokers  []string
	embedded *devkafka.Broker // nil outside dev mode
}

// Close disconnects, then stops the embedded broker.
func (k *cluster) Close() {
	k.client.Close()
	if k.embedded != nil {
		k.embedded.Close()
	}
}

// dialTimeout bounds connecting to Kafka at start-up.
const dialTimeout = 30 * time.Second

// dial starts the embedded broker in dev mode and connects to Kafka: with
// the SLUICE_SECURITY_*, SLUICE_SASL_* and SLUICE_SSL_* settings, or in
// standalone mode with the worker properties' security.protocol, sasl.*
// and PEM ssl.*, as Connect does.
func dial(ctx context.Context, s *setup, out io.Writer) (*cluster, error) {
	k := &cluster{brokers: s.cfg.BootstrapServers}
	if s.dev() {
		dataDir, where := "", "in memory only"
		if s.cfg.DataDir != "" {
			dataDir = filepath.Join(s.cfg.DataDir, "kafka")
			where = "data in " + dataDir
		}
		b, err := devkafka.Start(devkafka.Options{Addr: s.cfg.EmbeddedKafkaAddr, DataDir: dataDir, Partitions: s.cfg.EmbeddedPartitions})
		if err != nil {
			return nil, err
		}
		k.embedded, k.brokers = b, b.Addrs()
		fmt.Fprintf(out, "Embedded Kafka broker on %s (%s)\n", strings.Join(k.brokers, ","), where)
	}
	var workerSecurity map[string]string
	if s.standalone {
		workerSecurity = s.worker
	}
	security, err := s.cfg.KafkaSecurity(workerSecurity)
	if err == nil {
		dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
		k.client, err = kafka.Dial(dialCtx, kafka.Config{Brokers: k.brokers, ClientID: "sluice-coordinator", Security: security})
		cancel()
	}
	if err != nil {
		if k.embedded != nil {
			k.embedded.Close()
		}
		return nil, err
	}
	return k, nil
}

// node is a coordinator built with its stores, election and invoker; Close
// closes what build opened, in reverse order.
type node struct {
	coord   *coordinator.Coordinator
	pull    *invoke.Pull // the pull invoker, whose endpoints the REST listener serves; or nil
	closers []func() error
}

func (n *node) onClose(f func() error) { n.closers = append(n.closers, f) }

func (n *node) Close() {
	for _, f := range slices.Backward(n.closers) {
		_ = f()
	}
}

// build opens the coordinator's stores, chooses its invoker and makes the
// coordinator (not started yet).
func build(ctx context.Context, s *setup, client *kafka.Client, registry *connect.Registry, resolver *configprovider.Resolver) (*node, error) {
	n := &node{}
	d := coordinator.Deps{Plugins: registry, Kafka: client, Logger: s.log}
	if resolver != nil {
		d.Providers = resolver
	}
	var err error
	if s.standalone {
		err = n.openStandalone(&d, s.worker, s.cfg)
	} else {
		err = n.openDistributed(ctx, &d, s.cfg, client, s.log)
	}
	if err == nil {
		d.Invoker, n.pull, err = newInvoker(ctx, s, registry, client, d.Offsets, resolver)
	}
	if err == nil {
		n.coord, err = coordinator.New(s.cfg, d)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// openStandalone gives d Connect's standalone stores: configurations and
// statuses in memory, offsets in offset.storage.file.filename.
func (n *node) openStandalone(d *coordinator.Deps, worker map[string]string, cfg coordinator.Config) error {
	if cfg.ExactlyOnce.Enabled() {
		return errors.New("exactly-once source support needs the offsets in Kafka: SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT=enabled is for distributed mode, not standalone")
	}
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
	return nil
}

// openDistributed gives d the stores of distributed mode, kept in Kafka
// (the offsets, configs, status and lease topics), and its candidacy in
// the election of SLUICE_GROUP_ID's leader.
func (n *node) openDistributed(ctx context.Context, d *coordinator.Deps, cfg coordinator.Config, client *kafka.Client, log *slog.Logger) error {
	step := startupSteps(log)
	store, err := state.NewOffsetStore(ctx, client, cfg.OffsetStorage.Topic())
	if err != nil {
		return err
	}
	n.onClose(store.Close)
	d.Offsets = store
	step("offsets topic read")
	st, err := state.Open(ctx, client, state.Config{ConfigTopic: cfg.ConfigStorageTopic, StatusTopic: cfg.StatusStorageTopic,
		StatusPartitions: cfg.StatusStoragePartitions, ReplicationFactor: cfg.ReplicationFactor, Logger: log})
	if err != nil {
		return err
	}
	n.onClose(st.Close)
	if err := st.Follow(ctx, cfg.ReconcileInterval); err != nil {
		return err
	}
	d.Configs, d.Statuses = st.Configs, st.Statuses
	step("configs and status topics read")
	leases, err := coordinator.OpenKafkaLeaseLog(ctx, client, cfg.LeaseStorageTopic, cfg.ReplicationFactor, log)
	if err != nil {
		return err
	}
	n.onClose(leases.Close)
	d.Leases = leases
	step("lease topic read")
	election, err := client.Campaign(ctx, kafka.ElectionOptions{Group: cfg.GroupID, Topic: cfg.GroupID + "-leader",
		URL: cfg.RestAdvertisedURL, SessionTimeout: cfg.ElectionSessionTimeout, Logger: log})
	if err != nil {
		return err
	}
	n.onClose(election.Close)
	d.Election = election
	step("election joined")
	return nil
}

// startupSteps returns a function that logs (at debug level) each step of
// start-up with the time it took since the previous one.
func startupSteps(log *slog.Logger) func(step string) {
	last := time.Now()
	return func(step string) {
		now := time.Now()
		log.Debug("start-up step", "step", step, "took", now.Sub(last))
		last = now
	}
}

// newInvoker returns where leases run (SLUICE_INVOKER): in this process,
// pulled by workers over HTTP (also returned, for its endpoints), or in
// AWS Lambda functions.
func newInvoker(ctx context.Context, s *setup, registry *connect.Registry, client *kafka.Client, store offsets.Store, resolver *configprovider.Resolver) (coordinator.Invoker, *invoke.Pull, error) {
	switch s.cfg.Invoker {
	case "pull":
		pull := invoke.NewPull()
		secret, err := s.cfg.Secret(ctx)
		if err != nil {
			return nil, nil, err
		}
		if secret == "" {
			s.log.Warn("pull workers are not authenticated: set SLUICE_WORKER_SECRET_FILE or SLUICE_WORKER_SECRET_ARN (a lease carries its connector's configuration)")
		}
		pull.Secret = secret
		if s.cfg.PullMaxWait > 0 {
			pull.MaxWait = s.cfg.PullMaxWait
		}
		return pull, pull, nil
	case "lambda":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("AWS configuration for the Lambda invoker: %w", err)
		}
		return &awslambda.Lambda{Client: lambdaClient(awsCfg, s.cfg.LambdaEndpoint), SourceFunction: s.cfg.LambdaSourceFunction, SinkFunction: s.cfg.LambdaSinkFunction}, nil, nil
	}
	opts := lease.Options{SafetyMargin: s.cfg.SafetyMargin, Logger: s.log, DisableTopicCreation: !s.cfg.TopicCreationEnable,
		OpenOffsets: state.OffsetStoreOpener(client, s.cfg.ReplicationFactor)}
	if resolver != nil {
		opts.Resolver = resolver
	}
	return coordinator.InProcess{Executor: lease.NewExecutor(registry, client, store, opts)}, nil, nil
}

// serve serves the REST API, starts the coordinator, creates the
// connectors of the connector files and runs until ctx ends; then it lets
// the leases in flight finish.
func serve(ctx context.Context, s *setup, n *node, connectors []map[string]string, brokers []string, out io.Writer) error {
	opts := rest.Options{Version: version, Logger: s.log, Loggers: s.loggers, Admin: s.cfg.AdminMode(),
		Keys: n.coord, SignatureAlgorithm: s.cfg.InterWorkerSignatureAlgorithm}
	api := rest.NewHandler(n.coord, opts)
	auth, tlsConfig, err := restSecurity(&s.cfg)
	if err != nil {
		return err
	}
	// Forwarded requests are checked for their signature first: Auth lets
	// the signed ones through (the forwarding coordinator authorized its
	// caller).
	signed := func(h http.Handler) http.Handler {
		return rest.VerifyForwarded(n.coord, s.cfg.InterWorkerVerificationAlgorithms, opts.MaxBodyBytes, h)
	}
	srv, err := listen(s.cfg.RestListener, signed(auth.Wrap(restMux(api, n.coord.MetricsHandler()))), n.pull, tlsConfig, s.cfg.RestMaxConnections, s.log)
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())
	fmt.Fprintf(out, "Kafka Connect REST API on %s (advertised as %s)\n", s.cfg.RestListener, s.cfg.RestAdvertisedURL)
	admin := signed(auth.Wrap(rest.NewAdminHandler(n.coord, opts)))
	for _, l := range s.cfg.AdminListeners {
		addr, useTLS := listenerAddr(l)
		adminTLS := tlsConfig
		if !useTLS {
			adminTLS = nil
		}
		asrv, err := listen(addr, admin, nil, adminTLS, s.cfg.RestMaxConnections, s.log)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		defer asrv.Shutdown(context.Background())
		fmt.Fprintf(out, "Admin REST API (/admin/loggers) on %s\n", l)
	}
	fmt.Fprintf(out, "Console: open %s\n", consoleURL(s.cfg.RestListener, tlsConfig != nil))
	n.coord.Start()
	defer n.coord.Close()
	step := startupSteps(s.log)

	if len(connectors) > 0 && !s.standalone {
		waitForElection(ctx, n.coord)
		step("election settled")
	}
	for _, props := range connectors {
		if err := addFile(ctx, n.coord, props, brokers, out); err != nil {
			return err
		}
		step("connector file " + props[connect.NameConfig] + " created")
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintln(out, "Running; press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping: finishing the leases in flight.")
	return nil
}

// addFile creates a connector file's connector through whichever
// coordinator leads, and says where: here (then where its data goes),
// forwarded to the leader, or not at all because ctx ended first.
func addFile(ctx context.Context, c *coordinator.Coordinator, props map[string]string, brokers []string, out io.Writer) error {
	name := props[connect.NameConfig]
	leader, err := c.AddFile(ctx, props, func(reason error) {
		fmt.Fprintf(out, "Connector %s: waiting for a leader to create it (%v); retrying\n", name, reason)
	})
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(out, "Connector %s: not created: %v\n", name, err)
		return nil
	case err != nil:
		return fmt.Errorf("connector %q: %w", name, err)
	case leader != "":
		fmt.Fprintf(out, "Connector %s: forwarded to the leader %s, which created it\n", name, leader)
	}
	describe(out, props, brokers)
	return nil
}

// checkHealth asks the REST listener of the coordinator running on this
// host for GET /health (for HEALTHCHECK in images without curl).
func checkHealth(cfg *coordinator.Config) error {
	listen := cfg.RestListener
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("%s %q: %w", env.Var(cfg, &cfg.RestListener), listen, err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	scheme := "http"
	if cfg.RestTLSCertFile != "" {
		// This host's own listener on loopback: its certificate names the
		// advertised host, not 127.0.0.1.
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
	}
	resp, err := client.Get(scheme + "://" + net.JoinHostPort("127.0.0.1", port) + "/health")
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET /health answered %s", resp.Status)
	}
	return nil
}

// waitForElection gives the election a moment to settle, until this
// coordinator leads or knows the leader, so that a lone coordinator
// creates its connector files itself, without a notice that it waits.
func waitForElection(ctx context.Context, c *coordinator.Coordinator) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if url, self := c.Leader(); self || url != "" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricsRoute is the Prometheus metrics' route on the REST listener.
const metricsRoute = "GET /metrics"

// consoleRoutes are the web console's routes on the REST listener.
var consoleRoutes = []string{"GET " + console.Path, "GET /ui"}

// restMux serves the REST API, the Prometheus metrics (metricsRoute) and
// the web console (consoleRoutes).
func restMux(api, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle(metricsRoute, metrics)
	for _, r := range consoleRoutes {
		mux.Handle(r, console.Handler())
	}
	// Other methods on these paths get 405, as on the REST API's.
	for _, r := range append([]string{metricsRoute}, consoleRoutes...) {
		mux.HandleFunc(strings.TrimPrefix(r, "GET "), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			fmt.Fprint(w, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`)
		})
	}
	return mux
}

// mainRoutes are the routes the REST listener serves (see serve and
// listen) for the coordinator c (a typed nil pointer will do): the REST
// API's with opts, the metrics, the console, and with the pull invoker the
// workers' endpoints. The OpenAPI document lists the same.
func mainRoutes(c *coordinator.Coordinator, opts rest.Options, pull bool) []string {
	routes := append(rest.Routes(c, opts), metricsRoute)
	routes = append(routes, consoleRoutes...)
	if pull {
		routes = append(routes, invoke.Routes()...)
	}
	return routes
}

// consoleURL is the console's address on this host for a REST listener
// address: loopback when the listener takes every interface.
func consoleURL(listener string, tls bool) string {
	host, port, err := net.SplitHostPort(listener)
	if err != nil {
		return console.Path
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + console.Path
}

// restSecurity returns the REST listener's authentication (nil lets
// everything through) and TLS configuration (nil for plain HTTP).
func restSecurity(cfg *coordinator.Config) (*rest.Auth, *tls.Config, error) {
	var tlsConfig *tls.Config
	if cfg.RestTLSCertFile != "" {
		var err error
		if tlsConfig, err = rest.TLSConfig(cfg.RestTLSCertFile, cfg.RestTLSKeyFile, cfg.RestTLSClientCAFile); err != nil {
			return nil, nil, err
		}
	}
	auth := &rest.Auth{OpenPaths: cfg.RestAuthOpenPaths}
	if cfg.RestBasicAuthFile != "" {
		if err := auth.LoadBasicAuthFile(cfg.RestBasicAuthFile); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", env.Var(cfg, &cfg.RestBasicAuthFile), err)
		}
	}
	if cfg.RestBearerTokensFile != "" {
		if err := auth.LoadBearerTokensFile(cfg.RestBearerTokensFile); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", env.Var(cfg, &cfg.RestBearerTokensFile), err)
		}
	}
	return auth, tlsConfig, nil
}

// listen starts the REST listener (HTTPS when tlsConfig is set) serving
// h; the pull invoker's worker endpoints (/sluice/v1/leases/) share it, behind
// the workers' own secret rather than h's authentication. An error that
// stops the server before Shutdown is logged.
func listen(addr string, h http.Handler, pull *invoke.Pull, tlsConfig *tls.Config, maxConns int, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	if pull != nil {
		// Only the lease endpoints: the rest of /sluice/v1/ (lease
		// history, cluster) is the REST API's, behind its authentication.
		mux.Handle("/sluice/v1/leases/", pull)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("REST listener: %w", err)
	}
	ln = rest.LimitListener(ln, maxConns)
	srv := rest.NewServer(mux, tlsConfig)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go serveHTTP(srv, ln, log)
	return srv, nil
}

// serveHTTP serves srv on ln until Shutdown; an error that stops it
// before is logged.
func serveHTTP(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Error("the REST server stopped", "addr", ln.Addr().String(), "error", err)
	}
}

// listenerAddr splits a listener of Connect's listeners or
// admin.listeners (http://host:port, https://host:port, or host:port) into
// the address to listen on and whether it is HTTPS.
func listenerAddr(l string) (addr string, https bool) {
	lower := strings.ToLower(l)
	switch {
	case strings.HasPrefix(lower, "https://"):
		return l[len("https://"):], true
	case strings.HasPrefix(lower, "http://"):
		return l[len("http://"):], false
	}
	return l, false
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
