package mqtt_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
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
// and disconnecting. Reported: records/s, CPU seconds, allocations per
// record and peak RSS of this process (the leases), and the CPU seconds
// Mosquitto and the Kafka broker used. SLUICE_BENCH_CPUPROFILE (and, for
// the anchor, SLUICE_BENCH_ANCHOR_CPUPROFILE) profiles the timed part.
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
		stopProfile := benchkit.StartCPUProfile(b, os.Getenv("SLUICE_BENCH_CPUPROFILE"))
		heap0, children0, cpu0, t0 := benchkit.ReadHeap(), childrenCPU(), benchkit.CPU(), time.Now()
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
		stopProfile()
		if got != int64(n) {
			b.Fatalf("leases read %d records, want %d", got, n)
		}
		benchkit.Report(b, got, bytes, time.Since(t0), benchkit.CPU()-cpu0)
		benchkit.ReadHeap().Since(heap0).Report(b, got)
		reportChildrenCPU(b, children0)
		b.ReportMetric(float64(leases), "leases")
	}
}

// BenchmarkMosquittoSubscriber is the anchor: a bare paho subscriber
// (automatic acknowledgement, persistent session) receiving the same
// queued QoS 1 messages from the same Mosquitto, doing nothing with them.
// It uses the source's transport (a 32 KiB read buffer, writes coalesced
// by a writer goroutine) and keeps no store, as the source's client does
// (paho alone reads a packet header a byte at a time, a system call each,
// writes each PUBACK with a system call of its own, and stores every
// message until acked): an anchor without them measured less than
// Mosquitto's rate. Reported besides: the CPU seconds Mosquitto (and, for
// the source, the Kafka broker) used, and the allocations per message.
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
			return mqtt.NewBufferedConn(conn, 10*time.Second), nil
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
		stopProfile := benchkit.StartCPUProfile(b, os.Getenv("SLUICE_BENCH_ANCHOR_CPUPROFILE"))
		heap0, children0, cpu0, t0 := benchkit.ReadHeap(), childrenCPU(), benchkit.CPU(), time.Now()
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
		stopProfile()
		benchkit.Report(b, int64(n), bytes, time.Since(t0), benchkit.CPU()-cpu0)
		benchkit.ReadHeap().Since(heap0).Report(b, int64(n))
		reportChildrenCPU(b, children0)
	}
}

// benchNoStore is a paho store that keeps nothing, as the source's client's.
type benchNoStore struct{}

func (benchNoStore) Open()                             {}
func (benchNoStore) Put(string, packets.ControlPacket) {}
func (benchNoStore) Get(string) packets.ControlPacket  { return nil }
func (benchNoStore) All() []string                     { return nil }
func (benchNoStore) Del(string)                        {}
func (benchNoStore) Close()                            {}
func (benchNoStore) Reset()                            {}

// childrenCPU returns the CPU time (user plus system) each child process
// of this one has used so far, by command name (mosquitto, the Kafka
// broker): on a machine whose cores they share with the client, what
// each side spends per message decides the rate.
func childrenCPU() map[string]time.Duration {
	out := map[string]time.Duration{}
	self := strconv.Itoa(os.Getpid())
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime (fields 14 and 15).
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 || f[1] != self {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[s[open+1:end]] += time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ, 100 on Linux)
	}
	return out
}

// reportChildrenCPU reports the CPU seconds Mosquitto and the Kafka
// broker (the child processes) used since children0 (childrenCPU).
func reportChildrenCPU(b *testing.B, children0 map[string]time.Duration) {
	for name, cpu := range childrenCPU() {
		switch name {
		case "mosquitto":
			b.ReportMetric((cpu - children0[name]).Seconds(), "mosquitto-cpu-s")
		case "broker", "java":
			b.ReportMetric((cpu - children0[name]).Seconds(), "kafka-cpu-s")
		}
	}
}
