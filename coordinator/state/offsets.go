package state

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// loadConcurrency bounds the partitions OffsetStore.Load reads at once.
const loadConcurrency = 8

// OffsetStore implements offsets.Store on a compacted Kafka topic in Kafka
// Connect's format (offset.storage.topic), so that Connect and Sluice can
// share it: keys ["<connector>",{partition}], values {offset}, tombstones to
// delete, and keys placed on partitions with murmur2 exactly as Connect's
// producer places them.
//
// Load and LoadAll read the topic up to the high watermarks taken when they
// start, so they are bounded and never wait for new records. They read with
// read_committed isolation, as Connect's worker does with exactly-once
// source support: offsets written in a transaction (by an exactly-once
// source lease) count once it commits, never if it aborts. A transaction
// still open below those high watermarks is waited for (awaitStable). The store
// keeps what it has read (the last record of each source partition, as
// Connect's KafkaOffsetBackingStore keeps the topic's contents), so each
// Load reads only the records written since the one before; the first reads
// the whole topic. Write produces with the idempotent, acks=all producer and
// returns once every entry is acknowledged. OffsetStore is safe for
// concurrent use; Writes are serialized, and so are Loads.
type OffsetStore struct {
	c     *kafka.Client
	topic string
	prod  *kafka.Producer

	writeMu sync.Mutex

	readMu sync.Mutex
	next   map[kafka.TopicPartition]int64  // the next offset to read
	latest map[string]map[string]rawRecord // connector, PartitionID
}

var _ offsets.Store = (*OffsetStore)(nil)

// NewOffsetStore opens the offsets topic described by spec, creating it if it
// is missing. Empty fields default to Connect's: Name "connect-offsets", 25
// partitions, the broker's default replication factor. cleanup.policy is
// always compact. Close the store before its kafka.Client.
func NewOffsetStore(ctx context.Context, c *kafka.Client, spec kafka.TopicSpec) (*OffsetStore, error) {
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
	prod, err := c.NewProducer(kafka.ProducerOptions{Linger: time.Millisecond}) // offsets are small; latency counts
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
	msgs := make([]kafka.Message, len(entries))
	for i, e := range entries {
		key, err := offsets.EncodeKey(connector, e.Partition)
		if err != nil {
			return err
		}
		value, err := offsets.EncodeValue(e.Offset)
		if err != nil {
			return err
		}
		msgs[i] = kafka.Message{Topic: s.topic, Partition: -1, Key: key, Value: value}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, m := range msgs {
		if s.prod.Send(ctx, m) != nil {
			break // Flush reports it
		}
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
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if err := s.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("kafka: load offsets of connector %s from %s: %w", connector, s.topic, err)
	}
	m, err := decodeLive(connector, s.latest[connector])
	if err != nil {
		return nil, fmt.Errorf("kafka: load offsets of connector %s from %s: %w", connector, s.topic, err)
	}
	return m, nil
}

// LoadAll returns every connector's offsets, by connector name, by the
// rules of Load. Connectors whose partitions are all tombstoned are left
// out. Connect's worker reads the offsets topic whole in the same way
// (KafkaOffsetBackingStore).
func (s *OffsetStore) LoadAll(ctx context.Context) (map[string]map[string]offsets.Entry, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if err := s.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("kafka: load offsets from %s: %w", s.topic, err)
	}
	out := make(map[string]map[string]offsets.Entry, len(s.latest))
	for connector, byID := range s.latest {
		m, err := decodeLive(connector, byID)
		if err != nil {
			return nil, fmt.Errorf("kafka: load offsets from %s: %w", s.topic, err)
		}
		if len(m) > 0 {
			out[connector] = m
		}
	}
	return out, nil
}

// rawRecord is the last record of one source partition read from the
// topic, decoded only when loaded (so that each Load returns its own maps).
type rawRecord struct {
	key, value []byte // value nil: deleted
	tp         kafka.TopicPartition
	offset     int64
	at         int64 // record timestamp, in ms, to order across partitions
}

// newer reports whether r supersedes prev: a later record of the same topic
// partition, or, when the partition count changed and a key is in two
// partitions, the one with the newer timestamp.
func (r rawRecord) newer(prev rawRecord) bool {
	if r.tp == prev.tp {
		return r.offset > prev.offset
	}
	return r.at >= prev.at
}

// decodeLive decodes the records of byID that are not tombstones.
func decodeLive(connector string, byID map[string]rawRecord) (map[string]offsets.Entry, error) {
	out := make(map[string]offsets.Entry, len(byID))
	for id, r := range byID {
		if r.value == nil {
			continue
		}
		_, partition, err := offsets.DecodeKey(r.key)
		if err != nil {
			return nil, err // catchUp decoded it once already
		}
		offset, err := offsets.DecodeValue(r.value)
		if err != nil {
			return nil, fmt.Errorf("offsets of connector %s at %s offset %d: %w", connector, r.tp, r.offset, err)
		}
		if offset != nil {
			out[id] = offsets.Entry{Partition: partition, Offset: offset}
		}
	}
	return out, nil
}

