package batch

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// KafkaResponse is the answer to a Lambda Kafka event: Lambda's partial
// batch response. An empty BatchItemFailures is a complete success.
type KafkaResponse struct {
	BatchItemFailures []BatchItemFailure `json:"batchItemFailures"`
}

// BatchItemFailure names one failed record.
type BatchItemFailure struct {
	ItemIdentifier ItemIdentifier `json:"itemIdentifier"`
}

// ItemIdentifier is a Kafka record's identifier in a partial batch
// response: its "<topic>-<partition>" (the event's records key) and offset.
// Lambda resumes the partition from the offset.
type ItemIdentifier struct {
	Partition string `json:"partition"`
	Offset    int64  `json:"offset"`
}

// maxPut bounds the records of one Put, as a sink lease's batches.
const maxPut = 500

// eventPartition is one partition's records in an event, in offset order.
type eventPartition struct {
	key     string
	tp      connect.TopicPartition
	records []events.KafkaRecord
	// put are the records converted and kept; next is the offset after
	// the last record handled (put, dropped or tolerated); failed is the
	// offset of the first record that failed, -1 if none.
	put    []connect.SinkRecord
	next   int64
	failed int64
	cause  error
}

func handleKafkaEvent(ctx context.Context, d Deps, payload []byte) (*KafkaResponse, error) {
	var ev events.KafkaEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("%w: Kafka event: %v", ErrBadRequest, err)
	}
	if d.Connector == "" {
		return nil, fmt.Errorf("%w: a Kafka event arrived but no connector is configured to write Kafka events (SLUICE_CONNECTOR)", ErrBadRequest)
	}
	sc, err := loadSink(ctx, d, d.Connector)
	if err != nil {
		return nil, err
	}
	match, err := connect.SinkTopicMatcher(sc.connector)
	if err != nil {
		return nil, fmt.Errorf("%w: connector %s: %w", ErrBadRequest, sc.name, err)
	}
	parts, err := eventPartitions(ev, match, sc.name)
	if err != nil {
		return nil, err
	}
	resp := &KafkaResponse{BatchItemFailures: []BatchItemFailure{}}
	if len(parts) == 0 {
		return resp, nil
	}
	if d.Resolver != nil {
		if sc.connector, err = d.Resolver.Resolve(ctx, sc.connector); err != nil {
			return nil, fmt.Errorf("resolving configuration providers in the connector configuration: %w", err)
		}
		if sc.task, err = d.Resolver.Resolve(ctx, sc.task); err != nil {
			return nil, fmt.Errorf("resolving configuration providers in the task configuration: %w", err)
		}
	}
	p, err := newPipeline(d, sc.name, sc.connector)
	if err != nil {
		return nil, err
	}
	defer p.close()
	log := p.log.With("event_source", ev.EventSource, "event_source_arn", ev.EventSourceARN)

	var failed []ItemIdentifier
	for _, ep := range parts {
		if err := convert(ctx, p, ep); err != nil {
			return nil, err
		}
		if ep.failed >= 0 {
			failed = append(failed, ItemIdentifier{Partition: ep.key, Offset: ep.failed})
		}
	}
	if len(failed) > 0 && !d.ReportBatchItemFailures {
		// Nothing is written: Lambda retries the whole batch.
		return nil, &BatchError{Connector: sc.name, Failed: failed, Err: firstCause(parts)}
	}

	safe, err := write(ctx, p, sc, parts)
	if err != nil {
		return nil, &BatchError{Connector: sc.name, Err: err}
	}
	// Dead letters are part of the output: durable before the answer.
	if err := p.flush(ctx); err != nil {
		return nil, &BatchError{Connector: sc.name, Err: fmt.Errorf("flushing the dead letter queue: %w", err)}
	}
	failed = failed[:0]
	for _, ep := range parts {
		if id, ok := ep.resumeAt(safe); ok {
			failed = append(failed, id)
		}
	}
	if len(failed) > 0 && !d.ReportBatchItemFailures {
		return nil, &BatchError{Connector: sc.name, Failed: failed, Err: fmt.Errorf("the task did not make every record durable")}
	}
	for _, id := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, BatchItemFailure{ItemIdentifier: id})
	}
	log.Info("Kafka event written", "partitions", len(parts), "failed", len(failed), "tolerated", p.tolerated, "dead_lettered", p.deadLettered)
	return resp, nil
}

// eventPartitions groups the event's records by partition, sorted by key
// and offset, and checks that the connector consumes their topics.
func eventPartitions(ev events.KafkaEvent, match func(string) bool, connector string) ([]*eventPartition, error) {
	var parts []*eventPartition
	for _, key := range slices.Sorted(maps.Keys(ev.Records)) {
		recs := ev.Records[key]
		if len(recs) == 0 {
			continue
		}
		tp := connect.TopicPartition{Topic: recs[0].Topic, Partition: int32(recs[0].Partition)}
		for _, r := range recs {
			if r.Topic != tp.Topic || int32(r.Partition) != tp.Partition {
				return nil, fmt.Errorf("%w: Kafka event: records under %q belong to different partitions", ErrBadRequest, key)
			}
		}
		if !match(tp.Topic) {
			return nil, fmt.Errorf("%w: Kafka event holds records of topic %s, which connector %s does not consume", ErrBadRequest, tp.Topic, connector)
		}
		recs = slices.Clone(recs)
		slices.SortStableFunc(recs, func(a, b events.KafkaRecord) int { return cmp.Compare(a.Offset, b.Offset) })
		parts = append(parts, &eventPartition{key: key, tp: tp, records: recs, next: recs[0].Offset, failed: -1})
	}
	return parts, nil
}

