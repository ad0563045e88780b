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
		h.add("c", rest.LeaseInfo{ID: fmt.Sprint(i), Task: 0, End: end, Status: status, Records: 10, RuntimeMs: 1000, GBSeconds: 1, CostUSD: 0.5}, Charge{Requests: 1})
	}
	h.add("c", rest.LeaseInfo{ID: "t1", Task: 1, End: time.Now(), Status: "succeeded", Records: 1}, Charge{Requests: 1})

	tasks, total, ok := h.leases("c")
	if !ok || len(tasks) != 2 {
		t.Fatalf("tasks %+v ok %v", tasks, ok)
	}
	var ids []string
	for _, l := range tasks[0].Leases {
		ids = append(ids, l.ID)
	}
	if fmt.Sprint(ids) != "[2 3 4]" || tasks[1].Task != 1 || tasks[1].Leases[0].ID != "t1" {
		t.Errorf("kept %v, task 1 %+v; want [2 3 4] and t1", ids, tasks[1])
	}
	want := rest.CostInfo{Leases: 6, Failed: 1, Records: 51, Seconds: 5, GBSeconds: 5, Requests: 6, USD: 2.5}
	if total != want {
		t.Errorf("total %+v, want %+v", total, want)
	}

	s, ok := h.summary("c", time.Now().Add(-time.Hour), 1)
	if !ok || s.LastLease == nil || s.LastLease.ID != "t1" {
		t.Fatalf("summary %+v", s)
	}
	// Within the hour: the kept leases that ended 30 min ago and at 0 min,
	// and t1; the one of 60 min ago ended just before the hour began.
	if s.LastHour.Leases != 3 || s.LastHour.Records != 21 {
		t.Errorf("last hour %+v, want 3 leases and 21 records", s.LastHour)
	}

	h.forget("c")
	if _, _, ok := h.leases("c"); ok {
		t.Error("a forgotten connector still has leases")
	}
}
