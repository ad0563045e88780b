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

// eventPartition is one partition's records in an event, in offset order.
type eventPartition struct {
	key     string
	tp      connect.TopicPartition
	records []events.KafkaRecord
}

// handleKafkaEvent writes a Lambda Kafka event through the connector's
// converters, transforms and sink task (Executor.Deliver), and answers with
// the records to retry. The event source mapping keeps the offsets: nothing
// is committed to connect-<name>.
func handleKafkaEvent(ctx context.Context, d Deps, payload []byte) (*KafkaResponse, error) {
	ev, err := parseKafkaEvent(payload)
	if err != nil {
		return nil, err
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
	b, err := decodeKafkaEvent(ev, match, sc.name)
	if err != nil {
		return nil, err
	}
	parts, msgs, decodeFailed := b.parts, b.msgs, b.decodeFailed
	resp := &KafkaResponse{BatchItemFailures: []BatchItemFailure{}}
	if len(parts) == 0 {
		return resp, nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = d.Now().Add(15 * time.Minute)
	}
	l := lease.Lease{ID: fmt.Sprintf("kafka-event-%s-%d", sc.name, d.Now().UnixNano()), Kind: lease.KindSink, Connector: sc.name,
		Epoch: d.Now().UnixNano(), Deadline: deadline, ConnectorConfig: sc.connector, TaskConfig: sc.task}
	res, failedTP := d.Executor.Deliver(ctx, l, msgs)
	if res.Status != lease.Succeeded {
		return nil, &KafkaEventError{Connector: sc.name, Err: fmt.Errorf("%s: %s", res.Status, res.Error)}
	}
	var failed []ItemIdentifier
	var cause error
	for _, ep := range parts {
		f := failedTP[ep.tp]
		if df := decodeFailed[ep.tp]; df != nil && (f == nil || df.Offset < f.Offset) {
			f = df
		}
		if f == nil {
			continue
		}
		failed = append(failed, ItemIdentifier{Partition: ep.key, Offset: f.Offset})
		if cause == nil && f.Err != nil {
			cause = f
		}
	}
	if len(failed) > 0 && !d.ReportBatchItemFailures {
		// Lambda retries the whole batch; what was written before the
		// failure is written again (at least once).
		if cause == nil {
			cause = fmt.Errorf("the task did not make every record durable")
		}
		return nil, &KafkaEventError{Connector: sc.name, Failed: failed, Err: cause}
	}
	for _, id := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, BatchItemFailure{ItemIdentifier: id})
	}
	d.Logger.Info("Kafka event written", "connector", sc.name, "event_source", ev.EventSource, "partitions", len(parts),
		"records", res.Records, "failed", len(failed), "tolerated", res.Errors, "dead_lettered", res.DeadLettered)
	return resp, nil
}

// parseKafkaEvent reads a Lambda Kafka event.
func parseKafkaEvent(payload []byte) (events.KafkaEvent, error) {
	var ev events.KafkaEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, fmt.Errorf("%w: Kafka event: %v", ErrBadRequest, err)
	}
	return ev, nil
}

// kafkaEventBatch is a Kafka event made ready for the sink: its partitions,
// the messages to deliver in partition order, and, by partition, the first
// record that could not be decoded (its partition's messages stop before
// it).
type kafkaEventBatch struct {
	parts        []*eventPartition
	msgs         []kafka.Message
	decodeFailed map[connect.TopicPartition]*lease.RecordError
}

// decodeKafkaEvent groups the event's records by partition (eventPartitions)
// and decodes them. A record Lambda could not have produced (not base64) is
// a failure at its offset; its partition stops there.
func decodeKafkaEvent(ev events.KafkaEvent, match func(string) bool, connector string) (kafkaEventBatch, error) {
	parts, err := eventPartitions(ev, match, connector)
	if err != nil {
		return kafkaEventBatch{}, err
	}
	b := kafkaEventBatch{parts: parts, decodeFailed: map[connect.TopicPartition]*lease.RecordError{}}
	for _, ep := range parts {
		for i := range ep.records {
			m, err := message(&ep.records[i])
			if err != nil {
				b.decodeFailed[ep.tp] = &lease.RecordError{TopicPartition: ep.tp, Offset: m.Offset, Err: err}
				break
			}
			b.msgs = append(b.msgs, m)
		}
	}
	return b, nil
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
		parts = append(parts, &eventPartition{key: key, tp: tp, records: recs})
	}
	return parts, nil
}

// message decodes a record of Lambda's event: base64 key and value, headers
// as byte arrays. An empty key or value is null (Lambda omits both alike).
func message(r *events.KafkaRecord) (kafka.Message, error) {
	m := kafka.Message{Topic: r.Topic, Partition: int32(r.Partition), Offset: r.Offset}
	if ms := r.Timestamp.UnixMilli(); ms > 0 {
		m.Timestamp = time.UnixMilli(ms)
	}
	for _, h := range r.Headers {
		for _, k := range slices.Sorted(maps.Keys(h)) {
			m.Headers = append(m.Headers, kafka.Header{Key: k, Value: []byte(h[k])})
		}
	}
	var err error
	if r.Key != "" {
		if m.Key, err = base64.StdEncoding.DecodeString(r.Key); err != nil {
			return m, fmt.Errorf("key is not base64: %w", err)
		}
	}
	if r.Value != "" {
		if m.Value, err = base64.StdEncoding.DecodeString(r.Value); err != nil {
			return m, fmt.Errorf("value is not base64: %w", err)
		}
	}
	return m, nil
}
