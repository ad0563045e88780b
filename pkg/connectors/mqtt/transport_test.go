package mqtt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mosquittotest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// transport is one way of reaching the broker: a URI and the TLS files the
// connector is configured with.
type transport struct {
	name, uri     string
	ca, cert, key string
}

func (tr transport) apply(cfg map[string]string) {
	if tr.ca != "" {
		cfg["mqtt.ssl.ca.file"] = tr.ca
	}
	if tr.cert != "" {
		cfg["mqtt.ssl.cert.file"], cfg["mqtt.ssl.key.file"] = tr.cert, tr.key
	}
}

// transports starts two real brokers: one with ws://, wss:// and ssl://
// listeners that need no client certificate, one whose ssl:// and wss://
// listeners require a client certificate signed by the test CA (mutual
// TLS). The plain tcp:// listener of each is for the test's own clients.
func transports(t *testing.T) (plain, mtls *mosquittotest.Broker, trs []transport) {
	t.Helper()
	plain = mosquittotest.Start(t, mosquittotest.Options{TLS: true, WebSockets: true})
	mtls = mosquittotest.Start(t, mosquittotest.Options{TLS: true, WebSockets: true, RequireCertificate: true})
	for _, b := range []*mosquittotest.Broker{plain, mtls} {
		if b.WSURI == "" || b.WSSURI == "" || !strings.HasPrefix(b.WSURI, "ws://") || !strings.HasPrefix(b.WSSURI, "wss://") {
			t.Fatalf("broker URIs %q %q", b.WSURI, b.WSSURI)
		}
	}
	trs = []transport{
		{name: "ws", uri: plain.WSURI},
		{name: "wss", uri: plain.WSSURI, ca: plain.CAFile},
		{name: "ssl mutual TLS", uri: mtls.TLSURI, ca: mtls.CAFile, cert: mtls.ClientCertFile, key: mtls.ClientKeyFile},
		{name: "wss mutual TLS", uri: mtls.WSSURI, ca: mtls.CAFile, cert: mtls.ClientCertFile, key: mtls.ClientKeyFile},
	}
	return plain, mtls, trs
}

func brokerOf(tr transport, plain, mtls *mosquittotest.Broker) *mosquittotest.Broker {
	if tr.cert != "" {
		return mtls
	}
	return plain
}

// The source reads over MQTT over WebSockets, over TLS WebSockets, and
// over TLS and TLS WebSockets with a client certificate the broker
// requires: messages published between two leases arrive in Kafka, in
// order, and the broker logged the connector's client on that listener.
func TestSourceTransports(t *testing.T) {
	plain, mtls, trs := transports(t)
	k := startKafka(t)
	exec := newExecutor(t, k)
	for i, tr := range trs {
		t.Run(tr.name, func(t *testing.T) {
			b := brokerOf(tr, plain, mtls)
			name := fmt.Sprintf("transport%d", i)
			cfg := sourceConfig(name, tr.uri, "tr/"+name+"/#", 1)
			tr.apply(cfg)
			// The first lease creates the persistent session.
			e := &env{broker: b, kafka: k, exec: exec}
			e.run(t, cfg, 200*time.Millisecond)
			want := numbered(name, 5)
			publish(t, b.URI, "tr/"+name+"/x", 1, want...)
			deadline := time.Now().Add(20 * time.Second)
			var got []string
			for len(got) < len(want) && time.Now().Before(deadline) {
				e.run(t, cfg, 300*time.Millisecond)
				got = values(readAll(t, k.Client, name))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("records %q, want %q", got, want)
			}
			waitConnected(t, b, "sluice-"+name+"-0", 2)
		})
	}
}

