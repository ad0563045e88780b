package lease

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

type sinkContext struct {
	assignment []connect.TopicPartition
	reporter   *reporter
}

func (c sinkContext) Assignment() []connect.TopicPartition { return c.assignment }

func (c sinkContext) ErrantRecordReporter() connect.ErrantRecordReporter { return c.reporter }

// GroupID is the consumer group a sink connector commits to, as Connect names it.
func GroupID(connector string) string { return "connect-" + connector }

// sink runs a sink lease: fetch exactly each leased range, convert, Put in
// batches, then PreCommit (or Flush) and commit the offsets the task says
// are durable to the group connect-<connector>, never past a range's end
// and never backwards.
func (r *run) sink(ctx context.Context) (err error) {
	l := r.lease
	plugin, err := r.connectorPlugin(connect.KindSink)
	if err != nil {
		return err
	}
	if len(l.Ranges) == 0 {
		return fmt.Errorf("%w: sink lease %s has no ranges", ErrBadLease, l.ID)
	}
	assignment := make([]connect.TopicPartition, 0, len(l.Ranges))
	for _, rg := range l.Ranges {
		r.noteTopic(rg.Topic)
		if rg.Start < 0 || rg.End < rg.Start {
			return fmt.Errorf("%w: invalid range %s", ErrBadLease, rg)
		}
		assignment = append(assignment, rg.TopicPartition())
	}
	st, err := r.newStages(nil)
	if err != nil {
		return err
	}
	defer st.close()
	task, closeTask, err := r.openSinkTask(ctx, plugin, st, assignment)
	if err != nil {
		return err
	}
	defer closeTask(&err)

	putCtx, cancel := context.WithDeadline(ctx, r.pollUntil)
	defer cancel()
	var batch []connect.SinkRecord
	for _, rg := range l.Ranges {
		if rg.Start == rg.End {
			continue
		}
		tp := rg.TopicPartition()
		err := r.e.kafka.FetchRange(putCtx, tp, rg.Start, rg.End, r.e.opts.FetchMaxBytes, func(msgs []kafka.Message) error {
			// One fetch holds thousands of records: converting and putting
			// them maxPutRecords at a time keeps only that many converted
			// records alive at once.
			for len(msgs) > 0 {
				n := min(len(msgs), maxPutRecords)
				if err := r.putMessages(putCtx, st, task, msgs[:n], &batch, false); err != nil {
					return err
				}
				msgs = msgs[n:]
			}
			return nil
		})
		if err != nil {
			if putCtx.Err() != nil && ctx.Err() == nil {
				return fmt.Errorf("%w: range %s not finished before the lease's time limit: %v", ErrExpired, rg, err)
			}
			return err
		}
	}

	current := make(map[connect.TopicPartition]int64, len(l.Ranges))
	for _, rg := range l.Ranges {
		current[rg.TopicPartition()] = rg.End
	}
	// PreCommit and Flush write to the destination: they too must start
	// before the commit cutoff (rule 3).
	if err := r.mayCommit(); err != nil {
		return err
	}
	safe, err := preCommit(ctx, task, current)
	if err != nil {
		return err
	}
	// Dead letters are part of the output: durable before the commit.
	if err := st.h.flush(ctx); err != nil {
		return connect.Retriable(fmt.Errorf("flushing the dead letter queue: %w", err))
	}
	commit := map[connect.TopicPartition]int64{}
	for _, rg := range l.Ranges {
		off, ok := safe[rg.TopicPartition()]
		if !ok || off <= rg.Start {
			continue
		}
		if off > rg.End {
			// A task may not commit records it was never given.
			off = rg.End
		}
		commit[rg.TopicPartition()] = off
	}
	if len(commit) > 0 {
		if err := r.mayCommit(); err != nil {
			return err
		}
		if _, err := r.e.kafka.CommitOffsets(ctx, GroupID(l.Connector), commit); err != nil {
			return connect.Retriable(fmt.Errorf("committing offsets to group %s: %w", GroupID(l.Connector), err))
		}
	}
	for _, rg := range l.Ranges {
		if off, ok := commit[rg.TopicPartition()]; ok {
			r.res.Committed = append(r.res.Committed, Range{Topic: rg.Topic, Partition: rg.Partition, Start: rg.Start, End: off})
		}
	}
	r.res.MorePending = r.morePending(ctx)
	return nil
}

// connectorPlugin finds the lease's connector, which must be of kind.
func (r *run) connectorPlugin(kind connect.Kind) (connect.Plugin, error) {
	plugin, err := r.e.plugins.Connector(r.lease.ConnectorConfig[connect.ConnectorClassConfig])
	if err != nil {
		return plugin, fmt.Errorf("%w: %w", ErrBadLease, err)
	}
	if plugin.Kind != kind {
		return plugin, fmt.Errorf("%w: %s is a %s connector, not a %s", ErrBadLease, plugin.Class, plugin.Kind, kind)
	}
	return plugin, nil
}

