package lease_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// A task that commits records while polling (a message broker's session:
// no source offsets) hears of each record during the lease, in order, once
// Kafka acknowledged it: the source below hands out at most `window`
// records not yet committed, so the lease reads all of them only if the
// commits come while it polls. Each commit names where Kafka wrote the
// record. Without the capability the same task gets its commits after the
// flush, and stops at its window.
func TestStreamingRecordCommits(t *testing.T) {
	tests := []struct {
		name      string
		streaming bool
		want      int
	}{
		{"commits while polling", true, 60},
		{"commits after the flush", false, 5},
	}
	e := newEnv(t, nil)
	reg, err := connect.NewRegistry(append(converter.Plugins(), streamingPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := fmt.Sprintf("stream%d", i)
			l := sourceLease(fmt.Sprintf("l%d", i), int64(i+1), topic, 60, map[string]string{
				"window": "5", "streaming": strconv.FormatBool(tt.streaming)})
			l.ConnectorConfig["connector.class"] = streamingPlugin.Class
			streamed.reset()
			res := exec.Run(context.Background(), l)
			if res.Status != lease.Succeeded || res.Records != int64(tt.want) {
				t.Fatalf("lease: %+v, want %d records", res, tt.want)
			}
			inKafka := readTopic(t, e.client, topic)
			streamed.Lock()
			defer streamed.Unlock()
			if len(streamed.commits) != tt.want || len(inKafka) != tt.want {
				t.Fatalf("%d commits and %d records in Kafka, want %d", len(streamed.commits), len(inKafka), tt.want)
			}
			for j, c := range streamed.commits {
				if c.seq != int64(j) || c.partition != 0 || c.offset != int64(j) || inKafka[c.offset] != fmt.Sprintf("v%03d", c.seq) {
					t.Fatalf("commit %d: %+v, Kafka has %q there", j, c, inKafka[c.offset])
				}
			}
			if tt.streaming && streamed.duringPolling == 0 {
				t.Fatal("no record was committed while the lease polled")
			}
			if !tt.streaming && streamed.duringPolling != 0 {
				t.Fatalf("%d polls after a commit for a task that did not ask for commits while polling", streamed.duringPolling)
			}
		})
	}
}

// streamed is what the streaming sources heard.
var streamed streamedCommits

type streamedCommits struct {
	sync.Mutex
	commits []streamedCommit
	// duringPolling counts the polls after the first commit: none when
	// the commits came after polling ended.
	duringPolling int
}

type streamedCommit struct {
	seq, offset int64
	partition   int32
}

func (s *streamedCommits) reset() {
	s.Lock()
	defer s.Unlock()
	s.commits, s.duringPolling = nil, 0
}

var streamingPlugin = connect.Plugin{
	Class: "test.StreamingSourceConnector", Kind: connect.KindSource,
	NewConnector:  func() connect.Connector { return &testConnector{} },
	NewSourceTask: func() connect.SourceTask { return &streamingSource{} },
}

// streamingSource hands out `count` records without source partitions,
// never more than `window` of them not yet committed, like an MQTT broker
// with its in-flight window.
type streamingSource struct {
	topic                      string
	count, window, next, acked int
	streaming                  bool
	mu                         sync.Mutex
}

var _ connect.StreamingRecordCommitter = (*streamingSource)(nil)

func (s *streamingSource) Start(_ context.Context, _ connect.SourceTaskContext, props map[string]string) error {
	s.topic = props["topic"]
	s.count, _ = strconv.Atoi(props["count"])
	s.window, _ = strconv.Atoi(props["window"])
	s.streaming = props["streaming"] == "true"
	return nil
}

func (s *streamingSource) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	s.mu.Lock()
	if s.acked > 0 {
		streamed.Lock()
		streamed.duringPolling++
		streamed.Unlock()
	}
	n := min(s.count-s.next, s.window-(s.next-s.acked))
	var recs []connect.SourceRecord
	for range max(n, 0) {
		recs = append(recs, connect.SourceRecord{
			Record: connect.Record{Topic: s.topic,
				ValueSchema: data.StringSchema, Value: fmt.Sprintf("v%03d", s.next)},
			SourceOffset: map[string]any{"seq": int64(s.next)},
		})
		s.next++
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	return recs, nil
}

func (s *streamingSource) CommitRecord(_ context.Context, r *connect.SourceRecord, tp connect.TopicPartition, off int64) error {
	s.mu.Lock()
	s.acked++
	s.mu.Unlock()
	streamed.Lock()
	defer streamed.Unlock()
	streamed.commits = append(streamed.commits, streamedCommit{seq: r.SourceOffset["seq"].(int64), partition: tp.Partition, offset: off})
	return nil
}

func (s *streamingSource) CommitsRecordsWhilePolling() bool { return s.streaming }

func (s *streamingSource) Stop() error { return nil }
