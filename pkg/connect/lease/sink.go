package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// sink runs a sink lease, one step after the other: startSink, fetch
// (which puts each range's records), commit, stop.
func (r *run) sink(ctx context.Context) (err error) {
	assignment := make([]connect.TopicPartition, 0, len(r.lease.Ranges))
	for _, rg := range r.lease.Ranges {
		r.noteTopic(rg.Topic)
		assignment = append(assignment, rg.TopicPartition())
	}
	began := time.Now()
	s, err := r.startSink(ctx, assignment)
	if err != nil {
		return err
	}
	defer s.stop(ctx, &err)
	started := time.Now()
	if err := s.fetch(ctx); err != nil {
		return err
	}
	fetched := time.Now()
	err = s.commit(ctx)
	r.log.Debug("sink lease steps", "start", started.Sub(began), "fetch_put", fetched.Sub(started),
		"of_which_put", s.putTime, "flush_commit", time.Since(fetched))
	return err
}

// errNextRange ends the read of one batch of a range in fetch, which
// goes on with the next range.
var errNextRange = errors.New("next range")

// sinkLease is a running sink lease (or a Deliver): its task, the
// partitions assigned to it and the stages a record passes through. Its
// methods are the lease's steps, in order:
//
//  1. startSink: create the stages, start the task, open its partitions;
//  2. fetch: fetch exactly each leased range and putMessages, which
//     converts, transforms and puts the records in batches;
//  3. commit: PreCommit (or Flush) and commit the offsets the task says
//     are durable to the group connect-<connector>, never past a range's
//     end and never backwards (rule 1);
//  4. stop: close the partitions, stop the task, close the stages.
type sinkLease struct {
	*run
	task       connect.SinkTask
	st         *stages
	assignment []connect.TopicPartition
	// opener is the task's partition hook, nil when it has none.
	opener connect.PartitionOpener
	// batch is reused from Put to Put: tasks must not keep the slice.
	batch []connect.SinkRecord
	// putTime is the time fetch spent converting and putting, rather than
	// waiting for the broker (for the lease's debug log).
	putTime time.Duration
	// readCommitted: the connector reads with read_committed isolation
	// (IsolationLevelConfig).
	readCommitted bool
}

// startSink creates the lease's stages, starts a sink task for the
// assignment and opens its partitions.
func (r *run) startSink(ctx context.Context, assignment []connect.TopicPartition) (*sinkLease, error) {
	readCommitted, err := ReadsCommitted(r.lease.ConnectorConfig)
	if err != nil {
		return nil, err
	}
	st, err := r.newStages(nil)
	if err != nil {
		return nil, err
	}
	s := &sinkLease{run: r, st: st, assignment: assignment, task: r.plugin.NewSinkTask(), readCommitted: readCommitted}
	tc := sinkContext{assignment: assignment, reporter: &reporter{h: st.h, conv: st.conv, class: r.plugin.Class}}
	if err := s.task.Start(ctx, tc, r.lease.TaskConfig); err != nil {
		_ = s.task.Stop()
		st.close()
		return nil, fmt.Errorf("starting task: %w", err)
	}
	if opener, ok := s.task.(connect.PartitionOpener); ok {
		if err := opener.Open(ctx, assignment); err != nil {
			_ = s.task.Stop()
			st.close()
			return nil, fmt.Errorf("opening partitions: %w", err)
		}
		s.opener = opener
	}
	st.conv.raw, st.conv.rawKey = rawCheckers(s.task, st)
	return s, nil
}

// rawCheckers returns the value and key converters' RawCheckers when the
// lease puts the values and keys the converters accept undecoded: the
// task takes them (connect.RawValueSink, connect.RawKeySink) and no
// transform would read them.
func rawCheckers(task connect.SinkTask, st *stages) (value, key connect.RawChecker) {
	if st.chain.Len() > 0 {
		return nil, nil
	}
	if rs, ok := task.(connect.RawValueSink); ok {
		if rc, ok := st.conv.value.(connect.RawChecker); ok && rs.TakesRawValues(st.conv.value) {
			value = rc
		}
	}
	if rs, ok := task.(connect.RawKeySink); ok {
		if rc, ok := st.conv.key.(connect.RawChecker); ok && rs.TakesRawKeys(st.conv.key) {
			key = rc
		}
	}
	return value, key
}

