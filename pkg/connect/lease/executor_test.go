package lease_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

func want(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%03d", i)
	}
	return out
}

func TestSourceLeaseProducesThenCommitsOffsets(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	res := e.exec.Run(ctx, sourceLease("l1", 1, "out", 35, nil))
	if res.Status != lease.Succeeded || res.Records != 35 {
		t.Fatalf("first lease: %+v", res)
	}
	if got := readTopic(t, e.client, "out"); !slices.Equal(got, want(35)) {
		t.Fatalf("topic = %v", got)
	}
	stored, err := e.store.Load(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	if got := stored[offsets.PartitionID(map[string]any{"p": int64(0)})].Offset["i"]; got != int64(35) {
		t.Fatalf("stored offset = %v, want 35", got)
	}

	// A later lease with a higher count resumes from the committed offset.
	res = e.exec.Run(ctx, sourceLease("l2", 2, "out", 50, nil))
	if res.Status != lease.Succeeded || res.Records != 15 || res.MorePending {
		t.Fatalf("second lease: %+v", res)
	}
	if got := readTopic(t, e.client, "out"); !slices.Equal(got, want(50)) {
		t.Fatalf("topic after resume = %v", got)
	}
}

func TestSourceBudgetStopsLeaseWithMorePending(t *testing.T) {
	e := newEnv(t, nil)
	l := sourceLease("l1", 1, "out", 100, nil)
	l.Budget.MaxRecords = 20
	res := e.exec.Run(context.Background(), l)
	if res.Status != lease.Succeeded || res.Records != 20 || !res.MorePending {
		t.Fatalf("result %+v, want 20 records and more pending", res)
	}
}

// Rule 1: a crash between produce and offset write replays, never loses.
func TestSourceCrashBeforeOffsetWriteReplaysWithoutLoss(t *testing.T) {
	var fs *failingStore
	e := newEnv(t, func(s offsets.Store) offsets.Store { fs = &failingStore{Store: s, fail: true}; return fs })
	ctx := context.Background()

	res := e.exec.Run(ctx, sourceLease("l1", 1, "out", 30, nil))
	if res.Status != lease.Failed || !res.Retriable || !strings.Contains(res.Trace, "simulated crash") {
		t.Fatalf("crashed lease: %+v", res)
	}
	if len(res.SourceOffsets) != 0 {
		t.Fatalf("a failed lease reports offsets: %+v", res.SourceOffsets)
	}
	stored, err := e.store.Load(ctx, "src")
	if err != nil || len(stored) != 0 {
		t.Fatalf("offsets stored after the crash: %v %v", stored, err)
	}
	if got := readTopic(t, e.client, "out"); !slices.Equal(got, want(30)) {
		t.Fatalf("records produced before the crash = %v", got)
	}

	fs.set(false)
	res = e.exec.Run(ctx, sourceLease("l2", 2, "out", 30, nil))
	if res.Status != lease.Succeeded || res.Records != 30 {
		t.Fatalf("replay: %+v", res)
	}
	got := readTopic(t, e.client, "out")
	for _, w := range want(30) {
		if !slices.Contains(got, w) {
			t.Fatalf("record %s lost: %v", w, got)
		}
	}
	if len(got) != 60 {
		t.Fatalf("replay should duplicate (at least once), got %d records", len(got))
	}
	res = e.exec.Run(ctx, sourceLease("l3", 3, "out", 30, nil))
	if res.Status != lease.Succeeded || res.Records != 0 {
		t.Fatalf("after the replay committed, nothing is left: %+v", res)
	}
}

// Rule 2: a re-issued sink lease with the same range yields the same output,
// and no lease moves committed offsets backwards.
func TestSinkSameRangeSameOutputNeverBackwards(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	produce(t, e.client, "in", 50)
	dir := t.TempDir()

	rg := lease.Range{Topic: "in", Partition: 0, Start: 10, End: 40}
	res := e.exec.Run(ctx, sinkLease("s1", 1, dir, rg))
	if res.Status != lease.Succeeded || res.Records != 30 || !res.MorePending {
		t.Fatalf("first sink lease: %+v", res)
	}
	first := listDir(t, dir)
	if len(first) != 1 || !strings.HasPrefix(first["in+0+0000000010.txt"], "10:v010\n") ||
		strings.Count(first["in+0+0000000010.txt"], "\n") != 30 {
		t.Fatalf("output = %v", first)
	}
	if got := committed(t, e.client, "connect-snk", "in"); got != 40 {
		t.Fatalf("committed = %d, want 40", got)
	}

	res = e.exec.Run(ctx, sinkLease("s2", 2, dir, rg))
	if res.Status != lease.Succeeded {
		t.Fatalf("re-issued lease: %+v", res)
	}
	if again := listDir(t, dir); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("re-issued lease wrote different output:\n%v\nvs\n%v", again, first)
	}

	// A zombie with an older, shorter range must not move the offset back.
	res = e.exec.Run(ctx, sinkLease("s0", 0, dir, lease.Range{Topic: "in", Partition: 0, Start: 0, End: 20}))
	if res.Status != lease.Succeeded {
		t.Fatalf("zombie lease: %+v", res)
	}
	if got := committed(t, e.client, "connect-snk", "in"); got != 40 {
		t.Fatalf("committed moved backwards to %d", got)
	}
}