// convert converts and transforms a partition's records up to its first
// record that fails without being tolerated.
func convert(ctx context.Context, p *pipeline, ep *eventPartition) error {
	for i := range ep.records {
		r := &ep.records[i]
		m, tsType, f := message(r)
		var rec connect.SinkRecord
		keep := false
		if f == nil {
			var err error
			rec, keep, err = p.sinkRecord(&m, tsType)
			if err != nil {
				f = err.(*failure)
			}
		}
		if f != nil {
			if err := p.handle(ctx, &m, f); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				ep.failed, ep.cause = r.Offset, err
				return nil
			}
		}
		if keep {
			ep.put = append(ep.put, rec)
		}
		ep.next = r.Offset + 1
	}
	return nil
}

// message decodes a record of Lambda's event: base64 key and value, headers
// as byte arrays. An empty key or value is null (Lambda omits both alike).
func message(r *events.KafkaRecord) (kafka.Message, connect.TimestampType, *failure) {
	m := kafka.Message{Topic: r.Topic, Partition: int32(r.Partition), Offset: r.Offset}
	if ms := r.Timestamp.UnixMilli(); ms > 0 {
		m.Timestamp = time.UnixMilli(ms)
	}
	tsType := connect.NoTimestampType
	switch r.TimestampType {
	case "CREATE_TIME":
		tsType = connect.CreateTime
	case "LOG_APPEND_TIME":
		tsType = connect.LogAppendTime
	}
	for _, h := range r.Headers {
		for _, k := range slices.Sorted(maps.Keys(h)) {
			m.Headers = append(m.Headers, kafka.Header{Key: k, Value: []byte(h[k])})
		}
	}
	var err error
	if r.Key != "" {
		if m.Key, err = base64.StdEncoding.DecodeString(r.Key); err != nil {
			return m, tsType, &failure{stage: lease.StageKafkaConsume, err: fmt.Errorf("key is not base64: %w", err)}
		}
	}
	if r.Value != "" {
		if m.Value, err = base64.StdEncoding.DecodeString(r.Value); err != nil {
			return m, tsType, &failure{stage: lease.StageKafkaConsume, err: fmt.Errorf("value is not base64: %w", err)}
		}
	}
	return m, tsType, nil
}

// write runs the sink task over the converted records, as a sink lease
// does, and returns the offsets PreCommit says are durable.
func write(ctx context.Context, p *pipeline, sc *sinkConfig, parts []*eventPartition) (safe map[connect.TopicPartition]int64, err error) {
	assignment := make([]connect.TopicPartition, len(parts))
	current := make(map[connect.TopicPartition]int64, len(parts))
	for i, ep := range parts {
		assignment[i] = ep.tp
		current[ep.tp] = ep.next
	}
	task := sc.plugin.NewSinkTask()
	if err := task.Start(ctx, taskContext{assignment: assignment, reporter: reporter{p}}, sc.task); err != nil {
		_ = task.Stop()
		return nil, fmt.Errorf("starting task: %w", err)
	}
	defer func() {
		if serr := task.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping task: %w", serr)
		}
	}()
	if o, ok := task.(connect.PartitionOpener); ok {
		if err := o.Open(ctx, assignment); err != nil {
			return nil, fmt.Errorf("opening partitions: %w", err)
		}
		defer func() {
			if cerr := o.Close(ctx, assignment); cerr != nil && err == nil {
				err = fmt.Errorf("closing partitions: %w", cerr)
			}
		}()
	}
	for _, ep := range parts {
		for recs := ep.put; len(recs) > 0; {
			n := min(len(recs), maxPut)
			if err := put(ctx, p, task, recs[:n]); err != nil {
				return nil, err
			}
			recs = recs[n:]
		}
		ep.put = nil
	}
	switch t := task.(type) {
	case connect.PreCommitter:
		if safe, err = t.PreCommit(ctx, current); err != nil {
			return nil, fmt.Errorf("pre-commit: %w", err)
		}
		return safe, nil
	case connect.Flusher:
		if err := t.Flush(ctx, current); err != nil {
			return nil, fmt.Errorf("flush: %w", err)
		}
	}
	return current, nil
}

// put hands a batch to the task, offering it again while the task says the
// error is retriable, with backoff, until ctx ends.
func put(ctx context.Context, p *pipeline, task connect.SinkTask, batch []connect.SinkRecord) error {
	backoff := 100 * time.Millisecond
	for {
		err := task.Put(ctx, batch)
		if err == nil {
			return nil
		}
		if !connect.IsRetriable(err) {
			return &lease.StageError{Stage: lease.StageTaskPut, Err: err}
		}
		p.log.Warn("retriable error from Put; retrying the batch", "error", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return &lease.StageError{Stage: lease.StageTaskPut, Err: err}
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// resumeAt returns where Lambda must resume the partition: its first
// failed record, or the first record the task did not make durable.
func (ep *eventPartition) resumeAt(safe map[connect.TopicPartition]int64) (ItemIdentifier, bool) {
	resume := ep.failed
	if resume < 0 {
		resume = ep.next
	}
	if s, ok := safe[ep.tp]; !ok {
		resume = ep.records[0].Offset
	} else if s < resume {
		resume = s
	}
	// Lambda accepts only offsets of the event's records.
	for _, r := range ep.records {
		if r.Offset >= resume && (ep.failed >= 0 || r.Offset < ep.next) {
			return ItemIdentifier{Partition: ep.key, Offset: r.Offset}, true
		}
	}
	return ItemIdentifier{}, false
}

func firstCause(parts []*eventPartition) error {
	for _, ep := range parts {
		if ep.cause != nil {
			return ep.cause
		}
	}
	return nil
}
