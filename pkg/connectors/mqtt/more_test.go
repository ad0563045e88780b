package mqtt_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sluicehq/sluice/internal/mosquittotest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// Wildcard filters select the topics they match, and only those; the key
// says which topic a message came from.
func TestWildcards(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	cfg := sourceConfig("wild", e.broker.URI, "sensors/+/temp,alerts/#", 1)
	e.run(t, cfg, 200*time.Millisecond)
	publish(t, e.broker.URI, "sensors/s1/temp", 1, "t1")
	publish(t, e.broker.URI, "sensors/s1/humidity", 1, "h1") // not matched
	publish(t, e.broker.URI, "sensors/s2/temp", 1, "t2")
	publish(t, e.broker.URI, "alerts/fire/floor1", 1, "a1")
	publish(t, e.broker.URI, "alerts", 1, "a0")  // # matches the parent level too
	publish(t, e.broker.URI, "other/x", 1, "o1") // not matched
	e.run(t, cfg, 400*time.Millisecond)
	var got []string
	for _, r := range readAll(t, e.kafka.Client, "wild") {
		got = append(got, r.key+"="+r.value)
	}
	want := []string{"sensors/s1/temp=t1", "sensors/s2/temp=t2", "alerts/fire/floor1=a1", "alerts=a0"}
	if !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
}

