package realkafka_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMain(m *testing.M) { os.Exit(realkafka.Main(m)) }

// TestVersion checks that the Go harness and pom.xml name one Kafka.
func TestVersion(t *testing.T) {
	pom, err := os.ReadFile("pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	if want := "<kafka.version>" + realkafka.Version + "</kafka.version>"; !strings.Contains(string(pom), want) {
		t.Errorf("pom.xml has no %s", want)
	}
}

// TestBroker produces to and consumes from the single-node broker, then
// checks that Reset leaves no topic behind.
func TestBroker(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Fresh(t, realkafka.Options{Partitions: 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("realkafka-test"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "realkafka-test", Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "hello" {
		t.Fatalf("consumed %v, want one record hello", recs)
	}
	out, err := realkafka.Tool(ctx, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", c.Bootstrap(), "--describe", "--topic", "realkafka-test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "PartitionCount: 2") {
		t.Errorf("kafka-topics --describe:\n%s\nwant PartitionCount: 2 (num.partitions)", out)
	}
	cl.Close() // a consumer would create the topic again
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	out, err = realkafka.Tool(ctx, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", c.Bootstrap(), "--list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "realkafka-test") {
		t.Errorf("after Reset, kafka-topics --list:\n%s", out)
	}
}

// TestConnect starts Kafka Connect on the broker: its REST API lists the
// file connectors of the class path.
func TestConnect(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Fresh(t, realkafka.Options{Partitions: 2})
	w := realkafka.StartConnectT(t, c, realkafka.ConnectOptions{})
	resp, err := http.Get(w.URL + "/connector-plugins")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var plugins []struct{ Class string }
	if err := json.NewDecoder(resp.Body).Decode(&plugins); err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, p := range plugins {
		classes = append(classes, p.Class)
	}
	for _, want := range []string{"org.apache.kafka.connect.file.FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSinkConnector"} {
		if !slices.Contains(classes, want) {
			t.Errorf("GET /connector-plugins = %v, want %s among them", classes, want)
		}
	}
}

// TestCluster kills one of three brokers and restarts it: a topic with
// three replicas and min.insync.replicas=2 takes writes throughout.
func TestCluster(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Shared(t, realkafka.Options{Brokers: 3, MinISR: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(v string) {
		t.Helper()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "replicated", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	produce("before")
	c.Kill(1)
	produce("one broker down")
	if err := c.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	produce("after")
}
