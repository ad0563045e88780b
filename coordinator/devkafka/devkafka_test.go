package devkafka

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// start starts a broker and closes it when the test ends.
func start(t *testing.T, o Options) *Broker {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// crashImage copies a running broker's data folder as a crash (kill -9)
// leaves it: what the broker had written to its files, nothing it would
// have written on a clean Close.
func crashImage(t *testing.T, dir string) string {
	t.Helper()
	img := t.TempDir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(img, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(img, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func client(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes n records to topic and waits for their acks.
func produce(t *testing.T, cl *kgo.Client, topic string, n int) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i)}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// consumeAll reads topic from the start until n records arrived or 10s
// passed.
func consumeAll(t *testing.T, b *Broker, topic string, n int) map[string]int {
	t.Helper()
	cl := client(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]int{}
	total := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for total < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			total++
		})
	}
	return seen
}

// A topic created by producing to it (broker auto-creation) and the records
// acknowledged in it are in the broker's files as soon as the produce is
// acknowledged: a broker started on a crash image of the folder has them.
func TestAutoCreatedTopicSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	b := start(t, Options{DataDir: dir, Partitions: 3})
	cl := client(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("crash"))
	if err := produce(t, cl, "crash", 500); err != nil {
		t.Fatal(err)
	}

	img := crashImage(t, dir) // b is still running: nothing was saved on Close
	after := start(t, Options{DataDir: img, Partitions: 3, NoAutoCreate: true})
	topics := topicPartitions(t, client(t, after))
	if topics["crash"] != 3 {
		t.Fatalf("topics after the crash %v, want crash with 3 partitions", topics)
	}
	seen := consumeAll(t, after, "crash", 500)
	for i := range 500 {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("record %d seen %d times after the crash; %d distinct records", i, seen[fmt.Sprint(i)], len(seen))
		}
	}
}

// With NoAutoCreate a topic must be created first, as on a cluster with
// auto.create.topics.enable=false.
func TestNoAutoCreate(t *testing.T) {
	b := start(t, Options{NoAutoCreate: true})
	cl := client(t, b, kgo.AllowAutoTopicCreation(), kgo.RecordRetries(2), kgo.UnknownTopicRetries(2))
	err := produce(t, cl, "missing", 1)
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("produce to a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	if _, ok := topicPartitions(t, cl)["missing"]; ok {
		t.Fatal("the topic was created although auto-creation is off")
	}
	if err := b.Cluster().CreateTopic("made", 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := produce(t, cl, "made", 10); err != nil {
		t.Fatalf("produce to a created topic: %v", err)
	}
}

// topicPartitions lists the cluster's topics with their partition counts.
func topicPartitions(t *testing.T, cl *kgo.Client) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest() // no topics: all of them
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tp := range resp.Topics {
		if tp.ErrorCode == 0 && tp.Topic != nil {
			out[*tp.Topic] = len(tp.Partitions)
		}
	}
	return out
}
