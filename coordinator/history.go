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
	last  leaseEntry
	tasks map[int]*leaseRing
	// recent totals the leases that ended in each of the last hour's
	// slots of bucketSpan (by slot number modulo len), for the last hour's
	// figures whatever the ring size.
	recent [hourBuckets]bucketTotal
}

// The last hour is counted in hourBuckets slots of bucketSpan.
const (
	bucketSpan  = 5 * time.Minute
	hourBuckets = int64(time.Hour / bucketSpan)
)

// bucketTotal totals the leases that ended in one slot of bucketSpan.
type bucketTotal struct {
	slot  int64 // Unix time / bucketSpan
	total rest.CostInfo
}

// leaseEntry is what the history keeps of one ended lease: compact (times
// as Unix nanoseconds, the id derived from connector, task and epoch), as
// 1,000 connectors keep 50 per task (BenchmarkLeaseHistoryMemory).
type leaseEntry struct {
	epoch                       int64
	start, end                  int64 // Unix nanoseconds
	records, bytes, errors, dlq int64
	gbSeconds, usd              float64
	kind                        lease.Kind
	status, err                 string
	ranges                      []lease.Range
	task, memoryMB, requests    int32
}

// leaseRing is a ring of the last len(buf) leases; next is where the next
// one goes, n how many are kept.
type leaseRing struct {
	buf  []leaseEntry
	next int
	n    int
}

func (r *leaseRing) add(l leaseEntry) {
	r.buf[r.next] = l
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// each calls f with the kept leases, oldest first.
func (r *leaseRing) each(f func(*leaseEntry)) {
	start := (r.next - r.n + len(r.buf)) % len(r.buf)
	for i := range r.n {
		f(&r.buf[(start+i)%len(r.buf)])
	}
}

func newHistory(size int) *history {
	return &history{size: max(size, 1), m: map[string]*connectorHistory{}}
}

// add records an ended lease of connector.
func (h *history) add(connector string, l leaseEntry) {
	if len(l.err) > maxHistoryError {
		l.err = l.err[:maxHistoryError] + "…"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.m[connector]
	if c == nil {
		c = &connectorHistory{tasks: map[int]*leaseRing{}}
		h.m[connector] = c
	}
	r := c.tasks[int(l.task)]
	if r == nil {
		r = &leaseRing{buf: make([]leaseEntry, h.size)}
		c.tasks[int(l.task)] = r
	}
	r.add(l)
	c.last = l
	addTo(&c.total, &l)
	slot := l.end / int64(bucketSpan)
	b := &c.recent[slot%hourBuckets]
	if b.slot != slot {
		*b = bucketTotal{slot: slot}
	}
	addTo(&b.total, &l)
}

// addTo adds one lease to a total.
func addTo(t *rest.CostInfo, l *leaseEntry) {
	t.Leases++
	if l.status != string(lease.Succeeded) {
		t.Failed++
	}
	t.Records += l.records
	t.Bytes += l.bytes
	t.Errors += l.errors
	t.DeadLettered += l.dlq
	t.Seconds += float64(l.end-l.start) / 1e9
	t.GBSeconds += l.gbSeconds
	t.Requests += int64(l.requests)
	t.USD += l.usd
}

// info is the REST form of a lease of connector.
func (l *leaseEntry) info(connector string) rest.LeaseInfo {
	return rest.LeaseInfo{
		ID: leaseID(connector, int(l.task), l.epoch), Task: int(l.task), Epoch: l.epoch, Kind: string(l.kind),
		Start: time.Unix(0, l.start).UTC(), End: time.Unix(0, l.end).UTC(), RuntimeMs: (l.end - l.start) / 1e6,
		Records: l.records, Bytes: l.bytes, Errors: l.errors, DLQ: l.dlq, Status: l.status, Error: l.err,
		Ranges: l.ranges, MemoryMB: int(l.memoryMB), GBSeconds: l.gbSeconds, CostUSD: l.usd,
	}
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
		r := c.tasks[id]
		tl := rest.TaskLeases{Task: id, Leases: make([]rest.LeaseInfo, 0, r.n)}
		r.each(func(l *leaseEntry) { tl.Leases = append(tl.Leases, l.info(connector)) })
		tasks = append(tasks, tl)
	}
	return tasks, c.total, true
}

// summary returns a connector's last lease, total, and the total of the
// leases that ended in the hour up to now, by whole slots of bucketSpan
// (the current one and the 11 before: 55 to 60 minutes).
func (h *history) summary(connector string, now time.Time) (rest.ConnectorSummary, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.m[connector]
	if c == nil {
		return rest.ConnectorSummary{}, false
	}
	last := c.last.info(connector)
	s := rest.ConnectorSummary{LastLease: &last, Total: c.total}
	current := now.UnixNano() / int64(bucketSpan)
	for _, b := range c.recent {
		if b.slot > current-hourBuckets && b.slot <= current {
			addCost(&s.LastHour, b.total)
		}
	}
	return s, true
}

// addCost adds total u to t.
func addCost(t *rest.CostInfo, u rest.CostInfo) {
	t.Leases += u.Leases
	t.Failed += u.Failed
	t.Records += u.Records
	t.Bytes += u.Bytes
	t.Errors += u.Errors
	t.DeadLettered += u.DeadLettered
	t.Seconds += u.Seconds
	t.GBSeconds += u.GBSeconds
	t.Requests += u.Requests
	t.USD += u.USD
}

// newLeaseEntry is the history's record of lease l that the coordinator
// invoked at start and whose result res (or invoker error err) came in at
// end, priced ch.
func newLeaseEntry(l lease.Lease, res lease.Result, err error, start, end time.Time, ch Charge) leaseEntry {
	e := leaseEntry{
		epoch: l.Epoch, start: start.UnixNano(), end: end.UnixNano(), kind: l.Kind, task: int32(l.Task),
		status: string(res.Status), err: res.Error, ranges: l.Ranges,
		memoryMB: int32(ch.MemoryMB), gbSeconds: ch.GBSeconds, usd: ch.USD, requests: int32(ch.Requests),
	}
	if err != nil {
		e.status, e.err = "invocation_failed", err.Error()
		return e
	}
	e.records, e.bytes = max(res.Records, 0), max(res.Bytes, 0)
	e.errors, e.dlq = max(res.Errors, 0), max(res.DeadLettered, 0)
	return e
}

// leaseEnded records an ended lease in the metrics and the history: it was
// invoked at start and its result res (or the invoker's error err) came in
// at end.
func (c *Coordinator) leaseEnded(l lease.Lease, res lease.Result, err error, start, end time.Time) {
	ch := c.cfg.Cost.Price(l.Kind, end.Sub(start))
	c.metrics.leaseEnded(l, res, err, end.Sub(start), ch)
	c.history.add(l.Connector, newLeaseEntry(l, res, err, start, end, ch))
}
