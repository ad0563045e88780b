package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// ClusterID returns the Kafka cluster's id, from a fresh Metadata response
// (v2+), as Connect's worker reports it in GET / ("kafka_cluster_id"). It
// never changes for a cluster, so callers may keep it. The request asks for
// all topics' metadata, since sarama cannot ask for none; call it rarely.
func (c *Client) ClusterID(ctx context.Context) (string, error) {
	resp, err := c.metadataAll(ctx, "cluster id")
	if err != nil {
		return "", err
	}
	if resp.ClusterID == nil || *resp.ClusterID == "" {
		return "", fmt.Errorf("kafka: the broker reported no cluster id (metadata v%d)", resp.Version)
	}
	return *resp.ClusterID, nil
}

// TopicConfig returns the topic's effective configuration (DescribeConfigs):
// every config the broker reports, defaults included, by Kafka property name,
// such as "cleanup.policy": "compact". Sensitive values the broker withholds
// are empty. Connect's worker reads it to check that its internal topics are
// compacted. A topic that does not exist returns an error wrapping
// ErrUnknownTopic.
func (c *Client) TopicConfig(ctx context.Context, topic string) (map[string]string, error) {
	if topic == "" {
		return nil, errors.New("kafka: empty topic name")
	}
	var out map[string]string
	err := retry(ctx, func() (bool, error) {
		entries, err := c.admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
		if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			// Retriable when looking up a leader, but final here:
			// EnsureTopic returns only once a new topic is visible.
			return false, fmt.Errorf("%w: describe configs of topic %s: %w", ErrUnknownTopic, topic, err)
		}
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: describe configs of topic %s: %w", topic, err)
		}
		out = make(map[string]string, len(entries))
		for _, e := range entries {
			out[e.Name] = e.Value
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
