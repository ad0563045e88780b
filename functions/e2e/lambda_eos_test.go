package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Exactly-once source through the Lambda emulation: the built source-poll
// binary runs exactly-once datagen leases (one transaction per lease,
// transaction.boundary=interval longer than the lease), and three times
// its process is SIGKILLed mid-invocation once the lease's open
// transaction holds records; Lambda reports Runtime.ExitError, a new
// execution environment takes the next lease (the next epoch, as the
// coordinator would issue once the deadline passed). In the end a
// read_committed consumer sees every order id exactly once, and
// read_uncommitted sees the killed transactions' records besides.
func TestLambdaExactlyOnceSourceKilledMidTransaction(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 2)
	warmTransactionCoordinator(t, k.Client)
	const (
		topic, name = "eos-orders", "eos"
		n           = 1500
		kills       = 3
		fnTimeout   = 30 * time.Second
	)
	rt := lambdatest.NewRuntime(t, "source-poll")
	var env *lambdatest.Runtime
	var proc *process
	newEnvironment := func() {
		env = rt.NewEnvironment(t)
		proc = startFunction(t, env, b.sourcePoll, functionEnv(k.Brokers)...)
		env.WaitIdle(t, 1, 20*time.Second)
	}
	began := time.Now()
	newEnvironment()
	records := func() int64 { // records in the topic, committed or not
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tps := []kafka.TopicPartition{{Topic: topic, Partition: 0}, {Topic: topic, Partition: 1}}
		wms, err := k.Client.Watermarks(ctx, tps)
		if err != nil {
			return 0 // not created yet
		}
		var sum int64
		for _, wm := range wms {
			sum += wm.High - wm.Low
		}
		return sum
	}
	eosLease := func(epoch int64) lease.Lease {
		l := datagenLease(fmt.Sprint(name, "-", epoch), name, topic, epoch, n, 500,
			lease.Budget{MaxTime: lease.Duration(3 * time.Second), MaxIdle: lease.Duration(time.Second)}, time.Now().Add(20*time.Second))
		l.ConnectorConfig["shape"], l.TaskConfig["shape"] = "orders", "orders"
		l.ExactlyOnce = &lease.ExactlyOnce{TransactionalID: lease.TransactionalID("sluice-e2e", name, 0), OffsetsTopic: "connect-offsets",
			Boundary: lease.BoundaryInterval, Interval: lease.Duration(time.Minute)}
		return l
	}

	var epoch int64
	for range kills {
		epoch++
		before := records()
		outcome := make(chan lambdatest.Outcome, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), fnTimeout+10*time.Second)
			defer cancel()
			o, err := rt.Invoke(ctx, mustJSON(t, eosLease(epoch)), fnTimeout)
			if err != nil {
				t.Error(err)
			}
			outcome <- o
		}()
		// Mid-transaction: the lease's records are in the topic,
		// uncommitted.
		for deadline := time.Now().Add(20 * time.Second); records() < before+200; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("lease %d: %d records written in 20 s, want 200", epoch, records()-before)
			}
		}
		if env.Inflight() != 1 {
			t.Fatalf("lease %d: the environment holds %d invocations, want 1", epoch, env.Inflight())
		}
		proc.Kill()
		if ids := env.Exit("signal: killed"); len(ids) != 1 {
			t.Fatalf("lease %d: Exit failed %v, want its invocation", epoch, ids)
		}
		o := <-outcome
		var e lambdatest.Error
		if !o.Failed || json.Unmarshal(o.Body, &e) != nil || e.ErrorType != "Runtime.ExitError" {
			t.Fatalf("lease %d: outcome of the killed invocation %s", epoch, o.Body)
		}
		t.Logf("lease %d: killed %s in, with %d records in its open transaction", epoch, time.Since(began).Round(time.Millisecond), records()-before)
		newEnvironment()
	}
	if s := kafkaState(t, k, topic, name); s.seq != 0 {
		t.Fatalf("after %d leases killed mid-transaction the committed seq is %d, want 0", kills, s.seq)
	}
	// Leases that are not killed finish the count.
	for s := kafkaState(t, k, topic, name); s.seq < n; s = kafkaState(t, k, topic, name) {
		epoch++
		if epoch > kills+20 {
			t.Fatalf("the committed seq is %d of %d after %d leases", s.seq, n, epoch)
		}
		res, _ := invokeLease(t, rt, eosLease(epoch), fnTimeout)
		if res.Status != lease.Succeeded {
			t.Fatalf("lease %d: %+v", epoch, res)
		}
		t.Logf("lease %d: %d records, ended %s in", epoch, res.Records, time.Since(began).Round(time.Millisecond))
	}

	read := func(isolation kgo.IsolationLevel, want int) map[int64]int {
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ids, total := map[int64]int{}, 0
		poll := func(ctx context.Context) {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				id, err := orderID(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				ids[id]++
				total++
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for total < want && ctx.Err() == nil {
			poll(ctx)
		}
		more, cancelMore := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancelMore()
		for more.Err() == nil {
			poll(more)
		}
		return ids
	}
	committed := read(kgo.ReadCommitted(), n)
	bad := 0
	for id := range int64(n) {
		if committed[id] != 1 {
			bad++
		}
	}
	if bad > 0 || len(committed) != n {
		t.Fatalf("read_committed: %d distinct ids, %d of 0..%d not seen exactly once", len(committed), bad, n-1)
	}
	all := read(kgo.ReadUncommitted(), n+kills*200)
	sum := 0
	for _, c := range all {
		sum += c
	}
	if sum < n+kills*200 {
		t.Fatalf("read_uncommitted sees %d records, want the %d committed and the killed transactions' %d at least", sum, n, kills*200)
	}
	t.Logf("%d leases, %d killed mid-transaction: read_committed sees ids 0..%d once each; read_uncommitted %d records (%d aborted)",
		epoch, kills, n-1, sum, sum-n)
}

// warmTransactionCoordinator starts and closes a transactional producer,
// so that the cluster's transaction state topic exists and its coordinator
// has loaded before the first lease. On a new cluster the first
// InitProducerID otherwise waits for them (sarama's FindCoordinator sleeps
// 2 s at a time until they are ready), which can take most of a killed
// lease's 3 s budget, and the lease then ends before its open transaction
// holds the records the test kills it after.
func warmTransactionCoordinator(t *testing.T, cl *kafka.Client) {
	t.Helper()
	p, err := cl.NewProducer(kafka.ProducerOptions{TransactionalID: "sluice-e2e-warm-up"})
	if err != nil {
		t.Fatalf("transactional producer (to start the transaction coordinator): %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
