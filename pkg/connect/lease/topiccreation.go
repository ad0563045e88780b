package lease

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// topicCreation is a source lease's topic creation (KIP-158): the
// connector's settings, parsed at the first record produced.
type topicCreation struct {
	parsed   bool
	settings *connect.TopicCreationSettings // nil: the connector does not use topic creation
	err      error
}

// ensureTopic makes sure topic exists before the lease's first record is
// sent to it, as Connect's AbstractWorkerSourceTask.maybeCreateTopic does
// when the worker's topic.creation.enable is on and the connector has
// topic.creation.* settings: a topic that does not exist is created
// through the admin API with the settings of the first group that selects
// it. Topics known to exist are remembered by the executor, across leases.
// A topic the cluster refuses to create fails the lease (not retriable).
func (s *sourceLease) ensureTopic(ctx context.Context, topic string) error {
	tc := &s.creation
	if !tc.parsed {
		tc.parsed = true
		if !s.e.opts.DisableTopicCreation {
			tc.settings, tc.err = connect.ParseTopicCreationSettings(s.lease.ConnectorConfig)
		}
	}
	if tc.err != nil {
		return fmt.Errorf("topic creation settings of connector %s: %w", s.lease.Connector, tc.err)
	}
	if tc.settings == nil {
		return nil
	}
	if _, ok := s.e.knownTopics.Load(topic); ok {
		return nil
	}
	s.log.Info("the task sends records to this topic for the first time: checking whether it exists", "topic", topic)
	exists, err := s.e.kafka.TopicExists(ctx, topic)
	if err != nil {
		return connect.Retriable(fmt.Errorf("checking whether topic %s exists: %w", topic, err))
	}
	if !exists {
		g := tc.settings.For(topic)
		spec := kafka.TopicSpec{Name: topic, Partitions: int32(max(g.Partitions, 0)), ReplicationFactor: int16(max(g.ReplicationFactor, 0)), Configs: g.Configs}
		created, err := s.e.kafka.CreateTopic(ctx, spec)
		if ce, ok := errors.AsType[*kafka.TopicCreationError](err); ok {
			return fmt.Errorf("task failed to create new topic %s with topic creation group %q: %w; "+
				"ensure that the task is authorized to create topics or that the topic exists, then restart the task", topic, g.Name, ce)
		}
		if err != nil {
			return connect.Retriable(fmt.Errorf("creating topic %s: %w", topic, err))
		}
		if created {
			s.log.Info("created topic", "topic", topic, "group", g.Name, "partitions", g.Partitions,
				"replication_factor", g.ReplicationFactor, "configs", g.Configs)
		} else {
			s.log.Info("found existing topic", "topic", topic)
		}
	}
	s.e.knownTopics.Store(topic, struct{}{})
	return nil
}
