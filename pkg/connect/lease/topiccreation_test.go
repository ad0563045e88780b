package lease_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// noAutoCreateEnv is newEnv on a broker that creates no topic on its own
// (auto.create.topics.enable=false, as MSK's default), with opts.
func noAutoCreateEnv(t *testing.T, opts lease.Options) (*env, *devkafka.Broker) {
	t.Helper()
	k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1, NoAutoCreate: true})
	reg, err := connect.NewRegistry(append(converter.Plugins(), testSourcePlugin, testSinkPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	opts.SafetyMargin = 500 * time.Millisecond
	return &env{client: k.Client, store: k.Offsets, reg: reg, exec: lease.NewExecutor(reg, k.Client, k.Offsets, opts)}, k.Broker
}

// topicCreationProps are a connector's KIP-158 settings: 3 partitions by
// default, and a group "compacted" for topics named compacted-*.
var topicCreationProps = map[string]string{
	"topic.creation.default.replication.factor": "1",
	"topic.creation.default.partitions":         "3",
	"topic.creation.default.retention.ms":       "3600000",
	"topic.creation.groups":                     "compacted",
	"topic.creation.compacted.include":          "compacted-.*",
	"topic.creation.compacted.partitions":       "1",
	"topic.creation.compacted.cleanup.policy":   "compact",
}

// On a cluster without auto-creation, a source connector with topic
// creation settings creates its topics through the admin API before the
// first record, each with the settings of the group that selects it.
func TestSourceCreatesTopics(t *testing.T) {
	e, _ := noAutoCreateEnv(t, lease.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		topic      string
		partitions int
		configs    map[string]string
	}{
		{topic: "orders", partitions: 3, configs: map[string]string{"retention.ms": "3600000"}},
		{topic: "compacted-users", partitions: 1, configs: map[string]string{"cleanup.policy": "compact"}},
	}
	for i, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			l := sourceLease("src-"+tt.topic, int64(i+1), tt.topic, 20, topicCreationProps)
			l.Connector = "src-" + tt.topic
			res := e.exec.Run(ctx, l)
			if res.Status != lease.Succeeded || res.Records != 20 {
				t.Fatalf("lease %s: %d records, %s %s", res.Status, res.Records, res.Error, res.Trace)
			}
			ps, err := e.client.Partitions(ctx, tt.topic)
			if err != nil || len(ps) != tt.partitions {
				t.Fatalf("partitions %v (%v), want %d", ps, err, tt.partitions)
			}
			cfg, err := e.client.TopicConfig(ctx, tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.configs {
				if cfg[k] != v {
					t.Errorf("%s = %q, want %q", k, cfg[k], v)
				}
			}
			if got := readTopic(t, e.client, tt.topic); len(got) != 20 {
				t.Fatalf("%d records in %s, want 20", len(got), tt.topic)
			}
			// The next lease finds the topic known: no second creation.
			l.ID, l.Epoch = l.ID+"-2", l.Epoch+100
			if res := e.exec.Run(ctx, l); res.Status != lease.Succeeded {
				t.Fatalf("second lease %s: %s", res.Status, res.Error)
			}
		})
	}
}

// A topic the cluster refuses to create fails the lease, not retriable,
// with the reason in the task's error; nothing is produced or committed.
func TestSourceTopicCreationRefused(t *testing.T) {
	tests := []struct {
		name   string
		props  map[string]string
		refuse int16 // injected CreateTopics error code, if any
		want   []string
	}{
		{name: "replication factor above the brokers",
			props: map[string]string{"topic.creation.default.replication.factor": "3", "topic.creation.default.partitions": "1"},
			want:  []string{"task failed to create new topic t", "replication factor 3 is larger than the number of brokers in the cluster (1)"}},
		{name: "not authorized",
			props:  map[string]string{"topic.creation.default.replication.factor": "-1", "topic.creation.default.partitions": "-1"},
			refuse: kerr.TopicAuthorizationFailed.Code,
			want:   []string{"task failed to create new topic t", "not authorized to create topics", "ensure that the task is authorized"}},
		{name: "invalid settings", props: map[string]string{"topic.creation.default.partitions": "1"},
			want: []string{"topic.creation.default.replication.factor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, b := noAutoCreateEnv(t, lease.Options{})
			if tt.refuse != 0 {
				b.Cluster().ControlKey(int16(kmsg.CreateTopics), func(r kmsg.Request) (kmsg.Response, error, bool) {
					req := r.(*kmsg.CreateTopicsRequest)
					resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
					for _, rt := range req.Topics {
						st := kmsg.NewCreateTopicsResponseTopic()
						st.Topic, st.ErrorCode = rt.Topic, tt.refuse
						resp.Topics = append(resp.Topics, st)
					}
					return resp, nil, true
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := e.exec.Run(ctx, sourceLease("l1", 1, "t", 5, tt.props))
			if res.Status != lease.Failed || res.Retriable {
				t.Fatalf("lease %s retriable=%v: %s, want a failure that is not retriable", res.Status, res.Retriable, res.Error)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q does not say %q", res.Error, w)
				}
			}
			if exists, err := e.client.TopicExists(ctx, "t"); err != nil || exists {
				t.Errorf("topic t exists=%v (%v) after a refusal", exists, err)
			}
			if len(res.SourceOffsets) > 0 {
				t.Errorf("offsets committed: %v", res.SourceOffsets)
			}
		})
	}
}

// With the worker's topic.creation.enable=false the settings are ignored:
// the topic is left to the broker's auto-creation, with its defaults.
func TestTopicCreationDisabled(t *testing.T) {
	k := kafkatest.StartWith(t, devkafka.Options{Partitions: 2})
	reg, err := connect.NewRegistry(append(converter.Plugins(), testSourcePlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond, DisableTopicCreation: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	props := maps.Clone(topicCreationProps)
	if res := exec.Run(ctx, sourceLease("l1", 1, "auto", 5, props)); res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s", res.Status, res.Error)
	}
	if ps, err := k.Client.Partitions(ctx, "auto"); err != nil || len(ps) != 2 {
		t.Fatalf("partitions %v (%v), want the broker's default 2", ps, err)
	}
}