// openSinkTask starts a sink task for the assignment and opens its
// partitions; closeTask closes them and stops the task, keeping the first
// error in *err.
func (r *run) openSinkTask(ctx context.Context, plugin connect.Plugin, st *stages, assignment []connect.TopicPartition) (connect.SinkTask, func(*error), error) {
	task := plugin.NewSinkTask()
	tc := sinkContext{assignment: assignment, reporter: &reporter{h: st.h, conv: st.conv, class: plugin.Class}}
	if err := task.Start(ctx, tc, r.lease.TaskConfig); err != nil {
		_ = task.Stop()
		return nil, nil, fmt.Errorf("starting task: %w", err)
	}
	opener, opens := task.(connect.PartitionOpener)
	if opens {
		if err := opener.Open(ctx, assignment); err != nil {
			_ = task.Stop()
			return nil, nil, fmt.Errorf("opening partitions: %w", err)
		}
	}
	return task, func(err *error) {
		if opens {
			if cerr := opener.Close(ctx, assignment); cerr != nil && *err == nil {
				*err = fmt.Errorf("closing partitions: %w", cerr)
			}
		}
		stopTask(task.Stop, err)
	}, nil
}

// maxPutRecords bounds the records of one Put, as Connect's consumer
// max.poll.records (default 500) bounds the batches its sink tasks get.
const maxPutRecords = 500

// RecordError is a record that failed, and was not tolerated, before it
// reached the task: its coordinates and the cause.
type RecordError struct {
	TopicPartition connect.TopicPartition
	Offset         int64
	Err            error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s offset %d: %v", e.TopicPartition, e.Offset, e.Err)
}
func (e *RecordError) Unwrap() error { return e.Err }

// putMessages converts and transforms msgs, then puts those kept in one
// batch. At a record that fails and is not tolerated it returns a
// *RecordError, after putting the records before it when putPrefix is set
// (Deliver) and without putting anything otherwise (a sink lease fails
// whole, as Connect's task fails before delivering the batch). batch is
// reused from call to call: tasks must not keep the slice.
func (r *run) putMessages(ctx context.Context, st *stages, task connect.SinkTask, msgs []kafka.Message, batch *[]connect.SinkRecord, putPrefix bool) error {
	b := (*batch)[:0]
	defer func() {
		// Once put, the converted records are garbage: the reused slice
		// must not keep them reachable until the next batch.
		clear(b)
		*batch = b[:0]
	}()
	var failed error
	for i := range msgs {
		m := &msgs[i]
		r.res.Bytes += int64(len(m.Key) + len(m.Value))
		rec, ok, err := st.toSinkRecord(ctx, m)
		if err == nil && ok && st.chain.Len() > 0 {
			tr := connect.TransformRecord{Record: rec.Record, KafkaOffset: rec.Offset}
			ok, err = st.transform(ctx, &tr, failure{msg: m})
			rec.Record = tr.Record
		}
		if err != nil {
			failed = &RecordError{TopicPartition: m.TopicPartition(), Offset: m.Offset, Err: err}
			break
		}
		if ok {
			b = append(b, rec)
		}
	}
	if failed != nil && !putPrefix {
		return failed
	}
	if len(b) > 0 {
		if err := r.put(ctx, task, b); err != nil {
			return err
		}
		r.res.Records += int64(len(b))
	}
	return failed
}

// put hands a batch to the task, retrying it while the task says the error
// is retriable, with exponential backoff until the lease's time limit.
func (r *run) put(ctx context.Context, task connect.SinkTask, batch []connect.SinkRecord) error {
	backoff := 100 * time.Millisecond
	for {
		err := task.Put(ctx, batch)
		if err == nil {
			return nil
		}
		if !connect.IsRetriable(err) {
			return &StageError{Stage: StageTaskPut, Err: err}
		}
		r.log.Warn("retriable error from Put; retrying the batch", "error", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return &StageError{Stage: StageTaskPut, Err: err}
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// preCommit asks the task which offsets are durable: PreCommit if it has
// one, else Flush then all of them, else (a task that writes synchronously
// in Put) all of them.
func preCommit(ctx context.Context, task connect.SinkTask, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	switch t := task.(type) {
	case connect.PreCommitter:
		safe, err := t.PreCommit(ctx, current)
		if err != nil {
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

// morePending reports whether any leased partition has records beyond its
// range. It is advisory: an error just says "don't know" (false).
func (r *run) morePending(ctx context.Context) bool {
	tps := make([]connect.TopicPartition, 0, len(r.lease.Ranges))
	for _, rg := range r.lease.Ranges {
		tps = append(tps, rg.TopicPartition())
	}
	wm, err := r.e.kafka.Watermarks(ctx, tps)
	if err != nil {
		return false
	}
	for _, rg := range r.lease.Ranges {
		if wm[rg.TopicPartition()].High > rg.End {
			return true
		}
	}
	return false
}
