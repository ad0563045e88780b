package lease

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// offsetReader serves a source task the offsets loaded at the lease's start.
type offsetReader map[string]offsets.Entry

func (o offsetReader) Offset(partition map[string]any) map[string]any {
	return o[offsets.PartitionID(partition)].Offset
}

type sourceContext struct{ offsets offsetReader }

func (c sourceContext) Offsets() connect.OffsetReader { return c.offsets }

// source runs a source lease: restore offsets, Poll until the budget, the
// idle limit or stop, convert and produce each record, flush the producer,
// write the offsets of what was acked, then let the task commit. ctx bounds
// the whole lease; stop only ends the polling.
func (r *run) source(stop, ctx context.Context) (err error) {
	l := r.lease
	plugin, err := r.connectorPlugin(connect.KindSource)
	if err != nil {
		return err
	}
	loaded, err := r.e.offsets.Load(ctx, l.Connector)
	if err != nil {
		return connect.Retriable(fmt.Errorf("loading source offsets: %w", err))
	}
	producer, err := r.e.kafka.NewProducer(r.e.opts.Producer)
	if err != nil {
		return connect.Retriable(fmt.Errorf("creating producer: %w", err))
	}
	defer producer.Close()
	st, err := r.newStages(producer)
	if err != nil {
		return err
	}
	defer st.close()

	task := plugin.NewSourceTask()
	if err := task.Start(ctx, sourceContext{offsetReader(loaded)}, l.TaskConfig); err != nil {
		_ = task.Stop()
		return fmt.Errorf("starting task: %w", err)
	}
	defer stopTask(task.Stop, &err)

	// Latest offset per source partition, in first-seen order, and the
	// records kept for per-record commits.
	pending := map[string]int{}
	var entries []offsets.Entry
	recordCommitter, commitsRecords := task.(connect.SourceRecordCommitter)
	var produced []connect.SourceRecord
	var acks []*written // filled in by the producer, read after Flush
	// Under errors.tolerance=all, records Kafka rejects are collected
	// one by one instead of failing the lease (stage KAFKA_PRODUCE).
	var rejected rejections

	// Two stages: a poller goroutine calls Poll while this one converts and
	// produces the previous batch. The poller stops at the lease's time
	// limit, on stop, when idle for MaxIdle, or when told to (budget spent).
	pollStop, stopPolling := context.WithCancel(stop)
	defer stopPolling()
	batches := make(chan []connect.SourceRecord, 2)
	var polled pollOutcome
	pollerDone := make(chan struct{})
	go func() {
		defer close(pollerDone)
		defer close(batches)
		polled = r.poll(pollStop, ctx, task, batches)
	}()
	finishPolling := func() {
		stopPolling()
		for range batches {
			// Records polled after the budget was spent are not produced;
			// their offsets are not written, so the next lease polls them again.
		}
		<-pollerDone
	}

	var ids partitionIDs
	for recs := range batches {
		if err := r.mayCommit(); err != nil {
			// A Poll that overran the lease's time: its records are not
			// produced; the next lease polls them again from the last
			// committed offsets.
			finishPolling()
			return err
		}
		for i := range recs {
			rec := &recs[i]
			if err := r.produceOne(ctx, st, producer, rec, commitsRecords, &acks, &produced, &rejected); err != nil {
				finishPolling()
				return err
			}
			if rec.SourcePartition != nil {
				// Dropped and tolerated records' offsets are committed too, as Connect does.
				id := ids.of(rec.SourcePartition)
				if j, ok := pending[id]; ok {
					entries[j].Offset = rec.SourceOffset
				} else {
					pending[id] = len(entries)
					entries = append(entries, offsets.Entry{Partition: rec.SourcePartition, Offset: rec.SourceOffset})
				}
			}
		}
		if r.res.Records >= r.budget.MaxRecords || r.res.Bytes >= r.budget.MaxBytes {
			r.res.MorePending = true
			break
		}
	}
	finishPolling()
	if polled.err != nil {
		return polled.err
	}
	if polled.cutShort {
		r.res.MorePending = true
	}

	// Rule 1: offsets only after every record (and dead letter) is acked.
	if err := producer.Flush(ctx); err != nil {
		failed := rejected.take()
		if !st.h.tolerateAll || len(failed) == 0 {
			return connect.Retriable(&StageError{Stage: StageKafkaProduce, Err: err})
		}
		for _, f := range failed {
			st.h.log(f) // tolerated: the record is skipped, its offset committed
			r.res.Errors++
		}
	}
	if len(entries) > 0 {
		if err := r.mayCommit(); err != nil {
			return err
		}
		if err := r.e.offsets.Write(ctx, l.Connector, entries); err != nil {
			return connect.Retriable(fmt.Errorf("writing source offsets: %w", err))
		}
		for _, e := range entries {
			r.res.SourceOffsets = append(r.res.SourceOffsets, SourceOffset{Partition: e.Partition, Offset: e.Offset})
		}
	}
	for i := range produced {
		rec := &produced[i]
		if err := recordCommitter.CommitRecord(ctx, rec, connect.TopicPartition{Topic: rec.Topic, Partition: acks[i].partition}, acks[i].offset); err != nil {
			return fmt.Errorf("committing record: %w", err)
		}
	}
	if c, ok := task.(connect.SourceCommitter); ok {
		if err := c.Commit(ctx); err != nil {
			return fmt.Errorf("committing task: %w", err)
		}
	}
	return nil
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

// pollOutcome is how the poller ended.
type pollOutcome struct {
	// cutShort: the lease's time limit or a stop ended polling while the
	// source still had data.
	cutShort bool
	err      error
}

// poll calls Poll until stop, the lease's poll limit, or MaxIdle without
// records, handing each non-empty batch to out. It runs on its own
// goroutine; only it calls Poll.
func (r *run) poll(stop, ctx context.Context, task connect.SourceTask, out chan<- []connect.SourceRecord) pollOutcome {
	lastData := r.e.opts.Now()
	for {
		now := r.e.opts.Now()
		if stop.Err() != nil || !now.Before(r.pollUntil) {
			return pollOutcome{cutShort: true}
		}
		if now.Sub(lastData) >= time.Duration(r.budget.MaxIdle) {
			return pollOutcome{}
		}
		pollCtx, cancel := context.WithDeadline(stop, r.pollUntil)
		recs, err := task.Poll(pollCtx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && pollCtx.Err() != nil {
				// The poll was cut short by the lease's time limit or a stop.
				return pollOutcome{cutShort: true}
			}
			return pollOutcome{err: &StageError{Stage: StageTaskPoll, Err: err}}
		}
		if len(recs) == 0 {
			idleWait(stop, r.pollUntil)
			continue
		}
		select {
		case out <- recs:
		case <-stop.Done():
			return pollOutcome{cutShort: true}
		}
		// Idle time counts from the hand-off: waiting for a busy producer
		// is not idleness.
		lastData = r.e.opts.Now()
	}
}

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

// written is where Kafka wrote a record.
type written struct {
	partition int32
	offset    int64
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

// produceOne transforms, converts and sends one polled record. A record the
// chain drops or whose failure is tolerated is not sent.
func (r *run) produceOne(ctx context.Context, st *stages, producer *kafka.Producer, rec *connect.SourceRecord,
	commitsRecords bool, acks *[]*written, produced *[]connect.SourceRecord, rejected *rejections) error {
	out := *rec
	if st.chain.Len() > 0 {
		tr := connect.TransformRecord{Record: rec.Record, KafkaOffset: -1}
		keep, err := st.transform(ctx, &tr, failure{src: rec})
		if err != nil || !keep {
			return err
		}
		out.Record = tr.Record
	}
	msg, ok, err := st.toMessage(ctx, &out)
	if err != nil || !ok {
		return err
	}
	if err := r.ensureTopic(ctx, msg.Topic); err != nil { // topic creation (KIP-158)
		return err
	}
	var w *written
	if commitsRecords {
		w = &written{partition: -1, offset: -1}
		*acks = append(*acks, w)
		*produced = append(*produced, out)
	}
	switch {
	case w == nil && !st.h.tolerateAll:
		producer.Send(msg)
	default:
		failed := out
		producer.SendAck(msg, func(p int32, off int64, err error) {
			if w != nil {
				w.partition, w.offset = p, off
			}
			if err != nil && st.h.tolerateAll {
				rejected.add(failure{stage: StageKafkaProduce, class: "org.apache.kafka.clients.producer.KafkaProducer", err: err, src: &failed})
			}
		})
	}
	r.res.Records++
	r.res.Bytes += int64(len(msg.Key) + len(msg.Value))
	r.noteTopic(msg.Topic)
	return nil
}

// noteTopic adds a topic the lease produced to or read from to its
// result's topics (the coordinator's active topics), once.
func (r *run) noteTopic(topic string) {
	if !slices.Contains(r.res.Topics, topic) {
		r.res.Topics = append(r.res.Topics, topic)
	}
}
