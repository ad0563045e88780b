package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// This file stands in for what package lease does privately for sink
// leases (converters, transformations, the errors.* policy, the dead letter
// queue), for records that come from a Lambda Kafka event instead of
// FetchRange. It is meant to give way to an executor method that runs a
// sink task over given messages (see the package's report).

// pipeline converts and transforms one Kafka event's records for a task.
type pipeline struct {
	d         Deps
	connector string
	log       *slog.Logger

	key, value           connect.Converter
	header               connect.HeaderConverter
	keyClass, valueClass string
	headerClass          string
	chain                *connect.Chain
	policy

	producer *kafka.Producer // dead letters; nil until the first
	// tolerated counts the records skipped under errors.tolerance=all;
	// deadLettered those sent to the dead letter queue.
	tolerated, deadLettered int64
}

// policy is the connector's errors.* configuration.
type policy struct {
	tolerateAll    bool
	logErrors      bool
	logMessages    bool
	dlqTopic       string
	dlqReplication int16
	contextHeaders bool
}

func newPipeline(d Deps, connector string, cfg map[string]string) (*pipeline, error) {
	p := &pipeline{d: d, connector: connector, log: d.Logger.With("connector", connector)}
	var err error
	if p.key, p.keyClass, err = newConverter(d.Plugins, cfg, connect.KeyConverterConfig, connect.DefaultKeyConverter, true); err != nil {
		return nil, err
	}
	if p.value, p.valueClass, err = newConverter(d.Plugins, cfg, connect.ValueConverterConfig, connect.DefaultValueConverter, false); err != nil {
		return nil, err
	}
	class := classOr(cfg, connect.HeaderConverterConfig, connect.DefaultHeaderConverter)
	hp, err := d.Plugins.Lookup(connect.KindHeaderConverter, class)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", connect.HeaderConverterConfig, err)
	}
	p.header, p.headerClass = hp.NewHeaderConverter(), hp.Class
	if err := p.header.Configure(connect.WithPrefix(cfg, connect.HeaderConverterConfig+".")); err != nil {
		return nil, fmt.Errorf("configuring %s %s: %w", connect.HeaderConverterConfig, class, err)
	}
	v, err := connect.CommonConfig().Parse(cfg)
	if err != nil {
		return nil, err
	}
	p.policy = policy{
		tolerateAll:    v.String(connect.ErrorsToleranceConfig) == "all",
		logErrors:      v.Bool(connect.ErrorsLogEnableConfig),
		logMessages:    v.Bool(connect.ErrorsLogIncludeMessagesConfig),
		dlqTopic:       v.String(connect.DLQTopicNameConfig),
		dlqReplication: int16(v.Int(connect.DLQTopicReplicationConfig)),
		contextHeaders: v.Bool(connect.DLQContextHeadersEnableConfig),
	}
	if p.chain, err = d.Plugins.NewChain(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

func newConverter(plugins *connect.Registry, cfg map[string]string, key, def string, isKey bool) (connect.Converter, string, error) {
	class := classOr(cfg, key, def)
	p, err := plugins.Lookup(connect.KindConverter, class)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", key, err)
	}
	c := p.NewConverter()
	if err := c.Configure(connect.WithPrefix(cfg, key+"."), isKey); err != nil {
		return nil, "", fmt.Errorf("configuring %s %s: %w", key, class, err)
	}
	return c, p.Class, nil
}

func classOr(cfg map[string]string, key, def string) string {
	if v := strings.TrimSpace(cfg[key]); v != "" {
		return v
	}
	return def
}

func (p *pipeline) close() {
	_ = p.chain.Close()
	if p.producer != nil {
		_ = p.producer.Close()
	}
}

// failure is one record that failed at one stage.
type failure struct {
	stage lease.Stage
	class string
	err   error
}

func (f *failure) Error() string { return fmt.Sprintf("error in stage %s: %v", f.stage, f.err) }
func (f *failure) Unwrap() error { return f.err }

// sinkRecord converts and transforms m, as a sink lease does. keep=false
// means the chain dropped the record; a *failure is a record that failed.
func (p *pipeline) sinkRecord(m *kafka.Message, tsType connect.TimestampType) (rec connect.SinkRecord, keep bool, err error) {
	part := m.Partition
	rec = connect.SinkRecord{
		Record:        connect.Record{Topic: m.Topic, Partition: &part, Timestamp: m.Timestamp},
		Offset:        m.Offset,
		TimestampType: tsType,
		OriginalTopic: m.Topic, OriginalPartition: m.Partition, OriginalOffset: m.Offset,
	}
	if m.Timestamp.IsZero() {
		rec.TimestampType = connect.NoTimestampType
	}
	if rec.KeySchema, rec.Key, err = p.key.ToConnectData(m.Topic, m.Key); err != nil {
		return rec, false, &failure{stage: lease.StageKeyConverter, class: p.keyClass, err: err}
	}
	if rec.ValueSchema, rec.Value, err = p.value.ToConnectData(m.Topic, m.Value); err != nil {
		return rec, false, &failure{stage: lease.StageValueConverter, class: p.valueClass, err: err}
	}
	if len(m.Headers) > 0 {
		rec.Headers = make(connect.Headers, len(m.Headers))
		for i, h := range m.Headers {
			s, v, err := p.header.ToConnectHeader(m.Topic, h.Key, h.Value)
			if err != nil {
				return rec, false, &failure{stage: lease.StageHeaderConverter, class: p.headerClass, err: fmt.Errorf("header %q: %w", h.Key, err)}
			}
			rec.Headers[i] = connect.Header{Key: h.Key, Schema: s, Value: v}
		}
	}
	if p.chain.Len() == 0 {
		return rec, true, nil
	}
	tr := connect.TransformRecord{Record: rec.Record, KafkaOffset: rec.Offset}
	keep, err = p.chain.Apply(&tr)
	if err != nil {
		f := &failure{stage: lease.StageTransformation, err: err}
		var te *connect.TransformError
		if errors.As(err, &te) {
			f.class = te.Class
		}
		return rec, false, f
	}
	rec.Record = tr.Record
	return rec, keep, nil
}

