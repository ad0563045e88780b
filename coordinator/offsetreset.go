package coordinator

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// AutoOffsetResetConfig is the connector key that sets a sink's
// auto.offset.reset, as Connect passes consumer.override.* to the sink's
// consumer. Sink connectors default to earliest (Connect's worker sets it
// for its sink consumers).
const AutoOffsetResetConfig = "consumer.override.auto.offset.reset"

// The auto.offset.reset policies.
const (
	resetEarliest = "earliest"
	resetLatest   = "latest"
	resetNone     = "none"
)

// offsetResetPolicy returns a sink connector's auto.offset.reset.
func offsetResetPolicy(cfg map[string]string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(cfg[AutoOffsetResetConfig]))
	switch v {
	case "":
		return resetEarliest, nil
	case resetEarliest, resetLatest, resetNone:
		return v, nil
	}
	return "", fmt.Errorf("Invalid value %s for configuration auto.offset.reset (%s): String must be one of: latest, earliest, none",
		cfg[AutoOffsetResetConfig], AutoOffsetResetConfig)
}

// offsetResetError reports a partition whose position the task cannot
// decide under auto.offset.reset=none: Connect's consumer throws
// NoOffsetForPartitionException or OffsetOutOfRangeException, and the task
// fails.
type offsetResetError struct{ msg string }

func (e *offsetResetError) Error() string { return e.msg }

// startOffset returns where the task reads tp next: its committed offset
// when it lies within the log [Low, High], and otherwise the position
// auto.offset.reset gives, as Connect's consumer does. An offset beyond
// the log end (the topic was deleted and re-created, or truncated) or
// below its start (records deleted) is reset, said in the log and in the
// task's status, and the new position is committed at once, so that the
// task neither waits forever for offsets that will not come nor resets
// again. A partition without a committed offset starts at the log start
// (earliest) or at its end (latest, committed likewise).
func (t *taskRun) startOffset(ctx context.Context, group string, tp kafka.TopicPartition, committed int64, wm kafka.Watermark) (int64, error) {
	if committed >= 0 && committed >= wm.Low && committed <= wm.High {
		return committed, nil
	}
	policy, err := offsetResetPolicy(t.cr.config)
	if err != nil {
		return 0, &offsetResetError{msg: err.Error()}
	}
	if committed < 0 {
		switch policy {
		case resetNone:
			return 0, &offsetResetError{msg: fmt.Sprintf("Undefined offset with no reset policy for partitions: [%s-%d] (auto.offset.reset=none)", tp.Topic, tp.Partition)}
		case resetEarliest:
			return wm.Low, nil // the first lease's commit records the position
		}
		if err := t.cr.c.d.Kafka.SetGroupOffsets(ctx, group, map[kafka.TopicPartition]int64{tp: wm.High}); err != nil {
			return 0, fmt.Errorf("committing the latest offset %d of %s (auto.offset.reset=latest): %w", wm.High, tp, err)
		}
		t.log.Info("no committed offset: starting at the log end (auto.offset.reset=latest)", "partition", tp.String(), "offset", wm.High)
		return wm.High, nil
	}
	where := "beyond the log end"
	if committed < wm.Low {
		where = "below the log start"
	}
	msg := fmt.Sprintf("Fetch position %d is out of range for partition %s-%d (%s: log start %d, log end %d)",
		committed, tp.Topic, tp.Partition, where, wm.Low, wm.High)
	if policy == resetNone {
		return 0, &offsetResetError{msg: msg + "; auto.offset.reset=none"}
	}
	pos := wm.Low
	if policy == resetLatest {
		pos = wm.High
	}
	if err := t.cr.c.d.Kafka.SetGroupOffsets(ctx, group, map[kafka.TopicPartition]int64{tp: pos}); err != nil {
		return 0, fmt.Errorf("%s: resetting it to %d (auto.offset.reset=%s): %w", msg, pos, policy, err)
	}
	msg = fmt.Sprintf("%s, resetting offset to %d (auto.offset.reset=%s)", msg, pos, policy)
	t.log.Warn("sink offset out of range: reset", "partition", tp.String(), "committed", committed,
		"log_start", wm.Low, "log_end", wm.High, "reset_to", pos, "policy", policy)
	// RUNNING with the reset in its trace, until the task's state changes.
	t.cr.c.putTaskStatus(t.cr.name, t.id, state.StateRunning, msg)
	return pos, nil
}
