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
}

// RecordsPerSecond is the produce rate.
func (p Produced) RecordsPerSecond() float64 { return float64(p.Records) / p.Elapsed.Seconds() }

// MBPerSecond is the rate of key and value bytes, in 10^6 bytes a second.
func (p Produced) MBPerSecond() float64 { return float64(p.Bytes) / p.Elapsed.Seconds() / 1e6 }

func (p Produced) String() string {
	return fmt.Sprintf("%d records in %s: %.0f records/s, %.1f MB/s, %.2f CPU-s", p.Records, p.Elapsed.Round(time.Millisecond),
		p.RecordsPerSecond(), p.MBPerSecond(), p.CPU.Seconds())
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
	start, cpu0 := time.Now(), CPU()
	for _, m := range msgs {
		if err := p.Send(ctx, m); err != nil {
			tb.Fatal(err)
		}
		bytes += int64(len(m.Key) + len(m.Value))
	}
	if err := p.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return Produced{Records: int64(len(msgs)), Bytes: bytes, Elapsed: time.Since(start), CPU: CPU() - cpu0}
}

// GCCPU is the CPU time the Go runtime estimates its garbage collector has
// used so far (runtime/metrics /cpu/classes/gc/total:cpu-seconds): the
// difference over a run says how much of the run's CPU-s was collection.
func GCCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}
