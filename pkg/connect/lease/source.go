package lease

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// source runs a source lease, one step after the other: start, pollLoop
// (which produces each polled record), flushAndCommit, stop. ctx bounds the
// whole lease; stop only ends the polling.
func (r *run) source(stop, ctx context.Context) (err error) {
	s, err := r.startSource(ctx)
	if err != nil {
		return err
	}
	defer s.stop(&err)
	if err := s.pollLoop(stop, ctx); err != nil {
		return err
	}
	return s.flushAndCommit(ctx)
}

// sourceLease is a running source lease: its task, the stages a record
// passes through and the producer, and what it produced and has not yet
// committed. Its methods are the lease's steps, in order:
//
//  1. startSource: load the connector's offsets, create the producer and
//     the stages, start the task;
//  2. pollLoop: Poll on a goroutine while this one produces the previous
//     batch, until the budget, the idle limit, the time limit or a stop;
//  3. produce, for each polled record: transform, convert (prepare),
//     create the topic if the connector asks for it and it does not exist
//     yet (ensureTopic), send, and keep its source offset (deliver); an
//     exactly-once lease prepares a whole poll while the previous
//     transaction commits, then delivers it (produceBatch);
//  4. flushAndCommit: flush the producer (every record acknowledged), then
//     write the records' source offsets (rule 1), then let the task commit
//     (rule 5);
//  5. stop: stop the task, close the stages and the producer.
//
// Only the lease's own goroutine touches it, except rejected and the acks'
// targets, which the producer fills in until the flush.
type sourceLease struct {
	*run
	task     connect.SourceTask
	st       *stages
	producer *kafka.Producer

	// entries are the latest source offset of each source partition, in
	// first-seen order; pending maps a partition's ID to its entry.
	entries []offsets.Entry
	pending map[string]int
	ids     partitionIDs
	// positions are the entries' offsets that their last record gave as
	// a position, their maps not made yet (settleOffsets); unsettled is
	// set while there are any. lastEntry is the index in entries of the
	// last record's partition (deliver), to be checked against entries,
	// which a transaction's commit empties.
	positions []position
	unsettled bool
	lastEntry int

	// committer is the task's per-record commit hook, nil when it has
	// none. Then produced keeps each record sent and acks where Kafka
	// wrote it, filled in by the producer and read after the flush.
	committer connect.SourceRecordCommitter
	produced  []connect.SourceRecord
	acks      []*written
	written   writtenSlab
	// streaming is set when the task lets CommitRecord run while it polls
	// (connect.StreamingRecordCommitter) and the lease is not exactly
	// once: then commitAcked hands over, during the lease, the records at
	// the front of produced that Kafka acked, and ackedRecord wakes the
	// lease's goroutine when an ack arrives.
	streaming   bool
	ackedRecord chan struct{}
	// committedN counts the records at the front of produced that
	// commitAcked handed over already.
	committedN int

	// rejected collects, under errors.tolerance=all, the records Kafka
	// refused, to be skipped (stage KAFKA_PRODUCE) instead of failing the
	// lease.
	rejected rejections

	// creation is the connector's topic creation (KIP-158), parsed at the
	// first record sent (ensureTopic).
	creation topicCreation

	// txn is the transaction state of an exactly-once lease, nil
	// otherwise; uncommitted counts what the open transaction holds, and
	// closeStore closes an offsets store opened for the lease.
	txn         *txn
	uncommitted counts
	closeStore  func()
	// ownOffsets is the store of the connector's own offsets topic
	// (Lease.OffsetsTopic), written before the worker's; nil if none.
	ownOffsets offsets.Store
}

