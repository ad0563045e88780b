package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/properties"
)

// setup is what the command line, the environment and, in standalone mode
// or with SLUICE_WORKER_PROPERTIES, a Connect worker.properties say.
type setup struct {
	cfg         coordinator.Config
	healthCheck bool
	standalone  bool
	worker      map[string]string // the worker properties, or nil
	files       []string          // connector files

	log     *slog.Logger
	loggers *rest.Loggers // the levels GET/PUT /admin/loggers change
}

// dev reports whether this is dev mode: no bootstrap servers, an embedded
// broker.
func (s *setup) dev() bool { return len(s.cfg.BootstrapServers) == 0 }

// parse reads the command line and the environment and validates them,
// naming every problem. It returns nil and no error after --help.
func parse(args []string, out io.Writer) (*setup, error) {
	s := &setup{}
	fs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageHeader)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		_ = env.Usage(tw, env.Prefix, &s.cfg)
		tw.Flush()
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	fs.BoolVar(&s.healthCheck, "health-check", false, "check GET /health on this host's REST listener and exit 0 if healthy, 1 if not (container health checks)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, err
	}
	if err := envconfig.Process(env.Prefix, &s.cfg); err != nil {
		return nil, err
	}
	if s.healthCheck {
		return s, s.restListenerScheme()
	}
	if err := s.readWorker(fs.Args()); err != nil {
		return nil, err
	}
	if err := s.restListenerScheme(); err != nil {
		return nil, err
	}
	s.adminListeners()
	s.interWorkerProperties()
	if _, set := os.LookupEnv(env.Var(&s.cfg, &s.cfg.RestListener)); s.dev() && !set && s.worker["listeners"] == "" {
		s.cfg.RestListener = "127.0.0.1:8083" // dev mode stays on loopback
	}
	if s.cfg.RestAdvertisedURL == "" {
		s.cfg.RestAdvertisedURL = advertisedURL(s.cfg.RestListener)
		if s.cfg.RestTLSCertFile != "" {
			s.cfg.RestAdvertisedURL = "https://" + strings.TrimPrefix(s.cfg.RestAdvertisedURL, "http://")
		}
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, err
	}
	var defaults []string
	if s.dev() {
		wd, _ := os.Getwd()
		defaults = []string{s.cfg.DataDir, wd}
	}
	if err := s.cfg.FileAccess.Apply(defaults...); err != nil {
		return nil, err
	}
	level, _ := s.cfg.Level() // Validate checked it
	s.loggers = rest.NewLoggers(level)
	s.loggers.SetMax(s.cfg.MaxLoggers)
	s.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: s.loggers.Leveler("root")}))
	return s, nil
}

// restListenerScheme takes the REST listener in Connect's listeners form
// too (http://host:port or https://host:port, in SLUICE_REST_LISTENER or
// standalone mode's listeners) and keeps the address: https:// needs the
// listener's certificate (SLUICE_REST_TLS_CERT_FILE), and http:// is
// refused when a certificate is set, since the listener would serve HTTPS.
func (s *setup) restListenerScheme() error {
	l := s.cfg.RestListener
	addr, https := listenerAddr(l)
	if addr == l {
		return nil
	}
	s.cfg.RestListener = addr
	switch {
	case https && s.cfg.RestTLSCertFile == "":
		return fmt.Errorf("REST listener %q is HTTPS: set %s and %s", l, env.Var(&s.cfg, &s.cfg.RestTLSCertFile), env.Var(&s.cfg, &s.cfg.RestTLSKeyFile))
	case !https && s.cfg.RestTLSCertFile != "":
		return fmt.Errorf("REST listener %q is plain HTTP but %s is set, so it serves HTTPS: write https://%s", l, env.Var(&s.cfg, &s.cfg.RestTLSCertFile), addr)
	}
	return nil
}

// readWorker splits args into the mode and the connector files and reads
// the worker properties: standalone mode's, or SLUICE_WORKER_PROPERTIES.
func (s *setup) readWorker(args []string) error {
	s.files = args
	if len(args) > 0 && args[0] == "standalone" {
		if len(args) < 2 {
			return errors.New("standalone mode needs a worker.properties file: coordinator standalone worker.properties [connector.properties ...]")
		}
		worker, err := properties.LoadFile(args[1])
		if err != nil {
			return err
		}
		s.standalone, s.worker, s.files = true, worker, args[2:]
		applyWorkerProperties(&s.cfg, worker)
	}
	if s.cfg.WorkerProperties != "" && s.worker == nil {
		worker, err := properties.LoadFile(s.cfg.WorkerProperties)
		if err != nil {
			return err
		}
		s.worker = worker
	}
	return nil
}

