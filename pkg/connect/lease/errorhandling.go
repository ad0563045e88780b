package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// The dead letter queue's error context headers, as Connect's
// DeadLetterQueueReporter writes them.
const (
	HeaderPrefix               = "__connect.errors."
	HeaderTopic                = HeaderPrefix + "topic"
	HeaderPartition            = HeaderPrefix + "partition"
	HeaderOffset               = HeaderPrefix + "offset"
	HeaderConnectorName        = HeaderPrefix + "connector.name"
	HeaderTaskID               = HeaderPrefix + "task.id"
	HeaderStage                = HeaderPrefix + "stage"
	HeaderClassName            = HeaderPrefix + "class.name"
	HeaderExceptionClassName   = HeaderPrefix + "exception.class.name"
	HeaderExceptionMessage     = HeaderPrefix + "exception.message"
	HeaderExceptionStacktrace  = HeaderPrefix + "exception.stacktrace"
	HeaderSourcePartition      = HeaderPrefix + "source.partition"
	HeaderSourceOffset         = HeaderPrefix + "source.offset"
	retryInitialDelay          = 300 * time.Millisecond
	errToleranceExceededPrefix = "Tolerance exceeded in error handler"
)

// policy is a connector's errors.* configuration (Connect's
// RetryWithToleranceOperator and reporters).
type policy struct {
	tolerateAll    bool
	retryTimeout   time.Duration // negative: retry until the lease's time limit
	maxDelay       time.Duration
	logErrors      bool
	logMessages    bool
	dlqTopic       string
	dlqReplication int16
	contextHeaders bool
}

func parsePolicy(cfg map[string]string) (policy, error) {
	v, err := connect.CommonConfig().Parse(cfg)
	if err != nil {
		return policy{}, err
	}
	p := policy{
		tolerateAll:    v.String(connect.ErrorsToleranceConfig) == "all",
		retryTimeout:   time.Duration(v.Long(connect.ErrorsRetryTimeoutConfig)) * time.Millisecond,
		maxDelay:       time.Duration(v.Long(connect.ErrorsRetryMaxDelayConfig)) * time.Millisecond,
		logErrors:      v.Bool(connect.ErrorsLogEnableConfig),
		logMessages:    v.Bool(connect.ErrorsLogIncludeMessagesConfig),
		dlqTopic:       v.String(connect.DLQTopicNameConfig),
		dlqReplication: int16(v.Int(connect.DLQTopicReplicationConfig)),
		contextHeaders: v.Bool(connect.DLQContextHeadersEnableConfig),
	}
	if v.Long(connect.ErrorsRetryTimeoutConfig) < 0 {
		p.retryTimeout = -1
	}
	return p, nil
}

// failure is one record that failed at one stage.
type failure struct {
	stage Stage
	// class is the class of the plugin that failed (converter,
	// transformation or task), Connect's __connect.errors.class.name.
	class string
	err   error
	// msg is the record as it was (sinks) or is best rendered (sources) in
	// Kafka; src is the source record for source failures.
	msg *kafka.Message
	src *connect.SourceRecord
}

// errorHandler applies a lease's policy: it retries retriable failures,
// logs, sends to the dead letter queue and decides whether to go on.
type errorHandler struct {
	r *run
	policy
	// producer carries dead letter records; a source lease shares its own.
	producer    *kafka.Producer
	ownProducer bool
	dlqReady    bool
	fallback    connect.Converter // renders source records for the DLQ
	mu          sync.Mutex        // guards counters touched by producer acks
}

func newErrorHandler(r *run, p policy, producer *kafka.Producer) *errorHandler {
	return &errorHandler{r: r, policy: p, producer: producer}
}