// catchUp reads the offsets topic from where the last call stopped (the log
// start, the first time) to the high watermarks taken when it starts,
// loadConcurrency partitions at a time, and keeps the last record of each
// source partition. Records that are not Connect offset keys are skipped. A
// partition is taken in whole or not at all, so after an error the next call
// reads again what this one did not. If the log start has passed where a
// partition stopped (records deleted), the whole topic is read again.
// catchUp waits for every goroutine it starts; s.readMu is held.
func (s *OffsetStore) catchUp(ctx context.Context) error {
	parts, err := s.c.Partitions(ctx, s.topic)
	if err != nil {
		return err
	}
	tps := make([]kafka.TopicPartition, len(parts))
	for i, p := range parts {
		tps[i] = kafka.TopicPartition{Topic: s.topic, Partition: p}
	}
	wms, err := s.c.Watermarks(ctx, tps)
	if err != nil {
		return err
	}
	if err := s.awaitStable(ctx, tps, wms); err != nil {
		return err
	}
	for _, tp := range tps {
		if next, ok := s.next[tp]; ok && (next < wms[tp].Low || next > wms[tp].High) {
			s.next, s.latest = nil, nil // deleted or rewritten: read it all again
			break
		}
	}
	if s.next == nil {
		s.next, s.latest = map[kafka.TopicPartition]int64{}, map[string]map[string]rawRecord{}
	}

	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, loadConcurrency)
	)
	// Where each partition's read starts, taken before any goroutine
	// records where one ended.
	type read struct {
		tp        kafka.TopicPartition
		from, end int64
	}
	var reads []read
	for _, tp := range tps {
		from, ok := s.next[tp]
		if !ok {
			from = wms[tp].Low
		}
		if end := wms[tp].High; from < end {
			reads = append(reads, read{tp, from, end})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, rd := range reads {
		tp, from, end := rd.tp, rd.from, rd.end
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Within a partition the last record of a key wins.
			local := map[string]map[string]rawRecord{}
			err := s.c.ReadCommittedRange(ctx, tp, from, end, 0, func(msgs []kafka.Message) error {
				for _, m := range msgs {
					if m.Key == nil {
						continue
					}
					connector, partition, err := offsets.DecodeKey(m.Key)
					if err != nil {
						continue
					}
					byID := local[connector]
					if byID == nil {
						byID = map[string]rawRecord{}
						local[connector] = byID
					}
					byID[offsets.PartitionID(partition)] = rawRecord{key: m.Key, value: m.Value, tp: tp, offset: m.Offset,
						at: m.Timestamp.UnixMilli()}
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
			for connector, byID := range local {
				all := s.latest[connector]
				if all == nil {
					all = map[string]rawRecord{}
					s.latest[connector] = all
				}
				for id, r := range byID {
					if prev, ok := all[id]; !ok || r.newer(prev) {
						// Not the fetch response's buffer, which it would keep.
						r.key, r.value = bytes.Clone(r.key), bytes.Clone(r.value)
						all[id] = r
					}
				}
			}
			s.next[tp] = end
		}()
	}
	wg.Wait()
	return firstErr
}

// awaitStable waits until no transaction is open below the high watermarks
// wms on any partition: the last stable offsets reach them. Exactly-once
// leases write offsets just before they commit, so this is short; a
// transaction left open by a killed invocation ends when the task's next
// lease fences it or at its transaction timeout (the lease's deadline).
// Without transactions the stable offsets are the high watermarks.
func (s *OffsetStore) awaitStable(ctx context.Context, tps []kafka.TopicPartition, wms map[kafka.TopicPartition]kafka.Watermark) error {
	backoff := 10 * time.Millisecond
	for {
		st, err := s.c.StableWatermarks(ctx, tps)
		if err != nil {
			return err
		}
		open := 0
		for _, tp := range tps {
			if st[tp].High < wms[tp].High {
				open++
			}
		}
		if open == 0 {
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %d partition(s) with an open transaction: %w", open, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// OffsetStoreOpener returns a function that opens the OffsetStore of
// another offsets topic (a connector's own offsets.storage.topic), created
// when missing with Connect's defaults and the replication factor given
// (-1 or 0: the broker's). It is lease.Options.OpenOffsets; the lease
// closes the store when it ends.
func OffsetStoreOpener(c *kafka.Client, replicationFactor int16) func(ctx context.Context, topic string) (offsets.Store, error) {
	return func(ctx context.Context, topic string) (offsets.Store, error) {
		return NewOffsetStore(ctx, c, kafka.TopicSpec{Name: topic, ReplicationFactor: replicationFactor})
	}
}