// stop closes the task's partitions and stops it, keeping the first error
// in *err, and closes the stages.
func (s *sinkLease) stop(ctx context.Context, err *error) {
	if s.opener != nil {
		if cerr := s.opener.Close(ctx, s.assignment); cerr != nil && *err == nil {
			*err = fmt.Errorf("closing partitions: %w", cerr)
		}
	}
	stopTask(s.task.Stop, err)
	s.st.close()
}

// fetch fetches exactly each leased range and puts its records, until the
// lease's poll limit. The ranges are read in turn, one fetch of each (as a
// Kafka consumer's polls interleave its partitions), rather than one
// range after the other: a task receives every partition's records from
// the start of the lease, and rows keyed alike across partitions (an
// ascending key hashed over them) reach a database in nearly that order.
// A goroutine fetches the next batch while this one converts and puts the
// current one, so that the lease does not wait for the broker between
// batches; puts stay on the lease's goroutine, in offset order within each
// range. Each request asks for half of FetchMaxBytes, so that the two
// batches alive at once (the one put, the next) hold no more than one
// full-size fetch did.
func (s *sinkLease) fetch(ctx context.Context) error {
	putCtx, cancel := context.WithDeadline(ctx, s.pollUntil)
	defer cancel()
	// expired is err, or the lease's time limit when that is what ended
	// range rg.
	expired := func(rg Range, err error) error {
		if putCtx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("%w: range %s not finished before the lease's time limit: %v", ErrExpired, rg, err)
		}
		return err
	}
	type batch struct {
		rg   Range
		msgs []kafka.Message
	}
	fetchCtx, stopFetching := context.WithCancel(putCtx)
	defer stopFetching()
	batches := make(chan batch) // unbuffered: one batch fetched ahead, no more
	maxBytes := max(1, s.e.opts.FetchMaxBytes/2)
	var fetchErr error // set before batches closes
	var fetchRange Range
	// The first fetch of a range checks it against the log (FetchRange);
	// the next ones continue it (ReadRange).
	first, next := s.e.kafka.FetchRange, s.e.kafka.ReadRange
	if s.readCommitted {
		first, next = s.e.kafka.FetchCommittedRange, s.e.kafka.ReadCommittedRange
	}
	go func() {
		defer close(batches)
		// What is left of each range; started once it was fetched from.
		type left struct {
			Range
			started bool
		}
		pending := make([]left, 0, len(s.lease.Ranges))
		for _, rg := range s.lease.Ranges {
			if rg.Start < rg.End {
				pending = append(pending, left{Range: rg})
			}
		}
		for len(pending) > 0 {
			for i := 0; i < len(pending); {
				p := &pending[i]
				read := first
				if p.started {
					read = next
				}
				p.started = true
				// One batch of the range: fn stops the read after it.
				rg := p.Range
				err := read(fetchCtx, rg.TopicPartition(), rg.Start, rg.End, maxBytes, func(msgs []kafka.Message) error {
					select {
					case batches <- batch{rg, msgs}:
						p.Start = msgs[len(msgs)-1].Offset + 1
						return errNextRange
					case <-fetchCtx.Done():
						return fetchCtx.Err()
					}
				})
				switch {
				case errors.Is(err, errNextRange) && p.Start < p.End:
					i++
				case err == nil || errors.Is(err, errNextRange):
					// The range is done (the rest compacted or aborted
					// away, when no record came at its end).
					pending = slices.Delete(pending, i, i+1)
				default:
					fetchErr, fetchRange = err, rg
					return
				}
			}
		}
	}()
	var putErr error
	// The loop ends when the fetching goroutine has: it is always waited for.
	for b := range batches {
		if putErr != nil {
			continue
		}
		// One fetch holds thousands of records: converting and putting
		// them maxPutRecords at a time keeps only that many converted
		// records alive at once.
		began := time.Now()
		for msgs := b.msgs; len(msgs) > 0; {
			n := min(len(msgs), maxPutRecords)
			if err := s.putMessages(putCtx, msgs[:n], false); err != nil {
				putErr = expired(b.rg, err)
				stopFetching()
				break
			}
			msgs = msgs[n:]
		}
		s.putTime += time.Since(began)
	}
	if putErr != nil {
		return putErr
	}
	if fetchErr != nil {
		return expired(fetchRange, fetchErr)
	}
	return nil
}

