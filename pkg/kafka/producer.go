package kafka

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/IBM/sarama"
)

// Compression is a produce compression codec (Java compression.type).
type Compression int8

// Compression codecs.
const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionSnappy
	CompressionLZ4
	CompressionZstd
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int8(c))
}

func (c Compression) codec() (sarama.CompressionCodec, error) {
	switch c {
	case CompressionNone:
		return sarama.CompressionNone, nil
	case CompressionGzip:
		return sarama.CompressionGZIP, nil
	case CompressionSnappy:
		return sarama.CompressionSnappy, nil
	case CompressionLZ4:
		return sarama.CompressionLZ4, nil
	case CompressionZstd:
		return sarama.CompressionZSTD, nil
	}
	return 0, fmt.Errorf("kafka: unknown compression %d", int8(c))
}

// ProducerOptions tune a Producer. The zero value is a good default.
type ProducerOptions struct {
	// Compression compresses record batches (Java compression.type).
	// Default CompressionNone.
	Compression Compression
	// Linger is how long a batch may wait for more records before it is
	// sent (Java linger.ms). Default 5ms.
	Linger time.Duration
	// BatchBytes sends a batch to a broker as soon as it holds this many
	// bytes (akin to Java batch.size, but per broker request). Default 1 MiB.
	BatchBytes int
	// MaxMessageBytes is the largest request the producer builds (Java
	// max.request.size). Default 1000000, below the broker's default
	// message.max.bytes.
	MaxMessageBytes int
	// Retries is how often a failed produce is retried before the error is
	// reported (Java retries, bounded here by count instead of
	// delivery.timeout.ms). Default 30, with backoff growing from 100ms to 2s.
	Retries int
	// TransactionalID makes the producer transactional (Java
	// transactional.id): NewProducer calls InitProducerID with it, which
	// fences every older producer of the same id (its open transaction is
	// aborted, its later produces and commits fail with an error for which
	// IsFenced is true). Records are then sent between BeginTxn and
	// CommitTxn or AbortTxn. Empty: an idempotent producer without
	// transactions.
	TransactionalID string
	// TransactionTimeout is how long the broker lets a transaction stay
	// open before it aborts it (Java transaction.timeout.ms). Default 1
	// minute; the broker caps it (transaction.max.timeout.ms, 15 minutes).
	TransactionTimeout time.Duration
}

func (o ProducerOptions) withDefaults() (ProducerOptions, error) {
	if _, err := o.Compression.codec(); err != nil {
		return o, err
	}
	if o.Linger < 0 {
		return o, fmt.Errorf("kafka: ProducerOptions.Linger %v is negative", o.Linger)
	}
	if o.Linger == 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.BatchBytes < 0 {
		return o, fmt.Errorf("kafka: ProducerOptions.BatchBytes %d is negative", o.BatchBytes)
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = 1 << 20
	}
	if o.MaxMessageBytes < 0 {
		return o, fmt.Errorf("kafka: ProducerOptions.MaxMessageBytes %d is negative", o.MaxMessageBytes)
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = 1000000
	}
	if o.Retries < 0 {
		return o, fmt.Errorf("kafka: ProducerOptions.Retries %d is negative", o.Retries)
	}
	if o.Retries == 0 {
		o.Retries = 30
	}
	if o.TransactionTimeout < 0 {
		return o, fmt.Errorf("kafka: ProducerOptions.TransactionTimeout %v is negative", o.TransactionTimeout)
	}
	if o.TransactionTimeout == 0 {
		o.TransactionTimeout = time.Minute
	}
	return o, nil
}

// Producer is an idempotent, acks=all asynchronous producer (Java
// enable.idempotence=true, acks=all, max.in.flight.requests.per.connection=1).
// Send enqueues, Flush waits for acknowledgements. It has its own broker
// connections, separate from its Client's. Producer is safe for concurrent
// use; Close it before closing its Client.
type Producer struct {
	txnID string // TransactionalID; empty when not transactional
	sc    sarama.Client
	ap    sarama.AsyncProducer
	pool  sync.Pool // *pooledMessage, recycled once acknowledged
	done  sync.WaitGroup

	// closeMu guards sends on ap.Input against Close.
	closeMu sync.RWMutex
	closed  bool

	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed when inflight drops to zero
	firstErr error         // first failure since the last Flush
}