// TLS with the broker's CA in a PEM file, and username and password from a
// Mosquitto password file.
func TestTLSWithPassword(t *testing.T) {
	b := mosquittotest.Start(t, mosquittotest.Options{TLS: true, Users: map[string]string{"sluice": "s3cret"}})
	k := startKafka(t)
	e := &env{broker: b, kafka: k, exec: newExecutor(t, k)}
	cfg := sourceConfig("tls", b.TLSURI, "secure/#", 1)
	cfg["mqtt.ssl.ca.file"] = b.CAFile
	cfg["mqtt.username"], cfg["mqtt.password"] = "sluice", "s3cret"
	e.run(t, cfg, 200*time.Millisecond)

	opts := paho.NewClientOptions().AddBroker(b.TLSURI).SetClientID("tls-pub").SetTLSConfig(b.TLSConfig()).
		SetUsername("sluice").SetPassword("s3cret")
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	for i := range 5 {
		if tok := c.Publish("secure/x", 1, false, fmt.Sprint(i)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	c.Disconnect(250)
	e.run(t, cfg, 300*time.Millisecond)
	if got := values(readAll(t, k.Client, "tls")); !slices.Equal(got, []string{"0", "1", "2", "3", "4"}) {
		t.Fatalf("records %q", got)
	}

	// Without the CA the broker's certificate is not trusted.
	delete(cfg, "mqtt.ssl.ca.file")
	res := e.exec.Run(context.Background(), sourceLease(t, cfg, 200*time.Millisecond))
	if res.Status != lease.Failed || res.Retriable || !strings.Contains(res.Error, "certificate") {
		t.Fatalf("lease without the CA: %s %q", res.Status, res.Error)
	}
}

// Bad credentials fail the lease (not retriable: retrying changes nothing)
// with the broker's reason, the broker and the client id in the error; an
// unreachable broker fails it as retriable.
func TestConnectFailures(t *testing.T) {
	b := mosquittotest.Start(t, mosquittotest.Options{Users: map[string]string{"sluice": "s3cret"}})
	k := startKafka(t)
	exec := newExecutor(t, k)
	tests := []struct {
		name, uri, user, pass string
		retriable             bool
		want                  []string
	}{
		{"wrong password", b.URI, "sluice", "wrong", false, []string{"not Authorized", b.URI, `"sluice-bad-0"`}},
		{"no credentials", b.URI, "", "", false, []string{"not Authorized", b.URI}},
		{"unreachable", "tcp://" + proctest.FreeAddr(t), "sluice", "s3cret", true, []string{"connecting to MQTT broker", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sourceConfig("bad", tt.uri, "x/#", 1)
			cfg["mqtt.username"], cfg["mqtt.password"] = tt.user, tt.pass
			cfg["mqtt.connect.timeout.seconds"] = "5"
			res := exec.Run(context.Background(), sourceLease(t, cfg, 200*time.Millisecond))
			if res.Status != lease.Failed || res.Retriable != tt.retriable {
				t.Fatalf("status %s retriable %t, want failed retriable %t: %s", res.Status, res.Retriable, tt.retriable, res.Error)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Error+res.Trace, w) {
					t.Errorf("error %q\ntrace %q\nlacks %q", res.Error, res.Trace, w)
				}
			}
			if strings.Contains(res.Error+res.Trace, "s3cret") {
				t.Errorf("the password appears in the result")
			}
		})
	}
}

// With Mosquitto's default in-flight window (20), the broker sends 20
// messages and waits for their acknowledgements. A lease acknowledges each
// message as soon as Kafka acked its record, while it polls, so the window
// moves within the lease: one lease reads all 50, in order, with nothing
// lost or repeated, and the next reads none.
func TestInflightWindow(t *testing.T) {
	e := start(t, mosquittotest.Options{MaxInflight: 20})
	cfg := sourceConfig("window", e.broker.URI, "w/#", 1)
	e.run(t, cfg, 200*time.Millisecond)
	want := numbered("w", 50)
	publish(t, e.broker.URI, "w/1", 1, want...)
	var counts []int64
	for range 2 {
		counts = append(counts, e.run(t, cfg, time.Second).Records)
	}
	if !slices.Equal(counts, []int64{50, 0}) {
		t.Fatalf("leases read %v, want 50 then none", counts)
	}
	if got := values(readAll(t, e.kafka.Client, "window")); !slices.Equal(got, want) {
		t.Fatalf("records %q", got)
	}
}

// The connector deals the filters to the tasks and gives each its own
// client id.
func TestTaskConfigs(t *testing.T) {
	tests := []struct {
		name     string
		props    map[string]string
		maxTasks int
		want     []string // task n: "<client id> <filters>"
	}{
		{"one task", map[string]string{"mqtt.topics": "a/#,b/+"}, 1, []string{"sluice-c-0 a/#,b/+"}},
		{"round robin", map[string]string{"mqtt.topics": "a,b,c"}, 2, []string{"sluice-c-0 a,c", "sluice-c-1 b"}},
		{"no more tasks than filters", map[string]string{"mqtt.topics": "a"}, 4, []string{"sluice-c-0 a"}},
		{"client id prefix", map[string]string{"mqtt.topics": "a", "mqtt.client.id": "plant7"}, 1, []string{"plant7-0 a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{"name": "c", "mqtt.server.uri": "tcp://127.0.0.1:1883", "kafka.topic": "k"}
			maps.Copy(props, tt.props)
			c := mqtt.NewSourceConnector()
			if err := c.Start(context.Background(), nil, props); err != nil {
				t.Fatal(err)
			}
			tcs, err := c.TaskConfigs(tt.maxTasks)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tc := range tcs {
				got = append(got, tc["mqtt.client.id"]+" "+tc["mqtt.topics"])
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("tasks %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"missing uri", map[string]string{"mqtt.topics": "a", "kafka.topic": "k"}, "mqtt.server.uri"},
		{"bad scheme", map[string]string{"mqtt.server.uri": "http://h:1", "mqtt.topics": "a", "kafka.topic": "k"}, "scheme"},
		{"qos 3", map[string]string{"mqtt.server.uri": "tcp://h:1", "mqtt.topics": "a", "kafka.topic": "k", "mqtt.qos": "3"}, "mqtt.qos"},
		{"missing kafka.topic", map[string]string{"mqtt.server.uri": "tcp://h:1", "mqtt.topics": "a"}, "kafka.topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mqtt.SourceConfig().Parse(tt.props)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// The sink publishes each record's value to the MQTT topic (mqtt.topic, or
// the Kafka topic), with the configured QoS and retained flag, and commits
// only what the broker acknowledged.
func TestSink(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.kafka.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "cmds", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := e.kafka.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := p.Send(ctx, kafka.Message{Topic: "cmds", Partition: 0, Value: []byte(fmt.Sprintf("cmd-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	for _, tt := range []struct {
		name, topic, subscribe string
		qos                    int
		retained               bool
	}{
		{"kafka topic qos1", "", "cmds", 1, false},
		{"mqtt.topic qos2 retained", "devices/all/cmd", "devices/+/cmd", 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := subscribeAll(t, e.broker.URI, tt.subscribe)
			cfg := map[string]string{
				"name": "snk", "connector.class": mqtt.SinkClass, "topics": "cmds",
				"mqtt.server.uri": e.broker.URI, "mqtt.qos": fmt.Sprint(tt.qos), "mqtt.topic": tt.topic,
				"mqtt.retained.enabled": fmt.Sprint(tt.retained),
				"value.converter":       "org.apache.kafka.connect.converters.ByteArrayConverter",
			}
			res := e.exec.Run(context.Background(), lease.Lease{ID: "s-" + tt.name, Kind: lease.KindSink, Connector: "snk", Epoch: 1,
				Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
				Ranges: []lease.Range{{Topic: "cmds", Partition: 0, Start: 0, End: 10}}})
			if res.Status != lease.Succeeded {
				t.Fatalf("lease: %s %s\n%s", res.Status, res.Error, res.Trace)
			}
			msgs := got(10)
			for i, m := range msgs {
				if string(m.Payload()) != fmt.Sprintf("cmd-%d", i) || m.Qos() != byte(tt.qos) {
					t.Fatalf("message %d: %q qos %d", i, m.Payload(), m.Qos())
				}
			}
			if tt.retained {
				// A new subscriber gets the last message, retained.
				late := subscribeAll(t, e.broker.URI, tt.subscribe)(1)
				if string(late[0].Payload()) != "cmd-9" || !late[0].Retained() {
					t.Fatalf("retained message %q retained=%t", late[0].Payload(), late[0].Retained())
				}
			}
		})
	}
}

// subscribeAll subscribes at QoS 2 and returns a function that waits for n
// messages.
func subscribeAll(t *testing.T, uri, filter string) func(n int) []paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 1000)
	opts := paho.NewClientOptions().AddBroker(uri).SetClientID(fmt.Sprintf("sub-%d", time.Now().UnixNano()))
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(250) })
	if tok := c.Subscribe(filter, 2, func(_ paho.Client, m paho.Message) { ch <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	return func(n int) []paho.Message {
		var out []paho.Message
		timeout := time.After(10 * time.Second)
		for len(out) < n {
			select {
			case m := <-ch:
				out = append(out, m)
			case <-timeout:
				t.Fatalf("received %d messages, want %d", len(out), n)
			}
		}
		return out
	}
}

// Every key of both connectors is documented, and the registry finds them
// by Confluent's and Sluice's names.
func TestPluginNames(t *testing.T) {
	reg := registry(t)
	for _, name := range []string{mqtt.SourceClass, mqtt.SluiceSourceClass, mqtt.SinkClass, mqtt.SluiceSinkClass, "MqttSource", "MqttSink"} {
		if _, err := reg.Connector(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var undocumented []string
	for _, k := range append(mqtt.SourceConfig().Keys(), mqtt.SinkConfig().Keys()...) {
		if k.Doc == "" {
			undocumented = append(undocumented, k.Name)
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Fatalf("undocumented keys %v", undocumented)
	}
}

// A record whose value is neither bytes nor a string (a JSON object read by
// the JsonConverter) is an errant record: dead-lettered under
// errors.tolerance=all while the others are published.
func TestSinkErrantValues(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.kafka.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "mixed", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := e.kafka.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`"a"`, `{"obj":1}`, `"b"`} {
		if err := p.Send(ctx, kafka.Message{Topic: "mixed", Partition: 0, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	got := subscribeAll(t, e.broker.URI, "mixed")
	cfg := map[string]string{
		"name": "snk-mixed", "connector.class": mqtt.SinkClass, "topics": "mixed", "mqtt.server.uri": e.broker.URI, "mqtt.qos": "1",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "mixed-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable": "true",
	}
	res := e.exec.Run(context.Background(), lease.Lease{ID: "mixed", Kind: lease.KindSink, Connector: "snk-mixed", Epoch: 1,
		Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
		Ranges: []lease.Range{{Topic: "mixed", Partition: 0, Start: 0, End: 3}}})
	if res.Status != lease.Succeeded || res.DeadLettered != 1 {
		t.Fatalf("lease: %s, %d dead-lettered: %s", res.Status, res.DeadLettered, res.Error)
	}
	msgs := got(2)
	if string(msgs[0].Payload()) != "a" || string(msgs[1].Payload()) != "b" {
		t.Fatalf("published %q, %q", msgs[0].Payload(), msgs[1].Payload())
	}
	dlq := readAll(t, e.kafka.Client, "mixed-dlq")
	if len(dlq) != 1 || !strings.Contains(dlq[0].headers["__connect.errors.exception.message"], "MQTT payloads must be bytes or strings") {
		t.Fatalf("dead letter queue %v", dlq)
	}
}

// With mqtt.connection.keep.alive.between.leases a long-lived worker's
// leases share one connection: messages published between leases flow in
// while it is parked, and messages a lease polled beyond its budget (not
// written to Kafka, so not acknowledged) go to the next lease, once each.
func TestKeepConnectedBetweenLeases(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	cfg := sourceConfig("keep", e.broker.URI, "k/#", 1)
	cfg["mqtt.connection.keep.alive.between.leases"] = "true"
	cfg["mqtt.batch.size"] = "5"
	runBudget := func(max int64) lease.Result {
		l := sourceLease(t, cfg, 300*time.Millisecond)
		l.Budget.MaxRecords = max
		res := e.exec.Run(context.Background(), l)
		if res.Status != lease.Succeeded {
			t.Fatalf("lease: %s %s", res.Status, res.Error)
		}
		return res
	}
	runBudget(100)
	want := numbered("k", 30)
	publish(t, e.broker.URI, "k/1", 1, want...)
	var total int64
	for range 5 {
		total += runBudget(10).Records
	}
	if total != 30 {
		t.Fatalf("leases read %d records, want 30", total)
	}
	if got := values(readAll(t, e.kafka.Client, "keep")); !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if n := strings.Count(e.broker.Log(), " as sluice-keep-0 "); n != 1 {
		t.Fatalf("the task connected %d times, want once", n)
	}
}

// A message too large for Kafka (2 MB against the producer's 1 MB limit):
// under errors.tolerance=none the lease fails and acknowledges nothing, so
// the broker keeps the message; under errors.tolerance=all it is skipped
// (and acknowledged) while the others go to Kafka.
func TestOversizedMessage(t *testing.T) {
	e := start(t, mosquittotest.Options{})
	cfg := sourceConfig("big", e.broker.URI, "big/#", 1)
	e.run(t, cfg, 200*time.Millisecond)
	publish(t, e.broker.URI, "big/1", 1, "small-1", strings.Repeat("x", 2<<20), "small-2")

	res := e.exec.Run(context.Background(), sourceLease(t, cfg, 500*time.Millisecond))
	if res.Status != lease.Failed {
		t.Fatalf("lease with an oversized message under errors.tolerance=none: %s", res.Status)
	}
	cfg["errors.tolerance"] = "all"
	res = e.run(t, cfg, 500*time.Millisecond)
	if res.Errors != 1 {
		t.Fatalf("lease under errors.tolerance=all: %d errors, want 1 (%s)", res.Errors, res.Error)
	}
	var small []string
	for _, v := range values(readAll(t, e.kafka.Client, "big")) {
		if len(v) < 100 {
			small = append(small, v)
		}
	}
	if !slices.Contains(small, "small-1") || !slices.Contains(small, "small-2") {
		t.Fatalf("Kafka has %q", small)
	}
	if res := e.run(t, cfg, 300*time.Millisecond); res.Records != 0 {
		t.Fatalf("a later lease read %d records: the skipped message was not acknowledged", res.Records)
	}
}

// A lease that ends at its record budget while the broker still sends
// (Mosquitto 2.0 sends the whole backlog once acknowledgements come) closes
// its connection with messages unread: the broker still processes every
// acknowledgement sent before (the connection is half-closed and drained,
// not reset), so the leases together write each message exactly once, in
// order. Each lease holds at most 16,384 received messages, whatever the
// backlog.
func TestBudgetEndsLeaseMidBacklog(t *testing.T) {
	e := start(t, mosquittotest.Options{MaxInflight: 100})
	cfg := sourceConfig("budget", e.broker.URI, "b/#", 1)
	cfg[mqtt.BatchSizeConfig] = "500" // the budget is checked after each batch
	e.run(t, cfg, 200*time.Millisecond)
	want := numbered("b", 3000)
	publish(t, e.broker.URI, "b/1", 1, want...)
	var counts []int64
	for total := int64(0); total < int64(len(want)) && len(counts) < 10; {
		l := sourceLease(t, cfg, time.Second)
		l.Budget.MaxRecords = 1000
		res := e.exec.Run(context.Background(), l)
		if res.Status != lease.Succeeded {
			t.Fatalf("lease %s: %s %s", res.LeaseID, res.Status, res.Error)
		}
		counts = append(counts, res.Records)
		total += res.Records
	}
	if got := values(readAll(t, e.kafka.Client, "budget")); !slices.Equal(got, want) {
		t.Fatalf("leases read %v; Kafka has %d records, want the %d messages once each, in order", counts, len(got), len(want))
	}
	if counts[0] >= int64(len(want)) {
		t.Fatalf("leases read %v: the first did not stop at its budget", counts)
	}
	if res := e.run(t, cfg, 300*time.Millisecond); res.Records != 0 {
		t.Fatalf("a lease after the backlog read %d records", res.Records)
	}
}
