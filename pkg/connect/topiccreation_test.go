package connect_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

type nopSource struct{ nopConnector }

func sourceRegistry(t *testing.T) *connect.Registry {
	t.Helper()
	r, err := connect.NewRegistry(connect.Plugin{Class: "test.NopSourceConnector", Kind: connect.KindSource,
		NewConnector: func() connect.Connector { return nopSource{} }, NewSourceTask: func() connect.SourceTask { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sourceProps(kv ...string) map[string]string {
	p := map[string]string{"name": "s", "connector.class": "test.NopSourceConnector", "path": "/x"}
	for i := 0; i < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// The topic creation keys (KIP-158) are validated as Connect validates
// them, with every problem reported on its key.
func TestValidateTopicCreation(t *testing.T) {
	r := sourceRegistry(t)
	tests := []struct {
		name  string
		props map[string]string
		want  map[string]string // key -> substring of its error
	}{
		{name: "no topic creation", props: sourceProps()},
		{name: "default group", props: sourceProps("topic.creation.default.replication.factor", "-1", "topic.creation.default.partitions", "4",
			"topic.creation.default.cleanup.policy", "compact")},
		{name: "default group needs both", props: sourceProps("topic.creation.default.partitions", "4"),
			want: map[string]string{"topic.creation.default.replication.factor": `Missing required configuration "topic.creation.default.replication.factor" which has no default value.`}},
		{name: "a group alone still needs the default group", props: sourceProps("topic.creation.groups", "g", "topic.creation.g.include", "a.*"),
			want: map[string]string{
				"topic.creation.default.replication.factor": "Missing required configuration",
				"topic.creation.default.partitions":         "Missing required configuration"}},
		{name: "bad values", props: sourceProps("topic.creation.default.replication.factor", "0", "topic.creation.default.partitions", "-2"),
			want: map[string]string{
				"topic.creation.default.replication.factor": "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
				"topic.creation.default.partitions":         "Number of partitions must be positive, or -1 to use the broker's default"}},
		{name: "not a number", props: sourceProps("topic.creation.default.replication.factor", "three", "topic.creation.default.partitions", "1"),
			want: map[string]string{"topic.creation.default.replication.factor": "Not a number of type INT"}},
		{name: "group keys", props: sourceProps("topic.creation.default.replication.factor", "1", "topic.creation.default.partitions", "1",
			"topic.creation.groups", "g", "topic.creation.g.include", "a(", "topic.creation.g.partitions", "0"),
			want: map[string]string{
				"topic.creation.g.include":    "Syntax error in regular expression",
				"topic.creation.g.partitions": "Number of partitions must be positive"}},
		{name: "duplicate group", props: sourceProps("topic.creation.default.replication.factor", "1", "topic.creation.default.partitions", "1",
			"topic.creation.groups", "g,g"),
			want: map[string]string{"topic.creation.groups": "Duplicate alias provided."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, infos, found := r.ValidateConnector(tt.props)
			if !found {
				t.Fatal("connector not found")
			}
			got := errorsOf(infos)
			if len(got) != len(tt.want) {
				t.Fatalf("errors %v, want keys %v", got, tt.want)
			}
			for k, sub := range tt.want {
				if !slices.ContainsFunc(got[k], func(e string) bool { return strings.Contains(e, sub) }) {
					t.Fatalf("errors on %s = %v, want one containing %q", k, got[k], sub)
				}
			}
			if infos.ErrorCount != len(tt.want) {
				t.Fatalf("error_count %d, want one error per key: %v", infos.ErrorCount, got)
			}
		})
	}
}

// A named group's keys are declared (and listed by validate) with the
// default group's replication factor and partitions as their defaults.
func TestTopicCreationGroupDefaults(t *testing.T) {
	r := sourceRegistry(t)
	p, _ := r.Connector("test.NopSourceConnector")
	props := sourceProps("topic.creation.default.replication.factor", "3", "topic.creation.default.partitions", "6", "topic.creation.groups", "g")
	def := r.EnrichedConfig(p, props)
	for name, want := range map[string]any{"topic.creation.g.replication.factor": 3, "topic.creation.g.partitions": 6,
		"topic.creation.default.include": []string{".*"}, "topic.creation.g.include": []string{}} {
		k, ok := def.Key(name)
		if !ok {
			t.Fatalf("%s not declared", name)
		}
		if !equalAny(k.Default, want) {
			t.Errorf("%s default %#v, want %#v", name, k.Default, want)
		}
	}
	if k, _ := def.Key("topic.creation.g.partitions"); k.Group != "Topic Creation: g" {
		t.Errorf("group %q", k.Group)
	}
	if _, ok := r.EnrichedConfig(p, sourceProps()).Key("topic.creation.default.partitions"); ok {
		t.Error("topic creation keys declared for a connector that does not use topic creation")
	}
}

func equalAny(a, b any) bool {
	if la, ok := a.([]string); ok {
		lb, ok := b.([]string)
		return ok && slices.Equal(la, lb)
	}
	return a == b
}

// A topic is created with the settings of the first named group that
// includes and does not exclude it, else of the default group; regexes
// match whole names.
func TestTopicCreationFor(t *testing.T) {
	props := sourceProps(
		"topic.creation.default.replication.factor", "-1", "topic.creation.default.partitions", "4",
		"topic.creation.default.include", "ignored", "topic.creation.default.retention.ms", "1000",
		"topic.creation.groups", "compacted, small, default",
		"topic.creation.compacted.include", "users.*, orders-a", "topic.creation.compacted.exclude", "users-tmp",
		"topic.creation.compacted.cleanup.policy", "compact", "topic.creation.compacted.replication.factor", "2",
		"topic.creation.small.include", "orders.*", "topic.creation.small.partitions", "1",
	)
	tc, err := connect.ParseTopicCreationSettings(props)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		topic, group   string
		rf, partitions int
		configs        map[string]string
	}{
		{topic: "users", group: "compacted", rf: 2, partitions: 4, configs: map[string]string{"cleanup.policy": "compact"}},
		{topic: "users-tmp", group: "default", rf: -1, partitions: 4, configs: map[string]string{"retention.ms": "1000"}},
		{topic: "orders-a", group: "compacted", rf: 2, partitions: 4, configs: map[string]string{"cleanup.policy": "compact"}},
		{topic: "orders-b", group: "small", rf: -1, partitions: 1, configs: map[string]string{}},
		{topic: "xorders", group: "default", rf: -1, partitions: 4, configs: map[string]string{"retention.ms": "1000"}},
		{topic: "ignored", group: "default", rf: -1, partitions: 4, configs: map[string]string{"retention.ms": "1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			g := tc.For(tt.topic)
			if g.Name != tt.group || g.ReplicationFactor != tt.rf || g.Partitions != tt.partitions || !maps.Equal(g.Configs, tt.configs) {
				t.Fatalf("group %+v, want %s rf %d partitions %d configs %v", g, tt.group, tt.rf, tt.partitions, tt.configs)
			}
		})
	}
	if tc, err := connect.ParseTopicCreationSettings(sourceProps()); tc != nil || err != nil {
		t.Fatalf("without topic creation keys: %+v, %v", tc, err)
	}
	if _, err := connect.ParseTopicCreationSettings(sourceProps("topic.creation.default.partitions", "1")); err == nil ||
		!strings.Contains(err.Error(), "topic.creation.default.replication.factor") {
		t.Fatalf("missing replication factor: %v", err)
	}
}
