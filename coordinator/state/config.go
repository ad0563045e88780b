package state

import (
	"fmt"
	"log/slog"
)

// Defaults of Kafka Connect's distributed worker for its internal topics.
const (
	DefaultConfigTopic      = "connect-configs" // config.storage.topic
	DefaultStatusTopic      = "connect-status"  // status.storage.topic
	DefaultStatusPartitions = 5                 // status.storage.partitions
	DefaultOffsetTopic      = "connect-offsets" // offset.storage.topic
	DefaultOffsetPartitions = 25                // offset.storage.partitions
)

// Worker property names, used in error messages as Connect uses them.
const (
	configTopicProperty = "config.storage.topic"
)

// Config names the internal topics and how to create them when missing, as
// Connect's worker properties do. The zero value is Connect's defaults except
// for the replication factor.
type Config struct {
	// ConfigTopic is the configs topic (Java config.storage.topic).
	// Default "connect-configs". It must have exactly one partition.
	ConfigTopic string
	// StatusTopic is the status topic (Java status.storage.topic). Default
	// "connect-status".
	StatusTopic string
	// StatusPartitions is the status topic's partition count when Open
	// creates it (Java status.storage.partitions). Default 5.
	StatusPartitions int32
	// ReplicationFactor is the replica count of topics Open creates (Java
	// config.storage.replication.factor and
	// status.storage.replication.factor). 0 or -1 mean the broker default
	// (default.replication.factor); Connect's own default is 3, which a
	// single-broker dev cluster cannot satisfy.
	ReplicationFactor int16
	// Logger receives reports of records skipped as malformed and of
	// background read failures. Default slog.Default().
	Logger *slog.Logger
}

// withDefaults returns cfg with defaults filled in, or an error naming the
// first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.ConfigTopic == "" {
		cfg.ConfigTopic = DefaultConfigTopic
	}
	if cfg.StatusTopic == "" {
		cfg.StatusTopic = DefaultStatusTopic
	}
	if cfg.ConfigTopic == cfg.StatusTopic {
		return cfg, fmt.Errorf("state: Config.ConfigTopic and Config.StatusTopic are both %q", cfg.ConfigTopic)
	}
	if cfg.StatusPartitions < 0 {
		return cfg, fmt.Errorf("state: Config.StatusPartitions %d is negative", cfg.StatusPartitions)
	}
	if cfg.StatusPartitions == 0 {
		cfg.StatusPartitions = DefaultStatusPartitions
	}
	if cfg.ReplicationFactor < -1 {
		return cfg, fmt.Errorf("state: Config.ReplicationFactor %d is below -1", cfg.ReplicationFactor)
	}
	if cfg.ReplicationFactor == -1 {
		cfg.ReplicationFactor = 0 // kafka.TopicSpec's "broker default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}
