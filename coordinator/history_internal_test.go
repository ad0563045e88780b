package coordinator

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
)

// A task keeps its last size leases, oldest first; the totals count every
// lease.
func TestHistoryRing(t *testing.T) {
	h := newHistory(3)
	t0 := time.Now().Add(-2 * time.Hour)
	for i := range 5 {
		end := t0.Add(time.Duration(i) * 30 * time.Minute) // 0, 30, 60, 90, 120 min
		status := "succeeded"
		if i == 1 {
			status = "failed"
		}
		h.add("c", leaseEntry{epoch: int64(i), task: 0, start: end.Add(-time.Second).UnixNano(), end: end.UnixNano(), status: status,
			records: 10, gbSeconds: 1, usd: 0.5, requests: 1})
	}
	now := time.Now().UnixNano()
	h.add("c", leaseEntry{epoch: 7, task: 1, start: now, end: now, status: "succeeded", records: 1, requests: 1})

	tasks, total, ok := h.leases("c")
	if !ok || len(tasks) != 2 {
		t.Fatalf("tasks %+v ok %v", tasks, ok)
	}
	var ids []string
	for _, l := range tasks[0].Leases {
		ids = append(ids, l.ID)
	}
	if fmt.Sprint(ids) != "[c-0-2 c-0-3 c-0-4]" || tasks[1].Task != 1 || tasks[1].Leases[0].ID != "c-1-7" {
		t.Errorf("kept %v, task 1 %+v; want [c-0-2 c-0-3 c-0-4] and c-1-7", ids, tasks[1])
	}
	want := rest.CostInfo{Leases: 6, Failed: 1, Records: 51, Seconds: 5, GBSeconds: 5, Requests: 6, USD: 2.5}
	if total != want {
		t.Errorf("total %+v, want %+v", total, want)
	}

	s, ok := h.summary("c", time.Now())
	if !ok || s.LastLease == nil || s.LastLease.ID != "c-1-7" {
		t.Fatalf("summary %+v", s)
	}
	// Within the hour (5-minute slots): the leases that ended 30 min ago
	// and at 0 min, and c-1-7; not the one of 60 min ago.
	if s.LastHour.Leases != 3 || s.LastHour.Records != 21 {
		t.Errorf("last hour %+v, want 3 leases and 21 records", s.LastHour)
	}

	// The last hour counts every lease, not only those the rings keep.
	busy := newHistory(2)
	at := time.Now()
	for i := range 100 {
		end := at.Add(-time.Duration(i) * 30 * time.Second) // 100 leases over 50 minutes: within 55
		busy.add("b", leaseEntry{epoch: int64(i), end: end.UnixNano(), start: end.UnixNano(), status: "succeeded", records: 1})
	}
	if s, _ := busy.summary("b", at); s.LastHour.Leases != 100 || s.LastHour.Records != 100 {
		t.Errorf("busy last hour %+v, want 100 leases", s.LastHour)
	}
	if s, _ := busy.summary("b", at.Add(2*time.Hour)); s.LastHour.Leases != 0 {
		t.Errorf("two hours later, last hour %+v, want nothing", s.LastHour)
	}

	h.forget("c")
	if _, _, ok := h.leases("c"); ok {
		t.Error("a forgotten connector still has leases")
	}
}
