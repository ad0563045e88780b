package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// readCommitted returns the values of partition 0 of topic a read_committed
// reader sees, up to the last stable offset.
func readCommitted(t *testing.T, cl *Client, topic string) []string {
	t.Helper()
	ctx := testCtx(t)
	tp := TopicPartition{Topic: topic, Partition: 0}
	wm, err := cl.StableWatermarks(ctx, []TopicPartition{tp})
	if err != nil {
		t.Fatalf("StableWatermarks: %v", err)
	}
	var out []string
	err = cl.ReadCommittedRange(ctx, tp, wm[tp].Low, wm[tp].High, 0, func(ms []Message) error {
		for _, m := range ms {
			out = append(out, string(m.Value))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadCommittedRange: %v", err)
	}
	return out
}

func sendTxn(t *testing.T, p *Producer, topic, prefix string, n int) {
	t.Helper()
	for i := range n {
		if err := p.Send(context.Background(), Message{Topic: topic, Partition: 0, Value: []byte(fmt.Sprintf("%s%d", prefix, i))}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
}

func TestTransactionCommitVisibleAbortInvisible(t *testing.T) {
	cl := dial(t, newCluster(t))
	ctx := testCtx(t)
	if err := cl.EnsureTopic(ctx, TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, cl, ProducerOptions{TransactionalID: "tx-1"})

	tests := []struct {
		name   string
		prefix string
		commit bool
	}{
		{name: "committed", prefix: "a", commit: true},
		{name: "aborted", prefix: "b", commit: false},
		{name: "committed after an abort", prefix: "c", commit: true},
	}
	for _, tc := range tests {
		if err := p.BeginTxn(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sendTxn(t, p, "t", tc.prefix, 3)
		var err error
		if tc.commit {
			err = p.CommitTxn(ctx)
		} else {
			err = p.AbortTxn(ctx)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if got, want := readCommitted(t, cl, "t"), []string{"a0", "a1", "a2", "c0", "c1", "c2"}; !slices.Equal(got, want) {
		t.Fatalf("read_committed = %v, want %v", got, want)
	}
	// read_uncommitted sees the aborted records too.
	tp := TopicPartition{Topic: "t", Partition: 0}
	wm, err := cl.Watermarks(ctx, []TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := cl.ReadRange(ctx, tp, 0, wm[tp].High, 0, func(ms []Message) error { n += len(ms); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Fatalf("read_uncommitted saw %d records, want 9", n)
	}
}

// A second producer with the same transactional id fences the first: the
// first's open transaction is aborted, its commit fails with IsFenced, and
// an open transaction holds the last stable offset back until then.
func TestTransactionNewerProducerFencesOlder(t *testing.T) {
	cl := dial(t, newCluster(t))
	ctx := testCtx(t)
	if err := cl.EnsureTopic(ctx, TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	zombie := newProducer(t, cl, ProducerOptions{TransactionalID: "group-conn-0"})
	if err := zombie.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	sendTxn(t, zombie, "t", "zombie", 5)
	if err := zombie.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tp := TopicPartition{Topic: "t", Partition: 0}
	stable, err := cl.StableWatermarks(ctx, []TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	hw, err := cl.Watermarks(ctx, []TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	if stable[tp].High != 0 || hw[tp].High != 5 {
		t.Fatalf("with a transaction open: last stable offset %d (want 0), high watermark %d (want 5)", stable[tp].High, hw[tp].High)
	}

	successor := newProducer(t, cl, ProducerOptions{TransactionalID: "group-conn-0"})
	if err := successor.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	sendTxn(t, successor, "t", "new", 2)
	if err := successor.CommitTxn(ctx); err != nil {
		t.Fatalf("successor commit: %v", err)
	}

	sendTxn(t, zombie, "t", "late", 1)
	err = zombie.CommitTxn(ctx)
	if err == nil || !IsFenced(err) {
		t.Fatalf("zombie commit = %v, want a fenced error", err)
	}
	if got, want := readCommitted(t, cl, "t"), []string{"new0", "new1"}; !slices.Equal(got, want) {
		t.Fatalf("read_committed = %v, want %v", got, want)
	}
}

func TestTransactionMethodsNeedTransactionalID(t *testing.T) {
	cl := dial(t, newCluster(t))
	p := newProducer(t, cl, ProducerOptions{})
	if err := p.BeginTxn(); err == nil {
		t.Fatal("BeginTxn on an idempotent producer succeeded")
	}
	if err := p.CommitTxn(testCtx(t)); err == nil {
		t.Fatal("CommitTxn on an idempotent producer succeeded")
	}
	if IsFenced(errors.New("x")) {
		t.Fatal("IsFenced of an unrelated error")
	}
}

// A read_committed fetch whose response is full (the records after an
// aborted transaction exceed the fetch size) still leaves the aborted
// records out. The embedded broker leaves a response's list of aborted
// transactions empty when the request-wide byte limit ends it, so the
// request-wide limit must stay above the partition's, as Java's consumer
// sends it (fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB).
func TestReadCommittedFullFetchLeavesAbortedOut(t *testing.T) {
	cl := dial(t, newCluster(t))
	ctx := testCtx(t)
	if err := cl.EnsureTopic(ctx, TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, cl, ProducerOptions{TransactionalID: "tx-full"})
	var want []string
	for round, commit := range []bool{true, false, true, false, true} {
		if err := p.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		prefix := fmt.Sprintf("r%d-", round)
		sendTxn(t, p, "t", prefix, 200)
		var err error
		if commit {
			err = p.CommitTxn(ctx)
			for i := range 200 {
				want = append(want, fmt.Sprintf("%s%d", prefix, i))
			}
		} else {
			err = p.AbortTxn(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tp := TopicPartition{Topic: "t", Partition: 0}
	wm, err := cl.StableWatermarks(ctx, []TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	for _, maxBytes := range []int32{512, 4096, 1 << 20} {
		var got []string
		err := cl.ReadCommittedRange(ctx, tp, wm[tp].Low, wm[tp].High, maxBytes, func(ms []Message) error {
			for _, m := range ms {
				got = append(got, string(m.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("maxBytes %d: %v", maxBytes, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("maxBytes %d: read_committed saw %d records (want %d); first: %v", maxBytes, len(got), len(want), got[:min(5, len(got))])
		}
	}
}

// CommitTxn and AbortTxn send the transaction's last records at once
// rather than after the linger (sarama's FlushBuffered, see
// third_party/sarama): with a linger of 20 s, each ends within 10 s.
// (Without FlushBuffered, the first CommitTxn fails with the deadline.)
func TestTransactionEndDoesNotWaitForLinger(t *testing.T) {
	cl := dial(t, newCluster(t))
	if err := cl.EnsureTopic(testCtx(t), TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, cl, ProducerOptions{TransactionalID: "tx-linger", Linger: 20 * time.Second})
	for _, commit := range []bool{true, false, true} {
		if err := p.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		sendTxn(t, p, "t", fmt.Sprint(commit), 3)
		end, name := p.AbortTxn, "AbortTxn"
		if commit {
			end, name = p.CommitTxn, "CommitTxn"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := end(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s with a linger of 20 s: %v", name, err)
		}
	}
	if got, want := readCommitted(t, cl, "t"), []string{"true0", "true1", "true2", "true0", "true1", "true2"}; !slices.Equal(got, want) {
		t.Fatalf("read_committed = %v, want %v", got, want)
	}
}
