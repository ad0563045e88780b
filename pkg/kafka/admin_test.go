package kafka

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestClusterID(t *testing.T) {
	tests := []struct {
		name string
		opts []kfake.Opt
		want string // "" means any non-empty id
	}{
		{name: "default id", want: ""},
		{name: "configured id", opts: []kfake.Opt{kfake.ClusterID("sluice-test-cluster")}, want: "sluice-test-cluster"},
		{name: "three brokers", opts: []kfake.Opt{kfake.NumBrokers(3), kfake.ClusterID("three")}, want: "three"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, tt.opts...)
			cl := dial(t, c)
			ctx := testCtx(t)
			first, err := cl.ClusterID(ctx)
			if err != nil {
				t.Fatalf("ClusterID: %v", err)
			}
			if first == "" {
				t.Fatal("ClusterID is empty")
			}
			if tt.want != "" {
				requireEqual(t, "ClusterID", first, tt.want)
			}
			// Stable across calls, and across clients.
			for _, other := range []*Client{cl, dial(t, c)} {
				again, err := other.ClusterID(ctx)
				if err != nil {
					t.Fatalf("ClusterID again: %v", err)
				}
				requireEqual(t, "ClusterID again", again, first)
			}
		})
	}
}

func TestTopicConfig(t *testing.T) {
	c := newCluster(t)
	cl := dial(t, c)
	ctx := testCtx(t)
	specs := []TopicSpec{
		{Name: "connect-configs", Partitions: 1, Configs: map[string]string{"cleanup.policy": "compact"}},
		{Name: "connect-status", Partitions: 5, Configs: map[string]string{"cleanup.policy": "compact", "retention.ms": "60000"}},
		{Name: "plain", Partitions: 2},
	}
	for _, s := range specs {
		if err := cl.EnsureTopic(ctx, s); err != nil {
			t.Fatalf("EnsureTopic(%s): %v", s.Name, err)
		}
	}

	tests := []struct {
		name    string
		topic   string
		want    map[string]string // keys checked; others may be present
		wantErr error
	}{
		{name: "compacted", topic: "connect-configs", want: map[string]string{"cleanup.policy": "compact"}},
		{name: "compacted with retention", topic: "connect-status", want: map[string]string{"cleanup.policy": "compact", "retention.ms": "60000"}},
		{name: "broker default", topic: "plain", want: map[string]string{"cleanup.policy": "delete"}},
		{name: "unknown topic", topic: "missing", wantErr: ErrUnknownTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cl.TopicConfig(ctx, tt.topic)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("TopicConfig(%s) error = %v, want %v", tt.topic, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("TopicConfig(%s): %v", tt.topic, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("TopicConfig(%s)[%s] = %q, want %q", tt.topic, k, got[k], v)
				}
			}
		})
	}
}
