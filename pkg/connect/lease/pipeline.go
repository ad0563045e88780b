// The stages one record passes through between Kafka and a task: the
// converters, the transformation chain, both under the connector's error
// policy (errorhandling.go).

package lease

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// stages is what a lease needs to move one record between Kafka and the
// task: converters, the transformation chain and the error policy.
type stages struct {
	conv  *converters
	chain *transforms.Chain
	h     *errorHandler
}

// newStages builds a lease's converters, chain and error handler from the
// connector configuration. producer carries dead letter records (nil: the
// handler makes one when first needed).
func (r *run) newStages(producer *kafka.Producer) (*stages, error) {
	cfg := r.lease.ConnectorConfig
	conv, err := newConverters(r.e.plugins, cfg)
	if err != nil {
		return nil, err
	}
	pol, err := parsePolicy(cfg)
	if err != nil {
		return nil, err
	}
	chain, err := transforms.NewChain(r.e.plugins, cfg)
	if err != nil {
		return nil, err
	}
	return &stages{conv: conv, chain: chain, h: newErrorHandler(r, pol, producer)}, nil
}

func (s *stages) close() {
	_ = s.chain.Close()
	s.h.close()
}

// transform runs rec through the chain with the error policy. It returns
// keep=false for a record the chain dropped or whose failure was tolerated,
// and an error only when the lease must fail. fail describes the record for
// the error handler.
func (s *stages) transform(ctx context.Context, rec *connect.TransformRecord, fail failure) (keep bool, err error) {
	if s.chain.Len() == 0 {
		return true, nil
	}
	orig := *rec
	err = s.h.retry(ctx, func() error {
		*rec = orig
		var aerr error
		keep, aerr = s.chain.Apply(rec)
		return aerr
	})
	if err == nil {
		return keep, nil
	}
	fail.stage, fail.err = StageTransformation, err
	var te *transforms.Error
	if errors.As(err, &te) {
		fail.class = te.Class
	}
	return false, s.h.handle(ctx, fail)
}

// toMessage serialises a source record with the error policy; ok=false
// means the failure was tolerated and the record is skipped.
func (s *stages) toMessage(ctx context.Context, rec *connect.SourceRecord) (msg kafka.Message, ok bool, err error) {
	err = s.h.retry(ctx, func() error {
		var cerr error
		msg, cerr = s.conv.toMessage(rec)
		return cerr
	})
	if err == nil {
		return msg, true, nil
	}
	if connect.IsRetriable(err) {
		return msg, false, err // as in toSinkRecord
	}
	return msg, false, s.h.handle(ctx, s.convFailure(err, failure{src: rec}))
}

// toSinkRecord deserialises a Kafka message with the error policy; ok=false
// means the failure was tolerated and the record is skipped.
func (s *stages) toSinkRecord(ctx context.Context, m *kafka.Message) (rec connect.SinkRecord, ok bool, err error) {
	err = s.h.retry(ctx, func() error {
		var cerr error
		rec, cerr = s.conv.toSinkRecord(m)
		return cerr
	})
	if err == nil {
		return rec, true, nil
	}
	if connect.IsRetriable(err) {
		// Still failing after errors.retry.timeout, and retriable (a schema
		// registry that cannot be reached): the lease fails, retriably,
		// with nothing committed; the record is neither skipped nor sent
		// to the dead letter queue, whatever errors.tolerance says.
		return rec, false, err
	}
	return rec, false, s.h.handle(ctx, s.convFailure(err, failure{msg: m}))
}

func (s *stages) convFailure(err error, f failure) failure {
	f.err, f.stage = err, StageValueConverter
	var se *StageError
	if errors.As(err, &se) {
		f.stage = se.Stage
	}
	f.class = s.conv.class(f.stage)
	return f
}

// converters are one lease's configured key, value and header converters.
type converters struct {
	key, value                     connect.Converter
	header                         connect.HeaderConverter
	keyClass, valueClass, hdrClass string
	// raw and rawKey, when set, are the value and key converters'
	// RawCheckers: toSinkRecord leaves the values (keys) they accept
	// undecoded, as *connect.RawValue from rawValues (see rawCheckers).
	raw, rawKey connect.RawChecker
	rawValues   []connect.RawValue
}

// rawValue returns a RawValue of b for conv: one of a block allocated
// once for many records (each is garbage once its Put is done).
func (c *converters) rawValue(topic string, b []byte, conv connect.Converter) *connect.RawValue {
	if len(c.rawValues) == 0 {
		c.rawValues = make([]connect.RawValue, 256)
	}
	v := &c.rawValues[0]
	c.rawValues = c.rawValues[1:]
	*v = connect.RawValue{Topic: topic, Bytes: b, Converter: conv}
	return v
}

