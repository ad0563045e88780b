package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/IBM/sarama"
)

// CommittedOffsets returns the consumer group's committed offset of each
// partition, -1 where the group has none. Sluice sink connectors use Connect's
// group names, connect-<connector>.
func (c *Client) CommittedOffsets(ctx context.Context, group string, tps []TopicPartition) (map[TopicPartition]int64, error) {
	out := make(map[TopicPartition]int64, len(tps))
	if len(tps) == 0 {
		if group == "" {
			return nil, errors.New("kafka: empty consumer group name")
		}
		return out, nil
	}
	partitions := map[string][]int32{}
	for _, tp := range tps {
		partitions[tp.Topic] = append(partitions[tp.Topic], tp.Partition)
	}
	committed, err := c.fetchGroupOffsets(ctx, group, partitions)
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		if off, ok := committed[tp]; ok {
			out[tp] = off
		} else {
			out[tp] = -1
		}
	}
	return out, nil
}

// fetchGroupOffsets asks the group's coordinator for its committed offsets
// of partitions (nil: all of the group's; OffsetFetch v2+ encodes it as
// null topics) and returns those that exist (>= 0). A group that does not
// exist yields none: some brokers (kfake, newer Kafka) answer so for a
// group that never committed, older ones return -1 offsets. Coordinator
// movements are retried.
func (c *Client) fetchGroupOffsets(ctx context.Context, group string, partitions map[string][]int32) (map[TopicPartition]int64, error) {
	if group == "" {
		return nil, errors.New("kafka: empty consumer group name")
	}
	var out map[TopicPartition]int64
	err := retry(ctx, func() (bool, error) {
		out = map[TopicPartition]int64{}
		coord, err := c.sc.Coordinator(group)
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: coordinator of group %s: %w", group, err)
		}
		resp, err := coord.FetchOffset(sarama.NewOffsetFetchRequest(c.conf.Version, group, partitions))
		if err != nil {
			_ = coord.Close()
			_ = c.sc.RefreshCoordinator(group)
			return IsRetriable(err), fmt.Errorf("kafka: fetch offsets of group %s: %w", group, err)
		}
		switch groupErr := resp.GroupError(); {
		case errors.Is(groupErr, sarama.ErrNoError):
		case errors.Is(groupErr, sarama.ErrGroupIDNotFound):
			return false, nil
		case coordinatorKError(groupErr):
			_ = c.sc.RefreshCoordinator(group)
			return true, fmt.Errorf("kafka: fetch offsets of group %s: %w", group, groupErr)
		default:
			return false, fmt.Errorf("kafka: fetch offsets of group %s: %w", group, groupErr)
		}
		for topic, parts := range resp.Blocks {
			for p, blk := range parts {
				tp := TopicPartition{Topic: topic, Partition: p}
				if !errors.Is(blk.Err, sarama.ErrNoError) {
					if coordinatorKError(blk.Err) {
						_ = c.sc.RefreshCoordinator(group)
						return true, fmt.Errorf("kafka: fetch offset of group %s for %s: %w", group, tp, blk.Err)
					}
					return false, fmt.Errorf("kafka: fetch offset of group %s for %s: %w", group, tp, blk.Err)
				}
				if blk.Offset >= 0 {
					out[tp] = blk.Offset
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommitOffsets commits offsets for the consumer group without joining it
// (generation -1, no member id): the "simple consumer" commit Kafka accepts
// while the group has no active members; otherwise it fails with
// ErrGroupActive. An offset is the next record to consume, the end of a
// processed range.
//
// CommitOffsets never moves a committed offset backwards: it first reads the
// committed offsets and skips partitions already at or beyond the new one.
// It returns the partitions it advanced, with their new offsets.
//
// The read and the commit are two requests. Commits of one group through
// one Client are serialized, so concurrent committers in a process (the
// coordinator's in-process leases, a zombie and its successor) never move
// an offset backwards. Across processes a committer can still advance a
// partition between another's read and commit and be overwritten by a
// smaller offset. That is harmless for Sluice: committed offsets only ever come from ranges
// whose output is already durable, a retried sink lease reuses the same
// range, and file outputs are a pure function of the range, so the worst
// case re-delivers an already written range, and its replay rewrites
// identical output. Lease epochs and deadlines keep superseded invocations
// from committing at all, which keeps the window small.
func (c *Client) CommitOffsets(ctx context.Context, group string, offsets map[TopicPartition]int64) (map[TopicPartition]int64, error) {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp, off := range offsets {
		if off < 0 {
			return nil, fmt.Errorf("kafka: commit of group %s for %s: negative offset %d", group, tp, off)
		}
		tps = append(tps, tp)
	}
	mu, _ := c.commitLocks.LoadOrStore(group, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	current, err := c.CommittedOffsets(ctx, group, tps)
	if err != nil {
		return nil, err
	}
	advanced := map[TopicPartition]int64{}
	for tp, off := range offsets {
		if off > current[tp] {
			advanced[tp] = off
		}
	}
	if len(advanced) == 0 {
		return advanced, nil
	}

	if err := c.commit(ctx, group, advanced); err != nil {
		return nil, err
	}
	return advanced, nil
}
