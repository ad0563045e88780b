package lease_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// eosLease is sourceLease with exactly-once support: transactional id
// connect-cluster-src-0, offsets in connect-offsets (the executor's store).
func eosLease(id string, epoch int64, topic string, count int, boundary string, extra map[string]string) lease.Lease {
	l := sourceLease(id, epoch, topic, count, extra)
	l.ExactlyOnce = &lease.ExactlyOnce{
		TransactionalID: lease.TransactionalID("connect-cluster", "src", 0),
		OffsetsTopic:    "connect-offsets",
		Boundary:        boundary,
		Interval:        lease.Duration(50 * time.Millisecond),
	}
	return l
}

// readCommitted returns every value in partition 0 of topic that a
// read_committed consumer sees once the transactions are decided: Kafka
// writes the commit markers after EndTxn returns, so it waits (bounded)
// until the last stable offset reaches the high watermark. A test that
// expects a transaction to stay open reads with readCommittedNow.
func readCommitted(t *testing.T, c *kafka.Client, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	for {
		st, err := c.StableWatermarks(ctx, []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		hw, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		if st[tp].High >= hw[tp].High {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: a transaction stays open (last stable offset %d, high watermark %d)", topic, st[tp].High, hw[tp].High)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return readCommittedNow(t, c, topic)
}

// readCommittedNow returns what a read_committed consumer sees now, up to
// the last stable offset.
func readCommittedNow(t *testing.T, c *kafka.Client, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := c.StableWatermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = c.ReadCommittedRange(ctx, tp, wm[tp].Low, wm[tp].High, 1<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			out = append(out, string(m.Value))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exactlyOnce fails unless got holds each of r000..r<n-1> exactly once,
// naming the first duplicates, missing and unexpected records.
func exactlyOnce(t *testing.T, got []string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, v := range got {
		seen[v]++
	}
	var dup, missing []string
	for _, w := range want(n) {
		switch c := seen[w]; {
		case c == 0:
			missing = append(missing, w)
		case c > 1:
			dup = append(dup, fmt.Sprintf("%s×%d", w, c))
		}
		delete(seen, w)
	}
	if len(dup)+len(missing)+len(seen) > 0 {
		t.Fatalf("read_committed saw %d records, want r000..r%03d exactly once: duplicated %v, missing %v, unexpected %v",
			len(got), n-1, first10(dup), first10(missing), len(seen))
	}
}

func first10(s []string) []string { return s[:min(len(s), 10)] }

func storedOffset(t *testing.T, s offsets.Store) any {
	t.Helper()
	return storedOffsetWithin(t, s, 20*time.Second)
}

// storedOffsetWithin is storedOffset waiting up to d: a transaction a
// killed worker left open on the offsets topic holds reads back until the
// broker aborts it at its timeout.
func storedOffsetWithin(t *testing.T, s offsets.Store, d time.Duration) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	stored, err := s.Load(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	return stored[offsets.PartitionID(map[string]any{"p": int64(0)})].Offset["i"]
}

func TestExactlyOnceSourceRecordsAndOffsetsInOneTransaction(t *testing.T) {
	tests := []struct {
		name     string
		boundary string
	}{
		{name: "poll", boundary: lease.BoundaryPoll},
		{name: "interval", boundary: lease.BoundaryInterval},
		{name: "default boundary", boundary: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			res := e.exec.Run(ctx, eosLease("l1", 1, "out", 35, tc.boundary, map[string]string{"poll.delay": "10ms"}))
			if res.Status != lease.Succeeded || res.Records != 35 {
				t.Fatalf("first lease: %+v", res)
			}
			exactlyOnce(t, readCommitted(t, e.client, "out"), 35)
			if got := storedOffset(t, e.store); got != int64(35) {
				t.Fatalf("stored offset = %v, want 35", got)
			}
			res = e.exec.Run(ctx, eosLease("l2", 2, "out", 50, tc.boundary, nil))
			if res.Status != lease.Succeeded || res.Records != 15 {
				t.Fatalf("second lease: %+v", res)
			}
			exactlyOnce(t, readCommitted(t, e.client, "out"), 50)
		})
	}
}

// A zombie: lease 1 of the task sends 10 records in a transaction (the
// interval boundary keeps it open) and is then held while lease 2 runs to
// the end; lease 2's producer fences lease 1's and aborts its transaction,
// so none of lease 1's records ever become visible, and its later sends
// and commit fail.
func TestExactlyOnceZombieLeaseRecordsInvisible(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	gate := newTestGate(t.Name())
	zombie := make(chan lease.Result, 1)
	go func() {
		l := eosLease("l1", 1, "out", 30, lease.BoundaryInterval, map[string]string{"gate": t.Name(), "gate.after": "10"})
		l.ExactlyOnce.Interval = lease.Duration(time.Hour)
		zombie <- e.exec.Run(ctx, l)
	}()
	awaitHighWatermark(t, e.client, "out", 10, nil)

	res := e.exec.Run(ctx, eosLease("l2", 2, "out", 30, lease.BoundaryPoll, nil))
	if res.Status != lease.Succeeded || res.Records != 30 {
		t.Fatalf("lease 2: %+v", res)
	}
	close(gate.open)
	var zr lease.Result
	select {
	case zr = <-zombie:
	case <-time.After(60 * time.Second):
		t.Fatal("lease 1 did not end")
	}
	if zr.Status != lease.Failed || !zr.Retriable || !strings.Contains(zr.Error, lease.ErrFenced.Error()) || len(zr.SourceOffsets) != 0 {
		t.Fatalf("zombie lease: %+v", zr)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 30)
	if got := storedOffset(t, e.store); got != int64(30) {
		t.Fatalf("stored offset = %v, want lease 2's 30", got)
	}
	// The zombie's 10 records are in the log, aborted.
	if all := readTopic(t, e.client, "out"); len(all) != 40 {
		t.Fatalf("read_uncommitted saw %d records, want the zombie's 10 and lease 2's 30", len(all))
	}
}

// awaitHighWatermark waits until partition 0 of topic holds n records
// (committed or not); out is a helper process's output, for the failure.
func awaitHighWatermark(t *testing.T, c *kafka.Client, topic string, n int64, out fmt.Stringer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	for {
		wm, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
		if err == nil && wm[tp].High >= n {
			return
		}
		if ctx.Err() != nil {
			msg := fmt.Sprintf("%s never held %d records (last error %v)", topic, n, err)
			if out != nil {
				msg += "; helper output:\n" + out.String()
			}
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Under transaction.boundary=connector the task decides: a commit request
// commits what was sent since the last boundary, an abort drops it (and
// its offsets), and what follows the last request is aborted at the end.
func TestExactlyOnceConnectorBoundary(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	// Polls of 10: poll 2 asks for a commit (r000-r019), poll 3 for an
	// abort (r020-r024).
	res := e.exec.Run(ctx, eosLease("l1", 1, "out", 25, lease.BoundaryConnector, map[string]string{"commit.every": "2", "abort.poll": "3"}))
	if res.Status != lease.Succeeded || res.Records != 20 {
		t.Fatalf("first lease: %+v", res)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 20)
	if got := storedOffset(t, e.store); got != int64(20) {
		t.Fatalf("stored offset = %v, want 20", got)
	}
	res = e.exec.Run(ctx, eosLease("l2", 2, "out", 35, lease.BoundaryConnector, map[string]string{"commit.every": "1"}))
	if res.Status != lease.Succeeded || res.Records != 15 {
		t.Fatalf("second lease: %+v", res)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 35)
	// A task that asks for nothing: what it sent is aborted when the lease ends.
	res = e.exec.Run(ctx, eosLease("l3", 3, "out", 45, lease.BoundaryConnector, nil))
	if res.Status != lease.Succeeded || res.Records != 0 {
		t.Fatalf("third lease: %+v", res)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 35)
	if got := storedOffset(t, e.store); got != int64(35) {
		t.Fatalf("stored offset = %v, want 35", got)
	}
}

// Without OpenOffsets, a lease naming another offsets topic than the
// executor's fails before anything is produced.
func TestExactlyOnceOtherOffsetsTopicNeedsOpenOffsets(t *testing.T) {
	e := newEnv(t, nil)
	l := eosLease("l1", 1, "out", 5, lease.BoundaryPoll, nil)
	l.ExactlyOnce.OffsetsTopic = "src-offsets"
	res := e.exec.Run(context.Background(), l)
	if res.Status != lease.Failed || !strings.Contains(res.Error, "src-offsets") {
		t.Fatalf("result: %+v", res)
	}
}

// The helper process of TestExactlyOnceKilledMidTransaction: it runs an
// exactly-once lease that sends 30 records in a transaction and then polls
// nothing, never reaching its interval boundary, until it is killed.
func TestExactlyOnceHelperProcess(t *testing.T) {
	brokers := os.Getenv("SLUICE_EOS_HELPER_BROKERS")
	if brokers == "" {
		t.Skip("helper process of TestExactlyOnceKilledMidTransaction, run by it")
	}
	k := kafkatest.Connect(t, strings.Split(brokers, ","))
	reg := newEnvRegistry(t)
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{})
	l := eosLease("l1", 1, "out", 100, lease.BoundaryInterval, map[string]string{"block.after": "25"})
	l.ExactlyOnce.Interval = lease.Duration(time.Hour)
	l.Budget.MaxIdle = lease.Duration(time.Hour)
	l.Deadline = time.Now().Add(time.Minute)
	res := exec.Run(context.Background(), l)
	t.Fatalf("the helper lease ended instead of being killed: %+v", res)
}

// A worker SIGKILLed in the middle of a transaction: its records reached
// the broker but stay invisible, no offset is written, and the task's next
// lease (which aborts the dead transaction by initialising its producer)
// makes each record visible exactly once.
func TestExactlyOnceKilledMidTransaction(t *testing.T) {
	e := newEnv(t, nil)
	k := e.brokers
	cmd := exec.Command(os.Args[0], "-test.run=^TestExactlyOnceHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "SLUICE_EOS_HELPER_BROKERS="+strings.Join(k, ","), "SLUICE_TEST_KAFKA=")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// Wait until the helper's 30 records (3 polls of 10) are on the broker.
	awaitHighWatermark(t, e.client, "out", 30, &out)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if got := readCommittedNow(t, e.client, "out"); len(got) != 0 {
		t.Fatalf("records of the killed transaction are visible: %v", got)
	}
	if n := len(readTopic(t, e.client, "out")); n != 30 {
		t.Fatalf("read_uncommitted saw %d records, want the killed lease's 30", n)
	}
	if got := storedOffset(t, e.store); got != nil {
		t.Fatalf("the killed lease advanced the offsets to %v", got)
	}

	res := e.exec.Run(context.Background(), eosLease("l2", 2, "out", 40, lease.BoundaryPoll, nil))
	if res.Status != lease.Succeeded || res.Records != 40 {
		t.Fatalf("successor lease: %+v", res)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 40)
	if got := storedOffset(t, e.store); got != int64(40) {
		t.Fatalf("stored offset = %v, want 40", got)
	}
}

// Under transaction.boundary=poll each transaction holds exactly one
// poll's records, although the lease prepares the next poll's records
// while a transaction commits: the broker sees every record of poll k
// after the EndTxn of poll k-1 and before that of poll k. EndTxn is slowed
// down so that the next polls are always ready while it runs.
func TestExactlyOncePollTransactionHoldsItsPollOnly(t *testing.T) {
	k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1})
	e := envOn(t, k, nil)
	var mu sync.Mutex
	var seen []string // the values produced to out, and "END" at each EndTxn
	c := k.Broker.Cluster()
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.ProduceRequest)
		mu.Lock()
		defer mu.Unlock()
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == "out" {
					seen = append(seen, batchValues(t, rp.Records)...)
				}
			}
		}
		return nil, nil, false
	})
	c.ControlKey(int16(kmsg.EndTxn), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !kr.(*kmsg.EndTxnRequest).Commit {
			t.Errorf("a transaction was aborted")
		}
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		seen = append(seen, "END")
		mu.Unlock()
		return nil, nil, false
	})
	res := e.exec.Run(context.Background(), eosLease("l1", 1, "out", 35, lease.BoundaryPoll, nil))
	if res.Status != lease.Succeeded || res.Records != 35 {
		t.Fatalf("lease: %+v", res)
	}
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	var txns []string
	for i := 0; i < 35; i += 10 { // the test source polls 10 records at a time
		txns = append(txns, strings.Join(want(min(i+10, 35))[i:], " ")+" END")
	}
	if w := strings.Join(txns, " "); got != w {
		t.Fatalf("the broker saw\n%s\nwant one transaction per poll:\n%s", got, w)
	}
	exactlyOnce(t, readCommitted(t, e.client, "out"), 35)
	if got := storedOffset(t, e.store); got != int64(35) {
		t.Fatalf("stored offset = %v, want 35", got)
	}
}

// batchValues returns the values of the records in b, uncompressed record
// batches as a producer sends them.
func batchValues(t *testing.T, b []byte) []string {
	var out []string
	for len(b) > 0 {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Errorf("record batch: %v", err)
			return out
		}
		b = b[12+int(rb.Length):] // the offset and length fields, then Length bytes
		if rb.Attributes&0x0007 != 0 {
			t.Errorf("compressed record batch")
			return out
		}
		rs := rb.Records
		for range rb.NumRecords {
			n, w := binary.Varint(rs)
			var r kmsg.Record
			if w <= 0 || r.ReadFrom(rs[:w+int(n)]) != nil {
				t.Errorf("record in a batch of %d", rb.NumRecords)
				return out
			}
			out = append(out, string(r.Value))
			rs = rs[w+int(n):]
		}
	}
	return out
}
