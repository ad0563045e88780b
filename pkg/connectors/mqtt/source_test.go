package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mosquittotest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// helperEnv makes the test binary run one source lease that kills its own
// process right after Kafka acknowledged the records and before any
// message is acknowledged to the broker (TestKilledBeforeAck).
const helperEnv = "SLUICE_MQTT_KILL_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(killingLease())
	}
	os.Exit(m.Run())
}

func registry(t testing.TB, extra ...connect.Plugin) *connect.Registry {
	t.Helper()
	reg, err := connect.NewRegistry(append(append(converter.Plugins(), mqtt.Plugins()...), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

type env struct {
	broker *mosquittotest.Broker
	kafka  *kafkatest.Env
	exec   *lease.Executor
}

func start(t *testing.T, opts mosquittotest.Options) *env {
	t.Helper()
	b := mosquittotest.Start(t, opts)
	k := startKafka(t)
	return &env{broker: b, kafka: k, exec: newExecutor(t, k)}
}

func startKafka(t *testing.T) *kafkatest.Env { return kafkatest.Start(t, 1) }

func newExecutor(t *testing.T, k *kafkatest.Env) *lease.Executor {
	return lease.NewExecutor(registry(t), k.Client, k.Offsets, lease.Options{SafetyMargin: 200 * time.Millisecond})
}

func sourceConfig(name, uri, filters string, qos int) map[string]string {
	return map[string]string{
		"name": name, "connector.class": mqtt.SourceClass,
		"mqtt.server.uri": uri, "mqtt.topics": filters, "mqtt.qos": fmt.Sprint(qos), "kafka.topic": name,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
	}
}

// taskConfig returns the first task configuration the connector makes.
func taskConfig(t testing.TB, cfg map[string]string) map[string]string {
	t.Helper()
	tc, err := firstTaskConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func firstTaskConfig(cfg map[string]string) (map[string]string, error) {
	c := mqtt.NewSourceConnector()
	if err := c.Start(context.Background(), nil, cfg); err != nil {
		return nil, err
	}
	tcs, err := c.TaskConfigs(1)
	if err != nil {
		return nil, err
	}
	return tcs[0], nil
}

var leaseSeq int64

func sourceLease(t testing.TB, cfg map[string]string, idle time.Duration) lease.Lease {
	leaseSeq++
	return lease.Lease{ID: fmt.Sprintf("l%d", leaseSeq), Kind: lease.KindSource, Connector: cfg["name"], Epoch: leaseSeq,
		Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: taskConfig(t, cfg),
		Budget: lease.Budget{MaxIdle: lease.Duration(idle)}}
}

func (e *env) run(t *testing.T, cfg map[string]string, idle time.Duration) lease.Result {
	t.Helper()
	res := e.exec.Run(context.Background(), sourceLease(t, cfg, idle))
	if res.Status != lease.Succeeded {
		t.Fatalf("lease %s: %s %s\n%s", res.LeaseID, res.Status, res.Error, res.Trace)
	}
	return res
}

// publish publishes payloads to topic with qos from a separate client and
// waits for the broker's acknowledgements.
func publish(t testing.TB, uri, topic string, qos byte, payloads ...string) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(uri).SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano())).SetCleanSession(true)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(250)
	for _, p := range payloads {
		if tok := c.Publish(topic, qos, false, p); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// record is a Kafka record as the tests read it back.
type record struct {
	key, value string
	headers    map[string]string
}

func readAll(t testing.TB, c *kafka.Client, topic string) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := kafka.TopicPartition{Topic: topic, Partition: 0}
	wm, err := c.Watermarks(ctx, []kafka.TopicPartition{tp})
	if err != nil {
		return nil // the topic does not exist yet
	}
	var out []record
	err = c.FetchRange(ctx, tp, wm[tp].Low, wm[tp].High, 4<<20, func(ms []kafka.Message) error {
		for _, m := range ms {
			h := map[string]string{}
			for _, x := range m.Headers {
				h[string(x.Key)] = string(x.Value)
			}
			out = append(out, record{key: string(m.Key), value: string(m.Value), headers: h})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func values(rs []record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.value
	}
	return out
}

// waitConnected waits until the broker logged the n-th connection of
// clientID.
func waitConnected(t testing.TB, b *mosquittotest.Broker, clientID string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(b.Log(), " as "+clientID+" ") < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not connect %d times:\n%s", clientID, n, b.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Messages published while a lease is connected arrive in that lease, at
// every QoS; the record has the MQTT topic as key, the payload as value and
// the message's properties as headers.
func TestQoSLevels(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	for _, qos := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			name := fmt.Sprintf("qos%d", qos)
			cfg := sourceConfig(name, e.broker.URI, "devices/#", qos)
			done := make(chan lease.Result, 1)
			go func() { done <- e.exec.Run(context.Background(), sourceLease(t, cfg, 1500*time.Millisecond)) }()
			waitConnected(t, e.broker, "sluice-"+name+"-0", 1)
			// The subscription is made after the connection; give it a moment.
			time.Sleep(300 * time.Millisecond)
			want := numbered(name, 20)
			publish(t, e.broker.URI, "devices/d1", byte(qos), want...)
			res := <-done
			if res.Status != lease.Succeeded {
				t.Fatalf("lease: %s %s\n%s", res.Status, res.Error, res.Trace)
			}
			got := readAll(t, e.kafka.Client, name)
			if !slices.Equal(values(got), want) {
				t.Fatalf("records %q, want %q", values(got), want)
			}
			r := got[0]
			if r.key != "devices/d1" || r.headers[mqtt.HeaderQoS] != fmt.Sprint(qos) || r.headers[mqtt.HeaderRetained] != "false" ||
				r.headers[mqtt.HeaderDuplicate] != "false" {
				t.Fatalf("record key %q headers %v", r.key, r.headers)
			}
			if id := r.headers[mqtt.HeaderMessageID]; (qos == 0) != (id == "0") {
				t.Fatalf("message id %s at QoS %d", id, qos)
			}
		})
	}
}

// The broker keeps a persistent session's messages while no lease runs;
// the next lease reads them, acknowledges them, and the one after reads
// nothing again. Between the leases the broker is even restarted.
func TestMessagesBetweenLeases(t *testing.T) {
	for _, qos := range []int{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			e := start(t, mosquittotest.Options{})
			name := fmt.Sprintf("between%d", qos)
			cfg := sourceConfig(name, e.broker.URI, "plant/+/temp", qos)
			if res := e.run(t, cfg, 200*time.Millisecond); res.Records != 0 {
				t.Fatalf("first lease read %d records from an empty session", res.Records)
			}
			first := numbered("a", 150)
			publish(t, e.broker.URI, "plant/p1/temp", byte(qos), first...)
			e.broker.Restart() // the session and its queue are persistent
			second := numbered("b", 50)
			publish(t, e.broker.URI, "plant/p2/temp", byte(qos), second...)

			if res := e.run(t, cfg, 500*time.Millisecond); res.Records != 200 {
				t.Fatalf("second lease read %d records, want 200", res.Records)
			}
			got := readAll(t, e.kafka.Client, name)
			if want := append(first, second...); !slices.Equal(values(got), want) {
				t.Fatalf("records %q, want %q", values(got), want)
			}
			if got[0].key != "plant/p1/temp" || got[199].key != "plant/p2/temp" {
				t.Fatalf("keys %q, %q", got[0].key, got[199].key)
			}
			if res := e.run(t, cfg, 300*time.Millisecond); res.Records != 0 {
				t.Fatalf("third lease read %d records: the second did not acknowledge", res.Records)
			}
		})
	}
}

// A lease whose process is killed after Kafka acknowledged its records
// and before it acknowledged them to the broker loses nothing: the broker
// sends the messages again to the next lease. Killed at the first
// CommitRecord after the flush (a task that does not commit while it
// polls), no message is acknowledged and all come again, flagged as
// duplicates; killed while it polls (the MQTT task's way: each message is
// acknowledged as soon as Kafka acked its record), at the 20th record, the
// lease had produced at least 20 records and acknowledged at most 19
// messages, and the next lease reads the rest from where the broker's
// acknowledgements stopped.
func TestKilledBeforeAck(t *testing.T) {
	tests := []struct {
		name      string
		streaming bool
		killAt    int
	}{
		{"at the first commit after the flush", false, 1},
		{"at the 20th commit while polling", true, 20},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, mosquittotest.Options{})
			cfg := sourceConfig("killed", e.broker.URI, "meters/#", 1)
			e.run(t, cfg, 200*time.Millisecond) // creates the session
			want := numbered("m", 40)
			publish(t, e.broker.URI, "meters/m1", 1, want...)

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "HELPER_BROKERS="+strings.Join(e.kafka.Brokers, ","),
				"HELPER_MQTT="+e.broker.URI, fmt.Sprintf("HELPER_KILL_AT=%d", tt.killAt),
				fmt.Sprintf("HELPER_STREAMING=%t", tt.streaming), fmt.Sprintf("HELPER_EPOCH=%d", 100+i))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper lease was not killed: %v\n%s", err, out)
			}
			killed := values(readAll(t, e.kafka.Client, "killed"))
			if len(killed) < tt.killAt || !slices.Equal(killed, want[:len(killed)]) {
				t.Fatalf("after the killed lease Kafka has %q, want at least the first %d of %q", killed, tt.killAt, want)
			}
			if !tt.streaming && len(killed) != len(want) {
				t.Fatalf("after the killed lease Kafka has %d records, want all %d (flushed before the first commit)", len(killed), len(want))
			}

			res := e.run(t, cfg, 500*time.Millisecond)
			got := readAll(t, e.kafka.Client, "killed")
			again := values(got[len(killed):])
			acked := len(want) - len(again) // messages the broker took as acknowledged
			if acked < 0 || acked >= tt.killAt || !slices.Equal(again, want[acked:]) || res.Records != int64(len(again)) {
				t.Fatalf("the next lease read %d records %q, want the messages from the %dth on (at most %d acknowledged)",
					res.Records, again, acked, tt.killAt-1)
			}
			if got[len(killed)].headers[mqtt.HeaderDuplicate] != "true" {
				t.Fatalf("redelivered message headers %v, want %s=true", got[len(killed)].headers, mqtt.HeaderDuplicate)
			}
			if res := e.run(t, cfg, 300*time.Millisecond); res.Records != 0 {
				t.Fatalf("a third lease read %d records", res.Records)
			}
		})
	}
}

