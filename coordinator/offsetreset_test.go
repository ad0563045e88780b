package coordinator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/devkafka"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// produceValues writes <prefix><i> for i in [0, n) to partition 0 of topic.
func produceValues(t *testing.T, c *kafka.Client, topic, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range n {
		p.Send(ctx, kafka.Message{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "%s%d", prefix, i)})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// A sink's topic deleted and re-created while the connector runs: the sink
// goes on with the new topic's records. When its committed offset lies
// beyond the new log end (a commit that landed after the re-creation, or a
// truncated log), the sink does what Connect's consumer does with
// auto.offset.reset (earliest by default, consumer.override.auto.offset.reset
// otherwise): it resets, says so in the log and the task's status, and
// never waits for offsets that will not come; with none the task fails.
func TestSinkTopicRecreated(t *testing.T) {
	tests := []struct {
		name   string
		policy string // consumer.override.auto.offset.reset; "" for the default
		// staleCommit commits offset 20 of the re-created topic, beyond its end.
		staleCommit bool
		// want are the file's lines after the re-creation: "n" new records
		// written after it, then "m" more.
		want       []string
		wantTrace  string
		wantFailed bool
	}{
		{name: "offsets dropped with the topic", want: []string{"n0", "n1", "n2", "n3", "n4", "m0", "m1", "m2"}},
		{name: "beyond the log end, earliest", staleCommit: true,
			want: []string{"n0", "n1", "n2", "n3", "n4", "m0", "m1", "m2"}, wantTrace: "resetting offset to 0 (auto.offset.reset=earliest)"},
		{name: "beyond the log end, latest", policy: "latest", staleCommit: true,
			want: []string{"m0", "m1", "m2"}, wantTrace: "resetting offset to 5 (auto.offset.reset=latest)"},
		{name: "beyond the log end, none", policy: "none", staleCommit: true, wantFailed: true,
			wantTrace: "Fetch position 20 is out of range for partition t-0 (beyond the log end: log start 0, log end 5); auto.offset.reset=none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1}) // kfake: the test deletes records through it
			coord := newCoordinator(t, k, testConfig(), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tp := kafka.TopicPartition{Topic: "t", Partition: 0}
			// Offset 0 committed first: a valid position for every policy
			// (with none, a sink without one fails at once, as in Connect).
			if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "t", Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			if err := k.Client.SetGroupOffsets(ctx, "connect-snk", map[kafka.TopicPartition]int64{tp: 0}); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.txt")
			props := map[string]string{"name": "snk", "connector.class": "FileStreamSink", "topics": "t", "file": out,
				"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
				"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
			if tt.policy != "" {
				props["consumer.override.auto.offset.reset"] = tt.policy
			}
			if err := coord.Add(props); err != nil {
				t.Fatal(err)
			}
			produceValues(t, k.Client, "t", "o", 20)
			waitFor(t, 20*time.Second, "20 records delivered and committed", func() bool {
				c, err := k.Client.CommittedOffsets(ctx, "connect-snk", []kafka.TopicPartition{tp})
				return err == nil && c[tp] == 20 && len(readLines(out)) == 20
			})

			// The stale commit is set up while the connector is paused, so
			// that no lease runs between the re-creation and the commit.
			if tt.staleCommit {
				if err := coord.PauseConnector(ctx, "snk"); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, "the task PAUSED", func() bool {
					st := status(t, coord, "snk")
					return len(st.Tasks) == 1 && st.Tasks[0].State == "PAUSED"
				})
			}
			cl := k.Broker.Cluster()
			if err := cl.DeleteTopic("t"); err != nil {
				t.Fatal(err)
			}
			if err := cl.CreateTopic("t", 1, nil); err != nil {
				t.Fatal(err)
			}
			produceValues(t, k.Client, "t", "n", 5)
			if tt.staleCommit {
				if err := k.Client.SetGroupOffsets(ctx, "connect-snk", map[kafka.TopicPartition]int64{tp: 20}); err != nil {
					t.Fatal(err)
				}
				if err := coord.ResumeConnector(ctx, "snk"); err != nil {
					t.Fatal(err)
				}
			}

			var trace, state string
			waitFor(t, 20*time.Second, "the reset in the task's status", func() bool {
				st := status(t, coord, "snk")
				if len(st.Tasks) != 1 {
					return false
				}
				state, trace = st.Tasks[0].State, st.Tasks[0].Trace
				switch {
				case tt.wantFailed:
					return state == "FAILED"
				case tt.wantTrace != "":
					return state == "RUNNING" && trace != ""
				}
				return state == "RUNNING"
			})
			if tt.wantTrace != "" && !strings.Contains(trace, tt.wantTrace) {
				t.Fatalf("task %s, trace %q; want it to say %q", state, trace, tt.wantTrace)
			}
			if tt.wantFailed {
				return
			}
			if tt.policy == "latest" {
				// The records before the reset are skipped: the committed
				// offset is the log end.
				waitFor(t, 10*time.Second, "the offset reset to the log end", func() bool {
					c, err := k.Client.CommittedOffsets(ctx, "connect-snk", []kafka.TopicPartition{tp})
					return err == nil && c[tp] == 5
				})
			}
			produceValues(t, k.Client, "t", "m", 3)
			var after []string
			waitFor(t, 20*time.Second, fmt.Sprintf("%v in the file", tt.want), func() bool {
				after = readLines(out)[20:]
				return len(after) >= len(tt.want)
			})
			time.Sleep(300 * time.Millisecond) // nothing more may come
			if after = readLines(out)[20:]; !slices.Equal(after, tt.want) {
				t.Fatalf("lines after the re-creation %v, want %v", after, tt.want)
			}
			c, err := k.Client.CommittedOffsets(ctx, "connect-snk", []kafka.TopicPartition{tp})
			if err != nil || c[tp] != 8 {
				t.Fatalf("committed %v (%v), want 8", c[tp], err)
			}
		})
	}
}

// recreateOnFirstSinkLease deletes and re-creates topic "t" with five new
// records just before the first sink lease runs, as if it happened while
// the lease was in flight.
type recreateOnFirstSinkLease struct {
	coordinator.Invoker
	t      *testing.T
	k      *kafkatest.Env
	mu     sync.Mutex
	done   bool
	ranges [][]lease.Range
}

func (r *recreateOnFirstSinkLease) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	if l.Kind == lease.KindSink {
		r.mu.Lock()
		first := !r.done
		r.done = true
		r.ranges = append(r.ranges, l.Ranges)
		r.mu.Unlock()
		if first {
			cl := r.k.Broker.Cluster()
			if err := cl.DeleteTopic("t"); err != nil {
				return lease.Result{}, err
			}
			if err := cl.CreateTopic("t", 1, nil); err != nil {
				return lease.Result{}, err
			}
			produceValues(r.t, r.k.Client, "t", "n", 5)
		}
	}
	return r.Invoker.Invoke(ctx, l)
}

