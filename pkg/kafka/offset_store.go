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
// Load and LoadAll read the whole topic from the log start to the high
// watermarks taken when they start, so they are bounded and never wait for
// new records. Write produces with the idempotent, acks=all producer and
// returns once every entry is acknowledged. OffsetStore is safe for
// concurrent use; Writes are serialized.
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
	latest, err := s.scan(ctx, func(c string) bool { return c == connector })
	if err != nil {
		return nil, fmt.Errorf("kafka: load offsets of connector %s from %s: %w", connector, s.topic, err)
	}
	return live(latest[connector]), nil
}

// LoadAll returns every connector's offsets, by connector name, in one pass
// over the topic, by the rules of Load. Connectors whose partitions are all
// tombstoned are left out. Connect's worker reads the offsets topic whole in
// the same way (KafkaOffsetBackingStore).
func (s *OffsetStore) LoadAll(ctx context.Context) (map[string]map[string]offsets.Entry, error) {
	latest, err := s.scan(ctx, func(string) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("kafka: load offsets from %s: %w", s.topic, err)
	}
	out := make(map[string]map[string]offsets.Entry, len(latest))
	for connector, byID := range latest {
		if m := live(byID); len(m) > 0 {
			out[connector] = m
		}
	}
	return out, nil
}

// lastRecord is the last record of one source partition seen by scan.
type lastRecord struct {
	entry offsets.Entry // Offset nil: deleted
	at    int64         // record timestamp, in ms, to order across partitions
}

// live returns the entries of byID that are not tombstones.
func live(byID map[string]lastRecord) map[string]offsets.Entry {
	out := make(map[string]offsets.Entry, len(byID))
	for id, f := range byID {
		if f.entry.Offset != nil {
			out[id] = f.entry
		}
	}
	return out
}

// scan reads the offsets topic from the log start to the high watermarks
// taken when it starts, loadConcurrency partitions at a time, and returns the
// last record of each source partition (tombstones included) of each
// connector that want accepts, by connector, then by offsets.PartitionID.
// Records that are not Connect offset keys are skipped; a value that does not
// decode is an error. scan waits for every goroutine it starts.
func (s *OffsetStore) scan(ctx context.Context, want func(connector string) bool) (map[string]map[string]lastRecord, error) {
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

	var (
		mu       sync.Mutex
		latest   = map[string]map[string]lastRecord{}
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
			local := map[string]map[string]lastRecord{}
			err := s.c.FetchRange(ctx, tp, wm.Low, wm.High, 0, func(msgs []Message) error {
				for _, m := range msgs {
					if m.Key == nil {
						continue
					}
					connector, partition, err := offsets.DecodeKey(m.Key)
					if err != nil || !want(connector) {
						continue
					}
					offset, err := offsets.DecodeValue(m.Value)
					if err != nil {
						return fmt.Errorf("kafka: offsets of connector %s at %s offset %d: %w", connector, tp, m.Offset, err)
					}
					byID := local[connector]
					if byID == nil {
						byID = map[string]lastRecord{}
						local[connector] = byID
					}
					byID[offsets.PartitionID(partition)] = lastRecord{
						entry: offsets.Entry{Partition: partition, Offset: offset},
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
			for connector, byID := range local {
				all := latest[connector]
				if all == nil {
					all = map[string]lastRecord{}
					latest[connector] = all
				}
				for id, f := range byID {
					if prev, ok := all[id]; !ok || f.at >= prev.at {
						all[id] = f
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return latest, nil
}