// handle applies the errors.* policy to a failed record: it logs it, sends
// it to the dead letter queue, and returns nil when errors.tolerance=all
// (the record is skipped) or the error that fails it.
func (p *pipeline) handle(ctx context.Context, m *kafka.Message, f *failure) error {
	if p.logErrors {
		attrs := []any{"stage", f.stage, "class", f.class, "error", f.err, "topic", m.Topic, "partition", m.Partition, "offset", m.Offset}
		if p.logMessages {
			attrs = append(attrs, "key", string(m.Key), "value", string(m.Value))
		}
		p.log.Error("Error encountered in task", attrs...)
	}
	if p.dlqTopic != "" {
		if err := p.deadLetter(ctx, m, f); err != nil {
			return fmt.Errorf("writing to the dead letter queue %s: %w", p.dlqTopic, err)
		}
	}
	if !p.tolerateAll {
		return fmt.Errorf("Tolerance exceeded in error handler: %w", f)
	}
	p.tolerated++
	return nil
}

// deadLetter sends the original record to the dead letter queue, with
// Connect's error context headers when enabled.
func (p *pipeline) deadLetter(ctx context.Context, m *kafka.Message, f *failure) error {
	if p.producer == nil {
		err := p.d.Kafka.EnsureTopic(ctx, kafka.TopicSpec{Name: p.dlqTopic, Partitions: 1, ReplicationFactor: p.dlqReplication})
		if err != nil {
			return err
		}
		if p.producer, err = p.d.Kafka.NewProducer(kafka.ProducerOptions{}); err != nil {
			return err
		}
	}
	dl := kafka.Message{Topic: p.dlqTopic, Partition: -1, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
	dl.Headers = append(dl.Headers, m.Headers...)
	if p.contextHeaders {
		add := func(k, v string) { dl.Headers = append(dl.Headers, kafka.Header{Key: k, Value: []byte(v)}) }
		add(lease.HeaderTopic, m.Topic)
		add(lease.HeaderPartition, strconv.Itoa(int(m.Partition)))
		add(lease.HeaderOffset, strconv.FormatInt(m.Offset, 10))
		add(lease.HeaderConnectorName, p.connector)
		add(lease.HeaderTaskID, "0")
		add(lease.HeaderStage, string(f.stage))
		add(lease.HeaderClassName, f.class)
		add(lease.HeaderExceptionClassName, fmt.Sprintf("%T", f.err))
		add(lease.HeaderExceptionMessage, f.err.Error())
	}
	p.producer.Send(dl)
	p.deadLettered++
	return nil
}

// flush makes the dead letters durable.
func (p *pipeline) flush(ctx context.Context) error {
	if p.producer == nil {
		return nil
	}
	return p.producer.Flush(ctx)
}

// reporter is the errant record reporter the task gets: the record goes
// through the same policy.
type reporter struct{ p *pipeline }

func (r reporter) Report(ctx context.Context, rec *connect.SinkRecord, err error) error {
	m := kafka.Message{Topic: rec.OriginalTopic, Partition: rec.OriginalPartition, Offset: rec.OriginalOffset, Timestamp: rec.Timestamp}
	if k, kerr := r.p.key.FromConnectData(rec.Topic, rec.KeySchema, rec.Key); kerr == nil {
		m.Key = k
	}
	if v, verr := r.p.value.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value); verr == nil {
		m.Value = v
	}
	for _, h := range rec.Headers {
		if b, herr := r.p.header.FromConnectHeader(rec.Topic, h.Key, h.Schema, h.Value); herr == nil {
			m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: b})
		}
	}
	return r.p.handle(ctx, &m, &failure{stage: lease.StageTaskPut, err: err})
}

// taskContext is the sink task's context.
type taskContext struct {
	assignment []connect.TopicPartition
	reporter   reporter
}

func (c taskContext) Assignment() []connect.TopicPartition { return c.assignment }

func (c taskContext) ErrantRecordReporter() connect.ErrantRecordReporter { return c.reporter }
