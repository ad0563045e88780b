package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/postgrescdc"
	"github.com/sluicehq/sluice/pkg/kafka"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// defaultChanges keeps make bench-smoke fast; make bench-cdc sets
// SLUICE_BENCH_CHANGES=1000000.
const defaultChanges = 20_000

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

type bench struct {
	db     *pgtest.DB
	k      *kafkatest.Env
	exec   *lease.Executor
	config map[string]string
	epoch  int64
	broker string
}

func setup(b *testing.B) *bench {
	b.Helper()
	db := pgtest.NewDB(b)
	broker := benchkit.ExternalBroker(b)
	k := kafkatest.Connect(b, []string{broker})
	reg, err := connect.NewRegistry(append(converter.Plugins(), postgrescdc.Plugins()...)...)
	if err != nil {
		b.Fatal(err)
	}
	x := &bench{db: db, k: k, exec: lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{}), broker: broker}
	x.config = map[string]string{
		"name": "cdc", "connector.class": postgrescdc.Class,
		"database.hostname": db.Server.Host, "database.port": strconv.Itoa(db.Server.Port), "database.user": pgtest.User,
		"database.password": db.Server.Password, "database.dbname": db.Name, "database.sslmode": "disable",
		"topic.prefix": "bench", "slot.name": "sluice_bench", "publication.name": "bench_pub", "snapshot.mode": "no_data",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "false",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
	}
	b.Cleanup(func() {
		time.Sleep(200 * time.Millisecond)
		_, _ = db.SQL.Exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND slot_name IN ('sluice_bench', 'bare_bench', 'dbz_bench')")
	})
	return x
}

func (x *bench) lease(b *testing.B, maxTime time.Duration) lease.Result {
	b.Helper()
	x.epoch++
	l := lease.Lease{ID: fmt.Sprintf("l%d", x.epoch), Kind: lease.KindSource, Connector: "cdc", Epoch: x.epoch,
		Deadline: time.Now().Add(maxTime + 30*time.Second), ConnectorConfig: x.config, TaskConfig: x.config,
		Budget: lease.Budget{MaxTime: lease.Duration(maxTime), MaxIdle: lease.Duration(time.Second)}}
	res := x.exec.Run(context.Background(), l)
	if res.Status != lease.Succeeded {
		b.Fatalf("lease: %s\n%s", res.Status, res.Trace)
	}
	return res
}

// payload is ~180 bytes of text, so that a row is about 200 bytes.
var payload = strings.Repeat("abcdefghij", 18)

