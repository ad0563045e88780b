package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// Operations is an optional Herder capability: Sluice's own read-only
// endpoints, which Kafka Connect does not have, for the console and for
// operators. Without it those paths answer 404. They are answered by the
// leader (a follower forwards them), which runs the leases and keeps their
// history.
//
//	GET /sluice/v1/cluster                   ClusterInfo
//	GET /sluice/v1/connectors                map of connector name to ConnectorSummary
//	GET /sluice/v1/connectors/{name}/leases  ConnectorLeases
type Operations interface {
	// Cluster describes the coordinators and how leases run and are priced.
	Cluster(ctx context.Context) (ClusterInfo, error)
	// ConnectorSummaries returns every connector's last lease and totals.
	ConnectorSummaries(ctx context.Context) (map[string]ConnectorSummary, error)
	// ConnectorLeases returns a connector's recent leases per task and its
	// totals; an unknown connector is a NotFoundError.
	ConnectorLeases(ctx context.Context, name string) (ConnectorLeases, error)
}

// ClusterInfo is GET /sluice/v1/cluster.
type ClusterInfo struct {
	// Version is Sluice's version.
	Version string `json:"version"`
	// URL is the answering coordinator's advertised REST URL; Leader the
	// leader's ("" while none is known).
	URL    string `json:"url"`
	Leader string `json:"leader"`
	// Coordinators are every coordinator of the group, oldest first, as
	// the group coordinator of the election describes them (this one
	// alone, leading, without an election).
	Coordinators []CoordinatorInfo `json:"coordinators"`
	// Invoker is where leases run: inprocess, lambda or pull.
	Invoker string `json:"invoker"`
	// KafkaClusterID is the Kafka cluster holding the internal topics.
	KafkaClusterID string `json:"kafka_cluster_id,omitempty"`
	// LeaseHistory is how many ended leases are kept per task.
	LeaseHistory int `json:"lease_history"`
	// Pricing is how lease costs are estimated.
	Pricing Pricing `json:"pricing"`
	// Since is when this coordinator started counting (the totals of
	// ConnectorSummary and ConnectorLeases start then).
	Since time.Time `json:"since"`
}

// CoordinatorInfo is one coordinator of the group: its member id in the
// group, its advertised REST URL ("" while the group rebalances, when Kafka
// describes members without their metadata), whether it leads (its URL is
// ClusterInfo.Leader) and whether it is the one answering.
type CoordinatorInfo struct {
	ID     string     `json:"id"`
	URL    string     `json:"url"`
	Host   string     `json:"host,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	Leader bool       `json:"leader"`
	Self   bool       `json:"self"`
}

// Pricing describes the cost model: lambda (a lease is an invocation of
// MemoryMB) or fargate (a lease is time on a worker of WorkerVCPU and
// WorkerMemoryMB), the architecture and the list prices used (USD).
type Pricing struct {
	Model          string             `json:"model"`
	Arch           string             `json:"arch"`
	SourceMemoryMB int                `json:"source_memory_mb"`
	SinkMemoryMB   int                `json:"sink_memory_mb"`
	WorkerVCPU     float64            `json:"worker_vcpu"`
	WorkerMemoryMB int                `json:"worker_memory_mb"`
	Prices         map[string]float64 `json:"prices"`
}

// LeaseInfo is one ended lease, as the coordinator saw it: invoked at
// Start, its result (or the invoker's error) in at End.
type LeaseInfo struct {
	ID        string        `json:"id"`
	Task      int           `json:"task"`
	Epoch     int64         `json:"epoch"`
	Kind      string        `json:"kind"`
	Start     time.Time     `json:"start"`
	End       time.Time     `json:"end"`
	RuntimeMs int64         `json:"runtime_ms"`
	Records   int64         `json:"records"`
	Bytes     int64         `json:"bytes"`
	Errors    int64         `json:"errors,omitempty"`
	DLQ       int64         `json:"dead_lettered,omitempty"`
	Status    string        `json:"status"`
	Error     string        `json:"error,omitempty"`
	Ranges    []lease.Range `json:"ranges,omitempty"`
	MemoryMB  int           `json:"memory_mb"`
	GBSeconds float64       `json:"gb_seconds"`
	CostUSD   float64       `json:"cost_usd"`
}

// CostInfo totals a connector's ended leases since ClusterInfo.Since.
type CostInfo struct {
	Leases       int64   `json:"leases"`
	Failed       int64   `json:"failed"`
	Records      int64   `json:"records"`
	Bytes        int64   `json:"bytes"`
	Errors       int64   `json:"errors"`
	DeadLettered int64   `json:"dead_lettered"`
	Seconds      float64 `json:"seconds"`
	GBSeconds    float64 `json:"gb_seconds"`
	Requests     int64   `json:"requests"`
	USD          float64 `json:"cost_usd"`
}

// PartitionLag is a sink connector's lag on one partition: the records
// between its consumer group's committed offset (-1: none; the lag then
// counts from the log start) and the partition's end.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"`
}

// ConnectorSummary is one connector's entry in GET /sluice/v1/connectors.
type ConnectorSummary struct {
	// SinkLag is a running sink connector's total lag at its last check,
	// nil for sources and for sinks not checked (stopped, paused).
	SinkLag   *int64     `json:"sink_lag,omitempty"`
	LastLease *LeaseInfo `json:"last_lease"`
	Total     CostInfo   `json:"total"`
	// LastHour totals the leases that ended in the last hour, counted in
	// slots of 5 minutes (the current one and the 11 before).
	LastHour CostInfo `json:"last_hour"`
}

// TaskLeases are one task's kept leases, oldest first.
type TaskLeases struct {
	Task   int         `json:"task"`
	Leases []LeaseInfo `json:"leases"`
}

// ConnectorLeases is GET /sluice/v1/connectors/{name}/leases.
type ConnectorLeases struct {
	Name  string       `json:"name"`
	Total CostInfo     `json:"total"`
	Tasks []TaskLeases `json:"tasks"`
	// SinkLag is a running sink connector's lag per partition at its last
	// check (LagChecked); absent for sources and sinks not checked.
	SinkLag    []PartitionLag `json:"sink_lag,omitempty"`
	LagChecked *time.Time     `json:"lag_checked,omitempty"`
}

// operationsRoutes registers the Operations endpoints when the herder has
// them.
func (s *server) operationsRoutes() {
	ops, ok := s.herder.(Operations)
	if !ok {
		return
	}
	const leader = true
	s.route("GET /sluice/v1/cluster", false, func(w http.ResponseWriter, r *http.Request, _ []byte) error {
		info, err := ops.Cluster(r.Context())
		if err != nil {
			return err
		}
		if info.Version == "" {
			info.Version = s.opts.Version
		}
		return writeJSON(w, http.StatusOK, info)
	})
	s.route("GET /sluice/v1/connectors", leader, func(w http.ResponseWriter, r *http.Request, _ []byte) error {
		m, err := ops.ConnectorSummaries(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, m)
	})
	s.route("GET /sluice/v1/connectors/{name}/leases", leader, func(w http.ResponseWriter, r *http.Request, _ []byte) error {
		l, err := ops.ConnectorLeases(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, l)
	})
}