// class returns the class of the converter a stage uses.
func (c *converters) class(s Stage) string {
	switch s {
	case StageKeyConverter:
		return c.keyClass
	case StageHeaderConverter:
		return c.hdrClass
	}
	return c.valueClass
}

// newConverters builds the converters a connector configuration names
// (key.converter, value.converter, header.converter, each configured with
// its prefixed properties, as Connect's worker does), or the defaults.
func newConverters(plugins *connect.Registry, cfg map[string]string) (*converters, error) {
	var c converters
	var err error
	if c.key, c.keyClass, err = newConverter(plugins, cfg, connect.KeyConverterConfig, connect.DefaultKeyConverter, true); err != nil {
		return nil, err
	}
	if c.value, c.valueClass, err = newConverter(plugins, cfg, connect.ValueConverterConfig, connect.DefaultValueConverter, false); err != nil {
		return nil, err
	}
	class := classOr(cfg, connect.HeaderConverterConfig, connect.DefaultHeaderConverter)
	p, err := plugins.Lookup(connect.KindHeaderConverter, class)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", connect.HeaderConverterConfig, err)
	}
	c.header, c.hdrClass = p.NewHeaderConverter(), p.Class
	if err := c.header.Configure(connect.WithPrefix(cfg, connect.HeaderConverterConfig+".")); err != nil {
		return nil, fmt.Errorf("configuring %s %s: %w", connect.HeaderConverterConfig, class, err)
	}
	return &c, nil
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

// toMessage serialises a source record for Kafka.
func (c *converters) toMessage(r *connect.SourceRecord) (kafka.Message, error) {
	m := kafka.Message{Topic: r.Topic, Partition: -1, Timestamp: r.Timestamp}
	if r.Partition != nil {
		m.Partition = *r.Partition
	}
	var err error
	if m.Key, err = c.key.FromConnectData(r.Topic, r.KeySchema, r.Key); err != nil {
		return m, &StageError{Stage: StageKeyConverter, Err: err}
	}
	if m.Value, err = c.value.FromConnectData(r.Topic, r.ValueSchema, r.Value); err != nil {
		return m, &StageError{Stage: StageValueConverter, Err: err}
	}
	if len(r.Headers) > 0 {
		m.Headers = make([]kafka.Header, len(r.Headers))
		for i, h := range r.Headers {
			v, err := c.header.FromConnectHeader(r.Topic, h.Key, h.Schema, h.Value)
			if err != nil {
				return m, &StageError{Stage: StageHeaderConverter, Err: fmt.Errorf("header %q: %w", h.Key, err)}
			}
			m.Headers[i] = kafka.Header{Key: h.Key, Value: v}
		}
	}
	return m, nil
}

// toSinkRecord deserialises a Kafka message for a sink task.
func (c *converters) toSinkRecord(m *kafka.Message) (connect.SinkRecord, error) {
	p := m.Partition
	r := connect.SinkRecord{
		Record:        connect.Record{Topic: m.Topic, Partition: &p, Timestamp: m.Timestamp},
		Offset:        m.Offset,
		TimestampType: connect.CreateTime,
		OriginalTopic: m.Topic, OriginalPartition: m.Partition, OriginalOffset: m.Offset,
	}
	if m.Timestamp.IsZero() {
		r.TimestampType = connect.NoTimestampType
	}
	var err error
	if c.rawKey != nil && c.rawKey.CheckRaw(m.Topic, m.Key) {
		r.Key = c.rawValue(m.Topic, m.Key, c.key)
	} else if r.KeySchema, r.Key, err = c.key.ToConnectData(m.Topic, m.Key); err != nil {
		return r, &StageError{Stage: StageKeyConverter, Err: err}
	}
	if c.raw != nil && c.raw.CheckRaw(m.Topic, m.Value) {
		r.Value = c.rawValue(m.Topic, m.Value, c.value)
	} else if r.ValueSchema, r.Value, err = c.value.ToConnectData(m.Topic, m.Value); err != nil {
		return r, &StageError{Stage: StageValueConverter, Err: err}
	}
	if len(m.Headers) > 0 {
		r.Headers = make(connect.Headers, len(m.Headers))
		for i, h := range m.Headers {
			s, v, err := c.header.ToConnectHeader(m.Topic, h.Key, h.Value)
			if err != nil {
				return r, &StageError{Stage: StageHeaderConverter, Err: fmt.Errorf("header %q: %w", h.Key, err)}
			}
			r.Headers[i] = connect.Header{Key: h.Key, Schema: s, Value: v}
		}
	}
	return r, nil
}