// killingTask is the MQTT source task whose process dies at the
// killAt-th CommitRecord, before acknowledging that record's message: its
// record and every one before it are in Kafka. Unless streaming, it does
// not commit while polling, so the first CommitRecord comes after the
// flush.
type killingTask struct {
	*mqtt.SourceTask
	killAt, calls int
	streaming     bool
}

func (k *killingTask) CommitRecord(ctx context.Context, r *connect.SourceRecord, tp connect.TopicPartition, off int64) error {
	if k.calls++; k.calls >= k.killAt {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return k.SourceTask.CommitRecord(ctx, r, tp, off)
}

func (k *killingTask) CommitsRecordsWhilePolling() bool { return k.streaming }

func killingLease() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := kafka.Dial(ctx, kafka.Config{Brokers: strings.Split(os.Getenv("HELPER_BROKERS"), ",")})
	if err != nil {
		fmt.Println(err)
		return 2
	}
	store, err := state.NewOffsetStore(ctx, client, kafka.TopicSpec{Name: "connect-offsets", Partitions: 5})
	if err != nil {
		fmt.Println(err)
		return 2
	}
	p := mqtt.SourcePlugin()
	p.Class, p.Aliases = "test.KillingMqttSource", nil
	killAt, _ := strconv.Atoi(os.Getenv("HELPER_KILL_AT"))
	epoch, _ := strconv.ParseInt(os.Getenv("HELPER_EPOCH"), 10, 64)
	p.NewSourceTask = func() connect.SourceTask {
		return &killingTask{SourceTask: mqtt.NewSourceTask(), killAt: killAt, streaming: os.Getenv("HELPER_STREAMING") == "true"}
	}
	reg, err := connect.NewRegistry(append(converter.Plugins(), p)...)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	exec := lease.NewExecutor(reg, client, store, lease.Options{SafetyMargin: 200 * time.Millisecond})
	cfg := sourceConfig("killed", os.Getenv("HELPER_MQTT"), "meters/#", 1)
	cfg["connector.class"] = p.Class
	tc, err := firstTaskConfig(cfg)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	res := exec.Run(ctx, lease.Lease{ID: "killed-1", Kind: lease.KindSource, Connector: "killed", Epoch: epoch,
		Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: tc,
		Budget: lease.Budget{MaxIdle: lease.Duration(500 * time.Millisecond)}})
	fmt.Printf("helper lease was not killed: %s %s\n", res.Status, res.Error)
	return 3
}