// startSource loads the connector's source offsets, creates the lease's
// producer and stages and starts the task with the offsets.
func (r *run) startSource(ctx context.Context) (_ *sourceLease, err error) {
	s := &sourceLease{run: r, pending: map[string]int{}, closeStore: func() {}}
	store := r.e.offsets
	popts := r.e.opts.Producer
	if x := r.lease.ExactlyOnce; x != nil {
		if err := x.check(); err != nil {
			return nil, err
		}
		if store, s.closeStore, err = r.offsetStore(ctx, x.OffsetsTopic); err != nil {
			return nil, err
		}
		s.txn = &txn{x: x, store: store}
		if x.Boundary == BoundaryConnector {
			s.txn.ctl = &transactionContext{}
		}
		popts.TransactionalID = x.TransactionalID
		// The broker aborts a transaction left open by a killed
		// invocation at the latest this long after it began: not before
		// the lease's deadline, by which the lease commits or gives up.
		popts.TransactionTimeout = min(max(r.hard.Sub(r.e.opts.Now()), time.Second), 15*time.Minute)
	} else if r.lease.OffsetsTopic != "" {
		// The connector's own topic: read from it, written first.
		if store, s.closeStore, err = r.offsetStore(ctx, r.lease.OffsetsTopic); err != nil {
			return nil, err
		}
		if store != r.e.offsets {
			s.ownOffsets = store
		}
	}
	// An exactly-once lease initialises its transactional producer
	// first: that fences older invocations of the task and aborts their
	// open transaction, so the offsets then read are the last committed.
	if s.producer, err = r.e.kafka.NewProducer(popts); err != nil {
		s.closeStore()
		return nil, connect.Retriable(fmt.Errorf("creating producer: %w", err))
	}
	loaded, err := store.Load(ctx, r.lease.Connector)
	if err != nil {
		s.closeStore()
		_ = s.producer.Close()
		return nil, connect.Retriable(fmt.Errorf("loading source offsets: %w", err))
	}
	if s.st, err = r.newStages(s.producer); err != nil {
		s.closeStore()
		_ = s.producer.Close()
		return nil, err
	}
	s.task = r.plugin.NewSourceTask()
	tc := sourceContext{offsets: offsetReader(loaded)}
	if s.txn != nil && s.txn.ctl != nil {
		tc.txn = s.txn.ctl
	}
	if err := s.task.Start(ctx, tc, r.lease.TaskConfig); err != nil {
		_ = s.task.Stop()
		s.close()
		return nil, fmt.Errorf("starting task: %w", err)
	}
	s.committer, _ = s.task.(connect.SourceRecordCommitter)
	if sc, ok := s.task.(connect.StreamingRecordCommitter); ok && s.txn == nil && sc.CommitsRecordsWhilePolling() {
		s.streaming = true
		s.ackedRecord = make(chan struct{}, 1)
	}
	return s, nil
}

// stop stops the task, keeping its error unless an earlier one is kept,
// and closes the stages and the producer.
func (s *sourceLease) stop(err *error) {
	stopTask(s.task.Stop, err)
	s.close()
}

func (s *sourceLease) close() {
	s.abandonTxn()
	s.st.close()
	_ = s.producer.Close()
	s.closeStore()
}

// pollLoop runs the poller (poll) on its own goroutine and produces each
// batch it hands over (an exactly-once lease: produceBatch, then the
// transaction boundary), until the poller ends or the budget is spent.
// The poller stops at the lease's time limit, on stop, when idle for
// MaxIdle, or when told to.
func (s *sourceLease) pollLoop(stop, ctx context.Context) (err error) {
	if s.txn != nil {
		// A transaction's commit may still run (startCommit): the lease
		// goes on only once it has ended, and its outcome is recorded
		// even when the lease fails for another reason.
		defer func() {
			if cerr := s.awaitCommit(ctx); err == nil {
				err = cerr
			}
		}()
	}
	pollStop, stopPolling := context.WithCancel(stop)
	defer stopPolling()
	batches := make(chan polledBatch, 2)
	var polled pollOutcome
	pollerDone := make(chan struct{})
	go func() {
		defer close(pollerDone)
		defer close(batches)
		// The executor's recover does not reach this goroutine: a panic
		// of the task's Poll fails the lease here, not the process.
		defer func() {
			if p := recover(); p != nil {
				polled = pollOutcome{err: &panicError{value: p, stack: string(debug.Stack())}}
			}
		}()
		polled = s.poll(pollStop, ctx, batches)
	}()
	finishPolling := func() {
		stopPolling()
		for range batches {
			// Records polled after the budget was spent are not produced;
			// their offsets are not written, so the next lease polls them again.
		}
		<-pollerDone
	}

	for {
		var b polledBatch
		var ok bool
		select {
		case b, ok = <-batches:
		case <-s.ackedRecord: // nil unless streaming
			if err := s.commitAcked(ctx); err != nil {
				finishPolling()
				return err
			}
			continue
		case cerr := <-s.committed(): // nil unless a transaction commits
			if err := s.commitEnded(ctx, cerr); err != nil {
				finishPolling()
				return err
			}
			continue
		}
		if !ok {
			break
		}
		recs := b.recs
		if err := s.mayCommit(); err != nil {
			// A Poll that overran the lease's time: its records are not
			// produced; the next lease polls them again from the last
			// committed offsets.
			finishPolling()
			return err
		}
		if s.txn != nil {
			if err := s.produceBatch(ctx, recs); err != nil {
				finishPolling()
				return err
			}
			s.txn.commit, s.txn.abort = b.commit, b.abort
			if err := s.boundary(ctx); err != nil {
				finishPolling()
				return err
			}
		} else {
			for i := range recs {
				if err := s.produce(ctx, &recs[i]); err != nil {
					finishPolling()
					return err
				}
			}
		}
		if err := s.commitAcked(ctx); err != nil {
			finishPolling()
			return err
		}
		if s.res.Records >= s.budget.MaxRecords || s.res.Bytes >= s.budget.MaxBytes {
			s.res.MorePending = true
			break
		}
	}
	finishPolling()
	if polled.err != nil {
		return polled.err
	}
	if polled.cutShort {
		s.res.MorePending = true
	}
	return nil
}

