package state

import (
	"context"
	"errors"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// Store is the coordinator's state in Kafka: the configs topic and the
// status topic, each read to its end when the Store opens. A leader writes
// through Configs and Statuses; a follower calls Follow to keep up with the
// leader's writes.
type Store struct {
	Configs  *ConfigStore
	Statuses *StatusStore
}

// Open opens the configs and status topics named by cfg, creating missing
// ones as Connect's worker does (compacted; the configs topic with one
// partition, the status topic with cfg.StatusPartitions), refuses a configs
// topic with more than one partition (*PartitionCountError), and reads both
// topics to the end before it returns. Close the Store before the Client.
func Open(ctx context.Context, client *kafka.Client, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	configs, err := newConfigStore(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	statuses, err := newStatusStore(ctx, client, cfg)
	if err != nil {
		_ = configs.Close()
		return nil, err
	}
	s := &Store{Configs: configs, Statuses: statuses}
	if err := s.Refresh(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Refresh reads both topics to their ends.
func (s *Store) Refresh(ctx context.Context) error {
	if err := s.Configs.Refresh(ctx); err != nil {
		return err
	}
	return s.Statuses.Refresh(ctx)
}

// Follow starts reading both topics to their ends every interval, in the
// background, until ctx ends or the Store is closed (Close waits).
func (s *Store) Follow(ctx context.Context, interval time.Duration) error {
	if err := s.Configs.log.Follow(ctx, interval); err != nil {
		return err
	}
	return s.Statuses.log.Follow(ctx, interval)
}

// Close stops following and closes both topics' producers.
func (s *Store) Close() error {
	return errors.Join(s.Configs.Close(), s.Statuses.Close())
}
