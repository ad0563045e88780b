package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// This file holds the consumer group administration behind Kafka Connect's
// offsets REST API (KIP-875: GET, PATCH and DELETE /connectors/{c}/offsets)
// for sink connectors, whose offsets are their group's committed offsets.

// GroupOffsets returns every committed offset of the consumer group, without
// the caller naming partitions (OffsetFetch with null topics, as the Java
// Admin.listConsumerGroupOffsets does). A group that does not exist, or has
// committed nothing, yields an empty map. It is the read side of Connect's
// GET /connectors/{c}/offsets for sink connectors.
func (c *Client) GroupOffsets(ctx context.Context, group string) (map[TopicPartition]int64, error) {
	return c.fetchGroupOffsets(ctx, group, nil)
}

// SetGroupOffsets commits offsets for the consumer group without joining it,
// as CommitOffsets does, but unconditionally: a committed offset may move
// backwards. It is the admin "alter offsets" path (Connect's PATCH
// /connectors/{c}/offsets, Java Admin.alterConsumerGroupOffsets), meant for a
// group whose connector is STOPPED; while the group has active members Kafka
// refuses the commit and SetGroupOffsets returns an error wrapping
// ErrGroupActive. An offset is the next record to consume and must not be
// negative; to forget a partition's offset use DeleteGroupOffsets. An empty
// map commits nothing.
func (c *Client) SetGroupOffsets(ctx context.Context, group string, offsets map[TopicPartition]int64) error {
	if group == "" {
		return errors.New("kafka: empty consumer group name")
	}
	for tp, off := range offsets {
		if off < 0 {
			return fmt.Errorf("kafka: commit of group %s for %s: negative offset %d", group, tp, off)
		}
	}
	if len(offsets) == 0 {
		return ctx.Err()
	}
	return c.commit(ctx, group, offsets)
}

// commit sends one simple-consumer commit (generation -1, no member id) of
// offsets for the group, retrying coordinator movements. A commit refused
// because the group has members returns an error wrapping ErrGroupActive.
func (c *Client) commit(ctx context.Context, group string, offsets map[TopicPartition]int64) error {
	req := sarama.NewOffsetCommitRequest(c.conf, group)
	req.ConsumerGroupGeneration = sarama.GroupGenerationUndefined
	req.ConsumerID = ""
	for tp, off := range offsets {
		req.AddBlockWithLeaderEpoch(tp.Topic, tp.Partition, off, -1, 0, "")
	}
	return retry(ctx, func() (bool, error) {
		coord, err := c.sc.Coordinator(group)
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: coordinator of group %s: %w", group, err)
		}
		resp, err := coord.CommitOffset(req)
		if err != nil {
			_ = coord.Close()
			_ = c.sc.RefreshCoordinator(group)
			return IsRetriable(err), fmt.Errorf("kafka: commit offsets of group %s: %w", group, err)
		}
		for tp := range offsets {
			kerr, ok := resp.Errors[tp.Topic][tp.Partition]
			if !ok {
				return false, fmt.Errorf("kafka: commit offset of group %s for %s: %w", group, tp, sarama.ErrIncompleteResponse)
			}
			switch {
			case errors.Is(kerr, sarama.ErrNoError):
			case coordinatorKError(kerr):
				_ = c.sc.RefreshCoordinator(group)
				return true, fmt.Errorf("kafka: commit offset of group %s for %s: %w", group, tp, kerr)
			case errors.Is(kerr, sarama.ErrIllegalGeneration), errors.Is(kerr, sarama.ErrUnknownMemberId), errors.Is(kerr, sarama.ErrRebalanceInProgress):
				return false, fmt.Errorf("%w: commit of group %s for %s refused: %w", ErrGroupActive, group, tp, kerr)
			default:
				return false, fmt.Errorf("kafka: commit offset of group %s for %s: %w", group, tp, kerr)
			}
		}
		return false, nil
	})
}

