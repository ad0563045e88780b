package lease_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// orderSink notes the partition and offset of every record put, in order.
type orderSink struct{}

var (
	orderMu  sync.Mutex
	orderPut []connect.SinkRecord
)

var orderSinkPlugin = connect.Plugin{
	Class: "test.OrderSinkConnector", Kind: connect.KindSink,
	NewConnector: func() connect.Connector { return &testConnector{} },
	NewSinkTask:  func() connect.SinkTask { return orderSink{} },
}

func (orderSink) Start(context.Context, connect.SinkTaskContext, map[string]string) error { return nil }
func (orderSink) Stop() error                                                             { return nil }
func (orderSink) Put(_ context.Context, recs []connect.SinkRecord) error {
	orderMu.Lock()
	defer orderMu.Unlock()
	for _, r := range recs {
		orderPut = append(orderPut, connect.SinkRecord{OriginalPartition: r.OriginalPartition, OriginalOffset: r.OriginalOffset})
	}
	return nil
}

// A sink lease reads its ranges in turn, a fetch of each, as a consumer's
// polls interleave partitions: the task gets every partition's records
// from the start, each partition's in offset order and exactly once, and
// never more than a fetch of one partition while others have records
// left.
func TestSinkLeaseInterleavesRanges(t *testing.T) {
	e := newEnv(t, nil)
	reg, err := connect.NewRegistry(append(converter.Plugins(), orderSinkPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	// Fetches of 4 KiB return one record batch each (a fetch returns at
	// least one whole batch): ten batches of 20 records of 1 KiB a
	// partition, each flushed on its own.
	exec := lease.NewExecutor(reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond, FetchMaxBytes: 8 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const parts, rounds, perBatch = 3, 10, 20
	if err := e.client.EnsureTopic(ctx, kafka.TopicSpec{Name: "il", Partitions: parts}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	value := []byte(strings.Repeat("x", 1024))
	for range rounds {
		for part := range int32(parts) {
			for range perBatch {
				p.Send(ctx, kafka.Message{Topic: "il", Partition: part, Value: value})
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Partition 2's range starts inside its log, partition 1's ends
	// before its end.
	ranges := []lease.Range{
		{Topic: "il", Partition: 0, Start: 0, End: rounds * perBatch},
		{Topic: "il", Partition: 1, Start: 0, End: rounds*perBatch - 30},
		{Topic: "il", Partition: 2, Start: 25, End: rounds * perBatch},
	}
	cfg := map[string]string{"name": "order", "connector.class": orderSinkPlugin.Class, "topics": "il",
		"key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter", "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"}
	orderMu.Lock()
	orderPut = nil
	orderMu.Unlock()
	res := exec.Run(ctx, lease.Lease{ID: "il", Kind: lease.KindSink, Connector: "order", Epoch: 1,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges})
	if res.Status != lease.Succeeded {
		t.Fatalf("lease: %s: %s", res.Status, res.Error)
	}
	orderMu.Lock()
	got := orderPut
	orderMu.Unlock()

	next := map[int32]int64{}
	for _, rg := range ranges {
		next[rg.Partition] = rg.Start
	}
	last := map[int32]int{} // index of each partition's last record
	run, longest := 0, 0    // records of one partition in a row, while all have some left
	for i, r := range got {
		if r.OriginalOffset != next[r.OriginalPartition] {
			t.Fatalf("record %d: partition %d offset %d, want %d", i, r.OriginalPartition, r.OriginalOffset, next[r.OriginalPartition])
		}
		next[r.OriginalPartition]++
		last[r.OriginalPartition] = i
		if i > 0 && got[i-1].OriginalPartition == r.OriginalPartition {
			run++
		} else {
			run = 1
		}
		if len(last) < parts || !anyDone(next, ranges) {
			longest = max(longest, run)
		}
	}
	for _, rg := range ranges {
		if next[rg.Partition] != rg.End {
			t.Fatalf("partition %d: put up to %d, want %d", rg.Partition, next[rg.Partition], rg.End)
		}
	}
	if longest > perBatch {
		t.Fatalf("%d records of one partition in a row while the others had records left, want at most a fetch (%d): %s", longest, perBatch, partitionsOf(got))
	}
}

// anyDone reports whether a range was put whole.
func anyDone(next map[int32]int64, ranges []lease.Range) bool {
	for _, rg := range ranges {
		if next[rg.Partition] == rg.End {
			return true
		}
	}
	return false
}

// partitionsOf is the sequence of partitions of recs, a run a number.
func partitionsOf(recs []connect.SinkRecord) string {
	var b strings.Builder
	for i, r := range recs {
		if i == 0 || recs[i-1].OriginalPartition != r.OriginalPartition {
			fmt.Fprintf(&b, " p%d", r.OriginalPartition)
		}
	}
	return b.String()
}
