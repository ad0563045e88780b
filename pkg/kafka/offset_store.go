package kafka

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/offsets"
)

// Defaults of the offsets topic, as Kafka Connect's distributed worker has
// them (offset.storage.topic, offset.storage.partitions).
const (
	DefaultOffsetTopic      = "connect-offsets"
	DefaultOffsetPartitions = 25
)

// loadConcurrency bounds the partitions OffsetStore.Load reads at once.
const loadConcurrency = 8

// OffsetStore implements offsets.Store on a compacted Kafka topic in Kafka
// Connect's format (offset.storage.topic), so that Connect and Sluice can
// share it: keys ["<connector>",{partition}], values {offset}, tombstones to
// delete, and keys placed on partitions with murmur2 exactly as Connect's
// producer places them.
//
// Load reads the whole topic from the log start to the high watermarks taken
// when it starts, so it is bounded and never waits for new records. Write
// produces with the idempotent, acks=all producer and returns once every
// entry is acknowledged. OffsetStore is safe for concurrent use; Writes are
// serialized.
type OffsetStore struct {
	c     *Client
	topic string
	prod  *Producer

	writeMu sync.Mutex
}

var _ offsets.Store = (*OffsetStore)(nil)

// NewOffsetStore opens the offsets topic described by spec, creating it if it
// is missing. Empty fields default to Connect's: Name "connect-offsets", 25
// partitions, the broker's default replication factor. cleanup.policy is
// always compact. Close the store before its Client.
func NewOffsetStore(ctx context.Context, c *Client, spec TopicSpec) (*OffsetStore, error) {
	if spec.Name == "" {
		spec.Name = DefaultOffsetTopic
	}
	if spec.Partitions == 0 {
		spec.Partitions = DefaultOffsetPartitions
	}
	configs := make(map[string]string, len(spec.Configs)+1)
	for k, v := range spec.Configs {
		configs[k] = v
	}
	configs["cleanup.policy"] = "compact"
	spec.Configs = configs
	if err := c.EnsureTopic(ctx, spec); err != nil {
		return nil, err
	}
	prod, err := c.NewProducer(ProducerOptions{Linger: time.Millisecond}) // offsets are small; latency counts
	if err != nil {
		return nil, err
	}
	return &OffsetStore{c: c, topic: spec.Name, prod: prod}, nil
}

// Topic returns the offsets topic's name.
func (s *OffsetStore) Topic() string { return s.topic }

// Close closes the store's producer.
func (s *OffsetStore) Close() error { return s.prod.Close() }

// Write produces the connector's entries (a nil Offset produces a tombstone)
// and returns once all are acknowledged by every in-sync replica.
func (s *OffsetStore) Write(ctx context.Context, connector string, entries []offsets.Entry) error {
	msgs := make([]Message, len(entries))
	for i, e := range entries {
		key, err := offsets.EncodeKey(connector, e.Partition)
		if err != nil {
			return err
		}
		value, err := offsets.EncodeValue(e.Offset)
		if err != nil {
			return err
		}
		msgs[i] = Message{Topic: s.topic, Partition: -1, Key: key, Value: value}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, m := range msgs {
		s.prod.Send(m)
	}
	if err := s.prod.Flush(ctx); err != nil {
		return fmt.Errorf("kafka: write offsets of connector %s to %s: %w", connector, s.topic, err)
	}
	return nil
}

// Load returns the connector's offsets: for each source partition the last
// value written, tombstoned partitions left out. Records that are not Connect
// offset keys are skipped, as Connect skips them.
func (s *OffsetStore) Load(ctx context.Context, connector string) (map[string]offsets.Entry, error) {
	parts, err := s.c.Partitions(ctx, s.topic)
	if err != nil {
		return nil, err
	}
	tps := make([]TopicPartition, len(parts))
	for i, p := range parts {
		tps[i] = TopicPartition{Topic: s.topic, Partition: p}
	}
	wms, err := s.c.Watermarks(ctx, tps)
	if err != nil {
		return nil, err
	}

	type found struct {
		entry offsets.Entry // Offset nil: deleted
		tp    TopicPartition
		at    int64 // record timestamp, in ms, to order across partitions
	}
	var (
		mu       sync.Mutex
		latest   = map[string]found{}
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, loadConcurrency)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, tp := range tps {
		wm := wms[tp]
		if wm.Low >= wm.High {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Within a partition the last record of a key wins.
			local := map[string]found{}
			err := s.c.FetchRange(ctx, tp, wm.Low, wm.High, 0, func(msgs []Message) error {
				for _, m := range msgs {
					if m.Key == nil {
						continue
					}
					c, partition, err := offsets.DecodeKey(m.Key)
					if err != nil || c != connector {
						continue
					}
					offset, err := offsets.DecodeValue(m.Value)
					if err != nil {
						return fmt.Errorf("kafka: offsets of connector %s at %s offset %d: %w", connector, tp, m.Offset, err)
					}
					local[offsets.PartitionID(partition)] = found{
						entry: offsets.Entry{Partition: partition, Offset: offset},
						tp:    tp,
						at:    m.Timestamp.UnixMilli(),
					}
				}
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			// A key is normally in one partition only; if the partition
			// count changed it can be in two, and the newer record wins.
			for id, f := range local {
				if prev, ok := latest[id]; !ok || f.at >= prev.at {
					latest[id] = f
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("kafka: load offsets of connector %s from %s: %w", connector, s.topic, firstErr)
	}
	out := make(map[string]offsets.Entry, len(latest))
	for id, f := range latest {
		if f.entry.Offset != nil {
			out[id] = f.entry
		}
	}
	return out, nil
}