// Rule 3: nothing is produced, written or committed after the deadline.
func TestNothingCommittedAfterDeadline(t *testing.T) {
	t.Run("source poll overruns", func(t *testing.T) {
		e := newEnv(t, nil)
		l := sourceLease("l1", 1, "out", 30, map[string]string{"poll.delay": "1500ms"})
		l.Deadline = time.Now().Add(2 * time.Second) // commit cutoff at 1.5s
		res := e.exec.Run(context.Background(), l)
		if res.Status != lease.Expired {
			t.Fatalf("result %+v, want expired", res)
		}
		if got := readTopic(t, e.client, "out"); len(got) != 0 {
			t.Fatalf("records produced after the deadline: %v", got)
		}
		if stored, _ := e.store.Load(context.Background(), "src"); len(stored) != 0 {
			t.Fatalf("offsets written after the deadline: %v", stored)
		}
	})
	t.Run("sink put overruns", func(t *testing.T) {
		e := newEnv(t, nil)
		produce(t, e.client, "in", 5)
		dir := t.TempDir()
		l := sinkLease("s1", 1, dir, lease.Range{Topic: "in", Partition: 0, Start: 0, End: 5})
		l.ConnectorConfig["put.delay"] = "1600ms"
		l.Deadline = time.Now().Add(2 * time.Second)
		res := e.exec.Run(context.Background(), l)
		if res.Status == lease.Succeeded {
			t.Fatalf("result %+v, want expired or failed", res)
		}
		if got := committed(t, e.client, "connect-snk", "in"); got != -1 {
			t.Fatalf("committed %d after the deadline", got)
		}
		if files := listDir(t, dir); len(files) != 0 {
			t.Fatalf("pre-commit ran after the deadline: %v", files)
		}
	})
	t.Run("lease already past its deadline", func(t *testing.T) {
		e := newEnv(t, nil)
		l := sourceLease("l1", 1, "out", 30, nil)
		l.Deadline = time.Now().Add(100 * time.Millisecond)
		res := e.exec.Run(context.Background(), l)
		if res.Status != lease.Expired || res.Records != 0 {
			t.Fatalf("result %+v, want expired with nothing done", res)
		}
	})
}

func TestBadLeases(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		mutate func(*lease.Lease)
		want   string
	}{
		{"unknown class", func(l *lease.Lease) { l.ConnectorConfig["connector.class"] = "com.example.Nope" }, "Nope"},
		{"no deadline", func(l *lease.Lease) { l.Deadline = time.Time{} }, "no deadline"},
		{"unknown kind", func(l *lease.Lease) { l.Kind = "other" }, "unknown lease kind"},
		{"sink class in a source lease", func(l *lease.Lease) { l.ConnectorConfig["connector.class"] = testSinkPlugin.Class }, "not a source"},
		{"unknown converter", func(l *lease.Lease) { l.ConnectorConfig["value.converter"] = "com.example.Conv" }, "value.converter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sourceLease("bad", 1, "out", 5, nil)
			tt.mutate(&l)
			res := e.exec.Run(context.Background(), l)
			if res.Status != lease.Failed || !strings.Contains(res.Error, tt.want) {
				t.Fatalf("result %+v, want failure mentioning %q", res, tt.want)
			}
		})
	}
	l := sinkLease("bad", 1, t.TempDir(), lease.Range{Topic: "in", Partition: 0, Start: 5, End: 2})
	if res := e.exec.Run(context.Background(), l); res.Status != lease.Failed || !strings.Contains(res.Error, "invalid range") {
		t.Fatalf("inverted range: %+v", res)
	}
}

