package coordinator

import (
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// maxHistoryError bounds the error message kept with a lease; the whole
// trace is in the task's status.
const maxHistoryError = 1024

// history keeps each task's last ended leases in a ring of fixed size, and
// each connector's totals since the coordinator started. It is safe for
// concurrent use; it lives in memory only (a new leader starts empty).
type history struct {
	size int
	mu   sync.Mutex
	m    map[string]*connectorHistory
}

type connectorHistory struct {
	total rest.CostInfo
	last  rest.LeaseInfo
	tasks map[int]*leaseRing
}

// leaseRing is a ring of the last len(buf) leases; next is where the next
// one goes, n how many are kept.
type leaseRing struct {
	buf  []rest.LeaseInfo
	next int
	n    int
}

func (r *leaseRing) add(l rest.LeaseInfo) {
	r.buf[r.next] = l
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// all returns the kept leases, oldest first.
func (r *leaseRing) all() []rest.LeaseInfo {
	out := make([]rest.LeaseInfo, 0, r.n)
	start := (r.next - r.n + len(r.buf)) % len(r.buf)
	for i := range r.n {
		out = append(out, r.buf[(start+i)%len(r.buf)])
	}
	return out
}

func newHistory(size int) *history {
	return &history{size: max(size, 1), m: map[string]*connectorHistory{}}
}

// add records an ended lease of connector.
func (h *history) add(connector string, l rest.LeaseInfo, ch Charge) {
	if len(l.Error) > maxHistoryError {
		l.Error = l.Error[:maxHistoryError] + "…"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.m[connector]
	if c == nil {
		c = &connectorHistory{tasks: map[int]*leaseRing{}}
		h.m[connector] = c
	}
	r := c.tasks[l.Task]
	if r == nil {
		r = &leaseRing{buf: make([]rest.LeaseInfo, h.size)}
		c.tasks[l.Task] = r
	}
	r.add(l)
	c.last = l
	addTo(&c.total, l, ch.Requests)
}

// addTo adds one lease to a total.
func addTo(t *rest.CostInfo, l rest.LeaseInfo, requests int) {
	t.Leases++
	if l.Status != string(lease.Succeeded) {
		t.Failed++
	}
	t.Records += l.Records
	t.Bytes += l.Bytes
	t.Errors += l.Errors
	t.DeadLettered += l.DLQ
	t.Seconds += float64(l.RuntimeMs) / 1000
	t.GBSeconds += l.GBSeconds
	t.Requests += int64(requests)
	t.USD += l.CostUSD
}

// forget drops a deleted connector's history.
func (h *history) forget(connector string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, connector)
}

// leases returns a connector's kept leases per task (by task id) and its
// total; ok is false when nothing was kept.
func (h *history) leases(connector string) (tasks []rest.TaskLeases, total rest.CostInfo, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.m[connector]
	if c == nil {
		return nil, rest.CostInfo{}, false
	}
	ids := make([]int, 0, len(c.tasks))
	for id := range c.tasks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		tasks = append(tasks, rest.TaskLeases{Task: id, Leases: c.tasks[id].all()})
	}
	return tasks, c.total, true
}

// summary returns a connector's last lease, total, and the total of its
// kept leases that ended after since.
func (h *history) summary(connector string, since time.Time, requestsPerLease int) (rest.ConnectorSummary, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.m[connector]
	if c == nil {
		return rest.ConnectorSummary{}, false
	}
	last := c.last
	s := rest.ConnectorSummary{LastLease: &last, Total: c.total}
	for _, r := range c.tasks {
		for i := range r.n {
			if l := &r.buf[i]; l.End.After(since) {
				addTo(&s.LastHour, *l, requestsPerLease)
			}
		}
	}
	return s, true
}

// leaseInfo is the history's record of lease l that the coordinator
// invoked at start and whose result res (or invoker error err) came in at
// end.
func leaseInfo(l lease.Lease, res lease.Result, err error, start, end time.Time, ch Charge) rest.LeaseInfo {
	info := rest.LeaseInfo{
		ID: l.ID, Task: l.Task, Epoch: l.Epoch, Kind: string(l.Kind),
		Start: start, End: end, RuntimeMs: end.Sub(start).Milliseconds(),
		Status: string(res.Status), Error: res.Error, Ranges: l.Ranges,
		MemoryMB: ch.MemoryMB, GBSeconds: ch.GBSeconds, CostUSD: ch.USD,
	}
	if err != nil {
		info.Status, info.Error = "invocation_failed", err.Error()
		return info
	}
	info.Records, info.Bytes = max(res.Records, 0), max(res.Bytes, 0)
	info.Errors, info.DLQ = max(res.Errors, 0), max(res.DeadLettered, 0)
	return info
}

// leaseEnded records an ended lease in the metrics and the history: it was
// invoked at start and its result res (or the invoker's error err) came in
// at end.
func (c *Coordinator) leaseEnded(l lease.Lease, res lease.Result, err error, start, end time.Time) {
	ch := c.cfg.Cost.Price(l.Kind, end.Sub(start))
	c.metrics.leaseEnded(l, res, err, end.Sub(start), ch)
	c.history.add(l.Connector, leaseInfo(l, res, err, start, end, ch), ch)
}
