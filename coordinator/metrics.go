package coordinator

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// metrics are the coordinator's Prometheus metrics (GET /metrics): the
// leases it issued and their outcomes, counted as they end, and the
// connectors' and tasks' statuses, read from the status store at each
// scrape.
type metrics struct {
	reg *prometheus.Registry

	leases   *prometheus.CounterVec   // connector, kind, status
	records  *prometheus.CounterVec   // connector, kind
	bytes    *prometheus.CounterVec   // connector, kind
	duration *prometheus.HistogramVec // kind
	gbs      *prometheus.CounterVec   // connector, kind
	cost     *prometheus.CounterVec   // connector, kind
}

func newMetrics(c *Coordinator) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		leases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_leases_total",
			Help: "Leases issued by this coordinator that ended, by connector, kind (source, sink) and status (succeeded, failed, expired, cancelled; invocation_failed when the invoker got no result).",
		}, []string{"connector", "kind", "status"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_lease_records_total",
			Help: "Records the ended leases produced (source) or delivered (sink), by connector and kind.",
		}, []string{"connector", "kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_lease_bytes_total",
			Help: "Key and value bytes of those records, by connector and kind.",
		}, []string{"connector", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_lease_duration_seconds",
			Help:    "Time from invoking a lease to its result, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 9), // 5 ms to ~5.5 min
		}, []string{"kind"}),
		gbs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_lease_gb_seconds_total",
			Help: "Invocation time of the ended leases times the memory they ran with (GB-seconds, as Lambda bills them; SLUICE_COST_*), by connector and kind.",
		}, []string{"connector", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_lease_estimated_cost_usd_total",
			Help: "Estimated cost of the ended leases in USD at the configured list prices (SLUICE_COST_MODEL, SLUICE_PRICE_*), by connector and kind.",
		}, []string{"connector", "kind"}),
	}
	m.reg.MustRegister(m.leases, m.records, m.bytes, m.duration, m.gbs, m.cost, statusCollector{c},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// leaseEnded counts a lease's outcome and its estimated cost; err is the
// invoker's, when it got no result.
func (m *metrics) leaseEnded(l lease.Lease, res lease.Result, err error, took time.Duration, ch Charge) {
	kind := string(l.Kind)
	status := string(res.Status)
	if err != nil {
		status = "invocation_failed"
	}
	m.leases.WithLabelValues(l.Connector, kind, status).Inc()
	if err == nil {
		// Only a checked result (lease.Result.CheckFor) is counted: a
		// counter panics on a negative value.
		m.records.WithLabelValues(l.Connector, kind).Add(float64(max(res.Records, 0)))
		m.bytes.WithLabelValues(l.Connector, kind).Add(float64(max(res.Bytes, 0)))
	}
	m.duration.WithLabelValues(kind).Observe(took.Seconds())
	m.gbs.WithLabelValues(l.Connector, kind).Add(ch.GBSeconds)
	m.cost.WithLabelValues(l.Connector, kind).Add(ch.USD)
}

// forget drops a deleted connector's series.
func (m *metrics) forget(connector string) {
	for _, v := range []*prometheus.CounterVec{m.leases, m.records, m.bytes, m.gbs, m.cost} {
		v.DeletePartialMatch(prometheus.Labels{"connector": connector})
	}
}

// MetricsHandler serves the coordinator's metrics in Prometheus' text
// format (GET /metrics).
func (c *Coordinator) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(c.metrics.reg, promhttp.HandlerOpts{})
}

var (
	leaderDesc = prometheus.NewDesc("sluice_leader",
		"1 while this coordinator leads (runs connectors and issues leases), else 0.", nil, nil)
	connectorsDesc = prometheus.NewDesc("sluice_connectors",
		"Connectors by the state in the status topic (as GET /connectors/{name}/status shows it).", []string{"state"}, nil)
	tasksDesc = prometheus.NewDesc("sluice_tasks",
		"Tasks by connector and state in the status topic.", []string{"connector", "state"}, nil)
)

// statusCollector reports leadership and the statuses at scrape time.
type statusCollector struct{ c *Coordinator }

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- leaderDesc
	ch <- connectorsDesc
	ch <- tasksDesc
}

func (s statusCollector) Collect(ch chan<- prometheus.Metric) {
	leading := 0.0
	if s.c.isLeading() {
		leading = 1
	}
	ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, leading)
	byState := map[state.State]int{}
	for _, name := range s.c.d.Configs.Names() {
		st, ok := s.c.d.Statuses.Connector(name)
		if !ok {
			st.State = state.StateUnassigned
		}
		byState[st.State]++
		tasks := map[state.State]int{}
		for _, t := range s.c.d.Statuses.Tasks(name) {
			tasks[t.State]++
		}
		for st, n := range tasks {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(n), name, string(st))
		}
	}
	for st, n := range byState {
		ch <- prometheus.MustNewConstMetric(connectorsDesc, prometheus.GaugeValue, float64(n), string(st))
	}
}
