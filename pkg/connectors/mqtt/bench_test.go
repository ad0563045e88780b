package mqtt_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mosquittotest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// benchRecords is SLUICE_BENCH_RECORDS (make bench-mqtt: 1,000,000), or a
// small default so that make bench-smoke stays quick.
func benchRecords(b *testing.B) int {
	if v := os.Getenv("SLUICE_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 5000
}

// benchWindow is the broker's in-flight window and the lease's record
// budget (SLUICE_BENCH_MQTT_WINDOW, default 10,000; at most MQTT's 65,535
// message ids).
func benchWindow(b *testing.B) int {
	if v := os.Getenv("SLUICE_BENCH_MQTT_WINDOW"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 10_000
}

// benchLeaseRecords is a source lease's record budget
// (SLUICE_BENCH_MQTT_LEASE_RECORDS, default 500,000: the executor's
// default budget, which the coordinator's source leases get).
func benchLeaseRecords(b *testing.B) int64 {
	if v := os.Getenv("SLUICE_BENCH_MQTT_LEASE_RECORDS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 500_000
}

// queue publishes n order payloads (about 200 bytes, the datagen orders
// as JSON) at QoS 1 to 16 topics bench/dev<i>, for the persistent session
// created before, and waits for the broker's acknowledgements.
func queue(b *testing.B, uri string, n int) (bytes int64) {
	b.Helper()
	opts := paho.NewClientOptions().AddBroker(uri).SetClientID("bench-pub").SetCleanSession(true).SetMaxResumePubInFlight(1000)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer c.Disconnect(250)
	var tokens []paho.Token
	i := 0
	benchkit.Orders(b, "orders", n, func(ms []kafka.Message) {
		for _, m := range ms {
			tokens = append(tokens, c.Publish(fmt.Sprintf("bench/dev%d", i%16), 1, false, m.Value))
			bytes += int64(len(m.Value))
			i++
		}
		for _, t := range tokens {
			if !t.WaitTimeout(30*time.Second) || t.Error() != nil {
				b.Fatalf("publish: %v", t.Error())
			}
		}
		tokens = tokens[:0]
	})
	return bytes
}

// BenchmarkMQTTSource moves SLUICE_BENCH_RECORDS messages (QoS 1, about
// 200 bytes) that Mosquitto queued for the task's persistent session into
// Kafka (the embedded broker in its own process, 4 partitions) with source
// leases of at most SLUICE_BENCH_MQTT_WINDOW records, each connecting, producing, acking
// and disconnecting. Reported: records/s, CPU seconds and peak RSS of this
// process (the leases).
func BenchmarkMQTTSource(b *testing.B) {
	n := benchRecords(b)
	broker := mosquittotest.Start(b, mosquittotest.Options{MaxInflight: benchWindow(b)})
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	exec := lease.NewExecutor(registry(b), k.Client, k.Offsets, lease.Options{SafetyMargin: time.Second})
	cfg := sourceConfig("bench", broker.URI, "bench/#", 1)
	// SLUICE_BENCH_MQTT_KEEP=true: a long-lived worker's leases, sharing
	// one connection (mqtt.connection.keep.alive.between.leases).
	cfg[mqtt.KeepConnectedConfig] = os.Getenv("SLUICE_BENCH_MQTT_KEEP")
	if cfg[mqtt.KeepConnectedConfig] == "" {
		cfg[mqtt.KeepConnectedConfig] = "false"
	}
	tc := taskConfig(b, cfg)
	run := func(id string) lease.Result {
		res := exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSource, Connector: "bench", Epoch: time.Now().UnixNano(),
			Deadline: time.Now().Add(5 * time.Minute), ConnectorConfig: cfg, TaskConfig: tc,
			Budget: lease.Budget{MaxRecords: benchLeaseRecords(b)}})
		if res.Status != lease.Succeeded {
			b.Fatalf("lease %s: %s %s", id, res.Status, res.Error)
		}
		return res
	}
	run("session") // creates the persistent session
	for iter := 0; iter < b.N; iter++ {
		b.StopTimer()
		bytes := queue(b, broker.URI, n)
		benchkit.ResetPeakRSS()
		cpu0, t0 := benchkit.CPU(), time.Now()
		b.StartTimer()
		var got int64
		leases := 0
		for got < int64(n) {
			res := run(fmt.Sprintf("l%d-%d", iter, leases))
			if res.Records == 0 {
				b.Fatalf("a lease read nothing after %d of %d records", got, n)
			}
			got += res.Records
			leases++
		}
		b.StopTimer()
		if got != int64(n) {
			b.Fatalf("leases read %d records, want %d", got, n)
		}
		benchkit.Report(b, got, bytes, time.Since(t0), benchkit.CPU()-cpu0)
		b.ReportMetric(float64(leases), "leases")
	}
}

// BenchmarkMosquittoSubscriber is the anchor: a bare paho subscriber
// (automatic acknowledgement, persistent session) receiving the same
// queued QoS 1 messages from the same Mosquitto, doing nothing with them.
// It reads through the same 32 KiB buffer and keeps no store, as the
// source's client does (paho alone reads a packet header a byte at a
// time, a system call each, and stores every message until acked): an
// anchor without them measured less than Mosquitto's rate.
func BenchmarkMosquittoSubscriber(b *testing.B) {
	n := benchRecords(b)
	broker := mosquittotest.Start(b, mosquittotest.Options{MaxInflight: benchWindow(b)})
	received := make(chan struct{}, 1024)
	opts := paho.NewClientOptions().AddBroker(broker.URI).SetClientID("bench-sub").SetCleanSession(false).
		SetStore(benchNoStore{}).
		SetCustomOpenConnectionFn(func(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			conn, err := net.DialTimeout("tcp", uri.Host, 10*time.Second)
			if err != nil {
				return nil, err
			}
			return &benchBufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 32<<10)}, nil
		}).
		SetDefaultPublishHandler(func(paho.Client, paho.Message) { received <- struct{}{} })
	connect := func() paho.Client {
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		return c
	}
	c := connect()
	if tok := c.Subscribe("bench/#", 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	c.Disconnect(250)
	for iter := 0; iter < b.N; iter++ {
		b.StopTimer()
		bytes := queue(b, broker.URI, n)
		benchkit.ResetPeakRSS()
		cpu0, t0 := benchkit.CPU(), time.Now()
		b.StartTimer()
		c := connect()
		stalled := time.NewTimer(30 * time.Second)
		for i := range n {
			if i%1024 == 0 {
				stalled.Reset(30 * time.Second)
			}
			select {
			case <-received:
			case <-stalled.C:
				b.Fatal("the subscriber stopped receiving")
			}
		}
		stalled.Stop()
		c.Disconnect(250)
		b.StopTimer()
		benchkit.Report(b, int64(n), bytes, time.Since(t0), benchkit.CPU()-cpu0)
	}
}

// benchBufferedConn reads through a buffer, as the source's connections do.
type benchBufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *benchBufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// benchNoStore is a paho store that keeps nothing, as the source's client's.
type benchNoStore struct{}

func (benchNoStore) Open()                             {}
func (benchNoStore) Put(string, packets.ControlPacket) {}
func (benchNoStore) Get(string) packets.ControlPacket  { return nil }
func (benchNoStore) All() []string                     { return nil }
func (benchNoStore) Del(string)                        {}
func (benchNoStore) Close()                            {}
func (benchNoStore) Reset()                            {}
