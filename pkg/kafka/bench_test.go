package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

// benchRecordBytes is the value size the pipeline benchmark uses too.
const benchRecordBytes = 200

func benchValue() []byte {
	v := make([]byte, benchRecordBytes)
	for i := range v {
		v[i] = byte('a' + i%26)
	}
	return v
}

func reportRate(b *testing.B, records int, elapsed time.Duration) {
	b.Helper()
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(records*benchRecordBytes)/elapsed.Seconds()/1e6, "MB/s")
}

// BenchmarkProduce measures acknowledged produce throughput of 200-byte
// records to one kfake partition: through Producer (Send + Flush), and
// through a bare sarama AsyncProducer with the same settings, the floor
// Producer's bookkeeping is measured against.
func BenchmarkProduce(b *testing.B) {
	value := benchValue()
	b.Run("Producer", func(b *testing.B) {
		c := newCluster(b, kfake.SeedTopics(1, "bench"))
		cl := dial(b, c)
		p := newProducer(b, cl, ProducerOptions{})
		ctx := testCtx(b)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			p.Send(context.Background(), Message{Topic: "bench", Partition: 0, Value: value})
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		reportRate(b, b.N, time.Since(start))
	})
	b.Run("sarama", func(b *testing.B) {
		c := newCluster(b, kfake.SeedTopics(1, "bench"))
		cfg := Config{Brokers: c.ListenAddrs(), ClientID: "bench"}
		conf := cfg.saramaConfig()
		conf.Metadata.Full = false
		conf.Producer.Idempotent = true
		conf.Producer.RequiredAcks = sarama.WaitForAll
		conf.Net.MaxOpenRequests = 1
		conf.Producer.Retry.Max = 30
		conf.Producer.Return.Successes = true
		conf.Producer.Partitioner = sarama.NewManualPartitioner
		conf.Producer.Flush.Frequency = 5 * time.Millisecond
		conf.Producer.Flush.Bytes = 1 << 20
		conf.ChannelBufferSize = 4096
		ap, err := sarama.NewAsyncProducer(cfg.Brokers, conf)
		if err != nil {
			b.Fatal(err)
		}
		defer ap.Close()
		done := make(chan error, 1)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		go func() {
			var firstErr error
			for acked := 0; acked < b.N; acked++ {
				select {
				case <-ap.Successes():
				case e := <-ap.Errors():
					if firstErr == nil {
						firstErr = e
					}
				}
			}
			done <- firstErr
		}()
		for range b.N {
			ap.Input() <- &sarama.ProducerMessage{Topic: "bench", Partition: 0, Value: sarama.ByteEncoder(value)}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		reportRate(b, b.N, time.Since(start))
	})
}

// BenchmarkFetchRange measures FetchRange throughput of 200-byte records
// from one kfake partition, with 1 MiB fetches.
func BenchmarkFetchRange(b *testing.B) {
	c := newCluster(b, kfake.SeedTopics(1, "bench"))
	cl := dial(b, c)
	p := newProducer(b, cl, ProducerOptions{})
	value := benchValue()
	for range b.N {
		p.Send(context.Background(), Message{Topic: "bench", Partition: 0, Value: value})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	err := cl.FetchRange(ctx, TopicPartition{Topic: "bench", Partition: 0}, 0, int64(b.N), 1<<20, func(ms []Message) error {
		n += len(ms)
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("fetched %d records, want %d", n, b.N)
	}
	reportRate(b, b.N, elapsed)
}
