package mqtt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// SinkClass is Confluent's MQTT sink connector class; SluiceSinkClass is
// Sluice's name for the same connector.
const (
	SinkClass       = "io.confluent.connect.mqtt.MqttSinkConnector"
	SluiceSinkClass = "io.sluice.connect.mqtt.MqttSinkConnector"
)

// ErrUnsupportedValue is reported (to the errant record reporter) for a
// record whose value is neither bytes nor a string.
var ErrUnsupportedValue = errors.New("MQTT payloads must be bytes or strings: use org.apache.kafka.connect.converters.ByteArrayConverter or StringConverter as value.converter")

// SinkConnector gives every task the connector's configuration, each with
// its own client id. It is not safe for concurrent use.
type SinkConnector struct {
	props map[string]string
}

var (
	_ connect.Connector = (*SinkConnector)(nil)
	_ connect.SinkTask  = (*SinkTask)(nil)
	_ connect.Flusher   = (*SinkTask)(nil)
)

// NewSinkConnector returns a sink connector.
func NewSinkConnector() *SinkConnector { return &SinkConnector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *SinkConnector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := SinkConfig().Parse(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks configurations with client ids
// <prefix>-<n>.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("MqttSinkConnector: TaskConfigs called before Start")
	}
	vals, err := SinkConfig().Parse(c.props)
	if err != nil {
		return nil, err
	}
	prefix := clientIDPrefix(vals, c.props)
	configs := make([]map[string]string, max(maxTasks, 1))
	for i := range configs {
		tc := maps.Clone(c.props)
		tc[ClientIDConfig] = fmt.Sprintf("%s-%d", prefix, i)
		tc[taskClientIDConfig] = "true"
		configs[i] = tc
	}
	return configs, nil
}

// Stop does nothing.
func (c *SinkConnector) Stop() error { return nil }

// Config returns SinkConfig().
func (c *SinkConnector) Config() *config.Def { return SinkConfig() }

// SinkTask publishes each record's value to MQTT: Put publishes the batch
// and waits until the broker acknowledged every message (PUBACK for QoS 1,
// PUBCOMP for QoS 2), so the executor commits offsets only for messages the
// broker holds. A lease that fails after publishing and is retried
// publishes the same messages again (at least once). It is not safe for
// concurrent use.
type SinkTask struct {
	sess     session
	topic    string
	retained bool
	client   paho.Client
	reporter connect.ErrantRecordReporter

	mu   sync.Mutex
	lost error
}

// NewSinkTask returns a sink task.
func NewSinkTask() *SinkTask { return &SinkTask{} }

// Start connects to the broker.
func (t *SinkTask) Start(ctx context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	vals, err := SinkConfig().Parse(props)
	if err != nil {
		return err
	}
	clientID := vals.String(ClientIDConfig)
	if props[taskClientIDConfig] != "true" {
		clientID = clientIDPrefix(vals, props) + "-0"
	}
	if t.sess, err = newSession(vals, clientID); err != nil {
		return fmt.Errorf("MqttSinkTask: %w", err)
	}
	t.topic = vals.String(TopicConfig)
	t.retained = vals.Bool(RetainedConfig)
	if tc != nil {
		t.reporter = tc.ErrantRecordReporter()
	}
	t.client, _, err = t.sess.connect(ctx, nil, func(err error) {
		t.mu.Lock()
		t.lost = err
		t.mu.Unlock()
	}, nil)
	if err != nil {
		return fmt.Errorf("MqttSinkTask: %w", err)
	}
	return nil
}

// Put publishes every record and waits for the broker's acknowledgements.
// A record whose value is not bytes or a string is reported as an errant
// record (dead letter queue under errors.tolerance=all).
func (t *SinkTask) Put(ctx context.Context, records []connect.SinkRecord) error {
	tokens := make([]paho.Token, 0, len(records))
	for i := range records {
		r := &records[i]
		var payload []byte
		switch v := r.Value.(type) {
		case nil:
		case []byte:
			payload = v
		case string:
			payload = []byte(v)
		default:
			if err := t.report(ctx, r, fmt.Errorf("%w (value is %T)", ErrUnsupportedValue, v)); err != nil {
				return err
			}
			continue
		}
		topic := t.topic
		if topic == "" {
			topic = r.Topic
		}
		tokens = append(tokens, t.client.Publish(topic, t.sess.qos, t.retained, payload))
	}
	for _, tok := range tokens {
		if err := wait(ctx, tok, t.sess.connectTimeout); err != nil {
			t.mu.Lock()
			lost := t.lost
			t.mu.Unlock()
			if lost != nil {
				err = fmt.Errorf("%w: %v", ErrConnectionLost, lost)
			}
			return connect.Retriable(fmt.Errorf("MqttSinkTask: publishing: %w", err))
		}
	}
	return nil
}

func (t *SinkTask) report(ctx context.Context, r *connect.SinkRecord, err error) error {
	if t.reporter == nil {
		return fmt.Errorf("MqttSinkTask: %w", err)
	}
	return t.reporter.Report(ctx, r, err)
}

// Flush has nothing to do: Put returns only once the broker acknowledged
// its messages.
func (t *SinkTask) Flush(context.Context, map[connect.TopicPartition]int64) error { return nil }

// Stop disconnects.
func (t *SinkTask) Stop() error {
	disconnect(t.client, t.sess.connectTimeout)
	t.client = nil
	return nil
}