// BenchmarkCDC captures n row changes (n/2 inserts, then n/2 updates, in
// transactions of 10,000 rows) made before the capture starts, into Kafka
// (a broker in its own process; JSON without schemas), with back-to-back
// leases. It reports changes/s (over the leases, and to the last change
// in Kafka), CPU-s and peak RSS of this process, and
// the WAL the slot retains at the end; next to it, the rate at which
// PostgreSQL streams the same WAL to pg_recvlogical (pgoutput, to
// /dev/null) on its own slot. Then, in worker mode (leases back to back)
// with changes committed at a steady rate, the latency from commit to
// Kafka, p50 and p99. With SLUICE_BENCH_DEBEZIUM (make bench-cdc-debezium),
// before the latency phase, Debezium's PostgresConnector captures the same
// changes from its own slot (runDebezium), reported side by side.
func BenchmarkCDC(b *testing.B) {
	n := envInt(b, "SLUICE_BENCH_CHANGES", defaultChanges)
	x := setup(b)
	x.db.Exec(b, `CREATE TABLE items (id bigint PRIMARY KEY, ver int NOT NULL, payload text NOT NULL)`)
	x.lease(b, 5*time.Second) // creates the publication and the slot; nothing to snapshot
	x.db.Exec(b, `SELECT pg_create_logical_replication_slot('bare_bench', 'pgoutput')`)
	dbzMode := debeziumMode(b)
	if dbzMode != "" {
		debeziumSlot(b, x)
	}

	const txRows = 10_000
	inserts := n / 2
	for lo := 0; lo < inserts; lo += txRows {
		x.db.Exec(b, `INSERT INTO items SELECT g, 0, $1 FROM generate_series($2::bigint, $3::bigint) g`, payload, lo+1, min(lo+txRows, inserts))
	}
	for lo := 0; lo < n-inserts; lo += txRows {
		x.db.Exec(b, `UPDATE items SET ver = ver + 1 WHERE id BETWEEN $1 AND $2`, lo+1, min(lo+txRows, n-inserts))
	}
	var end string
	if err := x.db.SQL.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&end); err != nil {
		b.Fatal(err)
	}
	walBytes := x.db.QueryInt(b, `SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_bench'`)

	// The anchor: PostgreSQL streaming the same changes to pg_recvlogical.
	recv, err := daemontest.FindBinary(pgtest.BinDirs, "pg_recvlogical")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(recv, "-d", x.db.URL, "--slot", "bare_bench", "--start", "-E", end, "-f", "/dev/null",
		"-o", "proto_version=1", "-o", "publication_names=bench_pub", "--no-loop")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("pg_recvlogical: %v\n%s", err, out)
	}
	bare := time.Since(start)
	bareCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()

	b.ResetTimer()
	load := loadAverage(b)
	stopProfile := benchkit.StartCPUProfile(b, os.Getenv("SLUICE_BENCH_CPUPROFILE")) // the capture phase alone
	benchkit.ResetPeakRSS()
	cpu0, heap0 := benchkit.CPU(), benchkit.ReadHeap()
	start = time.Now()
	var records, bytes int64
	for records < int64(n) {
		res := x.lease(b, 5*time.Minute)
		records, bytes = records+res.Records, bytes+res.Bytes
		if res.Records == 0 {
			b.Fatalf("a lease captured nothing after %d of %d changes", records, n)
		}
	}
	elapsed, cpu, heap := time.Since(start), benchkit.CPU()-cpu0, benchkit.ReadHeap().Since(heap0)
	b.StopTimer()
	stopProfile()
	retained := x.db.QueryInt(b, `SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_bench'`)
	unconfirmed := x.db.QueryInt(b, `SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_bench'`)
	benchkit.Report(b, records, bytes, elapsed, cpu) // peak RSS: the capture's, before the raw produce below
	// The machine may be shared: CPU time per change is steadier than the
	// rate, and the load average says how shared it was.
	b.ReportMetric(float64(cpu.Microseconds())/float64(records), "cpu-us/change")
	b.ReportMetric(load, "load-avg-1m")
	heap.Report(b, records)
	b.ReportMetric(float64(n)/bare.Seconds(), "pg_recvlogical-changes/s")
	b.ReportMetric(float64(records)/elapsed.Seconds()/(float64(n)/bare.Seconds())*100, "pct-of-pg_recvlogical")
	b.ReportMetric(float64(walBytes)/1e6, "wal-MB")
	// restart_lsn (what the server keeps) follows the confirmed LSN once
	// the server decodes its next running-transactions record (at a
	// checkpoint, or within 15 s): the unconfirmed WAL is what the slot
	// still holds for Kafka.
	b.ReportMetric(float64(retained)/1e6, "wal-retained-MB")
	b.ReportMetric(float64(unconfirmed)/1e6, "wal-unconfirmed-MB")

	rss := benchkit.PeakRSSMB()

	// The second anchor: the records the leases produced, read back and
	// produced again to a fresh topic with as many partitions by the same
	// producer (pkg/kafka's, at a lease's options) from memory, the rate
	// at which Kafka takes these very records on this machine.
	msgs, parts := benchkit.ReadTopic(b, x.k.Client, "bench.public.items")
	if int64(len(msgs)) != records {
		b.Fatalf("bench.public.items holds %d records, the leases produced %d", len(msgs), records)
	}
	// The leases' time includes the last lease's end: its idle wait
	// (MaxIdle, 1 s) and its commit. The rate to Kafka stops at the last
	// change's timestamp instead (the producer's clock when it batched the
	// record), as pg_recvlogical's run stops at the end LSN.
	var last time.Time
	for _, m := range msgs {
		if m.Timestamp.After(last) {
			last = m.Timestamp
		}
	}
	toKafka := last.Sub(start)
	raw := benchkit.RawProduce(b, x.k.Client, "raw.bench.public.items", parts, msgs)
	msgs = nil
	rate := float64(records) / elapsed.Seconds()
	rateToKafka := float64(records) / toKafka.Seconds()
	b.ReportMetric(rateToKafka, "to-kafka-changes/s")
	b.ReportMetric(100*rateToKafka/(float64(n)/bare.Seconds()), "to-kafka-pct-of-pg_recvlogical")
	b.ReportMetric(raw.RecordsPerSecond(), "raw-produce-changes/s")
	b.ReportMetric(raw.MBPerSecond(), "raw-produce-MB/s")
	b.ReportMetric(raw.CPU.Seconds(), "raw-produce-cpu-s")
	b.ReportMetric(float64(raw.Heap.AllocObjects)/float64(raw.Records), "raw-produce-allocs/record")
	b.ReportMetric(100*rate/raw.RecordsPerSecond(), "pct-of-raw-produce")

	// Logged too, so that a failed latency phase does not lose them.
	b.Logf("capture: %d changes in %s (%.0f/s, %.1f MB/s, %.0f B/record), %.2f CPU-s, peak RSS %.0f MB, load %.2f",
		records, elapsed.Round(time.Millisecond), rate, float64(bytes)/elapsed.Seconds()/1e6, float64(bytes)/float64(records), cpu.Seconds(), rss, load)
	fmt.Printf("CDC capture against its anchors (load %.2f at the start, %.2f after the raw produce):\n"+
		"  pg_recvlogical (same WAL):           %.0f changes/s, %.2f CPU-s of its own; capture %.1f%% of it, target 60%%\n"+
		"  raw produce of the captured records: %s; capture %.1f%% of its rate, CPU-s %.2f vs %.2f (%.2f CPU-s are not the producer's)\n"+
		"                                       raw produce is %.1f%% of pg_recvlogical's rate, the most a capture producing these records with this producer could reach\n"+
		"  capture:                             %d changes in %s: %.0f changes/s, %.1f MB/s, %.2f CPU-s, peak RSS %.0f MB; %s\n"+
		"  capture to Kafka:                    the last change was in Kafka after %s: %.0f changes/s, %.1f%% of pg_recvlogical (the leases' time above adds the last lease's 1 s idle end and commit)\n",
		load, loadAverage(b), float64(n)/bare.Seconds(), bareCPU.Seconds(), 100*rate/(float64(n)/bare.Seconds()),
		raw, 100*rate/raw.RecordsPerSecond(), cpu.Seconds(), raw.CPU.Seconds(), cpu.Seconds()-raw.CPU.Seconds(),
		100*raw.RecordsPerSecond()/(float64(n)/bare.Seconds()),
		records, elapsed.Round(time.Millisecond), rate, float64(bytes)/elapsed.Seconds()/1e6, cpu.Seconds(), rss, heap.String(records),
		toKafka.Round(time.Millisecond), rateToKafka, 100*rateToKafka/(float64(n)/bare.Seconds()))
	if dbzMode != "" {
		// Debezium on the same changes, from its own slot, after the
		// capture and the raw produce (the machine is not shared with them).
		load := loadAverage(b)
		d := runDebezium(b, x, dbzMode, n, x.broker)
		sizes := ""
		if dbzMode == "kafka" {
			got, _ := benchkit.ReadTopic(b, x.k.Client, "dbz.public.items")
			if len(got) != n {
				b.Fatalf("dbz.public.items holds %d records, Debezium acknowledged %d", len(got), n)
			}
			var dBytes int64
			for _, m := range got {
				dBytes += int64(len(m.Key) + len(m.Value))
			}
			got = nil
			sizes = fmt.Sprintf("; %.0f B/record in Kafka (key and value), Sluice's %.0f", float64(dBytes)/float64(n), float64(bytes)/float64(records))
		}
		dRate := float64(n) / d.elapsed.Seconds()
		dSteady := float64(n-1) / (d.elapsed - d.firstAfter).Seconds()
		b.ReportMetric(dRate, "debezium-changes/s")
		b.ReportMetric(dSteady, "debezium-after-first-changes/s")
		b.ReportMetric(d.cpu.Seconds(), "debezium-cpu-s")
		b.ReportMetric(d.peakRSSMB, "debezium-peak-rss-MB")
		sink := "produced to the same broker (KafkaProducer, acks=all; a change counts once acknowledged)"
		if d.mode == "count" {
			sink = "counted as the engine hands them over, no sink"
		}
		fmt.Printf("Debezium 3.6.1.Final PostgresConnector on the same %d changes (embedded engine, pgoutput, own slot, JsonConverter without schemas, -Xmx512m; %s%s; load %.2f):\n"+
			"  from the JVM's start:                %s: %.0f changes/s, %.1f%% of pg_recvlogical; %.2f CPU-s, peak RSS %.0f MB\n"+
			"  start-up (JVM start to first change): %s, %.2f CPU-s\n"+
			"  first to last change:                %s: %.0f changes/s, %.2f CPU-s\n"+
			"  Sluice (above, to Kafka):            %s: %.0f changes/s, %.2f CPU-s, peak RSS %.0f MB\n",
			n, sink, sizes, load, d.elapsed.Round(time.Millisecond), dRate, 100*dRate/(float64(n)/bare.Seconds()), d.cpu.Seconds(), d.peakRSSMB,
			d.firstAfter.Round(time.Millisecond), d.cpuAtFirst.Seconds(),
			(d.elapsed - d.firstAfter).Round(time.Millisecond), dSteady, (d.cpu - d.cpuAtFirst).Seconds(),
			toKafka.Round(time.Millisecond), rateToKafka, cpu.Seconds(), rss)
	}
	p50, p99 := latency(b, x)
	b.ReportMetric(p50.Seconds()*1000, "latency-p50-ms")
	b.ReportMetric(p99.Seconds()*1000, "latency-p99-ms")
}