// DeleteGroupOffsets deletes the group's committed offsets of the partitions
// (Kafka's OffsetDelete API, Java Admin.deleteConsumerGroupOffsets), so that
// a consumer starts them from its auto.offset.reset position. It is Connect's
// PATCH /connectors/{c}/offsets with a null offset, for sink connectors.
// Partitions without a committed offset, and a group that does not exist,
// are not errors. Kafka refuses the delete while members of the group
// subscribe to a partition's topic; the error then wraps ErrGroupActive.
// All partitions go in one request; on error, some may have been deleted.
func (c *Client) DeleteGroupOffsets(ctx context.Context, group string, tps []TopicPartition) error {
	if group == "" {
		return errors.New("kafka: empty consumer group name")
	}
	if len(tps) == 0 {
		return ctx.Err()
	}
	req := &sarama.DeleteOffsetsRequest{Group: group}
	for _, tp := range tps {
		req.AddPartition(tp.Topic, tp.Partition)
	}
	return retry(ctx, func() (bool, error) {
		coord, err := c.sc.Coordinator(group)
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: coordinator of group %s: %w", group, err)
		}
		resp, err := coord.DeleteOffsets(req)
		if err != nil {
			_ = coord.Close()
			_ = c.sc.RefreshCoordinator(group)
			return IsRetriable(err), fmt.Errorf("kafka: delete offsets of group %s: %w", group, err)
		}
		switch kerr := resp.ErrorCode; {
		case errors.Is(kerr, sarama.ErrNoError):
		case errors.Is(kerr, sarama.ErrGroupIDNotFound):
			return false, nil // nothing committed, nothing to delete
		case coordinatorKError(kerr):
			_ = c.sc.RefreshCoordinator(group)
			return true, fmt.Errorf("kafka: delete offsets of group %s: %w", group, kerr)
		case errors.Is(kerr, sarama.ErrNonEmptyGroup):
			return false, fmt.Errorf("%w: delete offsets of group %s refused: %w", ErrGroupActive, group, kerr)
		default:
			return false, fmt.Errorf("kafka: delete offsets of group %s: %w", group, kerr)
		}
		var errs []error
		for _, tp := range tps {
			kerr, ok := resp.Errors[tp.Topic][tp.Partition]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("kafka: delete offset of group %s for %s: %w", group, tp, sarama.ErrIncompleteResponse))
			case errors.Is(kerr, sarama.ErrNoError), errors.Is(kerr, sarama.ErrUnknownTopicOrPartition):
				// An unknown partition has no offset to delete.
			case errors.Is(kerr, sarama.ErrGroupSubscribedToTopic):
				errs = append(errs, fmt.Errorf("%w: delete offset of group %s for %s refused: %w", ErrGroupActive, group, tp, kerr))
			default:
				errs = append(errs, fmt.Errorf("kafka: delete offset of group %s for %s: %w", group, tp, kerr))
			}
		}
		return false, errors.Join(errs...)
	})
}

// DeleteGroup deletes the consumer group and all its committed offsets
// (DeleteGroups, Java Admin.deleteConsumerGroups): Connect's DELETE
// /connectors/{c}/offsets for a sink connector. A group that does not exist
// is not an error. Kafka refuses to delete a group with active members; the
// error then wraps ErrGroupActive.
func (c *Client) DeleteGroup(ctx context.Context, group string) error {
	if group == "" {
		return errors.New("kafka: empty consumer group name")
	}
	req := &sarama.DeleteGroupsRequest{Groups: []string{group}}
	if c.conf.Version.IsAtLeast(sarama.V2_4_0_0) {
		req.Version = 2
	} else if c.conf.Version.IsAtLeast(sarama.V2_0_0_0) {
		req.Version = 1
	}
	return retry(ctx, func() (bool, error) {
		coord, err := c.sc.Coordinator(group)
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: coordinator of group %s: %w", group, err)
		}
		resp, err := coord.DeleteGroups(req)
		if err != nil {
			_ = coord.Close()
			_ = c.sc.RefreshCoordinator(group)
			return IsRetriable(err), fmt.Errorf("kafka: delete group %s: %w", group, err)
		}
		kerr, ok := resp.GroupErrorCodes[group]
		switch {
		case !ok:
			return false, fmt.Errorf("kafka: delete group %s: %w", group, sarama.ErrIncompleteResponse)
		case errors.Is(kerr, sarama.ErrNoError), errors.Is(kerr, sarama.ErrGroupIDNotFound):
			return false, nil
		case coordinatorKError(kerr):
			_ = c.sc.RefreshCoordinator(group)
			return true, fmt.Errorf("kafka: delete group %s: %w", group, kerr)
		case errors.Is(kerr, sarama.ErrNonEmptyGroup):
			return false, fmt.Errorf("%w: delete group %s refused: %w", ErrGroupActive, group, kerr)
		default:
			return false, fmt.Errorf("kafka: delete group %s: %w", group, kerr)
		}
	})
}