// commit asks the task which offsets are durable, makes the dead letters
// durable, and commits those offsets to the connector's group, each
// clamped to its range.
func (s *sinkLease) commit(ctx context.Context) error {
	l := s.lease
	current := make(map[connect.TopicPartition]int64, len(l.Ranges))
	for _, rg := range l.Ranges {
		current[rg.TopicPartition()] = rg.End
	}
	safe, err := s.preCommit(ctx, current)
	if err != nil {
		return err
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
		if err := s.mayCommit(); err != nil {
			return err
		}
		if _, err := s.e.kafka.CommitOffsets(ctx, GroupID(l.Connector), commit); err != nil {
			return connect.Retriable(fmt.Errorf("committing offsets to group %s: %w", GroupID(l.Connector), err))
		}
	}
	for _, rg := range l.Ranges {
		if off, ok := commit[rg.TopicPartition()]; ok {
			s.res.Committed = append(s.res.Committed, Range{Topic: rg.Topic, Partition: rg.Partition, Start: rg.Start, End: off})
		}
	}
	s.res.MorePending = s.morePending(ctx)
	return nil
}

// maxPutRecords bounds the records of one Put, as Connect's consumer
// max.poll.records (default 500) bounds the batches its sink tasks get.
const maxPutRecords = 500

// putMessages converts and transforms msgs, then puts those kept in one
// batch. At a record that fails and is not tolerated it returns a
// *RecordError, after putting the records before it when putPrefix is set
// (Deliver) and without putting anything otherwise (a sink lease fails
// whole, as Connect's task fails before delivering the batch).
func (s *sinkLease) putMessages(ctx context.Context, msgs []kafka.Message, putPrefix bool) error {
	st := s.st
	b := s.batch[:0]
	defer func() {
		// Once put, the converted records are garbage: the reused slice
		// must not keep them reachable until the next batch.
		clear(b)
		s.batch = b[:0]
	}()
	var failed error
	for i := range msgs {
		m := &msgs[i]
		s.res.Bytes += int64(len(m.Key) + len(m.Value))
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
		if err := s.put(ctx, b); err != nil {
			return err
		}
		s.res.Records += int64(len(b))
	}
	return failed
}

// put hands a batch to the task, retrying it while the task says the error
// is retriable, with exponential backoff until the lease's time limit.
func (s *sinkLease) put(ctx context.Context, batch []connect.SinkRecord) error {
	backoff := 100 * time.Millisecond
	for {
		err := s.task.Put(ctx, batch)
		if err == nil {
			return nil
		}
		if !connect.IsRetriable(err) {
			return &StageError{Stage: StageTaskPut, Err: err}
		}
		s.log.Warn("retriable error from Put; retrying the batch", "error", err, "backoff", backoff)
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
// in Put) all of them. Then it makes the dead letters durable: they are
// part of the output. PreCommit and Flush write to the destination, so
// they too must start before the commit cutoff (rule 3).
func (s *sinkLease) preCommit(ctx context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := s.mayCommit(); err != nil {
		return nil, err
	}
	safe := current
	switch t := s.task.(type) {
	case connect.PreCommitter:
		var err error
		if safe, err = t.PreCommit(ctx, current); err != nil {
			return nil, fmt.Errorf("pre-commit: %w", err)
		}
	case connect.Flusher:
		if err := t.Flush(ctx, current); err != nil {
			return nil, fmt.Errorf("flush: %w", err)
		}
	}
	if err := s.st.h.flush(ctx); err != nil {
		return nil, connect.Retriable(fmt.Errorf("flushing the dead letter queue: %w", err))
	}
	return safe, nil
}

// morePending reports whether any leased partition has records beyond its
// range. It is advisory: an error just says "don't know" (false).
func (s *sinkLease) morePending(ctx context.Context) bool {
	watermarks := s.e.kafka.Watermarks
	if s.readCommitted {
		watermarks = s.e.kafka.StableWatermarks
	}
	wm, err := watermarks(ctx, s.assignment)
	if err != nil {
		return false
	}
	for _, rg := range s.lease.Ranges {
		if wm[rg.TopicPartition()].High > rg.End {
			return true
		}
	}
	return false
}
