package benchkit

import (
	"context"
	"fmt"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// ReadTopic returns every record of topic up to its current high
// watermarks, with the partition, key, value, headers and timestamp each
// was written with: what a connector produced, to be produced again by
// RawProduce. The partitions' records are merged by timestamp (then
// partition), which is close to the order they were sent in.
func ReadTopic(tb testing.TB, client *kafka.Client, topic string) (msgs []kafka.Message, partitions int32) {
	tb.Helper()
	ctx := context.Background()
	parts, err := client.Partitions(ctx, topic)
	if err != nil {
		tb.Fatal(err)
	}
	tps := make([]kafka.TopicPartition, len(parts))
	for i, p := range parts {
		tps[i] = kafka.TopicPartition{Topic: topic, Partition: p}
	}
	wms, err := client.Watermarks(ctx, tps)
	if err != nil {
		tb.Fatal(err)
	}
	var total int64
	for _, tp := range tps {
		total += wms[tp].High - wms[tp].Low
	}
	msgs = make([]kafka.Message, 0, total)
	for _, tp := range tps {
		err := client.FetchRange(ctx, tp, wms[tp].Low, wms[tp].High, 4<<20, func(ms []kafka.Message) error {
			msgs = append(msgs, ms...)
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if int64(len(msgs)) != total {
		tb.Fatalf("read %d records of %s, its watermarks say %d", len(msgs), topic, total)
	}
	slices.SortStableFunc(msgs, func(a, b kafka.Message) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return msgs, int32(len(parts))
}

// Produced is what RawProduce measured.
type Produced struct {
	Records, Bytes int64 // Bytes: keys and values, as a lease counts them
	Elapsed, CPU   time.Duration
	Heap           Heap // allocated and collected meanwhile
}

// RecordsPerSecond is the produce rate.
func (p Produced) RecordsPerSecond() float64 { return float64(p.Records) / p.Elapsed.Seconds() }

// MBPerSecond is the rate of key and value bytes, in 10^6 bytes a second.
func (p Produced) MBPerSecond() float64 { return float64(p.Bytes) / p.Elapsed.Seconds() / 1e6 }

func (p Produced) String() string {
	return fmt.Sprintf("%d records in %s: %.0f records/s, %.1f MB/s, %.2f CPU-s; %s", p.Records, p.Elapsed.Round(time.Millisecond),
		p.RecordsPerSecond(), p.MBPerSecond(), p.CPU.Seconds(), p.Heap.String(p.Records))
}

// RawProduce produces msgs (as ReadTopic returned them: same keys, values,
// headers, timestamps and partitions) to topic, created first with
// partitions partitions, with pkg/kafka's producer at its default options
// (those of a lease's producer), from memory: the rate at which this
// machine's Kafka client and broker take exactly these records, the
// ceiling of a source connector that produced them. The time runs from the
// first send to the flush's end; the CPU is the process's meanwhile.
func RawProduce(tb testing.TB, client *kafka.Client, topic string, partitions int32, msgs []kafka.Message) Produced {
	tb.Helper()
	ctx := context.Background()
	if err := client.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: partitions}); err != nil {
		tb.Fatal(err)
	}
	p, err := client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	for i := range msgs {
		msgs[i].Topic = topic
	}
	var bytes int64
	start, cpu0, heap0 := time.Now(), CPU(), ReadHeap()
	for _, m := range msgs {
		if err := p.Send(ctx, m); err != nil {
			tb.Fatal(err)
		}
		bytes += int64(len(m.Key) + len(m.Value))
	}
	if err := p.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return Produced{Records: int64(len(msgs)), Bytes: bytes, Elapsed: time.Since(start), CPU: CPU() - cpu0, Heap: ReadHeap().Since(heap0)}
}

// Heap is what the Go runtime has allocated and collected so far
// (runtime/metrics, exact counts): the difference over a run gives its
// allocations per record, which drive the garbage collector's CPU and do
// not depend on how loaded the machine is.
type Heap struct {
	AllocBytes, AllocObjects, GCCycles uint64
}

// ReadHeap reads the runtime's allocation and collection counters.
func ReadHeap() Heap {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return Heap{AllocBytes: v[0], AllocObjects: v[1], GCCycles: v[2]}
}

// Since is what was allocated and collected between h0 and h.
func (h Heap) Since(h0 Heap) Heap {
	return Heap{AllocBytes: h.AllocBytes - h0.AllocBytes, AllocObjects: h.AllocObjects - h0.AllocObjects, GCCycles: h.GCCycles - h0.GCCycles}
}

// Report reports the allocations per record and the collections.
func (h Heap) Report(b *testing.B, records int64) {
	b.ReportMetric(float64(h.AllocBytes)/float64(records), "alloc-B/record")
	b.ReportMetric(float64(h.AllocObjects)/float64(records), "allocs/record")
	b.ReportMetric(float64(h.GCCycles), "gc-cycles")
}

func (h Heap) String(records int64) string {
	return fmt.Sprintf("%.0f B and %.1f allocations a record, %d GC cycles", float64(h.AllocBytes)/float64(records), float64(h.AllocObjects)/float64(records), h.GCCycles)
}
