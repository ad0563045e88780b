package coordinator

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// sinkPlan is a sink task's scheduling state: the ranges issued but not yet
// committed (re-issued unchanged on retry, rule 2 of docs/architecture.md)
// and since when each partition has had pending records.
type sinkPlan struct {
	flushSize      int64
	rotateInterval time.Duration
	maxRecords     int64
	pending        map[kafka.TopicPartition]lease.Range
	lagSince       map[kafka.TopicPartition]time.Time
}

// newSinkPlan returns the task's plan, holding the ranges of the lease it
// inherited, if any.
func (t *taskRun) newSinkPlan() *sinkPlan {
	cfg := t.cr.c.cfg
	p := &sinkPlan{
		flushSize:      cfg.DefaultFlushSize,
		rotateInterval: cfg.DefaultRotateInterval,
		maxRecords:     cfg.SinkMaxRecords,
		pending:        map[kafka.TopicPartition]lease.Range{},
		lagSince:       map[kafka.TopicPartition]time.Time{},
	}
	// The storage sinks' keys (Confluent's flush.size and rotate.interval.ms)
	// set the thresholds when the connector has them.
	if n, err := strconv.ParseInt(strings.TrimSpace(t.cr.config["flush.size"]), 10, 64); err == nil && n > 0 {
		p.flushSize = n
	}
	if ms, err := strconv.ParseInt(strings.TrimSpace(t.cr.config["rotate.interval.ms"]), 10, 64); err == nil && ms > 0 {
		p.rotateInterval = time.Duration(ms) * time.Millisecond
	}
	// A lease covers at least one full file.
	p.maxRecords = max(p.maxRecords, p.flushSize)
	if rec := t.inherited; rec != nil && rec.Kind == lease.KindSink {
		// Re-issue the ranges of a lease a previous coordinator issued and
		// did not see end: the same range, so the same output (rule 2).
		for _, rg := range rec.Ranges {
			p.pending[rg.TopicPartition()] = rg
		}
	}
	return p
}

// stepSink checks the task's partitions for lag and issues a lease for the
// partitions that are due; the next check is due after SinkPollInterval
// (at once after a lease that left more pending). The lag itself comes
// from the connector's sinkLag, one check shared by all its tasks. It
// returns the delay and whether the task goes on.
func (t *taskRun) stepSink(ctx context.Context) (time.Duration, bool) {
	if t.plan == nil {
		lag, err := t.cr.sinkLag()
		if err != nil {
			t.cr.fail(err)
			return 0, false
		}
		t.lag, t.plan = lag, t.newSinkPlan()
	}
	poll := t.cr.c.cfg.SinkPollInterval
	// seen is when the task last looked at the lag or ended a lease: the
	// next look must come from a check started after it, so that it shows
	// the offsets the task's own leases committed.
	ranges, err := t.dueRanges(ctx, t.lag, t.plan, t.seen, time.Now())
	t.seen = time.Now()
	if rerr, ok := errors.AsType[*offsetResetError](err); ok {
		t.log.Error("task failed", "error", rerr)
		t.setState(state.StateFailed, rerr.Error())
		return 0, false
	}
	if err != nil && ctx.Err() == nil {
		t.log.Warn("checking sink lag", "error", err)
	}
	if len(ranges) == 0 {
		return poll, true
	}
	res, ok := t.invoke(ctx, t.newLease(lease.KindSink, ranges))
	t.seen = time.Now()
	if !ok {
		return 0, false
	}
	if res.Status == lease.Succeeded {
		t.plan.done(ranges)
	}
	if res.MorePending {
		return 0, true
	}
	return poll, true
}

// done forgets ranges once a lease has committed them.
func (p *sinkPlan) done(ranges []lease.Range) {
	for _, rg := range ranges {
		tp := rg.TopicPartition()
		delete(p.pending, tp)
		delete(p.lagSince, tp)
	}
}

// sinkLag returns the connector's shared lag check, made on first use.
func (cr *connectorRun) sinkLag() (*sinkLag, error) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.lag == nil {
		match, err := connect.SinkTopicMatcher(cr.config)
		if err != nil {
			return nil, err
		}
		readCommitted, err := lease.ReadsCommitted(cr.config)
		if err != nil {
			return nil, err
		}
		cr.lag = &sinkLag{c: cr.c, group: lease.GroupID(cr.name), match: match, readCommitted: readCommitted}
	}
	return cr.lag, nil
}

