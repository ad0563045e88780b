package coordinator

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// BenchmarkLeaseHistoryMemory is the memory figure: the heap the
// lease history adds when every task of 1,000 connectors has a full ring
// of SLUICE_LEASE_HISTORY (50) leases. Half the connectors are sinks whose
// leases carry 4 partition ranges, half sources; one lease in ten failed
// with a 300-byte error. It reports, never asserts, heap-MB (live heap
// after GC, history built minus before) and KB/connector. By default one
// task per connector; SLUICE_BENCH_SCALE=full (`make bench-console`) adds
// 10 tasks per connector.
func BenchmarkLeaseHistoryMemory(b *testing.B) {
	tasks := []int{1}
	if os.Getenv("SLUICE_BENCH_SCALE") == "full" {
		tasks = append(tasks, 10)
	}
	for _, n := range tasks {
		b.Run(fmt.Sprintf("connectors=1000/tasks=%d/history=%d", n, DefaultLeaseHistory), func(b *testing.B) {
			var heap uint64
			for range b.N {
				heap = historyHeap(1000, n, DefaultLeaseHistory)
			}
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
			b.ReportMetric(float64(heap)/1000/1024, "KB/connector")
		})
	}
}

// historyHeap fills a history and returns the live heap it added.
func historyHeap(connectors, tasks, size int) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := newHistory(size)
	cost := Cost{}.withDefaults("lambda")
	start := time.Now()
	failure := strings.Repeat("x", 300)
	for c := range connectors {
		name := fmt.Sprintf("connector-%04d", c)
		kind := lease.KindSource
		if c%2 == 1 {
			kind = lease.KindSink
		}
		for t := range tasks {
			for i := range size {
				l := lease.Lease{ID: fmt.Sprintf("%s-%d-%d", name, t, start.UnixNano()+int64(i)), Kind: kind,
					Connector: name, Task: t, Epoch: start.UnixNano() + int64(i)}
				if kind == lease.KindSink {
					for p := range 4 {
						l.Ranges = append(l.Ranges, lease.Range{Topic: "orders", Partition: int32(p), Start: int64(i * 100), End: int64(i*100 + 100)})
					}
				}
				res := lease.Result{Status: lease.Succeeded, Records: 400, Bytes: 80000}
				if i%10 == 9 {
					res = lease.Result{Status: lease.Failed, Error: failure}
				}
				s := start.Add(time.Duration(i) * time.Second)
				e := s.Add(150 * time.Millisecond)
				ch := cost.Price(kind, e.Sub(s))
				h.add(name, newLeaseEntry(l, res, nil, s, e, ch))
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(h)
	return after.HeapAlloc - before.HeapAlloc
}