// pollOutcome is how the poller ended.
type pollOutcome struct {
	// cutShort: the lease's time limit or a stop ended polling while the
	// source still had data.
	cutShort bool
	err      error
}

// polledBatch is the records of one Poll and, under
// transaction.boundary=connector, the task's requests made during it.
type polledBatch struct {
	recs          []connect.SourceRecord
	commit, abort bool
}

// poll calls Poll until stop, the lease's poll limit, or MaxIdle without
// records, handing each non-empty batch to out. It runs on its own
// goroutine; only it calls Poll.
func (s *sourceLease) poll(stop, ctx context.Context, out chan<- polledBatch) pollOutcome {
	lastData := s.e.opts.Now()
	for {
		now := s.e.opts.Now()
		if stop.Err() != nil || !now.Before(s.pollUntil) {
			return pollOutcome{cutShort: true}
		}
		if now.Sub(lastData) >= time.Duration(s.budget.MaxIdle) {
			return pollOutcome{}
		}
		pollCtx, cancel := context.WithDeadline(stop, s.pollUntil)
		recs, err := s.task.Poll(pollCtx)
		cutShort := pollCtx.Err() != nil // before cancel, which ends pollCtx too
		cancel()
		if err != nil {
			if ctx.Err() == nil && cutShort {
				// The poll was cut short by the lease's time limit or a stop.
				return pollOutcome{cutShort: true}
			}
			return pollOutcome{err: &StageError{Stage: StageTaskPoll, Err: err}}
		}
		b := polledBatch{recs: recs}
		if s.txn != nil && s.txn.ctl != nil {
			b.commit, b.abort = s.txn.ctl.take()
		}
		if len(recs) == 0 && !b.commit && !b.abort {
			idleWait(stop, s.pollUntil)
			continue
		}
		select {
		case out <- b:
		case <-stop.Done():
			return pollOutcome{cutShort: true}
		}
		// Idle time counts from the hand-off: waiting for a busy producer
		// is not idleness. A batch of only transaction requests is no data.
		if len(recs) > 0 {
			lastData = s.e.opts.Now()
		}
	}
}

