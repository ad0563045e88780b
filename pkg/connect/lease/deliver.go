package lease

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Deliver runs a sink task over msgs, records that did not come from a
// leased range (Lambda's own Kafka event, whose offsets the event source
// mapping manages): converters, transforms and the errors.* policy
// (retries, log, dead letter queue, errant record reporter) exactly as in a
// sink lease, then Put, PreCommit or Flush and the dead letter flush. It
// commits no offsets. l gives the connector, configurations and deadline;
// its Kind and Ranges are set from msgs (each partition's first offset to
// its last, plus one) and it is checked as Run checks a lease. With no
// messages, nothing runs.
//
// Records are handled in order per partition; a partition stops at its
// first record that fails and is not tolerated. failed maps each partition
// whose records are not all durable to the first record that is not: the
// one that failed (with its error), or the first one PreCommit held back
// (Err nil). A failure that is not a record's (Put, PreCommit, the
// deadline) fails the result and leaves failed empty: nothing is known to
// be durable.
func (e *Executor) Deliver(ctx context.Context, l Lease, msgs []kafka.Message) (res Result, failed map[connect.TopicPartition]*RecordError) {
	failed = map[connect.TopicPartition]*RecordError{}
	if len(msgs) == 0 {
		now := e.opts.Now()
		return Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: Succeeded, Started: now, Finished: now, Token: l.Token}, failed
	}
	// Group by partition, keeping each partition's order.
	byTP := map[connect.TopicPartition][]kafka.Message{}
	l.Kind, l.Ranges = KindSink, nil
	for i := range msgs {
		m := &msgs[i]
		tp := m.TopicPartition()
		if _, ok := byTP[tp]; !ok {
			l.Ranges = append(l.Ranges, Range{Topic: tp.Topic, Partition: tp.Partition, Start: m.Offset})
		}
		byTP[tp] = append(byTP[tp], *m)
	}
	for i := range l.Ranges {
		ms := byTP[l.Ranges[i].TopicPartition()]
		l.Ranges[i].End = ms[len(ms)-1].Offset + 1
	}
	res = e.run(ctx, l, func(r *run, _, ctx context.Context) error {
		return r.deliver(ctx, byTP, failed)
	})
	if res.Status != Succeeded {
		clear(failed)
	}
	return res, failed
}

func (r *run) deliver(ctx context.Context, byTP map[connect.TopicPartition][]kafka.Message, failed map[connect.TopicPartition]*RecordError) (err error) {
	order := make([]connect.TopicPartition, 0, len(r.lease.Ranges))
	for _, rg := range r.lease.Ranges {
		order = append(order, rg.TopicPartition())
		r.noteTopic(rg.Topic)
	}
	s, err := r.startSink(ctx, order)
	if err != nil {
		return err
	}
	defer s.stop(ctx, &err)

	putCtx, cancel := context.WithDeadline(ctx, r.pollUntil)
	defer cancel()
	current := map[connect.TopicPartition]int64{}
	for _, tp := range order {
		ms := byTP[tp]
		current[tp] = ms[len(ms)-1].Offset + 1
		for len(ms) > 0 {
			n := min(len(ms), maxPutRecords)
			perr := s.putMessages(putCtx, ms[:n], true)
			var re *RecordError
			if errors.As(perr, &re) {
				failed[tp], current[tp] = re, re.Offset
				r.log.Warn("record not delivered", "topic", tp.Topic, "partition", tp.Partition, "offset", re.Offset, "error", re.Err)
				break
			}
			if perr != nil {
				if putCtx.Err() != nil && ctx.Err() == nil {
					return fmt.Errorf("%w: records not delivered before the time limit: %v", ErrExpired, perr)
				}
				return perr
			}
			ms = ms[n:]
		}
	}
	safe, err := s.preCommit(ctx, current)
	if err != nil {
		return err
	}
	for _, tp := range order {
		first := byTP[tp][0].Offset
		off, ok := safe[tp]
		if !ok {
			off = first // nothing of this partition is known to be durable
		}
		if off = max(off, first); off < current[tp] {
			failed[tp] = &RecordError{TopicPartition: tp, Offset: off}
		}
	}
	return nil
}
