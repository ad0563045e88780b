package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/pkg/connect"
)

// TopicPartition names one partition of a topic. It is connect.TopicPartition,
// the type sink tasks see, so a record's coordinates pass between the Kafka
// client and the task API without conversion.
type TopicPartition = connect.TopicPartition

// Watermark is a partition's log start offset (Low) and high watermark
// (High): the offsets of the first existing record and of the next record to
// be written.
type Watermark struct {
	Low, High int64
}

// TopicSpec describes a topic for EnsureTopic.
type TopicSpec struct {
	Name string
	// Partitions is the partition count; 0 means the broker default
	// (num.partitions).
	Partitions int32
	// ReplicationFactor is the replica count; 0 means the broker default
	// (default.replication.factor).
	ReplicationFactor int16
	// Configs are topic configs, such as "cleanup.policy": "compact".
	Configs map[string]string
}

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record.
type Message struct {
	Topic string
	// Partition is the record's partition. When producing, a negative
	// Partition means "choose by Key" with Kafka's Java default partitioner
	// (murmur2 for keyed records, round-robin for nil keys).
	Partition int32
	// Offset is set on fetched records; it is ignored when producing.
	Offset  int64
	Key     []byte // nil is a null key
	Value   []byte // nil is a null value (a tombstone)
	Headers []Header
	// Timestamp is the record's timestamp. When producing, the zero time
	// means "now".
	Timestamp time.Time
}

// TopicPartition returns the message's partition.
func (m *Message) TopicPartition() TopicPartition {
	return TopicPartition{Topic: m.Topic, Partition: m.Partition}
}

// Client is a connection to a Kafka cluster. It wraps a sarama Client and
// ClusterAdmin; all methods are safe for concurrent use. Broker calls are
// bounded by sarama's network timeouts; ctx is checked between calls and
// stops retries.
type Client struct {
	cfg   Config
	conf  *sarama.Config
	sc    sarama.Client
	admin sarama.ClusterAdmin
	// commitLocks serializes CommitOffsets per group (a *sync.Mutex each).
	commitLocks sync.Map
}

// retry limits for leader and coordinator movements.
const (
	maxAttempts  = 8
	retryBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// Dial connects to the cluster. It fails, naming the brokers, if none answers
// before ctx ends.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	conf := cfg.saramaConfig()
	sc, err := newSaramaClient(ctx, cfg, conf)
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdminFromClient(sc)
	if err != nil {
		_ = sc.Close()
		return nil, fmt.Errorf("kafka: admin client for brokers %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	return &Client{cfg: cfg, conf: conf, sc: sc, admin: admin}, nil
}

// newSaramaClient runs sarama's blocking bootstrap so that ctx can end the
// wait; a client that connects after ctx ended is closed.
func newSaramaClient(ctx context.Context, cfg Config, conf *sarama.Config) (sarama.Client, error) {
	if err := conf.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: invalid client configuration: %w", err)
	}
	type result struct {
		c   sarama.Client
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := sarama.NewClient(cfg.Brokers, conf)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			if why := cfg.Security.authFailure(r.err); why != "" {
				return nil, fmt.Errorf("kafka: %s (brokers %s): %w", why, strings.Join(cfg.Brokers, ","), r.err)
			}
			return nil, fmt.Errorf("kafka: no broker answered (brokers %s): %w", strings.Join(cfg.Brokers, ","), r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				_ = r.c.Close()
			}
		}()
		return nil, fmt.Errorf("kafka: no broker answered (brokers %s): %w", strings.Join(cfg.Brokers, ","), ctx.Err())
	}
}

// Close closes the connections. Producers created by the client must be
// closed first.
func (c *Client) Close() error {
	// Closing the admin closes the client it was built from.
	if err := c.admin.Close(); err != nil && !errors.Is(err, sarama.ErrClosedClient) {
		return fmt.Errorf("kafka: close: %w", err)
	}
	return nil
}

// EnsureTopic creates the topic if it does not exist; an existing topic is
// left as it is. It returns once the topic's metadata is visible.
func (c *Client) EnsureTopic(ctx context.Context, t TopicSpec) error {
	if t.Name == "" {
		return errors.New("kafka: TopicSpec.Name is empty")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.admin.CreateTopic(t.Name, t.detail(), false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return fmt.Errorf("kafka: create topic %s: %w", t.Name, err)
	}
	return c.awaitTopic(ctx, t.Name)
}

// Partitions returns the topic's partition IDs, sorted, from freshly
// refreshed metadata.
func (c *Client) Partitions(ctx context.Context, topic string) ([]int32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.sc.RefreshMetadata(topic); err != nil {
		return nil, fmt.Errorf("kafka: metadata for topic %s: %w", topic, err)
	}
	ps, err := c.sc.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: partitions of topic %s: %w", topic, err)
	}
	ps = slices.Clone(ps)
	slices.Sort(ps)
	return ps, nil
}

// Topics returns the names of the cluster's topics, internal topics such as
// __consumer_offsets excluded, sorted, from a fresh metadata request.
func (c *Client) Topics(ctx context.Context) ([]string, error) {
	tps, err := c.TopicPartitions(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(tps)), nil
}

// TopicPartitions returns each of the cluster's topics (internal topics
// excluded) with its partitions, sorted, from one fresh metadata request.
func (c *Client) TopicPartitions(ctx context.Context) (map[string][]int32, error) {
	resp, err := c.metadataAll(ctx, "list topics")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]int32, len(resp.Topics))
	for _, t := range resp.Topics {
		if !errors.Is(t.Err, sarama.ErrNoError) || t.IsInternal {
			continue
		}
		ps := make([]int32, len(t.Partitions))
		for i, p := range t.Partitions {
			ps[i] = p.ID
		}
		slices.Sort(ps)
		out[t.Name] = ps
	}
	return out, nil
}