// idleWait pauses between empty polls so that an idle source does not spin.
func idleWait(ctx context.Context, until time.Time) {
	d := 20 * time.Millisecond
	if rest := time.Until(until); rest < d {
		d = rest
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// produce transforms, converts and sends one polled record, and keeps its
// source offset. A record the chain drops or whose failure is tolerated is
// not sent, but its offset is kept too, as Connect does.
func (s *sourceLease) produce(ctx context.Context, rec *connect.SourceRecord) error {
	p, err := s.prepare(ctx, rec)
	if err != nil {
		return err
	}
	return s.deliver(ctx, &p)
}

// prepared is a polled record run through the transformations and the
// converters (prepare), ready to be sent (deliver).
type prepared struct {
	// rec is the polled record, whose source offset deliver keeps; out is
	// the record sent, rec itself unless a transformation changed it.
	rec, out *connect.SourceRecord
	// msg is out serialised; send is false when nothing is sent (the
	// chain dropped the record or its failure was tolerated).
	msg  kafka.Message
	send bool
}

// prepare runs rec through the stages. It sends nothing, except a record
// that failed to a dead letter queue.
func (s *sourceLease) prepare(ctx context.Context, rec *connect.SourceRecord) (prepared, error) {
	p := prepared{rec: rec, out: rec}
	// out is rec itself unless a transformation changed it: the record the
	// error handler may keep (it escapes), so a copy of every record would
	// be a heap allocation per record.
	if s.st.chain.Len() > 0 {
		tr := connect.TransformRecord{Record: rec.Record, KafkaOffset: -1}
		keep, err := s.st.transform(ctx, &tr, failure{src: rec})
		if err != nil || !keep {
			return p, err
		}
		t := *rec
		t.Record = tr.Record
		p.out = &t
	}
	var err error
	p.msg, p.send, err = s.st.toMessage(ctx, p.out)
	return p, err
}

// deliver sends a prepared record, if it is to be sent, and keeps its
// source offset.
func (s *sourceLease) deliver(ctx context.Context, p *prepared) error {
	if p.send {
		if err := s.send(ctx, p.out, p.msg); err != nil {
			return err
		}
	}
	rec := p.rec
	if rec.SourcePartition == nil {
		return nil
	}
	// A source nearly always returns the same partition map for every
	// record of a partition: the entry of the last record's map is found
	// by the map's identity, without hashing its ID.
	ptr := reflect.ValueOf(rec.SourcePartition).Pointer()
	j := s.lastEntry
	if j >= len(s.entries) || reflect.ValueOf(s.entries[j].Partition).Pointer() != ptr {
		id := s.ids.of(rec.SourcePartition)
		var ok bool
		if j, ok = s.pending[id]; ok {
			// An equal map: the entry takes this one, so that the next
			// records of the partition find it by identity.
			s.entries[j].Partition = rec.SourcePartition
		} else {
			j = len(s.entries)
			s.pending[id] = j
			s.entries = append(s.entries, offsets.Entry{Partition: rec.SourcePartition})
			s.positions = append(s.positions, position{})
		}
		s.lastEntry = j
	}
	if rec.SourceOffset == nil && rec.PositionKey != "" {
		// Its map is made when the offsets are read (settleOffsets), not
		// for each record.
		s.entries[j].Offset = nil
		s.positions[j] = position{key: rec.PositionKey, pos: rec.Position}
		s.unsettled = true
	} else {
		s.entries[j].Offset = rec.SourceOffset
		s.positions[j].key = ""
	}
	return nil
}

// position is an entry's offset when its last record gave it as a
// position (connect.SourceRecord.PositionKey); key is empty otherwise.
type position struct {
	key string
	pos int64
}

// settleOffsets makes the offset maps of the entries whose last record
// gave a position: entries holds every offset as a map afterwards. Each
// reader of entries calls it first.
func (s *sourceLease) settleOffsets() {
	if !s.unsettled {
		return
	}
	for j, p := range s.positions {
		if p.key != "" {
			s.entries[j].Offset = map[string]any{p.key: p.pos}
			s.positions[j].key = ""
		}
	}
	s.unsettled = false
}

// resetEntries forgets the source offsets kept so far (a transaction
// committed or aborted them).
func (s *sourceLease) resetEntries() {
	s.entries, s.positions, s.pending, s.unsettled = nil, nil, map[string]int{}, false
}

// send hands msg, the serialised out, to the producer.
func (s *sourceLease) send(ctx context.Context, out *connect.SourceRecord, msg kafka.Message) (err error) {
	if err := s.ensureTopic(ctx, msg.Topic); err != nil { // topic creation (KIP-158)
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	var w *written
	if s.committer != nil {
		w = s.written.next()
		s.acks = append(s.acks, w)
		s.produced = append(s.produced, committed(out))
	}
	// Only a tolerated failure needs the record again: copy it only then
	// (a copy per record for nothing, otherwise).
	var failed *connect.SourceRecord
	if s.st.h.tolerateAll {
		c := *out
		failed = &c
	}
	switch {
	case w == nil && failed == nil:
		err = s.producer.Send(ctx, msg)
	default:
		streamed := s.streaming && out.SourcePartition == nil
		err = s.producer.SendAck(ctx, msg, func(p int32, off int64, err error) {
			if w != nil {
				w.partition, w.offset = p, off
				w.acked(err)
			}
			if err != nil && failed != nil {
				s.rejected.add(failure{stage: StageKafkaProduce, class: "org.apache.kafka.clients.producer.KafkaProducer", err: err, src: failed})
			}
			if streamed && err == nil {
				select {
				case s.ackedRecord <- struct{}{}:
				default:
				}
			}
		})
	}
	if err != nil {
		return connect.Retriable(&StageError{Stage: StageKafkaProduce, Err: err})
	}
	s.res.Records++
	s.res.Bytes += int64(len(msg.Key) + len(msg.Value))
	if s.txn != nil {
		s.uncommitted.records++
		s.uncommitted.bytes += int64(len(msg.Key) + len(msg.Value))
	}
	s.noteTopic(msg.Topic)
	return nil
}

// flushAndCommit makes the produced records durable, then commits: the
// source offsets of what Kafka acknowledged, each record to the task
// (CommitRecord), the offsets written to the task (CommitOffsets), and the
// task (Commit). Rule 1: offsets only after every
// record (and dead letter) is acked.
func (s *sourceLease) flushAndCommit(ctx context.Context) error {
	if s.txn != nil {
		if err := s.endTxn(ctx); err != nil {
			return err
		}
		return s.commitTask(ctx)
	}
	if err := s.producer.Flush(ctx); err != nil {
		failed := s.rejected.take()
		if !s.st.h.tolerateAll || len(failed) == 0 {
			return connect.Retriable(&StageError{Stage: StageKafkaProduce, Err: err})
		}
		for _, f := range failed {
			s.st.h.log(f) // tolerated: the record is skipped, its offset committed
			s.res.Errors++
		}
	}
	s.settleOffsets()
	if len(s.entries) > 0 {
		if err := s.mayCommit(); err != nil {
			return err
		}
		if err := s.writeOffsets(ctx); err != nil {
			return connect.Retriable(fmt.Errorf("writing source offsets: %w", err))
		}
		for _, e := range s.entries {
			s.res.SourceOffsets = append(s.res.SourceOffsets, SourceOffset{Partition: e.Partition, Offset: e.Offset})
		}
	}
	if err := s.commitRecords(ctx); err != nil {
		return err
	}
	if err := s.commitOffsets(ctx, s.entries); err != nil {
		return err
	}
	return s.commitTask(ctx)
}

// writeOffsets writes the lease's source offsets to the worker's offsets
// topic or, for a connector with its own (Lease.OffsetsTopic), to that one
// and then to the worker's, as Connect's ConnectorOffsetBackingStore does:
// a failure of the second write is logged, not returned.
func (s *sourceLease) writeOffsets(ctx context.Context) error {
	if s.ownOffsets == nil {
		return s.e.offsets.Write(ctx, s.lease.Connector, s.entries)
	}
	return offsets.WriteConnectorFirst(ctx, s.ownOffsets, s.e.offsets, s.lease.Connector, s.entries, func(err error) {
		s.log.Warn("writing source offsets to the worker's offsets topic (the connector's own topic has them)", "error", err)
	})
}

// commitAcked hands the task, during the lease, the records at the front
// of produced that Kafka acked and that have no source offsets to write
// (streaming tasks only; the rest wait for flushAndCommit). It stops at the
// first record not acked yet, refused by Kafka or with a source partition,
// so that the records keep their order; past the lease's last commit time
// it leaves them all to flushAndCommit, which fails the lease.
func (s *sourceLease) commitAcked(ctx context.Context) error {
	if !s.streaming || s.mayCommit() != nil {
		return nil
	}
	n := s.committedN
	for n < len(s.produced) && s.produced[n].SourcePartition == nil && s.acks[n].succeeded() {
		rec := &s.produced[n]
		if err := s.committer.CommitRecord(ctx, rec, connect.TopicPartition{Topic: rec.Topic, Partition: s.acks[n].partition}, s.acks[n].offset); err != nil {
			return fmt.Errorf("committing record: %w", err)
		}
		n++
	}
	s.committedN = n
	// Drop the committed records once they are at least half, so that
	// the slices do not grow with the lease and each record moves at
	// most once on average.
	if n > 0 && n >= len(s.produced)-n {
		rest := copy(s.produced, s.produced[n:])
		clear(s.produced[rest:])
		s.produced = s.produced[:rest]
		copy(s.acks, s.acks[n:])
		clear(s.acks[rest:])
		s.acks = s.acks[:rest]
		s.committedN = 0
	}
	return nil
}

// commitRecords hands each record Kafka acknowledged (and whose offsets
// are written) to the task's CommitRecord, if it has one.
func (s *sourceLease) commitRecords(ctx context.Context) error {
	for i := s.committedN; i < len(s.produced); i++ {
		rec := &s.produced[i]
		if err := s.committer.CommitRecord(ctx, rec, connect.TopicPartition{Topic: rec.Topic, Partition: s.acks[i].partition}, s.acks[i].offset); err != nil {
			return fmt.Errorf("committing record: %w", err)
		}
	}
	s.produced, s.acks = nil, nil
	return nil
}

// commitOffsets hands the task the source offsets written, if it is a
// connect.SourceOffsetCommitter and there are any.
func (s *sourceLease) commitOffsets(ctx context.Context, written []offsets.Entry) error {
	c, ok := s.task.(connect.SourceOffsetCommitter)
	if !ok || len(written) == 0 {
		return nil
	}
	r := make(offsetReader, len(written))
	for _, e := range written {
		r[offsets.PartitionID(e.Partition)] = e
	}
	if err := c.CommitOffsets(ctx, r); err != nil {
		return fmt.Errorf("committing offsets: %w", err)
	}
	return nil
}

// commitTask calls the task's Commit (rule 5), if it has one.
func (s *sourceLease) commitTask(ctx context.Context) error {
	if c, ok := s.task.(connect.SourceCommitter); ok {
		if err := c.Commit(ctx); err != nil {
			return fmt.Errorf("committing task: %w", err)
		}
	}
	return nil
}

// offsetReader serves a source task the offsets loaded at the lease's start.
type offsetReader map[string]offsets.Entry

func (o offsetReader) Offset(partition map[string]any) map[string]any {
	return o[offsets.PartitionID(partition)].Offset
}

type sourceContext struct {
	offsets offsetReader
	txn     connect.TransactionContext // nil unless transaction.boundary=connector
}

func (c sourceContext) Offsets() connect.OffsetReader { return c.offsets }

// TransactionContext is what connect.Transactions returns.
func (c sourceContext) TransactionContext() connect.TransactionContext { return c.txn }

// partitionIDs remembers the canonical ID of the last source partition map
// seen. Sources nearly always return the same map for every record of a
// partition, so comparing the map's identity saves encoding it per record.
type partitionIDs struct {
	last uintptr
	id   string
}

func (p *partitionIDs) of(m map[string]any) string {
	ptr := reflect.ValueOf(m).Pointer()
	if ptr != p.last || p.id == "" {
		p.last, p.id = ptr, offsets.PartitionID(m)
	}
	return p.id
}

// committed is what a lease keeps of a produced record until CommitRecord:
// its coordinates, timestamp and source position, without the key, value
// and headers, which would keep a whole lease's data in memory (a CDC lease
// of a million changes held over a gigabyte).
func committed(r *connect.SourceRecord) connect.SourceRecord {
	return connect.SourceRecord{
		Record:          connect.Record{Topic: r.Topic, Partition: r.Partition, Timestamp: r.Timestamp},
		SourcePartition: r.SourcePartition,
		SourceOffset:    r.SourceOffset,
		PositionKey:     r.PositionKey,
		Position:        r.Position,
	}
}

// written is where Kafka wrote a record, and whether it did: the
// producer's callback sets partition and offset, then state, which a
// streaming lease reads before the flush.
type written struct {
	partition int32
	offset    int64
	state     atomic.Uint32 // writePending, writeOK or writeFailed
}

const (
	writePending = iota
	writeOK
	writeFailed
)

func (w *written) acked(err error) {
	if err != nil {
		w.state.Store(writeFailed)
		return
	}
	w.state.Store(writeOK)
}

// succeeded reports whether Kafka acked the record; after it returned
// true, partition and offset are set.
func (w *written) succeeded() bool { return w.state.Load() == writeOK }

// writtenSlab hands out a lease's written values from blocks rather than
// one allocation per record. A block is never moved, so the producer's
// callbacks may fill in a value while later ones are handed out.
type writtenSlab struct{ free []written }

func (ws *writtenSlab) next() *written {
	if len(ws.free) == 0 {
		ws.free = make([]written, 1024)
	}
	w := &ws.free[0]
	ws.free = ws.free[1:]
	w.partition, w.offset = -1, -1
	w.state.Store(writePending)
	return w
}

// rejections collects records Kafka rejected, reported by producer acks.
type rejections struct {
	mu   sync.Mutex
	list []failure
}

func (rj *rejections) add(f failure) { rj.mu.Lock(); rj.list = append(rj.list, f); rj.mu.Unlock() }

func (rj *rejections) take() []failure {
	rj.mu.Lock()
	defer rj.mu.Unlock()
	l := rj.list
	rj.list = nil
	return l
}
