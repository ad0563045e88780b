package kafka

import (
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/rcrowley/go-metrics"
)

// kafkaVersion is the protocol version sarama speaks. Brokers older than this
// still work for every request Sluice makes, as sarama negotiates versions
// with ApiVersions; it is pinned so behaviour never depends on sarama's default.
var kafkaVersion = sarama.V3_6_0_0

// Config is how to reach a Kafka cluster.
type Config struct {
	// Brokers are the bootstrap brokers, host:port (Java bootstrap.servers).
	Brokers []string
	// ClientID names this client in broker logs and quotas (Java
	// client.id). Default "sluice".
	ClientID string

	// Security is TLS and SASL (Java security.protocol, sasl.*, ssl.*).
	// The zero value is PLAINTEXT.
	Security Security
}

const defaultClientID = "sluice"

// withDefaults returns cfg with defaults filled in and its TLS files read, or
// an error naming the invalid fields.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Brokers) == 0 {
		return cfg, errors.New("kafka: Config.Brokers is empty")
	}
	for i, b := range cfg.Brokers {
		if b == "" {
			return cfg, fmt.Errorf("kafka: Config.Brokers[%d] is empty", i)
		}
	}
	if cfg.ClientID == "" {
		cfg.ClientID = defaultClientID
	}
	sec, err := cfg.Security.withDefaults()
	if err != nil {
		return cfg, err
	}
	cfg.Security = sec
	return cfg, nil
}

func init() {
	// sarama keeps meters and histograms per broker and topic (a reservoir
	// of 1,028 samples each) in go-metrics, updated on every request, that
	// nothing in Sluice reads: they cost memory and CPU for nothing. The
	// switch is go-metrics' own, global to the process.
	metrics.UseNilMetrics = true
}

// saramaConfig is the one place sarama settings shared by every connection
// are chosen; cfg has been through withDefaults.
func (cfg Config) saramaConfig() *sarama.Config {
	sc := sarama.NewConfig()
	sc.Version = kafkaVersion
	sc.ClientID = cfg.ClientID
	sc.Net.DialTimeout = 10 * time.Second
	// sarama's ClusterAdmin finds the controller through a full metadata
	// refresh and fails with ErrNoTopicsToUpdateMetadata without one, so the
	// Client keeps full metadata; producers switch it off (NewProducer).
	sc.Metadata.Full = true
	sc.Metadata.Retry.Max = 5
	sc.Metadata.Retry.Backoff = 100 * time.Millisecond
	sc.Admin.Timeout = 30 * time.Second
	cfg.Security.apply(sc)
	return sc
}