// A sink lease in flight when its topic is deleted and re-created fails
// (its range no longer exists); the range is then dropped rather than
// re-issued until the task fails, and the sink goes on with the new topic.
func TestSinkRangeGoneWithRecreatedTopic(t *testing.T) {
	k := kafkatest.StartWith(t, devkafka.Options{Partitions: 1}) // kfake: the test re-creates the topic through it
	produceValues(t, k.Client, "t", "o", 20)
	rec := &recreateOnFirstSinkLease{t: t, k: k}
	coord := build(t, k, testConfig(), setup{wrap: func(inv coordinator.Invoker) coordinator.Invoker { rec.Invoker = inv; return rec }})
	out := filepath.Join(t.TempDir(), "out.txt")
	err := coord.Add(map[string]string{"name": "snk", "connector.class": "FileStreamSink", "topics": "t", "file": out,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"n0", "n1", "n2", "n3", "n4"}
	waitFor(t, 20*time.Second, "the new topic's records in the file", func() bool { return len(readLines(out)) >= len(want) })
	if got := readLines(out); !slices.Equal(got, want) {
		t.Fatalf("file %v, want %v", got, want)
	}
	if st := status(t, coord, "snk"); len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Fatalf("status %+v, want the task RUNNING", st)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ranges) < 2 || fmt.Sprint(rec.ranges[0]) == fmt.Sprint(rec.ranges[1]) {
		t.Fatalf("sink leases' ranges %v: the gone range was re-issued", rec.ranges)
	}
}
