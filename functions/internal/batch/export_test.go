package batch_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/functions/internal/batch"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// checkObjects checks that dir holds, per partition, files of flush.size
// (5) records covering exactly [from, to) in order, the last one shorter.
func checkObjects(t *testing.T, dir, topic string, from, to [2]int64) {
	t.Helper()
	got := files(t, dir)
	var want []string
	for p := range 2 {
		for start := from[p]; start < to[p]; start += 5 {
			name := fmt.Sprintf("topics/%s/partition=%d/%s+%d+%010d.json", topic, p, topic, p, start)
			want = append(want, name)
			b, ok := got[name]
			if !ok {
				t.Fatalf("missing %s; have %v", name, keys(got))
			}
			recs := lines(t, b)
			requireEqual(t, name+" records", int64(len(recs)), min(5, to[p]-start))
			for i, r := range recs {
				requireEqual(t, fmt.Sprintf("%s record %d", name, i), fmt.Sprint(r["p"], "/", r["i"]), fmt.Sprint(p, "/", start+int64(i)))
			}
		}
	}
	if len(got) != len(want) {
		have := keys(got)
		sort.Strings(have)
		t.Fatalf("objects %v, want %v", have, want)
	}
}

func TestExportUntilNow(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.produce(t, "orders", 0, 23, 17)
	e.putConnector(t, "exp", "orders", dir, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Partition 0 has committed up to 3 already.
	if _, err := e.k.Client.CommitOffsets(ctx, "connect-exp", map[kafka.TopicPartition]int64{{Topic: "orders", Partition: 0}: 3}); err != nil {
		t.Fatal(err)
	}
	d := e.deps()
	d.LeaseRecords = 7 // rounded down to flush.size: one file per partition per lease

	out, err := handle(t, ctx, d, `{"connector": "exp", "until": "now"}`)
	if err != nil {
		t.Fatal(err)
	}
	sum := out.(*batch.ExportSummary)
	requireEqual(t, "complete", sum.Complete, true)
	requireEqual(t, "leases", sum.Leases, 4)
	requireEqual(t, "records", sum.Records, int64(20+17))
	requireEqual(t, "partitions", fmt.Sprint(sum.Partitions),
		fmt.Sprint([]batch.PartitionSummary{{Topic: "orders", Partition: 0, From: 3, To: 23, Done: 23, Records: 20}, {Topic: "orders", Partition: 1, From: 0, To: 17, Done: 17, Records: 17}}))
	checkObjects(t, dir, "orders", [2]int64{3, 0}, [2]int64{23, 17})
	requireEqual(t, "committed", e.committed(t, "exp", "orders"), [2]int64{23, 17})
	first := files(t, dir)

	// The same request again: nothing left to do.
	out, err = handle(t, ctx, d, `{"connector": "exp", "until": "now"}`)
	if err != nil {
		t.Fatal(err)
	}
	sum = out.(*batch.ExportSummary)
	requireEqual(t, "re-run complete", sum.Complete, true)
	requireEqual(t, "re-run leases", sum.Leases, 0)
	requireEqual(t, "re-run partitions", fmt.Sprint(sum.Partitions),
		fmt.Sprint([]batch.PartitionSummary{{Topic: "orders", Partition: 0, From: 23, To: 23, Done: 23}, {Topic: "orders", Partition: 1, From: 17, To: 17, Done: 17}}))
	sameFiles(t, "after the re-run", files(t, dir), first)
	requireEqual(t, "committed after the re-run", e.committed(t, "exp", "orders"), [2]int64{23, 17})

	// An explicit end offset below what is committed moves nothing back.
	out, err = handle(t, ctx, d, `{"connector": "exp", "until": {"orders-0": 10}}`)
	if err != nil {
		t.Fatal(err)
	}
	sum = out.(*batch.ExportSummary)
	requireEqual(t, "until below committed", fmt.Sprint(sum.Partitions), fmt.Sprint([]batch.PartitionSummary{{Topic: "orders", Partition: 0, From: 23, To: 23, Done: 23}}))
	requireEqual(t, "committed after until", e.committed(t, "exp", "orders"), [2]int64{23, 17})
	sameFiles(t, "after until", files(t, dir), first)
}

// Records produced after the request started are left for the next one.
func TestExportStopsAtStartWatermark(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.produce(t, "late", 0, 12, 6)
	e.putConnector(t, "late", "late", dir, nil)
	var once sync.Once
	e.setHooks("late", hooks{put: func() { once.Do(func() { e.produce(t, "late", 100, 4, 4) }) }})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	out, err := handle(t, ctx, e.deps(), `{"connector": "late", "until": "now"}`)
	if err != nil {
		t.Fatal(err)
	}
	sum := out.(*batch.ExportSummary)
	requireEqual(t, "complete", sum.Complete, true)
	requireEqual(t, "partitions", fmt.Sprint(sum.Partitions),
		fmt.Sprint([]batch.PartitionSummary{{Topic: "late", Partition: 0, From: 0, To: 12, Done: 12, Records: 12}, {Topic: "late", Partition: 1, From: 0, To: 6, Done: 6, Records: 6}}))
	checkObjects(t, dir, "late", [2]int64{0, 0}, [2]int64{12, 6})
	requireEqual(t, "committed", e.committed(t, "late", "late"), [2]int64{12, 6})
}

// A deadline too short for the whole export exports a prefix of whole
// leases and says so; the next request completes it, and the objects are
// those of an export done in one go.
func TestExportDeadline(t *testing.T) {
	e := newEnv(t)
	e.produce(t, "clicks", 0, 23, 17)
	whole, split := t.TempDir(), t.TempDir()
	e.putConnector(t, "whole", "clicks", whole, nil)
	e.putConnector(t, "split", "clicks", split, nil)
	d := e.deps()
	d.LeaseRecords = 5
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := handle(t, ctx, d, `{"connector": "whole", "until": "now"}`); err != nil {
		t.Fatal(err)
	}
	checkObjects(t, whole, "clicks", [2]int64{0, 0}, [2]int64{23, 17})

	// Each lease of "split" appears to take 20s of the invocation's 45s:
	// after the first, 25s are left, less than twice the longest lease.
	e.setHooks("split", hooks{stop: func() { e.clock.Add(int64(20 * time.Second)) }})
	short, cancelShort := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancelShort()
	out, err := handle(t, short, d, `{"connector": "split", "until": "now"}`)
	if err != nil {
		t.Fatal(err)
	}
	sum := out.(*batch.ExportSummary)
	requireEqual(t, "complete", sum.Complete, false)
	requireEqual(t, "leases", sum.Leases, 1)
	requireEqual(t, "partitions", fmt.Sprint(sum.Partitions),
		fmt.Sprint([]batch.PartitionSummary{{Topic: "clicks", Partition: 0, From: 0, To: 23, Done: 5, Records: 5}, {Topic: "clicks", Partition: 1, From: 0, To: 17, Done: 5, Records: 5}}))
	requireEqual(t, "committed after the prefix", e.committed(t, "split", "clicks"), [2]int64{5, 5})
	prefix := files(t, split)
	requireEqual(t, "prefix objects", len(prefix), 2)

	e.setHooks("split", hooks{})
	e.clock.Store(0)
	out, err = handle(t, ctx, d, `{"connector": "split", "until": "now"}`)
	if err != nil {
		t.Fatal(err)
	}
	sum = out.(*batch.ExportSummary)
	requireEqual(t, "next run complete", sum.Complete, true)
	requireEqual(t, "next run leases", sum.Leases, 4)
	got := files(t, split)
	for k, b := range prefix {
		sameFiles(t, "prefix object "+path.Base(k), map[string][]byte{k: got[k]}, map[string][]byte{k: b})
	}
	sameFiles(t, "split export against the whole one", got, files(t, whole))
	requireEqual(t, "committed", e.committed(t, "split", "clicks"), [2]int64{23, 17})
}

func TestExportBadRequests(t *testing.T) {
	e := newEnv(t)
	e.produce(t, "bad", 0, 1, 1)
	e.putConnector(t, "bad", "bad", t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name, payload string
		want          error
		msg           string
	}{
		{name: "time", payload: `{"connector": "bad", "until": "2024-05-01T00:00:00Z"}`, want: batch.ErrBadRequest, msg: "not supported"},
		{name: "word", payload: `{"connector": "bad", "until": "later"}`, want: batch.ErrBadRequest, msg: `"now"`},
		{name: "bad partition key", payload: `{"connector": "bad", "until": {"bad": 3}}`, want: batch.ErrBadRequest, msg: "<topic>-<partition>"},
		{name: "partition not consumed", payload: `{"connector": "bad", "until": {"other-0": 3}}`, want: batch.ErrBadRequest, msg: "other-0"},
		{name: "negative offset", payload: `{"connector": "bad", "until": {"bad-0": -1}}`, want: batch.ErrBadRequest, msg: "negative"},
		{name: "unknown field", payload: `{"connector": "bad", "until": "now", "untill": "now"}`, want: batch.ErrBadRequest, msg: "untill"},
		{name: "empty connector", payload: `{"connector": "", "until": "now"}`, want: batch.ErrBadRequest, msg: "empty"},
		{name: "unknown connector", payload: `{"connector": "nope", "until": "now"}`, want: batch.ErrUnknownConnector, msg: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handle(t, ctx, e.deps(), tt.payload)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
}