// Cancelling a lease's context (SIGTERM, coordinator shutdown) ends the
// polling early but still flushes and commits what was produced.
func TestCancelledSourceLeaseCommitsWhatItProduced(t *testing.T) {
	e := newEnv(t, nil)
	// Cancelled once the first records are in the topic: a fixed delay
	// may pass before anything is produced where creating a topic and
	// electing its leader take hundreds of milliseconds (Apache Kafka).
	if err := e.client.EnsureTopic(context.Background(), kafka.TopicSpec{Name: "out", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	go func() {
		tp := kafka.TopicPartition{Topic: "out", Partition: 0}
		for ctx.Err() == nil {
			if wm, err := e.client.Watermarks(ctx, []kafka.TopicPartition{tp}); err == nil && wm[tp].High > 0 {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	res := e.exec.Run(ctx, sourceLease("l1", 1, "out", 100_000, map[string]string{"poll.delay": "20ms"}))
	if res.Status != lease.Succeeded || !res.MorePending || res.Records == 0 || res.Records >= 100_000 {
		t.Fatalf("result %+v, want a successful partial lease", res)
	}
	stored, err := e.store.Load(context.Background(), "src")
	if err != nil {
		t.Fatal(err)
	}
	if got := stored[offsets.PartitionID(map[string]any{"p": int64(0)})].Offset["i"]; got != res.Records {
		t.Fatalf("stored offset %v, want %d (every produced record committed)", got, res.Records)
	}
	if got := readTopic(t, e.client, "out"); len(got) != int(res.Records) {
		t.Fatalf("%d records in the topic, lease reported %d", len(got), res.Records)
	}
}

// A task implementing CommitRecord hears, after the flush, where Kafka wrote
// each of its records, with the record's source offset; the lease does not
// keep the value until then.
func TestCommitRecordGetsWrittenOffsets(t *testing.T) {
	e := newEnv(t, nil)
	reg, err := connect.NewRegistry(append(converter.Plugins(), recordCommitPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond})
	l := sourceLease("l1", 1, "out", 25, nil)
	l.ConnectorConfig["connector.class"] = recordCommitPlugin.Class
	recordCommits.Lock()
	recordCommits.got = nil
	recordCommits.Unlock()
	if res := exec.Run(context.Background(), l); res.Status != lease.Succeeded || res.Records != 25 {
		t.Fatalf("lease: %+v", res)
	}
	recordCommits.Lock()
	defer recordCommits.Unlock()
	if len(recordCommits.got) != 25 {
		t.Fatalf("%d record commits, want 25", len(recordCommits.got))
	}
	for i, w := range recordCommits.got {
		if w != fmt.Sprintf("<nil> i=%d@out-0:%d", i+1, i) {
			t.Fatalf("commit %d = %s", i, w)
		}
	}
}

var recordCommits struct {
	sync.Mutex
	got []string
}

type recordCommitSource struct{ testSource }

func (s *recordCommitSource) CommitRecord(_ context.Context, r *connect.SourceRecord, tp connect.TopicPartition, off int64) error {
	recordCommits.Lock()
	defer recordCommits.Unlock()
	recordCommits.got = append(recordCommits.got, fmt.Sprintf("%v i=%v@%s-%d:%d", r.Value, r.SourceOffset["i"], tp.Topic, tp.Partition, off))
	return nil
}

var recordCommitPlugin = connect.Plugin{
	Class: "test.RecordCommitSourceConnector", Kind: connect.KindSource,
	NewConnector:  func() connect.Connector { return &testConnector{} },
	NewSourceTask: func() connect.SourceTask { return &recordCommitSource{} },
}

// A task implementing CommitOffsets hears, after the offsets are written
// and before Commit, the offset written for its source partition: the last
// of each lease, or of each transaction of an exactly-once lease (a
// transaction per poll of 10 records here). When it hears an offset, the
// offsets store already has it; when the write fails, it hears nothing and
// is not committed (a task confirming its position to a database there,
// as the PostgreSQL CDC source its slot, would release what Kafka's
// offsets do not cover).
func TestCommitOffsetsGetsWrittenOffsets(t *testing.T) {
	tests := []struct {
		name      string
		eos       bool
		failWrite bool
		want      []string
	}{
		{name: "at least once", want: []string{"i=25 stored", "commit"}},
		{name: "exactly once", eos: true, want: []string{"i=10 stored", "i=20 stored", "i=25 stored", "commit"}},
		{name: "offset write fails", failWrite: true},
	}
	e := newEnv(t, nil)
	reg, err := connect.NewRegistry(append(converter.Plugins(), offsetCommitPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	opts := lease.Options{SafetyMargin: 500 * time.Millisecond}
	exec := lease.NewExecutor(reg, e.client, e.store, opts)
	failing := lease.NewExecutor(reg, e.client, &failingStore{Store: e.store, fail: true}, opts)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sourceLease(fmt.Sprintf("l%d", i), int64(i+1), fmt.Sprintf("offsets%d", i), 25, nil)
			if tt.eos {
				l = eosLease(fmt.Sprintf("l%d", i), int64(i+1), fmt.Sprintf("offsets%d", i), 25, lease.BoundaryPoll, nil)
			}
			l.Connector, l.ConnectorConfig["name"] = fmt.Sprintf("src%d", i), fmt.Sprintf("src%d", i)
			l.ConnectorConfig["connector.class"] = offsetCommitPlugin.Class
			offsetCommits.Lock()
			offsetCommits.got, offsetCommits.store, offsetCommits.connector = nil, e.store, l.Connector
			offsetCommits.Unlock()
			x := exec
			if tt.failWrite {
				x = failing
			}
			res := x.Run(context.Background(), l)
			if tt.failWrite {
				if res.Status != lease.Failed || !strings.Contains(res.Trace, "simulated crash") {
					t.Fatalf("lease: %+v", res)
				}
			} else if res.Status != lease.Succeeded || res.Records != 25 {
				t.Fatalf("lease: %+v", res)
			}
			offsetCommits.Lock()
			defer offsetCommits.Unlock()
			if !slices.Equal(offsetCommits.got, tt.want) {
				t.Fatalf("commits %q, want %q", offsetCommits.got, tt.want)
			}
		})
	}
}

var offsetCommits struct {
	sync.Mutex
	got       []string
	store     offsets.Store // read by CommitOffsets
	connector string
}

type offsetCommitSource struct{ testSource }

// CommitOffsets notes the offset it hears and whether the offsets store
// has it already.
func (s *offsetCommitSource) CommitOffsets(ctx context.Context, written connect.OffsetReader) error {
	offsetCommits.Lock()
	defer offsetCommits.Unlock()
	partition := map[string]any{"p": int64(0)}
	i := written.Offset(partition)["i"]
	loaded, err := offsetCommits.store.Load(ctx, offsetCommits.connector)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("i=%v", i)
	if stored := loaded[offsets.PartitionID(partition)].Offset["i"]; fmt.Sprint(stored) == fmt.Sprint(i) {
		note += " stored"
	} else {
		note += fmt.Sprintf(" (store has i=%v)", stored)
	}
	offsetCommits.got = append(offsetCommits.got, note)
	return nil
}

func (s *offsetCommitSource) Commit(context.Context) error {
	offsetCommits.Lock()
	defer offsetCommits.Unlock()
	offsetCommits.got = append(offsetCommits.got, "commit")
	return nil
}

var offsetCommitPlugin = connect.Plugin{
	Class: "test.OffsetCommitSourceConnector", Kind: connect.KindSource,
	NewConnector:  func() connect.Connector { return &testConnector{} },
	NewSourceTask: func() connect.SourceTask { return &offsetCommitSource{} },
}

// A Poll that panics (it runs in its own goroutine) fails the lease with
// the panic and its stack as the trace, and writes no offsets; the process
// goes on. Before, the panic ended the process.
func TestPollPanicFailsTheLease(t *testing.T) {
	e := newEnv(t, nil)
	res := e.exec.Run(context.Background(), sourceLease("l1", 1, "out", 25, map[string]string{"poll.panic.at": "10"}))
	if res.Status != lease.Failed || !strings.Contains(res.Error, "task panicked: the source broke after 10 records") {
		t.Fatalf("lease: %+v", res)
	}
	if !strings.Contains(res.Trace, "testSource).Poll") {
		t.Errorf("the trace has no stack through Poll:\n%s", res.Trace)
	}
	if res.MorePending || len(res.SourceOffsets) > 0 {
		t.Fatalf("a failed lease reported more pending or offsets: %+v", res)
	}
	if off, err := e.store.Load(context.Background(), "src"); err != nil || len(off) > 0 {
		t.Fatalf("offsets written: %v %v", off, err)
	}
	// The executor still runs leases.
	if res := e.exec.Run(context.Background(), sourceLease("l2", 2, "out", 5, nil)); res.Status != lease.Succeeded {
		t.Fatalf("the next lease: %+v", res)
	}
}

// A Poll that fails fails the lease, naming the error, and writes no
// offsets: it is not taken for a poll cut short by the lease's time.
func TestPollErrorFailsTheLease(t *testing.T) {
	e := newEnv(t, nil)
	res := e.exec.Run(context.Background(), sourceLease("l1", 1, "out", 25, map[string]string{"poll.fail.at": "10"}))
	if res.Status != lease.Failed || !strings.Contains(res.Error, "the source is gone after 10 records") {
		t.Fatalf("lease: %+v", res)
	}
	if res.MorePending || len(res.SourceOffsets) > 0 {
		t.Fatalf("a failed lease reported more pending or offsets: %+v", res)
	}
	if off, err := e.store.Load(context.Background(), "src"); err != nil || len(off) > 0 {
		t.Fatalf("offsets written: %v %v", off, err)
	}
}

// A source that gives its offsets as positions (SourceRecord.PositionKey
// and Position, no map per record), or some as maps and some as positions,
// gets the same offsets stored as with maps, and resumes from them; with
// and without exactly-once delivery.
func TestSourcePositionOffsetsStoredAsMaps(t *testing.T) {
	for _, as := range []string{"position", "mixed"} {
		for _, eos := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/exactly-once=%t", as, eos), func(t *testing.T) {
				e := newEnv(t, nil)
				ctx := context.Background()
				l := func(id string, epoch int64, count int) lease.Lease {
					extra := map[string]string{"offsets.as": as}
					if eos {
						return eosLease(id, epoch, "out", count, lease.BoundaryPoll, extra)
					}
					return sourceLease(id, epoch, "out", count, extra)
				}
				res := e.exec.Run(ctx, l("l1", 1, 35))
				if res.Status != lease.Succeeded || res.Records != 35 {
					t.Fatalf("first lease: %+v", res)
				}
				if len(res.SourceOffsets) == 0 || res.SourceOffsets[len(res.SourceOffsets)-1].Offset["i"] != int64(35) {
					t.Fatalf("reported source offsets %+v, want the last {i: 35}", res.SourceOffsets)
				}
				stored, err := e.store.Load(ctx, "src")
				if err != nil {
					t.Fatal(err)
				}
				if got := stored[offsets.PartitionID(map[string]any{"p": int64(0)})].Offset["i"]; got != int64(35) {
					t.Fatalf("stored offset = %v (%T), want int64 35", got, got)
				}
				res = e.exec.Run(ctx, l("l2", 2, 50))
				if res.Status != lease.Succeeded || res.Records != 15 {
					t.Fatalf("second lease: %+v", res)
				}
				got := readTopic(t, e.client, "out")
				if eos {
					got = readCommitted(t, e.client, "out")
				}
				if !slices.Equal(got, want(50)) {
					t.Fatalf("topic after resume = %v", got)
				}
			})
		}
	}
}
