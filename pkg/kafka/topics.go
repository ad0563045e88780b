package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// TopicCreationError reports a topic the cluster refused to create. Reason
// says why in a user's words (not authorized, replication factor larger
// than the brokers, ...); Err is the broker's error. It is not retriable:
// the cluster's answer does not change until someone acts.
type TopicCreationError struct {
	Topic  string
	Spec   TopicSpec
	Reason string
	Err    error
}

func (e *TopicCreationError) Error() string {
	return fmt.Sprintf("kafka: creating topic %s (%s) failed: %s", e.Topic, e.Spec.describe(), e.Reason)
}

func (e *TopicCreationError) Unwrap() error { return e.Err }

// describe renders the spec's settings for messages.
func (t TopicSpec) describe() string {
	n := func(v int64) string {
		if v <= 0 {
			return "broker default"
		}
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("partitions %s, replication factor %s", n(int64(t.Partitions)), n(int64(t.ReplicationFactor)))
	if len(t.Configs) > 0 {
		s += fmt.Sprintf(", configs %v", t.Configs)
	}
	return s
}

// TopicExists reports whether the topic exists, from a metadata request
// that never creates it (whatever the broker's auto.create.topics.enable).
func (c *Client) TopicExists(ctx context.Context, topic string) (bool, error) {
	if topic == "" {
		return false, errors.New("kafka: empty topic name")
	}
	var exists bool
	err := retry(ctx, func() (bool, error) {
		md, err := c.admin.DescribeTopics([]string{topic})
		if err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: describe topic %s: %w", topic, err)
		}
		for _, t := range md {
			if t.Name != topic {
				continue
			}
			switch {
			case errors.Is(t.Err, sarama.ErrNoError):
				exists = true
			case errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition):
				exists = false
			case errors.Is(t.Err, sarama.ErrTopicAuthorizationFailed):
				return false, fmt.Errorf("kafka: describe topic %s: not authorized (the principal needs DESCRIBE on the topic): %w", topic, t.Err)
			default:
				return retriableKError(t.Err), fmt.Errorf("kafka: describe topic %s: %w", topic, t.Err)
			}
			return false, nil
		}
		return false, fmt.Errorf("kafka: describe topic %s: %w", topic, sarama.ErrIncompleteResponse)
	})
	return exists, err
}

// CreateTopic creates a topic through the admin API (CreateTopics), as
// Connect's TopicAdmin.createOrFindTopics: it reports true when this call
// created the topic and false when it existed already, and returns once
// the topic's metadata is visible. A refusal (authorization, a replication
// factor larger than the brokers, invalid partitions or configs, a broker
// without the CreateTopics API) is a *TopicCreationError.
func (c *Client) CreateTopic(ctx context.Context, t TopicSpec) (bool, error) {
	if t.Name == "" {
		return false, errors.New("kafka: TopicSpec.Name is empty")
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := c.admin.CreateTopic(t.Name, t.detail(), false)
	created := err == nil
	switch {
	case err == nil, errors.Is(err, sarama.ErrTopicAlreadyExists):
	default:
		if reason := c.creationRefusal(t, err); reason != "" {
			return false, &TopicCreationError{Topic: t.Name, Spec: t, Reason: reason, Err: err}
		}
		return false, fmt.Errorf("kafka: create topic %s: %w", t.Name, err)
	}
	return created, c.awaitTopic(ctx, t.Name)
}

// detail is the spec as sarama's CreateTopics entry; 0 becomes -1, the
// broker's default.
func (t TopicSpec) detail() *sarama.TopicDetail {
	detail := &sarama.TopicDetail{NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor}
	if detail.NumPartitions == 0 {
		detail.NumPartitions = -1
	}
	if detail.ReplicationFactor == 0 {
		detail.ReplicationFactor = -1
	}
	if len(t.Configs) > 0 {
		detail.ConfigEntries = make(map[string]*string, len(t.Configs))
		for k, v := range t.Configs {
			detail.ConfigEntries[k] = &v
		}
	}
	return detail
}

// creationRefusal says why the cluster refused to create t, or "" for an
// error that is not a refusal (a network failure, a timeout).
func (c *Client) creationRefusal(t TopicSpec, err error) string {
	msg := ""
	var te *sarama.TopicError
	if errors.As(err, &te) && te.ErrMsg != nil && *te.ErrMsg != "" {
		msg = " (the broker says: " + *te.ErrMsg + ")"
	}
	switch {
	case errors.Is(err, sarama.ErrTopicAuthorizationFailed), errors.Is(err, sarama.ErrClusterAuthorizationFailed):
		return "not authorized to create topics: grant the principal CREATE on the topic or the cluster, " +
			"or create the topic beforehand" + msg
	case errors.Is(err, sarama.ErrInvalidReplicationFactor):
		return fmt.Sprintf("replication factor %d is larger than the number of brokers in the cluster (%d)%s",
			t.ReplicationFactor, len(c.sc.Brokers()), msg)
	case errors.Is(err, sarama.ErrInvalidPartitions):
		return fmt.Sprintf("invalid number of partitions %d%s", t.Partitions, msg)
	case errors.Is(err, sarama.ErrInvalidConfig), errors.Is(err, sarama.ErrPolicyViolation):
		return fmt.Sprintf("the cluster rejected the topic configs %v%s", t.Configs, msg)
	case errors.Is(err, sarama.ErrInvalidTopic):
		return "invalid topic name" + msg
	case errors.Is(err, sarama.ErrUnsupportedVersion):
		return "the brokers do not support creating topics through the admin API (CreateTopics); create the topic beforehand"
	}
	return ""
}

// awaitTopic returns once the topic's metadata is visible to the client.
func (c *Client) awaitTopic(ctx context.Context, topic string) error {
	return retry(ctx, func() (bool, error) {
		// Brokers learn of a new topic one after another (KRaft), and the
		// next metadata request (Partitions) may go to any of them: every
		// broker that answers must know it. One that does not answer (it
		// is down) does not hold this up.
		// Each broker is asked on a connection of its own, closed after:
		// the client's shared broker connections (a group coordinator's
		// among them) are left alone.
		for _, shared := range c.sc.Brokers() {
			b := sarama.NewBroker(shared.Addr())
			if err := b.Open(c.conf); err != nil {
				continue
			}
			resp, err := b.GetMetadata(sarama.NewMetadataRequest(c.conf.Version, []string{topic}))
			_ = b.Close()
			if err != nil {
				continue
			}
			for _, t := range resp.Topics {
				if t.Name == topic && !errors.Is(t.Err, sarama.ErrNoError) {
					return IsRetriable(t.Err), fmt.Errorf("kafka: metadata for new topic %s on broker %s: %w", topic, b.Addr(), t.Err)
				}
			}
		}
		if err := c.sc.RefreshMetadata(topic); err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: metadata for new topic %s: %w", topic, err)
		}
		if _, err := c.sc.Partitions(topic); err != nil {
			return IsRetriable(err), fmt.Errorf("kafka: metadata for new topic %s: %w", topic, err)
		}
		return false, nil
	})
}