// sinkLag is a sink connector's lag, checked for all its tasks at once:
// its partitions (from the coordinator's topic metadata cache), the
// group's committed offsets (one OffsetFetch) and the watermarks (one
// ListOffsets pair per broker). Each task used to make these calls itself
// every SinkPollInterval, which with 10,000 tasks was tens of thousands of
// Kafka requests a second for connectors with nothing to do. A task asks
// for a check started after a given time; a check that recent is shared,
// otherwise one is made (one at a time per connector). It is safe for
// concurrent use; what it returns is shared and must not be modified.
type sinkLag struct {
	c     *Coordinator
	group string
	match func(string) bool
	// readCommitted: the connector reads with read_committed isolation
	// (lease.IsolationLevelConfig), so its ranges end at each partition's
	// last stable offset rather than its high watermark.
	readCommitted bool

	mu        sync.Mutex // held during a check
	checked   time.Time  // when the last successful check started
	all       []kafka.TopicPartition
	committed map[kafka.TopicPartition]int64
	wms       map[kafka.TopicPartition]kafka.Watermark
	ends      map[kafka.TopicPartition]int64 // where ranges may end

	// last is the last check's lag per partition, for the console and GET
	// /sluice/v1/ (read without waiting for a check in progress).
	last atomic.Pointer[lagSnapshot]
}

// lagSnapshot is a sink connector's lag per partition at Checked.
type lagSnapshot struct {
	Checked    time.Time
	Partitions []rest.PartitionLag
}

// record keeps what a check found as the last lag: the records between
// each partition's committed offset (its log start when none) and its end.
func (s *sinkLag) record(checked time.Time, all []kafka.TopicPartition, committed map[kafka.TopicPartition]int64, wms map[kafka.TopicPartition]kafka.Watermark) {
	snap := &lagSnapshot{Checked: checked, Partitions: make([]rest.PartitionLag, 0, len(all))}
	for _, tp := range all {
		wm := wms[tp]
		from := max(committed[tp], wm.Low)
		snap.Partitions = append(snap.Partitions, rest.PartitionLag{Topic: tp.Topic, Partition: tp.Partition,
			Committed: committed[tp], End: wm.High, Lag: max(wm.High-from, 0)})
	}
	s.last.Store(snap)
}