// NewProducer starts a producer.
func (c *Client) NewProducer(opts ProducerOptions) (*Producer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	conf := c.cfg.saramaConfig()
	// A producer needs metadata only for the topics it writes to.
	conf.Metadata.Full = false
	conf.Producer.Idempotent = true
	conf.Producer.RequiredAcks = sarama.WaitForAll
	conf.Net.MaxOpenRequests = 1 // sarama requires it for idempotence
	conf.Producer.Retry.Max = opts.Retries
	conf.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		return min(retryBackoff<<min(retries, 5), maxBackoff)
	}
	conf.Producer.Return.Successes = true
	conf.Producer.Return.Errors = true
	conf.Producer.Partitioner = newJavaPartitioner
	conf.Producer.Compression, _ = opts.Compression.codec()
	conf.Producer.Flush.Frequency = opts.Linger
	conf.Producer.Flush.Bytes = opts.BatchBytes
	conf.Producer.MaxMessageBytes = opts.MaxMessageBytes
	conf.ChannelBufferSize = 4096
	if opts.TransactionalID != "" {
		conf.Producer.Transaction.ID = opts.TransactionalID
		conf.Producer.Transaction.Timeout = opts.TransactionTimeout
		// InitProducerID is retried while the broker still completes the
		// fenced producer's transaction (CONCURRENT_TRANSACTIONS).
		conf.Producer.Transaction.Retry.Max = 100
		conf.Producer.Transaction.Retry.Backoff = 50 * time.Millisecond
		// A fenced producer's records are retried until they run out of
		// retries, and Close waits for them: fewer retries end a zombie
		// within seconds. A transaction whose records fail is aborted and
		// its lease retried, so nothing is lost.
		conf.Producer.Retry.Max = min(opts.Retries, 5)
	}

	// A background context: the client lives as long as the producer, and
	// its bootstrap is bounded by the network timeouts.
	sc, err := newSaramaClient(context.Background(), c.cfg, conf)
	if err != nil {
		return nil, err
	}
	ap, err := sarama.NewAsyncProducerFromClient(sc)
	if err != nil {
		_ = sc.Close()
		if opts.TransactionalID != "" {
			return nil, fmt.Errorf("kafka: start transactional producer %s (InitProducerID): %w", opts.TransactionalID, err)
		}
		return nil, fmt.Errorf("kafka: start producer: %w", err)
	}
	p := &Producer{sc: sc, ap: ap, txnID: opts.TransactionalID}
	p.pool.New = func() any { return new(pooledMessage) }
	p.done.Add(2)
	go func() {
		defer p.done.Done()
		for m := range ap.Successes() {
			p.finish(m, nil)
		}
	}()
	go func() {
		defer p.done.Done()
		for e := range ap.Errors() {
			p.finish(e.Msg, &ProduceError{Topic: e.Msg.Topic, Partition: e.Msg.Partition, Err: e.Err})
		}
	}()
	return p, nil
}

// Ack is told where a message was written, or why it was not. It runs on
// the producer's goroutine before the message counts as finished for Flush,
// so what it records is visible to the caller once Flush returns.
type Ack func(partition int32, offset int64, err error)

// Send enqueues m. A negative m.Partition lets the partitioner choose (murmur2
// of the key as Java does, round-robin for nil keys). Send blocks only while
// the producer's buffers are full, and then at most until ctx ends. Failures
// to deliver are reported by Flush or Close. m's byte slices must not be
// modified until Flush returns.
//
// Send returns an error when m was not enqueued: the producer is closed, or
// ctx ended while the buffers were full. Flush reports that failure too, so
// a nil Flush still means every message sent since the last one was
// acknowledged.
func (p *Producer) Send(ctx context.Context, m Message) error { return p.SendAck(ctx, m, nil) }

