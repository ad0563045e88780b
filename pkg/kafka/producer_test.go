package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestProduceRoundTrip(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionSnappy, CompressionLZ4} {
		t.Run(comp.String(), func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(1, "t"))
			cl := dial(t, c)
			ctx := testCtx(t)
			p := newProducer(t, cl, ProducerOptions{Compression: comp})

			ts := time.UnixMilli(1_700_000_000_123)
			want := []Message{
				{Key: []byte("k1"), Value: []byte("v1"), Headers: []Header{{Key: "h", Value: []byte("x")}, {Key: "empty"}}, Timestamp: ts},
				{Key: nil, Value: []byte("no key"), Timestamp: ts.Add(time.Second)},
				{Key: []byte("tombstone"), Value: nil, Timestamp: ts.Add(2 * time.Second)},
				{Key: []byte{}, Value: []byte{}, Timestamp: ts.Add(3 * time.Second)},
			}
			for _, m := range want {
				m.Topic, m.Partition = "t", 0
				p.Send(context.Background(), m)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			got, _, err := fetchAll(ctx, cl, TopicPartition{Topic: "t", Partition: 0}, 0, int64(len(want)), 0)
			if err != nil {
				t.Fatalf("FetchRange: %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if g.Offset != int64(i) || g.Topic != "t" || g.Partition != 0 {
					t.Errorf("record %d at %s[%d]@%d", i, g.Topic, g.Partition, g.Offset)
				}
				if (g.Key == nil) != (w.Key == nil) || !bytes.Equal(g.Key, w.Key) {
					t.Errorf("record %d key = %q (nil %v), want %q (nil %v)", i, g.Key, g.Key == nil, w.Key, w.Key == nil)
				}
				if (g.Value == nil) != (w.Value == nil) || !bytes.Equal(g.Value, w.Value) {
					t.Errorf("record %d value = %q (nil %v), want %q (nil %v)", i, g.Value, g.Value == nil, w.Value, w.Value == nil)
				}
				if !g.Timestamp.Equal(w.Timestamp) {
					t.Errorf("record %d timestamp = %v, want %v", i, g.Timestamp, w.Timestamp)
				}
				if len(g.Headers) != len(w.Headers) {
					t.Fatalf("record %d headers = %v, want %v", i, g.Headers, w.Headers)
				}
				for j := range g.Headers {
					if g.Headers[j].Key != w.Headers[j].Key || !bytes.Equal(g.Headers[j].Value, w.Headers[j].Value) {
						t.Errorf("record %d header %d = %v, want %v", i, j, g.Headers[j], w.Headers[j])
					}
				}
			}
		})
	}
}