// check returns the connector's partitions, sorted, with their committed
// offsets, watermarks and where a range may end (the high watermark, or
// with read_committed the last stable offset), from a check that started
// after after.
func (s *sinkLag) check(ctx context.Context, after time.Time) ([]kafka.TopicPartition, map[kafka.TopicPartition]int64, map[kafka.TopicPartition]kafka.Watermark, map[kafka.TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checked.IsZero() && s.checked.After(after) {
		return s.all, s.committed, s.wms, s.ends, nil
	}
	started := time.Now()
	all, err := s.c.partitionsOf(ctx, s.match)
	if err != nil || len(all) == 0 {
		return nil, nil, nil, nil, err
	}
	committed, err := s.c.d.Kafka.CommittedOffsets(ctx, s.group, all)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	wms, err := s.c.d.Kafka.Watermarks(ctx, all)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ends := make(map[kafka.TopicPartition]int64, len(all))
	for tp, wm := range wms {
		ends[tp] = wm.High
	}
	if s.readCommitted {
		// Asked after the high watermarks: never beyond them.
		stable, err := s.c.d.Kafka.StableWatermarks(ctx, all)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		for tp, wm := range stable {
			ends[tp] = min(ends[tp], wm.High)
		}
	}
	s.checked, s.all, s.ends, s.committed, s.wms = started, all, ends, committed, wms
	s.record(started, all, committed, wms)
	if s.c.log.Enabled(ctx, slog.LevelDebug) {
		var lag int64
		for _, tp := range all {
			if off, ok := committed[tp]; ok {
				lag += wms[tp].High - max(off, wms[tp].Low)
			} else {
				lag += wms[tp].High - wms[tp].Low
			}
		}
		s.c.log.Debug("sink lag checked", "group", s.group, "partitions", len(all), "lag", lag, "took", time.Since(started))
	}
	return all, committed, wms, ends, nil
}

// topicCache is the coordinator's topic metadata, shared by the sink
// connectors' lag checks and refreshed when older than metadataMaxAge:
// new topics and partitions are picked up within that time.
type topicCache struct {
	mu     sync.Mutex
	listed time.Time
	topics []string           // sorted
	parts  map[string][]int32 // sorted
}

// metadataMaxAge is how old the topic metadata sink lag checks use may
// be: five lag polls (5 s by default).
func (c *Coordinator) metadataMaxAge() time.Duration { return 5 * c.cfg.SinkPollInterval }

// partitionsOf returns the partitions of the topics match selects, sorted
// by topic and number.
func (c *Coordinator) partitionsOf(ctx context.Context, match func(string) bool) ([]kafka.TopicPartition, error) {
	tc := &c.meta
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if time.Since(tc.listed) > c.metadataMaxAge() {
		parts, err := c.d.Kafka.TopicPartitions(ctx)
		if err != nil {
			return nil, err
		}
		tc.topics, tc.parts, tc.listed = slices.Sorted(maps.Keys(parts)), parts, time.Now()
	}
	var all []kafka.TopicPartition
	for _, topic := range tc.topics {
		if !match(topic) {
			continue
		}
		for _, p := range tc.parts[topic] {
			all = append(all, kafka.TopicPartition{Topic: topic, Partition: p})
		}
	}
	return all, nil
}

// assignment returns this task's share of the connector's partitions
// (sorted by topic and number): task i takes every count-th from i.
func (t *taskRun) assignment(all []kafka.TopicPartition) []kafka.TopicPartition {
	var mine []kafka.TopicPartition
	for i, tp := range all {
		if i%t.count == t.id {
			mine = append(mine, tp)
		}
	}
	return mine
}

// dueRanges returns the ranges the task should process now: every range
// issued before and not committed yet, unchanged, and for other partitions
// [committed, high watermark) when the lag reaches flush.size or has been
// pending for the rotation interval (rule 4 of docs/architecture.md).
func (t *taskRun) dueRanges(ctx context.Context, lag *sinkLag, plan *sinkPlan, after, now time.Time) ([]lease.Range, error) {
	all, committed, wms, ends, err := lag.check(ctx, after)
	if err != nil {
		return nil, err
	}
	tps := t.assignment(all)
	if len(tps) == 0 {
		return nil, nil
	}
	group := lag.group
	var ranges []lease.Range
	for _, tp := range tps {
		wm := wms[tp]
		if rg, ok := plan.pending[tp]; ok {
			if rg.Start >= wm.Low && rg.End <= wm.High {
				ranges = append(ranges, rg)
				continue
			}
			// The range's records are gone (the topic was deleted and
			// re-created, or truncated): re-issuing it would fail forever.
			t.log.Warn("dropping a pending range whose records no longer exist", "range", rg.String(), "log_start", wm.Low, "log_end", wm.High)
			delete(plan.pending, tp)
		}
		start, err := t.startOffset(ctx, group, tp, committed[tp], wm)
		if err != nil {
			return nil, err
		}
		lag := ends[tp] - start
		if lag <= 0 {
			delete(plan.lagSince, tp)
			continue
		}
		since, seen := plan.lagSince[tp]
		if !seen {
			// A lag already older than the rotation interval is due in
			// full: a lease due by size then takes the tail along rather
			// than leaving it to a lease after it.
			since = t.pendingSince(ctx, tp, start, now)
			plan.lagSince[tp] = since
		}
		if lag < plan.flushSize && now.Sub(since) < plan.rotateInterval {
			continue
		}
		end := min(ends[tp], start+plan.maxRecords)
		if lag >= plan.flushSize && now.Sub(since) < plan.rotateInterval {
			// Due by size, not by age: cover whole multiples of flush.size so
			// that storage sinks write full files, and leave the remainder
			// for a later lease.
			end = start + (end-start)/plan.flushSize*plan.flushSize
		}
		rg := lease.Range{Topic: tp.Topic, Partition: tp.Partition, Start: start, End: end}
		plan.pending[tp] = rg
		ranges = append(ranges, rg)
	}
	return ranges, nil
}

// pendingSince returns since when tp's records from start on have been
// pending: the timestamp of the record at start, the oldest, when it is
// before now, so that a tail that was already older than the rotation
// interval when the task first saw it (records produced before the
// coordinator started, or while another one led) is due at once rather
// than one rotation interval later. It is now when that record's time is
// unknown (no timestamp, a timestamp ahead of now, or a failed read).
func (t *taskRun) pendingSince(ctx context.Context, tp kafka.TopicPartition, start int64, now time.Time) time.Time {
	since := now
	// One byte asks for the first record batch alone: a broker always
	// returns one whole batch.
	err := t.cr.c.d.Kafka.ReadRange(ctx, tp, start, start+1, 1, func(msgs []kafka.Message) error {
		if ts := msgs[0].Timestamp; ts.UnixMilli() > 0 && ts.Before(since) {
			since = ts
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		t.log.Debug("reading the oldest pending record's timestamp", "partition", tp.String(), "offset", start, "error", err)
	}
	return since
}
