package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// TestConnectorOffsetsTopicMatchesConnect runs a FileStreamSource with
// its own offsets.storage.topic on Apache Kafka Connect, then on a Sluice
// coordinator on the same topics, then on Connect again, with
// exactly.once.source.support enabled and disabled (KIP-618 gives a
// connector its own offsets topic in both).
// GET /connectors/{name}/offsets must give the same answer on both,
// including a partition of the connector that only the worker's offsets
// topic holds; each runtime resumes from the position the other committed
// to the connector's topic, and a read_committed consumer sees every line
// once. Each runtime also writes the position to the worker's offsets
// topic (Connect's secondary store).
func TestConnectorOffsetsTopicMatchesConnect(t *testing.T) {
	tests := []struct {
		name string
		eos  bool
	}{
		{name: "exactly-once enabled", eos: true},
		{name: "exactly-once disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testConnectorOffsetsTopic(t, tt.eos) })
	}
}

func testConnectorOffsetsTopic(t *testing.T, exactlyOnce bool) {
	realkafka.Require(t)
	c := realkafka.Fresh(t, realkafka.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	const (
		name      = "own-src"
		topic     = "own-lines"
		ownOffset = "own-src-offsets"
	)
	lines := 0
	appendLines := func(n int) {
		t.Helper()
		f, err := os.OpenFile(in, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			lines++
			fmt.Fprintf(f, "line-%05d\n", lines)
		}
		f.Close()
	}
	cfg := map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "tasks.max": "1",
		"file": in, "topic": topic, "offsets.storage.topic": ownOffset,
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	support := "disabled"
	if exactlyOnce {
		support = "enabled"
	}
	eos := realkafka.ConnectOptions{Props: map[string]string{"exactly.once.source.support": support}}
	// workerHolds checks that the worker's offsets topic also holds the
	// file's position: each runtime writes it there after the connector's
	// own topic (Connect's secondary store), with exactly-once enabled or
	// disabled.
	workerHolds := func(who string) {
		t.Helper()
		st, err := os.Stat(in)
		if err != nil {
			t.Fatal(err)
		}
		proctest.CheckFor(t, time.Minute, 500*time.Millisecond, func() error {
			if got := latestOffset(t, c, "connect-offsets", name, in); got != st.Size() {
				return fmt.Errorf("%s: the worker's offsets topic holds position %d for the file, want %d", who, got, st.Size())
			}
			return nil
		})
	}

	// 1. Connect runs the connector. The worker's offsets topic also holds
	// an offset of the connector's for a partition the connector's own
	// topic never gets (as if written before it had its own topic).
	appendLines(300)
	connect := realkafka.StartConnectT(t, c, eos)
	produceOffset(t, c, "connect-offsets", `["`+name+`",{"filename":"/stale.txt"}]`, `{"position":7}`)
	create(t, connect.URL, name, cfg)
	want := awaitPosition(t, connect.URL, "Connect", name, in)
	t.Logf("Connect's offsets: %s", want)
	workerHolds("Connect")
	connect.Stop()

	// 2. Sluice, on the same topics, answers the same and goes on from
	// Connect's position.
	sluice, proc := startSluiceOn(t, c, "connect-cluster", "", "SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT="+support)
	sameOffsets(t, sluice, "Sluice", name, want)
	appendLines(200)
	want = awaitPosition(t, sluice, "Sluice", name, in)
	t.Logf("Sluice's offsets: %s", want)
	workerHolds("Sluice")
	_ = proc.Cmd.Process.Signal(syscall.SIGTERM)
	if err := proc.Wait(t, time.Minute); err != nil {
		t.Fatalf("coordinator exit: %v", err)
	}

	// 3. And back to Connect, which reads Sluice's position from the
	// connector's topic.
	back := realkafka.StartConnectT(t, c, eos)
	sameOffsets(t, back.URL, "Connect", name, want)
	appendLines(100)
	awaitPosition(t, back.URL, "Connect", name, in)
	back.Stop()
	if err := committedLines(t, c, topic, lines); err != nil {
		t.Fatal(err)
	}
}

// produceOffset writes one record to an offsets topic, as a worker would.
func produceOffset(t *testing.T, c *realkafka.Cluster, topic, key, value string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// latestOffset returns the position of the last record for the
// connector's file partition in an offsets topic (-1 if none, 0 for a
// tombstone), reading it from the start to its high watermark.
func latestOffset(t *testing.T, c *realkafka.Cluster, topic, connector, file string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc, err := kafka.Dial(ctx, kafka.Config{Brokers: c.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	parts, err := kc.Partitions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var tps []kafka.TopicPartition
	for _, p := range parts {
		tps = append(tps, kafka.TopicPartition{Topic: topic, Partition: p})
	}
	wms, err := kc.Watermarks(ctx, tps)
	if err != nil {
		t.Fatal(err)
	}
	remaining := map[int32]int64{}
	for tp, wm := range wms {
		if wm.High > 0 {
			remaining[tp.Partition] = wm.High
		}
	}
	pos := int64(-1)
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (partitions left: %v)", topic, ctx.Err(), remaining)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= remaining[r.Partition] {
				delete(remaining, r.Partition)
			}
			name, partition, err := offsets.DecodeKey(r.Key)
			if err != nil || name != connector || partition["filename"] != file {
				return
			}
			pos = 0
			if v, err := offsets.DecodeValue(r.Value); err == nil && v != nil {
				if n, ok := v["position"].(int64); ok {
					pos = n
				}
			}
		})
	}
	return pos
}

// offsetsAnswer is GET /connectors/{name}/offsets, its offsets sorted by
// partition, as compact JSON.
func offsetsAnswer(baseURL, name string) (string, error) {
	var got struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := getJSON(baseURL+"/connectors/"+name+"/offsets", &got); err != nil {
		return "", err
	}
	var parts []string
	for _, o := range got.Offsets {
		b, _ := json.Marshal(o)
		parts = append(parts, string(b))
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, ",") + "]", nil
}

// awaitPosition waits until the connector's offsets put the file in at
// its end and returns the offsets answer.
func awaitPosition(t *testing.T, baseURL, who, name, in string) string {
	t.Helper()
	st, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `"partition":{"filename":` + strconv.Quote(in) + `},"offset":{"position":` + strconv.FormatInt(st.Size(), 10) + `}`
	var got string
	proctest.CheckFor(t, 3*time.Minute, 500*time.Millisecond, func() error {
		if got, err = offsetsAnswer(baseURL, name); err != nil {
			return err
		}
		if !strings.Contains(got, want) {
			return fmt.Errorf("%s: offsets %s, want %s", who, got, want)
		}
		return nil
	})
	return got
}

// sameOffsets waits until the connector's offsets answer is want.
func sameOffsets(t *testing.T, baseURL, who, name, want string) {
	t.Helper()
	proctest.CheckFor(t, 2*time.Minute, 500*time.Millisecond, func() error {
		got, err := offsetsAnswer(baseURL, name)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s: offsets %s, want %s", who, got, want)
		}
		return nil
	})
}

// committedLines checks that a read_committed consumer of topic's
// partition 0 sees line-00001 .. line-n, in order, each once.
func committedLines(t *testing.T, c *realkafka.Cluster, topic string, n int) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	// Read until n lines, then on a little longer: more would be
	// duplicates.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for len(got) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)+"\n") })
	}
	more, cancelMore := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancelMore()
	for more.Err() == nil {
		cl.PollFetches(more).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)+"\n") })
	}
	return exactlyLines(strings.Join(got, ""), n)
}
