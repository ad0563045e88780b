package coordinator_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// openLeaseLog opens a lease log of topic on k, as one coordinator does.
func openLeaseLog(t *testing.T, k *kafkatest.Env, topic string) *coordinator.KafkaLeaseLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := coordinator.OpenKafkaLeaseLog(ctx, k.Client, topic, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// The writes a deposed leader's producer delays until after its successor
// recorded a lease of the same task (issue 15's chaos pipeline): its
// Begin of a lease recorded in an earlier leader generation, which it
// never invoked (it invokes a lease only while the generation it recorded
// it in is confirmed, and that ended before the successor was elected),
// and its End of a lease the successor has already replaced. Neither may
// hide the successor's lease from the successor itself or from a
// coordinator that reads the log afterwards (the next leader): that one
// would issue the task's next lease while the successor's may still act,
// or re-issue the stale record's sink ranges over the successor's output.
// A record of a smaller generation written after the deadline of the
// task's last one (the group's generations restarted, every coordinator
// having left it) is a new lease and counts.
func TestLeaseLogSkipsADeposedLeadersLateWrites(t *testing.T) {
	const connector = "orders"
	ranges := func(start, end int64) []lease.Range {
		return []lease.Range{{Topic: "orders", Partition: 0, Start: start, End: end}}
	}
	sinkLease := func(id string, deadline time.Time, rs []lease.Range) lease.Lease {
		return lease.Lease{ID: id, Kind: lease.KindSink, Connector: connector, Task: 0, Epoch: time.Now().UnixNano(), Deadline: deadline, Ranges: rs}
	}
	type write struct {
		by     string // "old" (the deposed leader) or "new" (its successor)
		begin  *lease.Lease
		leader int32
		end    string // the lease id whose End is written (by that coordinator)
	}
	soon := time.Now().Add(time.Minute)
	a0 := sinkLease("orders-0-a0", soon, ranges(0, 100))
	a1 := sinkLease("orders-0-a1", soon, ranges(100, 200)) // the deposed leader's delayed lease
	b1 := sinkLease("orders-0-b1", soon, ranges(100, 300))
	past := sinkLease("orders-0-past", time.Now().Add(-time.Second), ranges(0, 100))
	tests := []struct {
		name   string
		writes []write
		want   string // the outstanding lease id every reader holds; "" for none
	}{
		{
			name: "late Begin of an earlier generation after the successor's",
			writes: []write{
				{by: "old", begin: &a0, leader: 4}, {by: "old", end: a0.ID},
				{by: "new", begin: &b1, leader: 6},
				{by: "old", begin: &a1, leader: 4},
			},
			want: b1.ID,
		},
		{
			name: "late Begin of an earlier generation after the successor's lease ended",
			writes: []write{
				{by: "new", begin: &b1, leader: 6}, {by: "new", end: b1.ID},
				{by: "old", begin: &a1, leader: 4},
			},
			want: "",
		},
		{
			name: "late End of a replaced lease",
			writes: []write{
				{by: "old", begin: &a0, leader: 4},
				{by: "new", begin: &b1, leader: 6},
				{by: "old", end: a0.ID},
			},
			want: b1.ID,
		},
		{
			name: "a smaller generation after the last lease's deadline (generations restarted)",
			writes: []write{
				{by: "old", begin: &past, leader: 57},
				{by: "new", begin: &b1, leader: 1},
			},
			want: b1.ID,
		},
		{
			name: "the same generation: the later record counts",
			writes: []write{
				{by: "new", begin: &b1, leader: 6},
				{by: "old", begin: &a1, leader: 6},
			},
			want: a1.ID,
		},
	}
	k := kafkatest.Start(t, 1)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := "sluice-leases-" + string(rune('a'+i))
			logs := map[string]*coordinator.KafkaLeaseLog{"old": openLeaseLog(t, k, topic), "new": openLeaseLog(t, k, topic)}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, w := range tt.writes {
				l := logs[w.by]
				// The successor follows the log; the deposed leader's
				// table holds only what it wrote itself: its writes were
				// sent before it could read the successor's, and land
				// after them.
				if w.by == "new" {
					if err := l.Refresh(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if w.begin != nil {
					if err := l.Begin(ctx, connector, *w.begin, w.leader); err != nil {
						t.Fatal(err)
					}
				} else if err := l.End(ctx, connector, 0, w.end); err != nil {
					t.Fatal(err)
				}
			}
			readers := map[string]*coordinator.KafkaLeaseLog{"the successor": logs["new"], "the next leader": openLeaseLog(t, k, topic)}
			for who, r := range readers {
				if err := r.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				got, ok := r.OutstandingFor(connector, 0)
				switch {
				case tt.want == "" && ok:
					t.Errorf("%s holds lease %s (ranges %v) as outstanding, want none", who, got.ID, got.Ranges)
				case tt.want != "" && !ok:
					t.Errorf("%s holds no outstanding lease, want %s", who, tt.want)
				case tt.want != "" && got.ID != tt.want:
					t.Errorf("%s holds lease %s (ranges %v) as outstanding, want %s", who, got.ID, got.Ranges, tt.want)
				}
			}
		})
	}
}

// Compaction keeps a key's last record: a deposed leader's late write
// (TestLeaseLogSkipsADeposedLeadersLateWrites) would let it drop the
// successor's record, and a coordinator reading the log afterwards would
// not wait out the successor's lease. The lease topic keeps every record
// for an hour (min.compaction.lag.ms), far beyond a lease's deadline.
func TestLeaseLogTopicKeepsRecordsBeyondALeasesDeadline(t *testing.T) {
	k := kafkatest.Start(t, 1)
	openLeaseLog(t, k, "sluice-leases")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := k.Client.TopicConfig(ctx, "sluice-leases")
	if err != nil {
		t.Fatal(err)
	}
	if cfg["cleanup.policy"] != "compact" {
		t.Errorf("cleanup.policy %q, want compact", cfg["cleanup.policy"])
	}
	lag, err := strconv.ParseInt(cfg["min.compaction.lag.ms"], 10, 64)
	if err != nil || time.Duration(lag)*time.Millisecond < time.Hour {
		t.Errorf("min.compaction.lag.ms %q (%v), want at least an hour", cfg["min.compaction.lag.ms"], err)
	}
}