// metadataAll asks the least-loaded broker for the metadata of every topic
// (a request naming none), retrying; what names the request in errors.
func (c *Client) metadataAll(ctx context.Context, what string) (*sarama.MetadataResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var resp *sarama.MetadataResponse
	err := retry(ctx, func() (bool, error) {
		b := c.sc.LeastLoadedBroker()
		if b == nil {
			return true, fmt.Errorf("kafka: %s: %w", what, sarama.ErrOutOfBrokers)
		}
		_ = b.Open(c.conf) // no-op when already connected
		var err error
		if resp, err = b.GetMetadata(sarama.NewMetadataRequest(c.conf.Version, nil)); err != nil {
			_ = b.Close()
			return IsRetriable(err), fmt.Errorf("kafka: %s on broker %s: %w", what, b.Addr(), err)
		}
		return false, nil
	})
	return resp, err
}

// Watermarks returns the log start offset and high watermark of each
// partition, asked of the partition leaders (ListOffsets), never cached.
func (c *Client) Watermarks(ctx context.Context, tps []TopicPartition) (map[TopicPartition]Watermark, error) {
	return c.watermarks(ctx, tps, sarama.ReadUncommitted)
}

// StableWatermarks is Watermarks with read_committed isolation: High is
// each partition's last stable offset, the first offset of the oldest
// transaction still open (the high watermark when none is), which is where
// a read_committed reader stops (ReadCommittedRange).
func (c *Client) StableWatermarks(ctx context.Context, tps []TopicPartition) (map[TopicPartition]Watermark, error) {
	return c.watermarks(ctx, tps, sarama.ReadCommitted)
}

func (c *Client) watermarks(ctx context.Context, tps []TopicPartition, iso sarama.IsolationLevel) (map[TopicPartition]Watermark, error) {
	out := make(map[TopicPartition]Watermark, len(tps))
	pending := make(map[TopicPartition]bool, len(tps))
	for _, tp := range tps {
		pending[tp] = true
	}
	err := retry(ctx, func() (bool, error) {
		byLeader := map[*sarama.Broker][]TopicPartition{}
		var lastErr error
		for tp := range pending {
			b, err := c.sc.Leader(tp.Topic, tp.Partition)
			if err != nil {
				lastErr = fmt.Errorf("kafka: leader of %s: %w", tp, err)
				if !IsRetriable(err) {
					return false, lastErr
				}
				continue
			}
			byLeader[b] = append(byLeader[b], tp)
		}
		for b, tps := range byLeader {
			low, err := c.listOffsets(b, tps, sarama.OffsetOldest, iso)
			if err == nil {
				var high map[TopicPartition]int64
				high, err = c.listOffsets(b, tps, sarama.OffsetNewest, iso)
				if err == nil {
					for _, tp := range tps {
						out[tp] = Watermark{Low: low[tp], High: high[tp]}
						delete(pending, tp)
					}
					continue
				}
			}
			lastErr = err
			if !IsRetriable(err) {
				return false, err
			}
		}
		if len(pending) == 0 {
			return false, nil
		}
		c.refresh(pending)
		return true, lastErr
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listOffsets asks one broker for one offset (OffsetOldest or OffsetNewest)
// of each partition.
func (c *Client) listOffsets(b *sarama.Broker, tps []TopicPartition, which int64, iso sarama.IsolationLevel) (map[TopicPartition]int64, error) {
	req := sarama.NewOffsetRequest(c.conf.Version)
	req.IsolationLevel = iso
	for _, tp := range tps {
		req.AddBlock(tp.Topic, tp.Partition, which, 1)
	}
	resp, err := b.GetAvailableOffsets(req)
	if err != nil {
		_ = b.Close() // sarama reopens it on the next lookup
		return nil, fmt.Errorf("kafka: list offsets on broker %s: %w", b.Addr(), err)
	}
	out := make(map[TopicPartition]int64, len(tps))
	for _, tp := range tps {
		blk := resp.GetBlock(tp.Topic, tp.Partition)
		if blk == nil {
			return nil, fmt.Errorf("kafka: list offsets of %s: %w", tp, sarama.ErrIncompleteResponse)
		}
		if !errors.Is(blk.Err, sarama.ErrNoError) {
			return nil, fmt.Errorf("kafka: list offsets of %s: %w", tp, blk.Err)
		}
		off := blk.Offset
		if req.Version == 0 && len(blk.Offsets) > 0 {
			off = blk.Offsets[0]
		}
		out[tp] = off
	}
	return out, nil
}

// refresh refreshes the metadata of the topics of tps, best effort: the
// retried call reports what is still wrong.
func (c *Client) refresh(tps map[TopicPartition]bool) {
	topics := map[string]bool{}
	for tp := range tps {
		topics[tp.Topic] = true
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	_ = c.sc.RefreshMetadata(names...)
}

// retry runs fn until it succeeds, returns a non-retriable error, or
// maxAttempts attempts or ctx run out, backing off between attempts.
func retry(ctx context.Context, fn func() (retriable bool, err error)) error {
	backoff := retryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			if err != nil {
				return fmt.Errorf("%w (last error: %v)", cerr, err)
			}
			return cerr
		}
		var retriable bool
		retriable, err = fn()
		if err == nil || !retriable {
			return err
		}
		if attempt >= maxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		if werr := sleep(ctx, backoff); werr != nil {
			return fmt.Errorf("%w (last error: %v)", werr, err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
