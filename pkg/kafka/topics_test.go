package kafka

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopic creates a topic with its partitions and configs on a cluster
// without auto-creation, says whether it created it, and names the reason
// when the cluster refuses.
func TestCreateTopic(t *testing.T) {
	c := newCluster(t) // kfake creates no topic on its own
	cl := dial(t, c)
	ctx := testCtx(t)

	spec := TopicSpec{Name: "compacted", Partitions: 3, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}
	if exists, err := cl.TopicExists(ctx, spec.Name); err != nil || exists {
		t.Fatalf("TopicExists before: %v, %v", exists, err)
	}
	created, err := cl.CreateTopic(ctx, spec)
	if err != nil || !created {
		t.Fatalf("CreateTopic: created %v, %v", created, err)
	}
	if exists, err := cl.TopicExists(ctx, spec.Name); err != nil || !exists {
		t.Fatalf("TopicExists after: %v, %v", exists, err)
	}
	ps, err := cl.Partitions(ctx, spec.Name)
	if err != nil || len(ps) != 3 {
		t.Fatalf("partitions %v, %v; want 3", ps, err)
	}
	cfg, err := cl.TopicConfig(ctx, spec.Name)
	if err != nil || cfg["cleanup.policy"] != "compact" {
		t.Fatalf("cleanup.policy %q, %v; want compact", cfg["cleanup.policy"], err)
	}
	if created, err := cl.CreateTopic(ctx, spec); err != nil || created {
		t.Fatalf("CreateTopic of an existing topic: created %v, %v; want false, nil", created, err)
	}
	if exists, err := cl.TopicExists(ctx, "never-asked-for"); err != nil || exists {
		t.Fatalf("TopicExists of a missing topic: %v, %v", exists, err)
	}

	tests := []struct {
		name   string
		spec   TopicSpec
		refuse kerr.Error // injected CreateTopics answer, if any
		want   []string
		is     error
	}{
		{name: "replication factor above the brokers", spec: TopicSpec{Name: "rf3", ReplicationFactor: 3},
			want: []string{"rf3", "replication factor 3 is larger than the number of brokers in the cluster (1)"}},
		{name: "not authorized", spec: TopicSpec{Name: "secret", Partitions: 2}, refuse: *kerr.TopicAuthorizationFailed,
			want: []string{"secret", "not authorized to create topics", "partitions 2, replication factor broker default"}},
		{name: "cluster authorization", spec: TopicSpec{Name: "secret2"}, refuse: *kerr.ClusterAuthorizationFailed,
			want: []string{"not authorized to create topics"}},
		{name: "policy", spec: TopicSpec{Name: "policy", Configs: map[string]string{"retention.ms": "1"}}, refuse: *kerr.PolicyViolation,
			want: []string{"rejected the topic configs map[retention.ms:1]", "the broker says: injected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.refuse.Code != 0 {
				c.ControlKey(int16(kmsg.CreateTopics), func(r kmsg.Request) (kmsg.Response, error, bool) {
					req := r.(*kmsg.CreateTopicsRequest)
					resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
					for _, rt := range req.Topics {
						st := kmsg.NewCreateTopicsResponseTopic()
						st.Topic, st.ErrorCode, st.ErrorMessage = rt.Topic, tt.refuse.Code, kmsg.StringPtr("injected")
						resp.Topics = append(resp.Topics, st)
					}
					return resp, nil, true
				})
			}
			_, err := cl.CreateTopic(ctx, tt.spec)
			var ce *TopicCreationError
			if !errors.As(err, &ce) {
				t.Fatalf("CreateTopic: %v, want a *TopicCreationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if exists, err := cl.TopicExists(ctx, tt.spec.Name); err != nil || exists {
				t.Errorf("the refused topic exists: %v, %v", exists, err)
			}
		})
	}
}
