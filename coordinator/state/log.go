package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// Log is one topic read as a log of keyed records, Kafka Connect's
// KafkaBasedLog. ReadToEnd hands every record, partition by partition in
// offset order, to the consume function given to NewLog, resuming where the
// previous read stopped; Send writes one record with the idempotent, acks=all
// producer, placed by murmur2 of its key as Connect's producer places it.
//
// ReadToEnd calls are serialized and consume runs on the calling goroutine,
// never concurrently with itself. Log is safe for concurrent use. Close it
// before its Client.
type Log struct {
	client     *kafka.Client
	topic      string
	partitions []int32
	prod       *kafka.Producer
	consume    func(kafka.Message)
	logger     *slog.Logger

	readMu sync.Mutex
	next   map[int32]int64 // next offset to read, per partition

	mu     sync.RWMutex // guards closed against Send, Follow and Close
	closed bool
	ctx    context.Context // ended by Close, stops Follow loops
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewLog opens the topic described by spec, creating it if it is missing (an
// existing topic is used as it is). consume is called for each record read;
// it must not call the Log's ReadToEnd. Nothing is read until ReadToEnd.
func NewLog(ctx context.Context, client *kafka.Client, spec kafka.TopicSpec, consume func(kafka.Message), logger *slog.Logger) (*Log, error) {
	if consume == nil {
		return nil, fmt.Errorf("%w: Log of topic %s has no consume function", ErrInvalid, spec.Name)
	}
	if logger == nil {
		logger = slog.Default()
	}
	if err := client.EnsureTopic(ctx, spec); err != nil {
		return nil, err
	}
	parts, err := client.Partitions(ctx, spec.Name)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("state: topic %s has no partitions", spec.Name)
	}
	prod, err := client.NewProducer(kafka.ProducerOptions{Linger: time.Millisecond}) // few, small records; latency counts
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	return &Log{
		client:     client,
		topic:      spec.Name,
		partitions: parts,
		prod:       prod,
		consume:    consume,
		logger:     logger.With("topic", spec.Name),
		next:       make(map[int32]int64, len(parts)),
		ctx:        lctx,
		cancel:     cancel,
	}, nil
}

// Topic returns the topic's name.
func (l *Log) Topic() string { return l.topic }

// Partitions returns the topic's partition count, read when the Log opened.
func (l *Log) Partitions() int { return len(l.partitions) }

// ReadToEnd reads every partition from where the previous read stopped (the
// log start at first) up to the high watermarks taken when it is called, so
// it is bounded and never waits for new records. Records a successful Send
// acknowledged before the call are read. On error, records already handed
// to consume are not read again.
func (l *Log) ReadToEnd(ctx context.Context) error {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	tps := make([]kafka.TopicPartition, len(l.partitions))
	for i, p := range l.partitions {
		tps[i] = kafka.TopicPartition{Topic: l.topic, Partition: p}
	}
	wms, err := l.client.Watermarks(ctx, tps)
	if err != nil {
		return fmt.Errorf("state: read topic %s: %w", l.topic, err)
	}
	for _, tp := range tps {
		wm := wms[tp]
		// Retention or DeleteRecords may have moved the log start past us.
		start := max(l.next[tp.Partition], wm.Low)
		if start >= wm.High {
			continue
		}
		err := l.client.ReadRange(ctx, tp, start, wm.High, 0, func(msgs []kafka.Message) error {
			for _, m := range msgs {
				l.consume(m)
				l.next[tp.Partition] = m.Offset + 1
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("state: read %s: %w", tp, err)
		}
		l.next[tp.Partition] = wm.High
	}
	return nil
}

// Record is a key and a value to Send; a nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Send writes one record (value nil: a tombstone) and returns once every
// in-sync replica has it. It does not read it back: call ReadToEnd.
func (l *Log) Send(ctx context.Context, key, value []byte) error {
	return l.SendAll(ctx, []Record{{Key: key, Value: value}})
}

// SendAt is Send that also returns the record's offset (the lease log
// orders what it reads against what it wrote by offset), with the record's
// headers if any (a tombstone's headers say which record it ends).
func (l *Log) SendAt(ctx context.Context, key, value []byte, headers ...kafka.Header) (int64, error) {
	type ack struct {
		offset int64
		err    error
	}
	done := make(chan ack, 1)
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return 0, ErrClosed
	}
	err := l.prod.SendAck(ctx, kafka.Message{Topic: l.topic, Partition: -1, Key: key, Value: value, Headers: headers},
		func(_ int32, offset int64, err error) { done <- ack{offset, err} })
	l.mu.RUnlock()
	if err != nil {
		return 0, fmt.Errorf("state: write to %s: %w", l.topic, err)
	}
	select {
	case a := <-done:
		if a.err != nil {
			return 0, fmt.Errorf("state: write to %s: %w", l.topic, a.err)
		}
		return a.offset, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("state: write to %s: %w", l.topic, ctx.Err())
	}
}

// SendAll writes records in order and returns once all are acknowledged, or
// with the first failure. Records for one partition are written in the
// order given (the producer is idempotent with one request in flight), as
// Connect's KafkaBasedLog sends a batch of futures.
func (l *Log) SendAll(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	done := make(chan error, len(recs))
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	// A record not sent (ctx ended while the producer was full) stops the
	// batch: the records after it are not sent either, keeping the order.
	sent := 0
	var first error
	for _, r := range recs {
		first = l.prod.SendAck(ctx, kafka.Message{Topic: l.topic, Partition: -1, Key: r.Key, Value: r.Value},
			func(_ int32, _ int64, err error) { done <- err })
		if first != nil {
			break
		}
		sent++
	}
	l.mu.RUnlock()
	for range sent {
		select {
		case err := <-done:
			if err != nil && first == nil {
				first = err
			}
		case <-ctx.Done():
			return fmt.Errorf("state: write to %s: %w", l.topic, ctx.Err())
		}
	}
	if first != nil {
		return fmt.Errorf("state: write to %s: %w", l.topic, first)
	}
	return nil
}

// Follow starts a goroutine that calls ReadToEnd every interval until ctx
// ends or the Log is closed, as a follower tails the log. A failed read is
// logged and retried at the next tick. Close waits for the goroutine.
func (l *Log) Follow(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: follow interval %v is not positive", ErrInvalid, interval)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-l.ctx.Done():
				return
			case <-t.C:
			}
			rctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(l.ctx, cancel)
			err := l.ReadToEnd(rctx)
			stop()
			cancel()
			if err != nil && ctx.Err() == nil && l.ctx.Err() == nil {
				l.logger.Warn("state: following topic failed; retrying", "error", err)
			}
		}
	}()
	return nil
}

// Close stops Follow loops, waits for them and closes the producer. Calls
// after the first return nil.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.cancel()
	l.mu.Unlock()
	l.wg.Wait()
	// Every failed produce was already returned to its sender through its
	// ack; only a failure to close is news.
	var perr *kafka.ProduceError
	if err := l.prod.Close(); err != nil && !errors.As(err, &perr) {
		return fmt.Errorf("state: close log of %s: %w", l.topic, err)
	}
	return nil
}
