package lease

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// stages is what a lease needs to move one record between Kafka and the
// task: converters, the transformation chain and the error policy.
type stages struct {
	conv  *converters
	chain *connect.Chain
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
	chain, err := r.e.plugins.NewChain(cfg)
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
	var te *connect.TransformError
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