// The sink publishes over the same four transports.
func TestSinkTransports(t *testing.T) {
	plain, mtls, trs := transports(t)
	k := startKafka(t)
	exec := newExecutor(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "out", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := p.Send(ctx, kafka.Message{Topic: "out", Partition: 0, Value: []byte(fmt.Sprintf("out-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	for i, tr := range trs {
		t.Run(tr.name, func(t *testing.T) {
			b := brokerOf(tr, plain, mtls)
			topic := fmt.Sprintf("sink/%d", i)
			got := subscribeAll(t, b.URI, topic)
			cfg := map[string]string{
				"name": fmt.Sprintf("snk%d", i), "connector.class": mqtt.SinkClass, "topics": "out",
				"mqtt.server.uri": tr.uri, "mqtt.qos": "1", "mqtt.topic": topic,
				"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
			}
			tr.apply(cfg)
			res := exec.Run(context.Background(), lease.Lease{ID: "st-" + tr.name, Kind: lease.KindSink, Connector: cfg["name"], Epoch: 1,
				Deadline: time.Now().Add(20 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
				Ranges: []lease.Range{{Topic: "out", Partition: 0, Start: 0, End: 5}}})
			if res.Status != lease.Succeeded {
				t.Fatalf("lease: %s %s\n%s", res.Status, res.Error, res.Trace)
			}
			for j, m := range got(5) {
				if string(m.Payload()) != fmt.Sprintf("out-%d", j) {
					t.Fatalf("message %d: %q", j, m.Payload())
				}
			}
		})
	}
}

// A broker that requires a client certificate refuses a connector without
// one, and the lease fails as not retriable (retrying changes nothing until
// the configuration does); certificate files that are missing, not PEM, or given without their
// key fail the lease naming the key and the file, before any connection.
func TestClientCertificateFailures(t *testing.T) {
	b := mosquittotest.Start(t, mosquittotest.Options{TLS: true, WebSockets: true, RequireCertificate: true})
	k := startKafka(t)
	exec := newExecutor(t, k)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name, uri, cert, key string
		retriable            bool
		want                 []string
		noCA                 bool
	}{
		{"ssl without client certificate", b.TLSURI, "", "", false, []string{"connecting to MQTT broker", b.TLSURI, "certificate"}, false},
		{"wss without client certificate", b.WSSURI, "", "", false, []string{"connecting to MQTT broker", b.WSSURI, "certificate"}, false},
		{"missing certificate file", b.TLSURI, missing, b.ClientKeyFile, false, []string{"mqtt.ssl.cert.file", missing, "no such file"}, false},
		{"missing key file", b.TLSURI, b.ClientCertFile, missing, false, []string{"mqtt.ssl.key.file", missing, "no such file"}, false},
		{"certificate file not PEM", b.TLSURI, garbage, b.ClientKeyFile, false, []string{"mqtt.ssl.cert.file", garbage, "PEM"}, false},
		{"key file not PEM", b.TLSURI, b.ClientCertFile, garbage, false, []string{"mqtt.ssl.key.file", garbage, "PEM"}, false},
		{"key of another certificate", b.TLSURI, b.ClientCertFile, filepath.Join(b.Dir, "server-key.pem"), false, []string{"mqtt.ssl.cert.file", "does not match"}, false},
		{"certificate without key", b.TLSURI, b.ClientCertFile, "", false, []string{"mqtt.ssl.cert.file and mqtt.ssl.key.file must be set together"}, false},
		{"wss broker not trusted", b.WSSURI, b.ClientCertFile, b.ClientKeyFile, false, []string{b.WSSURI, "certificate signed by unknown authority"}, true},
		{"ssl broker not trusted", b.TLSURI, b.ClientCertFile, b.ClientKeyFile, false, []string{b.TLSURI, "certificate signed by unknown authority"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sourceConfig("mtls", tt.uri, "x/#", 1)
			if !tt.noCA {
				cfg["mqtt.ssl.ca.file"] = b.CAFile
			}
			cfg["mqtt.connect.timeout.seconds"] = "5"
			if tt.cert != "" {
				cfg["mqtt.ssl.cert.file"] = tt.cert
			}
			if tt.key != "" {
				cfg["mqtt.ssl.key.file"] = tt.key
			}
			res := exec.Run(context.Background(), sourceLease(t, cfg, 200*time.Millisecond))
			if res.Status != lease.Failed || res.Retriable != tt.retriable {
				t.Fatalf("status %s retriable %t, want failed retriable %t: %s\n%s", res.Status, res.Retriable, tt.retriable, res.Error, res.Trace)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Error, w) {
					t.Errorf("error %q lacks %q", res.Error, w)
				}
			}
		})
	}
}