// latency runs leases of up to 10 s back to back (a worker) while 10-row
// transactions are committed at 2,000 changes/s for 20 s, then compares each change's
// commit time (source.ts_us) with when Kafka got it (the record's
// timestamp, set by the producer).
func latency(b *testing.B, x *bench) (p50, p99 time.Duration) {
	b.Helper()
	ctx := context.Background()
	tp := kafka.TopicPartition{Topic: "bench.public.items", Partition: 0}
	tps := []kafka.TopicPartition{tp}
	parts, err := x.k.Client.Partitions(ctx, tp.Topic)
	if err != nil {
		b.Fatal(err)
	}
	tps = tps[:0]
	for _, p := range parts {
		tps = append(tps, kafka.TopicPartition{Topic: tp.Topic, Partition: p})
	}
	before, err := x.k.Client.Watermarks(ctx, tps)
	if err != nil {
		b.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			x.lease(b, 10*time.Second)
		}
	}()
	const rate, seconds, rows = 2000, 20, 10
	tick := time.NewTicker(time.Second * rows / rate)
	id := int64(1 << 40)
	for range rate * seconds / rows {
		<-tick.C
		x.db.Exec(b, `INSERT INTO items SELECT g, 0, $1 FROM generate_series($2::bigint, $3::bigint) g`, payload, id, id+rows-1)
		id += rows
	}
	tick.Stop()
	time.Sleep(5 * time.Second)
	stop.Store(true)
	wg.Wait()
	after, err := x.k.Client.Watermarks(ctx, tps)
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for _, tp := range tps {
		err := x.k.Client.FetchRange(ctx, tp, before[tp].High, after[tp].High, 4<<20, func(ms []kafka.Message) error {
			for _, m := range ms {
				var v struct {
					Source struct {
						TsUs int64 `json:"ts_us"`
					} `json:"source"`
				}
				if err := json.Unmarshal(m.Value, &v); err != nil || v.Source.TsUs == 0 {
					continue
				}
				lat = append(lat, m.Timestamp.Sub(time.UnixMicro(v.Source.TsUs)))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(lat) < rate*seconds*9/10 {
		b.Fatalf("only %d of %d changes reached Kafka (watermarks %v -> %v)", len(lat), rate*seconds, before, after)
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// loadAverage is the machine's one-minute load average (/proc/loadavg).
func loadAverage(b *testing.B) float64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0 // not Linux: not reported
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	l, _ := strconv.ParseFloat(f[0], 64)
	return l
}