// SendAck is Send that also calls ack (if not nil) once the message is
// acknowledged or has failed. ack is not called for a message Send did not
// enqueue.
func (p *Producer) SendAck(ctx context.Context, m Message, ack Ack) error {
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed {
		return p.notSent(&ProduceError{Topic: m.Topic, Partition: m.Partition, Err: ErrProducerClosed})
	}

	w := p.pool.Get().(*pooledMessage)
	w.ack = ack
	pm := &w.msg
	*pm = sarama.ProducerMessage{Topic: m.Topic, Partition: m.Partition, Timestamp: m.Timestamp, Metadata: w}
	if m.Partition < 0 {
		pm.Partition = -1
	}
	// A nil Encoder, not an empty one, is what makes a null key or value.
	if m.Key != nil {
		w.key = m.Key
		pm.Key = &w.key
	}
	if m.Value != nil {
		w.value = m.Value
		pm.Value = &w.value
	}
	if len(m.Headers) > 0 {
		if len(m.Headers) <= len(w.headers) {
			pm.Headers = w.headers[:len(m.Headers)]
		} else {
			pm.Headers = make([]sarama.RecordHeader, len(m.Headers))
		}
		for i, h := range m.Headers {
			// sarama only reads a header's key: it may share the string's bytes.
			pm.Headers[i] = sarama.RecordHeader{Key: unsafe.Slice(unsafe.StringData(h.Key), len(h.Key)), Value: h.Value}
		}
	}

	p.mu.Lock()
	if p.inflight == 0 {
		p.idle = make(chan struct{})
	}
	p.inflight++
	p.mu.Unlock()

	// A send that does not block (the usual case) skips the two-way
	// select, which cost more than the send itself.
	select {
	case p.ap.Input() <- pm:
		return nil
	default:
	}
	select {
	case p.ap.Input() <- pm:
		return nil
	case <-ctx.Done():
	}
	// Not enqueued: it no longer counts as in flight.
	w.reset()
	p.pool.Put(w)
	p.mu.Lock()
	p.inflight--
	if p.inflight == 0 {
		close(p.idle)
	}
	p.mu.Unlock()
	return p.notSent(&ProduceError{Topic: m.Topic, Partition: m.Partition, Err: fmt.Errorf("not sent: %w", ctx.Err())})
}

// notSent records err, a message Send did not enqueue, for Flush, and
// returns it.
func (p *Producer) notSent(err error) error {
	p.mu.Lock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.mu.Unlock()
	return err
}

func (p *Producer) finish(m *sarama.ProducerMessage, err error) {
	w, _ := m.Metadata.(*pooledMessage)
	if w != nil && w.ack != nil {
		w.ack(m.Partition, m.Offset, err)
	}
	p.mu.Lock()
	if err != nil && p.firstErr == nil {
		p.firstErr = err
	}
	p.inflight--
	if p.inflight == 0 {
		close(p.idle)
	}
	p.mu.Unlock()
	if w != nil {
		w.reset()
		p.pool.Put(w)
	}
}

// pooledMessage is a message handed to sarama with what it points to:
// its key and value encoders and up to four headers live in it rather
// than in an allocation each (seven a record with four headers). msg's
// Metadata points back to it.
type pooledMessage struct {
	msg        sarama.ProducerMessage
	ack        Ack
	key, value bytesEncoder
	headers    [4]sarama.RecordHeader
}

func (w *pooledMessage) reset() {
	w.msg = sarama.ProducerMessage{}
	w.ack = nil
	w.key, w.value = nil, nil
	clear(w.headers[:])
}

// bytesEncoder is sarama.ByteEncoder used through a pointer, which an
// interface holds without an allocation.
type bytesEncoder []byte

func (b *bytesEncoder) Encode() ([]byte, error) { return *b, nil }
func (b *bytesEncoder) Length() int             { return len(*b) }

// Flush waits until every message sent so far (and any sent concurrently)
// is acknowledged or has failed, and returns the first failure since the
// previous Flush, a *ProduceError naming topic and partition. If ctx ends
// first, Flush returns ctx's error and the messages stay in flight.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	idle, n := p.idle, p.inflight
	p.mu.Unlock()
	if n > 0 {
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("kafka: flush with %d messages in flight: %w", n, ctx.Err())
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.firstErr
	p.firstErr = nil
	return err
}

// Close sends what is buffered, waits for it, closes the producer's
// connections and returns the first failure not yet reported by Flush.
// Messages sent after Close fail with ErrProducerClosed.
func (p *Producer) Close() error {
	p.closeMu.Lock()
	if p.closed {
		p.closeMu.Unlock()
		return nil
	}
	p.closed = true
	p.closeMu.Unlock()

	p.ap.AsyncClose()
	p.done.Wait() // both result channels are closed once everything is answered
	cerr := p.sc.Close()

	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.firstErr
	p.firstErr = nil
	if err == nil && cerr != nil {
		err = fmt.Errorf("kafka: close producer: %w", cerr)
	}
	return err
}
