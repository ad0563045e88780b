// Command coordinator runs Sluice's coordinator. With no Kafka configured
// (SLUICE_BOOTSTRAP_SERVERS unset) it is dev mode: an embedded
// Kafka-protocol broker on 127.0.0.1:9092, tasks run in this process.
//
//	coordinator [connector.properties | connector.json ...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/plugins"
	"github.com/sluicehq/sluice/pkg/properties"
)

const usageHeader = `Usage: coordinator [connector.properties | connector.json ...]

Runs the Sluice coordinator with the given connectors. Connector files are
Kafka Connect properties files or JSON ({"name": ..., "config": {...}}).
With SLUICE_BOOTSTRAP_SERVERS unset, an embedded Kafka-protocol broker is
started on SLUICE_EMBEDDED_KAFKA_ADDR (dev mode) and tasks run in-process.

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
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)

	// Config providers come from a Connect worker.properties, as in Connect.
	var resolver *configprovider.Resolver
	if cfg.WorkerProperties != "" {
		workerProps, err := properties.LoadFile(cfg.WorkerProperties)
		if err != nil {
			return err
		}
		if resolver, err = configprovider.NewResolver(workerProps); err != nil {
			return fmt.Errorf("%s: %w", cfg.WorkerProperties, err)
		}
		defer resolver.Close()
		cfg.ConfigProviders = resolver.Providers()
	}

	// Read and validate every connector file first: a mistake fails fast,
	// before any broker starts.
	registry := plugins.Registry()
	var connectors []map[string]string
	for _, path := range fs.Args() {
		props, err := coordinator.LoadConnectorFile(path)
		if err != nil {
			return err
		}
		if _, infos, _ := coordinator.Validate(registry, cfg.ConfigProviders, props); infos.ErrorCount > 0 {
			return fmt.Errorf("%s: %w", path, connect.ConfigError(infos))
		}
		connectors = append(connectors, props)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	brokers := cfg.BootstrapServers
	if len(brokers) == 0 {
		b, err := devkafka.Start(devkafka.Options{
			Addr:       cfg.EmbeddedKafkaAddr,
			DataDir:    filepath.Join(cfg.DataDir, "kafka"),
			Partitions: cfg.EmbeddedPartitions,
		})
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs()
		fmt.Fprintf(out, "Embedded Kafka broker on %s (data in %s)\n", strings.Join(brokers, ","), filepath.Join(cfg.DataDir, "kafka"))
	}

	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	client, err := kafka.Dial(dialCtx, kafka.Config{Brokers: brokers, ClientID: "sluice-coordinator"})
	cancel()
	if err != nil {
		return err
	}
	defer client.Close()
	store, err := kafka.NewOffsetStore(ctx, client, kafka.TopicSpec{
		Name:              cfg.OffsetStorageTopic,
		Partitions:        cfg.OffsetStoragePartitions,
		ReplicationFactor: cfg.ReplicationFactor,
	})
	if err != nil {
		return err
	}
	defer store.Close()

	opts := lease.Options{SafetyMargin: cfg.SafetyMargin, Logger: log}
	if resolver != nil {
		opts.Resolver = resolver
	}
	exec := lease.NewExecutor(registry, client, store, opts)
	coord, err := coordinator.New(cfg, registry, client, coordinator.InProcess{Executor: exec}, log)
	if err != nil {
		return err
	}
	for _, props := range connectors {
		if err := coord.Add(props); err != nil {
			coord.Close()
			return fmt.Errorf("connector %q: %w", props["name"], err)
		}
		describe(out, props, brokers)
	}
	if len(connectors) == 0 {
		fmt.Fprintln(out, "No connectors given; pass connector files as arguments (see examples/).")
	}
	fmt.Fprintln(out, "Running; press Ctrl-C to stop.")
	coord.Run(ctx)
	fmt.Fprintln(out, "Stopped.")
	return nil
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
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
