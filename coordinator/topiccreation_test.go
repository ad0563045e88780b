package coordinator_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// On a cluster with auto-creation disabled (MSK's default), a source
// connector with KIP-158 settings gets its topic created through the admin
// API, validate reports the settings' keys and problems, and a topic the
// cluster refuses fails the task with the reason in its trace.
func TestTopicCreationOnClusterWithoutAutoCreation(t *testing.T) {
	k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1, NoAutoCreate: true})
	coord := newCoordinator(t, k, testConfig(), nil)
	srv := httptest.NewServer(rest.NewHandler(coord, rest.Options{Version: "test"}))
	defer srv.Close()

	props := datagenProps(200)
	delete(props, "name")
	props["topic.creation.default.partitions"] = "3"
	props["topic.creation.default.replication.factor"] = "-1"

	// validate: the default group's keys are listed; a missing one is an error.
	invalid := maps.Clone(props)
	invalid["name"] = "bad"
	delete(invalid, "topic.creation.default.replication.factor")
	invalid["topic.creation.groups"] = "small"
	invalid["topic.creation.small.include"] = "orders"
	body, _ := json.Marshal(invalid)
	code, _, out := call(t, srv.URL, "PUT", "/connector-plugins/Datagen/config/validate", string(body))
	var infos config.Infos
	if code != 200 || json.Unmarshal([]byte(out), &infos) != nil {
		t.Fatalf("validate: %d %s", code, out)
	}
	errs := map[string][]string{}
	var names []string
	for _, c := range infos.Configs {
		names = append(names, c.Definition.Name)
		if len(c.Value.Errors) > 0 {
			errs[c.Definition.Name] = c.Value.Errors
		}
	}
	for _, want := range []string{"topic.creation.groups", "topic.creation.default.include", "topic.creation.default.partitions",
		"topic.creation.small.include", "topic.creation.small.exclude", "topic.creation.small.replication.factor", "topic.creation.small.partitions"} {
		if !slices.Contains(names, want) {
			t.Errorf("validate does not list %s", want)
		}
	}
	if len(errs) != 1 || !strings.Contains(strings.Join(errs["topic.creation.default.replication.factor"], ""), "Missing required configuration") {
		t.Errorf("validate errors %v, want topic.creation.default.replication.factor missing", errs)
	}
	if code, _, out := call(t, srv.URL, "POST", "/connectors", mustJSON(t, map[string]any{"name": "bad", "config": invalid})); code != 400 {
		t.Errorf("create with invalid topic creation settings: %d %s, want 400", code, out)
	}

	// A valid connector: its topic is created with 3 partitions.
	if code, _, out := call(t, srv.URL, "POST", "/connectors", mustJSON(t, map[string]any{"name": "orders-datagen", "config": props})); code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, 30*time.Second, "200 orders in the created topic", func() bool {
		wms, err := k.Client.Watermarks(ctx, topicPartitions("orders", 3))
		if err != nil {
			return false
		}
		n := int64(0)
		for _, wm := range wms {
			n += wm.High
		}
		return n == 200
	})

	// A replication factor the cluster cannot meet fails the task.
	refused := maps.Clone(props)
	refused["topic"], refused["topic.creation.default.replication.factor"] = "replicated", "3"
	if code, _, out := call(t, srv.URL, "POST", "/connectors", mustJSON(t, map[string]any{"name": "replicated", "config": refused})); code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	var trace string
	waitFor(t, 30*time.Second, "the task FAILED", func() bool {
		st := status(t, coord, "replicated")
		if len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED" {
			trace = st.Tasks[0].Trace
			return true
		}
		return false
	})
	if !strings.Contains(trace, "replication factor 3 is larger than the number of brokers in the cluster (1)") {
		t.Errorf("trace %q does not name the problem", trace)
	}
	if exists, err := k.Client.TopicExists(ctx, "replicated"); err != nil || exists {
		t.Errorf("topic replicated exists=%v (%v)", exists, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// topicPartitions lists partitions 0..n-1 of topic.
func topicPartitions(topic string, n int32) []kafka.TopicPartition {
	out := make([]kafka.TopicPartition, n)
	for i := range n {
		out[i] = kafka.TopicPartition{Topic: topic, Partition: i}
	}
	return out
}
