package coordinator

import (
	"context"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

var _ rest.Operations = (*Coordinator)(nil)

// Cluster is GET /sluice/v1/cluster: this coordinator, the leader, the
// invoker and the pricing of leases.
func (c *Coordinator) Cluster(ctx context.Context) (rest.ClusterInfo, error) {
	leader, _ := c.Leader()
	id, err := c.KafkaClusterID(ctx)
	if err != nil {
		c.log.Debug("the Kafka cluster id is unknown", "error", err)
	}
	p := c.cfg.Cost
	return rest.ClusterInfo{
		URL: c.cfg.RestAdvertisedURL, Leader: leader, Coordinators: c.coordinators(leader),
		Invoker: c.cfg.Invoker, KafkaClusterID: id,
		LeaseHistory: p.LeaseHistory, Since: c.started,
		Pricing: rest.Pricing{
			Model: p.CostModel, Arch: p.CostArch,
			SourceMemoryMB: p.CostSourceMemoryMB, SinkMemoryMB: p.CostSinkMemoryMB,
			WorkerVCPU: p.CostWorkerVCPU, WorkerMemoryMB: p.CostWorkerMemoryMB,
			Prices: map[string]float64{
				"lambda_arm64_gb_second":  p.LambdaArm64GBSecond,
				"lambda_x86_gb_second":    p.LambdaX86GBSecond,
				"lambda_request":          p.LambdaRequest,
				"fargate_arm64_vcpu_hour": p.FargateArm64VCPUHour,
				"fargate_arm64_gb_hour":   p.FargateArm64GBHour,
				"fargate_x86_vcpu_hour":   p.FargateX86VCPUHour,
				"fargate_x86_gb_hour":     p.FargateX86GBHour,
			},
		},
	}, nil
}

// members is the Elector capability that lists the election's group.
type members interface {
	Members() ([]kafka.ElectionMember, error)
}

// coordinators lists the group's coordinators from the election's group
// membership; the one whose URL is leader leads. Without an election, or
// when the group cannot be described or has no member yet, it is this coordinator alone (then
// leading only if leader is its URL).
func (c *Coordinator) coordinators(leader string) []rest.CoordinatorInfo {
	self := c.cfg.RestAdvertisedURL
	alone := []rest.CoordinatorInfo{{ID: c.workerID, URL: self, Leader: leader != "" && leader == self, Self: true}}
	e, ok := c.d.Election.(members)
	if !ok {
		return alone
	}
	ms, err := e.Members()
	if err != nil || len(ms) == 0 {
		c.log.Debug("the coordinators' group cannot be described", "error", err, "members", len(ms))
		return alone
	}
	out := make([]rest.CoordinatorInfo, 0, len(ms))
	for _, m := range ms {
		ci := rest.CoordinatorInfo{ID: m.ID, URL: m.URL, Host: m.Host,
			Leader: m.URL != "" && m.URL == leader, Self: m.URL != "" && m.URL == self}
		if !m.Since.IsZero() {
			since := m.Since
			ci.Since = &since
		}
		out = append(out, ci)
	}
	return out
}

// ConnectorSummaries is GET /sluice/v1/connectors: each connector's last
// lease, its totals since this coordinator started, and those of the
// leases that ended in the last hour (by 5-minute slots). A connector with no lease yet has
// an empty summary.
func (c *Coordinator) ConnectorSummaries(context.Context) (map[string]rest.ConnectorSummary, error) {
	now := time.Now()
	out := map[string]rest.ConnectorSummary{}
	for _, name := range c.d.Configs.Names() {
		s, _ := c.history.summary(name, now)
		if snap := c.lagOf(name); snap != nil {
			var total int64
			for _, p := range snap.Partitions {
				total += p.Lag
			}
			s.SinkLag = &total
		}
		out[name] = s
	}
	return out, nil
}

// ConnectorLeases is GET /sluice/v1/connectors/{name}/leases: the last
// SLUICE_LEASE_HISTORY leases of each task, oldest first, and the
// connector's totals.
func (c *Coordinator) ConnectorLeases(_ context.Context, name string) (rest.ConnectorLeases, error) {
	if _, err := c.connector(name); err != nil {
		return rest.ConnectorLeases{}, err
	}
	tasks, total, _ := c.history.leases(name)
	if tasks == nil {
		tasks = []rest.TaskLeases{}
	}
	out := rest.ConnectorLeases{Name: name, Total: total, Tasks: tasks}
	if snap := c.lagOf(name); snap != nil {
		out.SinkLag, out.LagChecked = snap.Partitions, &snap.Checked
	}
	return out, nil
}

// lagOf returns a running sink connector's last lag check, or nil.
func (c *Coordinator) lagOf(name string) *lagSnapshot {
	c.mu.Lock()
	cr := c.running[name]
	c.mu.Unlock()
	if cr == nil {
		return nil
	}
	cr.mu.Lock()
	lag := cr.lag
	cr.mu.Unlock()
	if lag == nil {
		return nil
	}
	return lag.last.Load()
}
