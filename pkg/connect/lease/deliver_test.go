package lease_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Deliver runs a sink task over records handed in (a Lambda Kafka event):
// per partition up to the first failure not tolerated, with the errors.*
// policy, and no offset commit.
func TestDeliver(t *testing.T) {
	e := errorEnv(t)
	msgs := func() []kafka.Message {
		var ms []kafka.Message
		for p := int32(0); p < 2; p++ {
			for i := int64(10); i < 15; i++ {
				v := fmt.Sprintf(`{"n":%d}`, i)
				if p == 0 && i == 12 {
					v = `{"n":`
				}
				ms = append(ms, kafka.Message{Topic: "ev", Partition: p, Offset: i, Key: []byte("k"), Value: []byte(v)})
			}
		}
		return ms
	}
	l := func(extra map[string]string) lease.Lease {
		l := sinkErrLease("d", 0, extra)
		l.ConnectorConfig["topics"], l.Ranges = "ev", nil
		return l
	}
	ev0 := connect.TopicPartition{Topic: "ev", Partition: 0}

	t.Run("tolerance none stops the partition at the bad record", func(t *testing.T) {
		sinkWritten.Store(0)
		res, failed := e.exec.Deliver(context.Background(), l(nil), msgs())
		if res.Status != lease.Succeeded || len(failed) != 1 || failed[ev0] == nil || failed[ev0].Offset != 12 || failed[ev0].Err == nil {
			t.Fatalf("result %+v failed %v, want ev-0 failed at 12", res, failed)
		}
		if got := sinkWritten.Load(); got != 2+5 {
			t.Fatalf("sink wrote %d records, want 7 (ev-0 10-11 and all of ev-1)", got)
		}
		if got := committed(t, e.client, "connect-snk", "ev"); got != -1 {
			t.Fatalf("Deliver committed offset %d", got)
		}
	})
	t.Run("tolerance all dead-letters it and goes on", func(t *testing.T) {
		sinkWritten.Store(0)
		res, failed := e.exec.Deliver(context.Background(), l(map[string]string{"errors.tolerance": "all",
			"errors.deadletterqueue.topic.name": "ev-dlq", "errors.deadletterqueue.topic.replication.factor": "1"}), msgs())
		if res.Status != lease.Succeeded || len(failed) != 0 || res.DeadLettered != 1 || sinkWritten.Load() != 9 {
			t.Fatalf("result %+v failed %v wrote %d", res, failed, sinkWritten.Load())
		}
		if dlq := readAll(t, e.client, "ev-dlq"); len(dlq) != 1 || string(dlq[0].Value) != `{"n":` {
			t.Fatalf("DLQ = %v", dlq)
		}
	})
	t.Run("a rejected row reported by the task", func(t *testing.T) {
		sinkWritten.Store(0)
		res, failed := e.exec.Deliver(context.Background(), l(map[string]string{"value.converter": "org.apache.kafka.connect.storage.StringConverter",
			"report": `{"n":13}`}), msgs())
		if res.Status != lease.Failed || len(failed) != 0 {
			t.Fatalf("result %+v failed %v: a task error fails the whole delivery", res, failed)
		}
	})
	t.Run("past its deadline nothing runs", func(t *testing.T) {
		ls := l(nil)
		ls.Deadline = time.Now()
		if res, _ := e.exec.Deliver(context.Background(), ls, msgs()); res.Status != lease.Expired {
			t.Fatalf("result %+v", res)
		}
	})
}