// retry runs op until it succeeds, fails with an error that is not
// retriable, or errors.retry.timeout (bounded by the lease's poll limit)
// has passed, with exponential backoff from 300 ms up to
// errors.retry.delay.max.ms plus jitter, as Connect's operator.
func (h *errorHandler) retry(ctx context.Context, op func() error) error {
	if h.retryTimeout == 0 {
		// No retries (errors.retry.timeout=0, the default): a record's
		// conversion or transformation runs once, and the clock is not
		// read for it (a time.Now per record was 2% of an ingest's CPU).
		return op()
	}
	var start time.Time
	if h.retryTimeout > 0 {
		start = h.r.e.opts.Now() // the timeout counts from the first attempt, as Connect's
	}
	delay := retryInitialDelay
	for {
		err := op()
		if err == nil || !connect.IsRetriable(err) {
			return err
		}
		now := h.r.e.opts.Now()
		if h.retryTimeout > 0 && now.Sub(start) >= h.retryTimeout {
			return err
		}
		wait := delay
		if h.maxDelay > 0 && wait >= h.maxDelay {
			wait = h.maxDelay + time.Duration(rand.Int64N(int64(h.maxDelay/10)+1))
		}
		if h.retryTimeout > 0 {
			wait = min(wait, start.Add(h.retryTimeout).Sub(now))
		}
		if !now.Add(wait).Before(h.r.pollUntil) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}

// handle reports a failed record (log, dead letter queue) and returns nil
// when the policy tolerates it (the record is skipped), or the error that
// fails the lease ("Tolerance exceeded in error handler", as Connect).
func (h *errorHandler) handle(ctx context.Context, f failure) error {
	h.log(f)
	if connect.IsIntolerable(f.err) {
		// A misconfiguration (refused credentials), not a bad record: no
		// record is skipped or dead-lettered for it, whatever
		// errors.tolerance says, and nothing is committed.
		err := f.err
		if se := (*StageError)(nil); !errors.As(err, &se) {
			err = &StageError{Stage: f.stage, Err: err}
		}
		return err
	}
	if h.dlqTopic != "" {
		if err := h.deadLetter(ctx, f); err != nil {
			return fmt.Errorf("writing to the dead letter queue %s: %w", h.dlqTopic, err)
		}
	}
	if !h.tolerateAll {
		err := f.err
		if se := (*StageError)(nil); !errors.As(err, &se) {
			err = &StageError{Stage: f.stage, Err: err}
		}
		return fmt.Errorf("%s: %w", errToleranceExceededPrefix, err)
	}
	h.mu.Lock()
	h.r.res.Errors++
	h.mu.Unlock()
	return nil
}

func (h *errorHandler) log(f failure) {
	if !h.logErrors {
		return
	}
	attrs := []any{"stage", f.stage, "class", f.class, "error", f.err}
	if f.msg != nil && f.src == nil {
		attrs = append(attrs, "topic", f.msg.Topic, "partition", f.msg.Partition, "offset", f.msg.Offset)
	}
	if f.src != nil {
		attrs = append(attrs, "topic", f.src.Topic, "source_partition", f.src.SourcePartition, "source_offset", f.src.Offset())
	}
	if h.logMessages {
		if f.src != nil {
			attrs = append(attrs, "key", fmt.Sprint(f.src.Key), "value", fmt.Sprint(f.src.Value))
		} else if f.msg != nil {
			attrs = append(attrs, "key", string(f.msg.Key), "value", string(f.msg.Value))
		}
	}
	h.r.log.Error("Error encountered in task", attrs...)
}

// deadLetter sends the failed record to the dead letter queue: for sinks
// the original Kafka record, for sources the record rendered as schemaless
// JSON with its source partition and offset in headers, plus Connect's
// error context headers when enabled.
func (h *errorHandler) deadLetter(ctx context.Context, f failure) error {
	if err := h.ensureDLQ(ctx); err != nil {
		return err
	}
	m := kafka.Message{Topic: h.dlqTopic, Partition: -1}
	var headers []kafka.Header
	if f.src == nil && f.msg != nil {
		m.Key, m.Value, m.Timestamp = f.msg.Key, f.msg.Value, f.msg.Timestamp
		headers = append(headers, f.msg.Headers...)
	}
	if f.src != nil {
		m.Key, m.Value, m.Timestamp = h.render(f.src.Topic, f.src.Key), h.render(f.src.Topic, f.src.Value), f.src.Timestamp
		part, _ := offsets.EncodeValue(f.src.SourcePartition)
		off, _ := offsets.EncodeValue(f.src.Offset())
		headers = append(headers, kafka.Header{Key: HeaderSourcePartition, Value: part}, kafka.Header{Key: HeaderSourceOffset, Value: off})
	}
	if h.contextHeaders {
		headers = append(headers, h.contextHeaderList(f)...)
	}
	m.Headers = headers
	if err := h.producer.Send(ctx, m); err != nil {
		return err
	}
	h.mu.Lock()
	h.r.res.DeadLettered++
	h.mu.Unlock()
	return nil
}

func (h *errorHandler) contextHeaderList(f failure) []kafka.Header {
	add := func(hs []kafka.Header, k, v string) []kafka.Header {
		return append(hs, kafka.Header{Key: k, Value: []byte(v)})
	}
	var hs []kafka.Header
	switch {
	case f.src != nil:
		hs = add(hs, HeaderTopic, f.src.Topic)
	case f.msg != nil:
		hs = add(hs, HeaderTopic, f.msg.Topic)
		hs = add(hs, HeaderPartition, strconv.Itoa(int(f.msg.Partition)))
		hs = add(hs, HeaderOffset, strconv.FormatInt(f.msg.Offset, 10))
	}
	hs = add(hs, HeaderConnectorName, h.r.lease.Connector)
	hs = add(hs, HeaderTaskID, strconv.Itoa(h.r.lease.Task))
	hs = add(hs, HeaderStage, string(f.stage))
	hs = add(hs, HeaderClassName, f.class)
	cause := f.err
	for u := errors.Unwrap(cause); u != nil; u = errors.Unwrap(cause) {
		if _, isStage := cause.(*StageError); !isStage {
			if _, isTransform := cause.(*transforms.Error); !isTransform {
				break
			}
		}
		cause = u
	}
	hs = add(hs, HeaderExceptionClassName, fmt.Sprintf("%T", cause))
	hs = add(hs, HeaderExceptionMessage, cause.Error())
	hs = add(hs, HeaderExceptionStacktrace, trace(f.err, ""))
	return hs
}

// render serialises a source record's key or value as schemaless JSON for
// the dead letter queue; a value even that cannot render becomes its Go
// representation.
func (h *errorHandler) render(topic string, v any) []byte {
	if v == nil {
		return nil
	}
	if h.fallback == nil {
		if p, err := h.r.e.plugins.Lookup(connect.KindConverter, "org.apache.kafka.connect.json.JsonConverter"); err == nil {
			c := p.NewConverter()
			if c.Configure(map[string]string{"schemas.enable": "false"}, false) == nil {
				h.fallback = c
			}
		}
	}
	if h.fallback != nil {
		if b, err := h.fallback.FromConnectData(topic, nil, v); err == nil {
			return b
		}
	}
	return fmt.Appendf(nil, "%v", v)
}

// ensureDLQ creates the dead letter queue topic if it is missing (one
// partition, errors.deadletterqueue.topic.replication.factor, as Connect)
// and a producer for it if the lease has none.
func (h *errorHandler) ensureDLQ(ctx context.Context) error {
	if h.dlqReady {
		return nil
	}
	err := h.r.e.kafka.EnsureTopic(ctx, kafka.TopicSpec{Name: h.dlqTopic, Partitions: 1, ReplicationFactor: h.dlqReplication})
	if err != nil {
		return err
	}
	if h.producer == nil {
		if h.producer, err = h.r.e.kafka.NewProducer(h.r.e.opts.Producer); err != nil {
			return err
		}
		h.ownProducer = true
	}
	h.dlqReady = true
	return nil
}

// flush makes the dead letter records durable; offsets are committed only
// after it (rule 1). A source lease's shared producer is flushed with its
// records instead.
func (h *errorHandler) flush(ctx context.Context) error {
	if !h.ownProducer {
		return nil
	}
	return h.producer.Flush(ctx)
}

func (h *errorHandler) close() {
	if h.ownProducer {
		_ = h.producer.Close()
	}
}

// reporter is the errant record reporter a sink task gets.
type reporter struct {
	h    *errorHandler
	conv *converters
	// class is the task's connector class, reported as class.name.
	class string
}

// Report sends a record the task could not write through the error
// handling policy. The record is serialised again with the lease's
// converters, as Connect's WorkerErrantRecordReporter does; a key or value
// the lease left undecoded for the task (connect.RawValue) is decoded
// first, so the dead letter is the one the task would have reported
// without that.
func (rp *reporter) Report(ctx context.Context, rec *connect.SinkRecord, err error) error {
	m := kafka.Message{Topic: rec.OriginalTopic, Partition: rec.OriginalPartition, Offset: rec.OriginalOffset, Timestamp: rec.Timestamp}
	m.Key = reserialize(rp.conv.key, rec.Topic, rec.KeySchema, rec.Key)
	m.Value = reserialize(rp.conv.value, rec.Topic, rec.ValueSchema, rec.Value)
	for _, hd := range rec.Headers {
		if b, herr := rp.conv.header.FromConnectHeader(rec.Topic, hd.Key, hd.Schema, hd.Value); herr == nil {
			m.Headers = append(m.Headers, kafka.Header{Key: hd.Key, Value: b})
		}
	}
	return rp.h.handle(ctx, failure{stage: StageTaskPut, class: rp.class, err: err, msg: &m})
}

// reserialize returns v serialised by conv, nil when conv cannot; a
// *connect.RawValue is decoded first.
func reserialize(conv connect.Converter, topic string, s *data.Schema, v any) []byte {
	if raw, ok := v.(*connect.RawValue); ok {
		var err error
		if s, v, err = raw.Decode(); err != nil {
			return nil
		}
	}
	b, err := conv.FromConnectData(topic, s, v)
	if err != nil {
		return nil
	}
	return b
}