func TestProducePartitioning(t *testing.T) {
	const n = 6
	c := newCluster(t, kfake.SeedTopics(n, "t"))
	cl := dial(t, c)
	ctx := testCtx(t)
	p := newProducer(t, cl, ProducerOptions{})

	keys := []string{"21", "foobar", "abc", "kafka", "a-little-bit-long-string", "user-42", "order-7"}
	for _, k := range keys {
		p.Send(context.Background(), Message{Topic: "t", Partition: -1, Key: []byte(k), Value: []byte(k)})
	}
	for i := range 2 * n {
		p.Send(context.Background(), Message{Topic: "t", Partition: -1, Value: fmt.Appendf(nil, "nil-key-%d", i)})
	}
	p.Send(context.Background(), Message{Topic: "t", Partition: 4, Key: []byte("21"), Value: []byte("explicit")})
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	where := map[string]int32{}
	nilKeyed := map[int32]int{}
	for part := range int32(n) {
		tp := TopicPartition{Topic: "t", Partition: part}
		wms, err := cl.Watermarks(ctx, []TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := fetchAll(ctx, cl, tp, 0, wms[tp].High, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			switch {
			case m.Key == nil:
				nilKeyed[part]++
			case string(m.Value) == "explicit":
				requireEqual(t, "explicit partition", part, 4)
			default:
				where[string(m.Key)] = part
			}
		}
	}
	for _, k := range keys {
		requireEqual(t, "partition of key "+k, where[k], PartitionForKey([]byte(k), n))
	}
	// Reference values computed by hand from Kafka's vectors.
	requireEqual(t, "partition of 21", where["21"], int32(1173551340%n))
	requireEqual(t, "partition of abc", where["abc"], int32(479470107%n))
	for part := range int32(n) {
		requireEqual(t, fmt.Sprintf("nil-keyed records on partition %d", part), nilKeyed[part], 2)
	}
}

func TestFlushErrors(t *testing.T) {
	t.Run("unknown topic", func(t *testing.T) {
		c := newCluster(t, kfake.SeedTopics(1, "t"))
		cl := dial(t, c)
		ctx := testCtx(t)
		p := newProducer(t, cl, ProducerOptions{})
		p.Send(context.Background(), Message{Topic: "t", Partition: 0, Value: []byte("ok")})
		p.Send(context.Background(), Message{Topic: "missing", Partition: -1, Value: []byte("lost")})
		err := p.Flush(ctx)
		var perr *ProduceError
		if !errors.As(err, &perr) || perr.Topic != "missing" {
			t.Fatalf("Flush error = %v, want a ProduceError for topic missing", err)
		}
		// The error is reported once; the next Flush starts clean.
		p.Send(context.Background(), Message{Topic: "t", Partition: 0, Value: []byte("ok")})
		if err := p.Flush(ctx); err != nil {
			t.Fatalf("second Flush: %v", err)
		}
	})

	t.Run("partition out of range", func(t *testing.T) {
		c := newCluster(t, kfake.SeedTopics(2, "t"))
		cl := dial(t, c)
		p := newProducer(t, cl, ProducerOptions{})
		p.Send(context.Background(), Message{Topic: "t", Partition: 7, Value: []byte("x")})
		var perr *ProduceError
		if err := p.Flush(testCtx(t)); !errors.As(err, &perr) {
			t.Fatalf("Flush error = %v, want a ProduceError", err)
		}
	})

	t.Run("broker rejects", func(t *testing.T) {
		c := newCluster(t, kfake.SeedTopics(3, "t"))
		cl := dial(t, c)
		p := newProducer(t, cl, ProducerOptions{})
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Partitions: []int32{2}, Err: kerr.InvalidRecord, Count: -1})
		p.Send(context.Background(), Message{Topic: "t", Partition: 2, Value: []byte("x")})
		err := p.Flush(testCtx(t))
		var perr *ProduceError
		if !errors.As(err, &perr) || perr.Topic != "t" || perr.Partition != 2 {
			t.Fatalf("Flush error = %v, want a ProduceError for t[2]", err)
		}
	})

	t.Run("retriable error is retried without duplicates", func(t *testing.T) {
		c := newCluster(t, kfake.SeedTopics(1, "t"))
		cl := dial(t, c)
		ctx := testCtx(t)
		p := newProducer(t, cl, ProducerOptions{})
		h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: kerr.NotLeaderForPartition, Count: 2})
		produceBatches(t, p, "t", 0, 1, 5)
		requireEqual(t, "faults hit", h.Hits(), 2)
		got, _, err := fetchAll(ctx, cl, TopicPartition{Topic: "t", Partition: 0}, 0, 5, 0)
		if err != nil {
			t.Fatal(err)
		}
		var values []string
		for _, m := range got {
			values = append(values, string(m.Value))
		}
		if !slices.Equal(values, []string{"v0", "v1", "v2", "v3", "v4"}) {
			t.Fatalf("values = %v", values)
		}
	})

	t.Run("send after close", func(t *testing.T) {
		c := newCluster(t, kfake.SeedTopics(1, "t"))
		cl := dial(t, c)
		p := newProducer(t, cl, ProducerOptions{})
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Send(context.Background(), Message{Topic: "t", Partition: 0, Value: []byte("x")}); !errors.Is(err, ErrProducerClosed) {
			t.Fatalf("Send after Close = %v, want ErrProducerClosed", err)
		}
		if err := p.Flush(testCtx(t)); !errors.Is(err, ErrProducerClosed) {
			t.Fatalf("Flush after Close = %v, want ErrProducerClosed", err)
		}
	})
}

func TestProducerOptionsValidation(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts ProducerOptions
	}{
		{"compression", ProducerOptions{Compression: 42}},
		{"linger", ProducerOptions{Linger: -1}},
		{"batch bytes", ProducerOptions{BatchBytes: -1}},
		{"retries", ProducerOptions{Retries: -1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.opts.withDefaults(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestSendAckReportsEachMessage checks that SendAck's callback runs once
// for every message, with where Kafka wrote it, while the producer reuses
// its pooled messages, and that messages with more headers than a pooled
// message holds inline keep them all.
func TestSendAckReportsEachMessage(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	cl := dial(t, c)
	ctx := testCtx(t)
	p := newProducer(t, cl, ProducerOptions{})

	const n = 200
	var mu sync.Mutex
	acked := make([]int, n)
	offsets := make([]int64, n)
	for i := range n {
		m := Message{Topic: "t", Partition: 0, Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint("v", i))}
		for j := range i % 7 { // 0 to 6 headers
			m.Headers = append(m.Headers, Header{Key: fmt.Sprint("h", j), Value: []byte(fmt.Sprint(i, "-", j))})
		}
		if err := p.SendAck(ctx, m, func(partition int32, offset int64, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil || partition != 0 {
				t.Errorf("message %d acked with partition %d, error %v", i, partition, err)
			}
			acked[i]++
			offsets[i] = offset
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for i := range n {
		if acked[i] != 1 || offsets[i] != int64(i) {
			t.Errorf("message %d acked %d times, last at offset %d; want once at %d", i, acked[i], offsets[i], i)
		}
	}
	mu.Unlock()
	got, _, err := fetchAll(ctx, cl, TopicPartition{Topic: "t", Partition: 0}, 0, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	for i, g := range got {
		if string(g.Key) != fmt.Sprint("k", i) || string(g.Value) != fmt.Sprint("v", i) || len(g.Headers) != i%7 {
			t.Fatalf("record %d: key %q value %q %d headers", i, g.Key, g.Value, len(g.Headers))
		}
		for j, h := range g.Headers {
			if h.Key != fmt.Sprint("h", j) || string(h.Value) != fmt.Sprint(i, "-", j) {
				t.Errorf("record %d header %d = %s:%q", i, j, h.Key, h.Value)
			}
		}
	}
}
