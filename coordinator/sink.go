package coordinator

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// sinkPlan is a sink task's scheduling state: the ranges issued but not yet
// committed (re-issued unchanged on retry, DESIGN.md rule 2) and since when
// each partition has had pending records.
type sinkPlan struct {
	flushSize      int64
	rotateInterval time.Duration
	maxRecords     int64
	pending        map[kafka.TopicPartition]lease.Range
	lagSince       map[kafka.TopicPartition]time.Time
}

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
	return p
}

// runSink checks the task's partitions for lag every SinkPollInterval and
// issues a lease for the partitions that are due.
func (t *taskRun) runSink(ctx context.Context) {
	match, err := connect.SinkTopicMatcher(t.cr.config)
	if err != nil {
		t.cr.fail(err)
		return
	}
	plan := t.newSinkPlan()
	if rec := t.inherited; rec != nil && rec.Kind == lease.KindSink {
		// Re-issue the ranges of a lease a previous coordinator issued and
		// did not see end: the same range, so the same output (rule 2).
		for _, rg := range rec.Ranges {
			plan.pending[kafka.TopicPartition{Topic: rg.Topic, Partition: rg.Partition}] = rg
		}
	}
	for t.waitWhilePaused(ctx) {
		ranges, err := t.dueRanges(ctx, match, plan, time.Now())
		if err != nil {
			t.log.Warn("checking sink lag", "error", err)
		}
		if len(ranges) == 0 {
			if !sleep(ctx, t.cr.c.cfg.SinkPollInterval) {
				return
			}
			continue
		}
		res, ok := t.invoke(ctx, t.newLease(lease.KindSink, ranges))
		if !ok {
			return
		}
		if res.Status == lease.Succeeded {
			for _, rg := range ranges {
				tp := kafka.TopicPartition{Topic: rg.Topic, Partition: rg.Partition}
				delete(plan.pending, tp)
				delete(plan.lagSince, tp)
			}
		}
		if !res.MorePending && !sleep(ctx, t.cr.c.cfg.SinkPollInterval) {
			return
		}
	}
}

// assignment returns this task's share of the partitions of the topics the
// connector consumes: partitions sorted by topic and number, task i taking
// every count-th from i. New topics and partitions are picked up each time.
func (t *taskRun) assignment(ctx context.Context, match func(string) bool) ([]kafka.TopicPartition, error) {
	topics, err := t.cr.c.d.Kafka.Topics(ctx)
	if err != nil {
		return nil, err
	}
	var all []kafka.TopicPartition
	for _, topic := range topics {
		if !match(topic) {
			continue
		}
		parts, err := t.cr.c.d.Kafka.Partitions(ctx, topic)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			all = append(all, kafka.TopicPartition{Topic: topic, Partition: p})
		}
	}
	slices.SortFunc(all, func(a, b kafka.TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	var mine []kafka.TopicPartition
	for i, tp := range all {
		if i%t.count == t.id {
			mine = append(mine, tp)
		}
	}
	return mine, nil
}

// dueRanges returns the ranges the task should process now: every range
// issued before and not committed yet, unchanged, and for other partitions
// [committed, high watermark) when the lag reaches flush.size or has been
// pending for the rotation interval (DESIGN.md rule 4).
func (t *taskRun) dueRanges(ctx context.Context, match func(string) bool, plan *sinkPlan, now time.Time) ([]lease.Range, error) {
	tps, err := t.assignment(ctx, match)
	if err != nil || len(tps) == 0 {
		return nil, err
	}
	committed, err := t.cr.c.d.Kafka.CommittedOffsets(ctx, lease.GroupID(t.cr.name), tps)
	if err != nil {
		return nil, err
	}
	wms, err := t.cr.c.d.Kafka.Watermarks(ctx, tps)
	if err != nil {
		return nil, err
	}
	var ranges []lease.Range
	for _, tp := range tps {
		if rg, ok := plan.pending[tp]; ok {
			ranges = append(ranges, rg)
			continue
		}
		wm := wms[tp]
		start := committed[tp]
		if start < wm.Low {
			// Nothing committed yet, or the committed records were deleted:
			// start at the earliest record (Connect sinks' auto.offset.reset).
			start = wm.Low
		}
		lag := wm.High - start
		if lag <= 0 {
			delete(plan.lagSince, tp)
			continue
		}
		since, seen := plan.lagSince[tp]
		if !seen {
			since = now
			plan.lagSince[tp] = now
		}
		if lag < plan.flushSize && now.Sub(since) < plan.rotateInterval {
			continue
		}
		end := min(wm.High, start+plan.maxRecords)
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