// adminListeners reads SLUICE_ADMIN_LISTENERS or, when it is unset, the
// worker properties' admin.listeners: unset, set and empty (/admin/* off),
// or a list of listeners.
func (s *setup) adminListeners() {
	var raw string
	if v, ok := os.LookupEnv(env.Var(&s.cfg, &s.cfg.AdminListeners)); ok {
		raw, s.cfg.AdminListenersSet = v, true
	} else if v, ok := s.worker["admin.listeners"]; ok {
		raw, s.cfg.AdminListenersSet = v, true
	}
	s.cfg.AdminListeners = nil
	for l := range strings.SplitSeq(raw, ",") {
		if l = strings.TrimSpace(l); l != "" {
			s.cfg.AdminListeners = append(s.cfg.AdminListeners, l)
		}
	}
}

// interWorkerProperties takes Connect's inter.worker.* worker properties
// for the SLUICE_INTER_WORKER_* variables that are not set.
func (s *setup) interWorkerProperties() {
	k := &s.cfg.InterWorkerKey
	for prop, field := range map[string]any{
		"inter.worker.key.generation.algorithm": &k.InterWorkerKeyGenerationAlgorithm,
		"inter.worker.signature.algorithm":      &k.InterWorkerSignatureAlgorithm,
		"inter.worker.verification.algorithms":  &k.InterWorkerVerificationAlgorithms,
		"inter.worker.key.size":                 &k.InterWorkerKeySize,
		"inter.worker.key.ttl.ms":               &k.InterWorkerKeyTTL,
	} {
		v, ok := s.worker[prop]
		if _, set := os.LookupEnv(env.Var(&s.cfg, field)); !ok || set {
			continue
		}
		v = strings.TrimSpace(v)
		switch f := field.(type) {
		case *string:
			*f = v
		case *[]string:
			*f = nil
			for a := range strings.SplitSeq(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					*f = append(*f, a)
				}
			}
		case *int:
			if n, err := strconv.Atoi(v); err == nil {
				*f = n
			}
		case *time.Duration:
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				*f = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// configProviders opens the config providers the worker properties
// declare, as in Connect, with SLUICE_CONFIG_PROVIDERS's settings over
// theirs (nil with neither), and names them in the configuration.
func (s *setup) configProviders() (*configprovider.Resolver, error) {
	if s.worker == nil && s.cfg.InlineConfigProviders == "" {
		return nil, nil
	}
	props := maps.Clone(s.worker)
	if props == nil {
		props = map[string]string{}
	}
	if s.cfg.InlineConfigProviders != "" {
		inline, err := properties.Load(strings.NewReader(strings.ReplaceAll(s.cfg.InlineConfigProviders, ";", "\n")))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Var(&s.cfg, &s.cfg.InlineConfigProviders), err)
		}
		maps.Copy(props, inline)
	}
	resolver, err := configprovider.NewResolver(props)
	if err != nil {
		return nil, err
	}
	s.cfg.ConfigProviders = resolver.Providers()
	return resolver, nil
}

// connectors reads and validates every connector file, config provider
// references against the providers' allow settings included, so that a
// mistake fails fast, before any broker starts.
func (s *setup) connectors(registry *connect.Registry, resolver *configprovider.Resolver) ([]map[string]string, error) {
	var connectors []map[string]string
	for _, path := range s.files {
		props, err := coordinator.LoadConnectorFile(path)
		if err != nil {
			return nil, err
		}
		if s.standalone {
			inheritConverters(props, s.worker)
		}
		if _, infos, _ := coordinator.ValidateReferences(registry, s.cfg.ConfigProviders, resolver, props); infos.ErrorCount > 0 {
			return nil, fmt.Errorf("%s: %w", path, connect.ConfigError(infos))
		}
		connectors = append(connectors, props)
	}
	return connectors, nil
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
		// The first listener, its scheme checked by restListenerScheme.
		cfg.RestListener = strings.TrimSpace(strings.Split(v, ",")[0])
	}
	if v := w["rest.advertised.host.name"]; v != "" {
		addr, https := listenerAddr(cfg.RestListener)
		port := w["rest.advertised.port"]
		if port == "" {
			_, port, _ = net.SplitHostPort(addr)
		}
		scheme := "http://"
		if https || strings.EqualFold(w["rest.advertised.listener"], "https") {
			scheme = "https://"
		}
		cfg.RestAdvertisedURL = scheme + net.JoinHostPort(v, port)
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
