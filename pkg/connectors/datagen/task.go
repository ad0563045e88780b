package datagen

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
)

// Source partition and offset fields.
const (
	TaskField = "task"
	SeqField  = "seq"
)

// maxWait bounds how long Poll waits for the next record when rate is set.
const maxWait = 100 * time.Millisecond

// Task generates the records of one task index. Record i is a pure function
// of (seed, task index, i, shape); the task resumes at the committed seq and
// returns no records once count is reached. It is not safe for concurrent
// use; the executor calls it from one goroutine.
type Task struct {
	s         settings
	index     int64
	stream    uint64
	gen       generate
	partition map[string]any

	next    int64 // number of the next record
	started time.Time
	emitted int64 // records returned since Start, for rate
}

var _ connect.SourceTask = (*Task)(nil)

// NewTask returns a task.
func NewTask() *Task { return &Task{} }

// Start reads the configuration, including task.index and task.count set by
// TaskConfigs (0 and 1 when absent), and restores the next record number
// from the committed offset.
func (t *Task) Start(_ context.Context, tc connect.SourceTaskContext, props map[string]string) error {
	s, err := parseSettings(props)
	if err != nil {
		return err
	}
	index, err := intProp(props, TaskIndexConfig, 0)
	if err != nil {
		return err
	}
	count, err := intProp(props, TaskCountConfig, 1)
	if err != nil {
		return err
	}
	if count < 1 || index < 0 || index >= count {
		return fmt.Errorf("datagen: task.index %d is outside [0, task.count %d)", index, count)
	}
	t.s, t.index = s, index
	t.stream = taskStream(s.seed, s.shape, index)
	t.gen = generator(s.shape, s.seed, s.valueSize)
	t.partition = map[string]any{TaskField: index}
	t.next = 0
	if tc != nil && tc.Offsets() != nil {
		if off := tc.Offsets().Offset(map[string]any{TaskField: index}); off != nil {
			if t.next, err = connect.OffsetPosition(off[SeqField]); err != nil {
				return fmt.Errorf("datagen: committed offset of task %d: %w", index, err)
			}
		}
	}
	t.started, t.emitted = time.Now(), 0
	return nil
}

func intProp(props map[string]string, key string, def int64) (int64, error) {
	v, ok := props[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("datagen: invalid %s %q: not a number", key, v)
	}
	return n, nil
}

// Poll returns the next records: at most batch.size, no more than count
// allows, and with rate set only those due since Start. When none is due it
// waits for the next one for at most 100 ms (less if ctx ends) and may
// return nil.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	n := int64(t.s.batchSize)
	if t.s.count >= 0 {
		n = min(n, t.s.count-t.next)
	}
	if n <= 0 {
		return nil, nil
	}
	if t.s.rate > 0 {
		if n = min(n, t.due(ctx)); n <= 0 {
			return nil, nil
		}
	}
	records := make([]connect.SourceRecord, n)
	for j := range records {
		i := t.next + int64(j)
		rec := &records[j]
		r := recordRNG(t.stream, i)
		rec.Topic = t.s.topic
		t.gen(&rec.Record, &r, t.index, i)
		rec.SourcePartition = t.partition
		rec.SourceOffset = map[string]any{SeqField: i + 1}
	}
	t.next += n
	t.emitted += n
	return records, nil
}

// due returns how many records are due under rate, a token bucket that
// starts with one token at Start. With none due it waits for the next.
func (t *Task) due(ctx context.Context) int64 {
	avail := t.available(time.Now())
	if avail > 0 {
		return avail
	}
	nextAt := t.started.Add(time.Duration(float64(t.emitted) / t.s.rate * float64(time.Second)))
	wait := min(time.Until(nextAt), maxWait)
	if wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return 0
		case <-timer.C:
		}
	}
	return t.available(time.Now())
}

func (t *Task) available(now time.Time) int64 {
	return int64(now.Sub(t.started).Seconds()*t.s.rate) + 1 - t.emitted
}

// Stop does nothing: the task holds no resources.
func (t *Task) Stop() error { return nil }
