package lease_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// Rule 1 with a producer that fails in the middle of a lease: the broker
// refuses the records of topic out after its first produce request, or a
// record is larger than a produce request may be. The lease fails, and no
// source offset is written, with or without exactly-once support; under
// exactly-once nothing of the lease is visible to a read_committed
// consumer either. The next lease then writes every record.
func TestSourceProducerFailingMidLeaseWritesNoOffset(t *testing.T) {
	tests := []struct {
		name   string
		eos    bool
		refuse bool              // the broker refuses produce requests to out after the first
		extra  map[string]string // the source's settings
	}{
		{name: "broker refuses", refuse: true, extra: map[string]string{"poll.delay": "20ms"}},
		{name: "oversized record", extra: map[string]string{"big.at": "25"}},
		{name: "exactly-once, broker refuses", eos: true, refuse: true, extra: map[string]string{"poll.delay": "20ms"}},
		{name: "exactly-once, oversized record", eos: true, extra: map[string]string{"big.at": "25"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1})
			e := envOn(t, k, nil)
			var refusing atomic.Bool
			var requests, refused atomic.Int64
			c := k.Broker.Cluster()
			c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				req := kr.(*kmsg.ProduceRequest)
				if len(req.Topics) == 0 || req.Topics[0].Topic != "out" || !refusing.Load() {
					return nil, nil, false
				}
				if requests.Add(1) == 1 {
					return nil, nil, false // the first request of the lease goes through
				}
				refused.Add(1)
				resp := req.ResponseKind().(*kmsg.ProduceResponse)
				resp.Version = req.Version
				for _, rt := range req.Topics {
					t := kmsg.NewProduceResponseTopic()
					t.Topic = rt.Topic
					for _, rp := range rt.Partitions {
						p := kmsg.NewProduceResponseTopicPartition()
						p.Partition, p.ErrorCode = rp.Partition, kerr.InvalidRecord.Code
						t.Partitions = append(t.Partitions, p)
					}
					resp.Topics = append(resp.Topics, t)
				}
				return resp, nil, true
			})
			l := sourceLease("l1", 1, "out", 60, tc.extra)
			if tc.eos {
				l = eosLease("l1", 1, "out", 60, lease.BoundaryInterval, tc.extra)
				l.ExactlyOnce.Interval = lease.Duration(60_000_000_000)
			}
			refusing.Store(tc.refuse)
			res := e.exec.Run(context.Background(), l)
			if res.Status != lease.Failed || len(res.SourceOffsets) != 0 || !strings.Contains(res.Error, "KAFKA_PRODUCE") {
				t.Fatalf("lease with a failing producer: %+v", res)
			}
			if tc.refuse && refused.Load() == 0 {
				t.Fatal("the broker refused nothing: the test proves nothing")
			}
			if got := storedOffset(t, e.store); got != nil {
				t.Fatalf("an offset was written: %v", got)
			}
			if tc.eos {
				if got := readCommitted(t, e.client, "out"); len(got) != 0 {
					t.Fatalf("records of the failed lease are visible: %v", got)
				}
			}

			refusing.Store(false)
			next := sourceLease("l2", 2, "out", 60, nil)
			if tc.eos {
				next = eosLease("l2", 2, "out", 60, lease.BoundaryPoll, nil)
			}
			if res := e.exec.Run(context.Background(), next); res.Status != lease.Succeeded || res.Records != 60 {
				t.Fatalf("next lease: %+v", res)
			}
			if tc.eos {
				exactlyOnce(t, readCommitted(t, e.client, "out"), 60)
			}
			if got := storedOffset(t, e.store); got != int64(60) {
				t.Fatalf("stored offset %v, want 60", got)
			}
		})
	}
}
