package jdbc

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// The benchmarks move b.N rows of about 200 bytes (make bench-jdbc:
// -benchtime 1000000x) and report rows/s, the CPU seconds of the benchmark
// process ("cpu-s", Sluice), of the database server ("db-cpu-s") and, for
// the source, of the broker ("broker-cpu-s"), and the benchmark process's
// peak RSS. Each Sluice figure has its anchor, the physical limit on the
// machine: a raw driver loop reading the same table, and the database's
// bulk load writing the same rows, in ascending key order, into an empty
// table: PostgreSQL's binary COPY FROM, MariaDB's LOAD DATA LOCAL INFILE
// (BenchmarkJDBCRawLoadData). The source's second anchor is a raw produce
// of the records it produced; the sink's, for PostgreSQL a raw upsert of
// the rows (COPY does not check for conflicts), for MariaDB multi-row
// INSERTs of batch.size rows in one transaction (BenchmarkJDBCRawWrite).

// benchDB is a database of one of the servers, with the server's pid.
type benchDB struct {
	testDB
	pid int
}

func benchDatabases(b *testing.B, f func(b *testing.B, db benchDB)) {
	b.Run("postgres", func(b *testing.B) {
		f(b, benchDB{newPostgres(b), pgtest.Shared(b).PID()})
	})
	b.Run("mariadb", func(b *testing.B) {
		f(b, benchDB{newMariaDB(b), mariadbtest.Shared(b).PID()})
	})
}

// loadRows fills table bench_rows with n rows of about 200 bytes.
func loadRows(b *testing.B, db benchDB, n int) {
	b.Helper()
	db.exec(b, db.pick(
		"CREATE TABLE bench_rows (id bigint PRIMARY KEY, name varchar(64) NOT NULL, note varchar(200) NOT NULL, amount numeric(12,2) NOT NULL, created_at timestamp(3) NOT NULL)",
		"CREATE TABLE bench_rows (id bigint PRIMARY KEY, name varchar(64) NOT NULL, note varchar(200) NOT NULL, amount decimal(12,2) NOT NULL, created_at datetime(3) NOT NULL)"))
	// Loading a million rows takes longer than exec's time limit.
	load := db.pick(
		`INSERT INTO bench_rows SELECT g, 'customer-' || g, repeat('x', 100) || g, g * 0.01, timestamp '2026-01-01' + g * interval '1 millisecond'
		 FROM generate_series(1, `+strconv.Itoa(n)+`) g`,
		`INSERT INTO bench_rows SELECT seq, CONCAT('customer-', seq), CONCAT(REPEAT('x', 100), seq), seq * 0.01,
		 TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq * 1000 MICROSECOND FROM seq_1_to_`+strconv.Itoa(n))
	if _, err := db.sql.Exec(load); err != nil {
		b.Fatalf("loading %d rows: %v", n, err)
	}
	if db.kind == "postgres" {
		db.exec(b, "VACUUM ANALYZE bench_rows")
	}
}

// dbCPU is the CPU time of the server process and its children so far
// (0 for pid 0, an unknown process).
func dbCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	ticks := func(p int, withChildren bool) int64 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		// After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
		var sum int64
		last := 12
		if withChildren {
			last = 14
		}
		for i := 11; i <= last; i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			sum += v
		}
		return sum
	}
	total := ticks(pid, true)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += ticks(p, false)
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

func reportDB(b *testing.B, rows int64, elapsed, cpu, dbcpu time.Duration) {
	f := figure{rows: rows, rate: float64(rows) / elapsed.Seconds(), cpu: cpu.Seconds(), dbcpu: dbcpu.Seconds(), rss: benchkit.PeakRSSMB(), load: loadAverage()}
	b.ReportMetric(f.rate, "rows/s")
	b.ReportMetric(f.cpu, "cpu-s")
	b.ReportMetric(f.dbcpu, "db-cpu-s")
	b.ReportMetric(f.rss, "peak-rss-MB")
	b.ReportMetric(f.load, "load1")
	b.ReportMetric(0, "ns/op")
	if rows > 1 { // not the benchmark's first, one-row run
		figures[b.Name()] = f
	}
}

// figure is one benchmark's result; figures holds them by benchmark name
// for printRatios.
type figure struct {
	rows                  int64
	rate, cpu, dbcpu, rss float64
	load                  float64
	broker                float64 // the broker's CPU-s (sources)
}

var figures = map[string]figure{}

// loadAverage is the machine's one-minute load average (0 when unknown):
// the machine may be shared, and the rates with it.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

// printRatios prints each Sluice figure next to its anchor (make
// bench-jdbc runs them all): the rate as a share of the anchor's, and
// the CPU seconds (Sluice's or the driver loop's, plus the database's)
// per row of each, which a loaded machine disturbs less than the rates.
func printRatios(w io.Writer) {
	// The targets are the issue's: the source 70% of the raw read, the
	// sink 50% of the database's bulk load (COPY FROM; MariaDB's LOAD
	// DATA LOCAL INFILE, with its multi-row INSERTs as a second anchor).
	pairs := []struct{ what, sluice, anchor, target string }{
		{"source", "BenchmarkJDBCSource", "BenchmarkJDBCRawRead", "70%"},
		{"source (schemaless JSON)", "BenchmarkJDBCSourceSchemaless", "BenchmarkJDBCRawRead", ""},
		{"sink (upsert)", "BenchmarkJDBCSink", "BenchmarkJDBCRawWrite", "50%"},
		{"sink vs raw LOAD DATA", "BenchmarkJDBCSink", "BenchmarkJDBCRawLoadData", "50%"},
		{"sink (LOAD DATA) vs raw", "BenchmarkJDBCSinkLoadData", "BenchmarkJDBCRawLoadData", "50%"},
		{"sink (upsert, LOAD DATA)", "BenchmarkJDBCSinkLoadData", "BenchmarkJDBCRawWrite", ""},
		{"sink vs raw upsert", "BenchmarkJDBCSink", "BenchmarkJDBCRawUpsert", ""},
		{"sink (upsert, existing rows)", "BenchmarkJDBCSinkExisting", "BenchmarkJDBCRawWrite", ""},
		{"sink (existing) vs LOAD DATA", "BenchmarkJDBCSinkExisting", "BenchmarkJDBCRawLoadData", ""},
	}
	header := false
	compared := map[string]bool{} // existing rows' figures printed next to new rows', once a database
	for _, p := range pairs {
		for _, db := range []string{"postgres", "mariadb"} {
			s, ok1 := figures[p.sluice+"/"+db]
			a, ok2 := figures[p.anchor+"/"+db]
			if !ok1 || !ok2 {
				continue
			}
			if !header {
				fmt.Fprintln(w, "JDBC figures against their anchors (raw driver read; COPY FROM, MariaDB: LOAD DATA LOCAL INFILE and multi-row INSERTs; for the source also raw produce of the records it produced and the machine's CPU per row against the 70% target's budget; for the PostgreSQL sink also a raw upsert: INSERT .. SELECT FROM unnest(arrays) ON CONFLICT, batches of 3000):")
				header = true
			}
			target := ""
			if p.target != "" && !(p.anchor == "BenchmarkJDBCRawWrite" && db == "mariadb") { // multi-row INSERTs are not a bulk load
				target = ", target " + p.target
			}
			perRow := func(f figure) float64 { return (f.cpu + f.dbcpu) / float64(f.rows) * 1e6 }
			fmt.Fprintf(w, "  %-30s %-8s %5.1f%% of the anchor's rate%s (%.0f vs %.0f rows/s); CPU µs/row (client+db) %.2f vs %.2f; peak RSS %.0f vs %.0f MB; load %.1f/%.1f\n",
				p.what, db, 100*s.rate/a.rate, target, s.rate, a.rate, perRow(s), perRow(a), s.rss, a.rss, s.load, a.load)
			if p.sluice == "BenchmarkJDBCSinkExisting" && !compared[db] {
				compared[db] = true
				if n, ok := figures["BenchmarkJDBCSink/"+db]; ok {
					fmt.Fprintf(w, "  %-30s %-8s existing rows %.0f rows/s, %.1f%% of new rows' %.0f; CPU-s Sluice/database/broker %.2f/%.2f/%.2f vs new rows %.2f/%.2f/%.2f; CPU µs/row (client+db) %.2f vs %.2f\n",
						"", "", s.rate, 100*s.rate/n.rate, n.rate, s.cpu, s.dbcpu, s.broker, n.cpu, n.dbcpu, n.broker, perRow(s), perRow(n))
				}
			}
			if pf, ok := produced[p.sluice+"/"+db]; ok {
				secs := float64(s.rows) / s.rate
				fmt.Fprintf(w, "  %-30s %-8s %5.1f%% of raw produce of its own records (%.0f vs %.0f rows/s; %.1f vs %.1f MB/s, %.0f B/record; CPU-s %.2f vs %.2f: %.2f CPU-s are not the producer's; %s, raw produce %s)\n",
					"", "", 100*s.rate/pf.raw.RecordsPerSecond(), s.rate, pf.raw.RecordsPerSecond(), float64(pf.bytes)/secs/1e6, pf.raw.MBPerSecond(),
					float64(pf.bytes)/float64(s.rows), s.cpu, pf.raw.CPU.Seconds(), s.cpu-pf.raw.CPU.Seconds(), pf.heap.String(s.rows), pf.raw.Heap.String(pf.raw.Records))
				fmt.Fprintf(w, "  %-30s %-8s %5.1f%%: raw produce of these records as a share of the raw read, the most a source producing them with this producer could reach (CPU µs/row: produce alone %.2f, raw read %.2f with the database's)\n",
					"", "", 100*pf.raw.RecordsPerSecond()/a.rate, pf.raw.CPU.Seconds()/float64(pf.raw.Records)*1e6, perRow(a))
				// The machine's CPU budget: the database, the broker and
				// Sluice share its cores, so a rate of r rows/s needs
				// at most cores/r CPU-s a row among them.
				cores := float64(runtime.NumCPU())
				us := func(secs float64, rows int64) float64 { return secs / float64(rows) * 1e6 }
				total := us(s.cpu+s.dbcpu+s.broker, s.rows)
				budget := cores / (0.7 * a.rate) * 1e6
				fmt.Fprintf(w, "  %-30s %-8s machine CPU µs/row: source %.2f (Sluice %.2f + database %.2f + broker %.2f); raw read %.2f (client %.2f + database %.2f); raw produce %.2f (producer %.2f + broker %.2f); 70%% of the raw read (%.0f rows/s) on %.0f cores allows at most %.2f µs/row for all three; the source uses %.1f× that\n",
					"", "", total, us(s.cpu, s.rows), us(s.dbcpu, s.rows), us(s.broker, s.rows), perRow(a), us(a.cpu, a.rows), us(a.dbcpu, a.rows),
					us(pf.raw.CPU.Seconds()+pf.rawBroker, pf.raw.Records), us(pf.raw.CPU.Seconds(), pf.raw.Records), us(pf.rawBroker, pf.raw.Records),
					0.7*a.rate, cores, budget, total/budget)
			}
		}
	}
}

// BenchmarkJDBCRawRead is the source's anchor: one query reading every row
// of the table through the driver, scanned into typed values.
func BenchmarkJDBCRawRead(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db benchDB) {
		loadRows(b, db, b.N)
		benchkit.ResetPeakRSS()
		b.ResetTimer()
		start, cpu0, db0 := time.Now(), benchkit.CPU(), dbCPU(db.pid)
		rows, err := db.sql.Query("SELECT id, name, note, amount, created_at FROM bench_rows ORDER BY id")
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		var id int64
		var name, note, amount string
		var at time.Time
		for rows.Next() {
			if err := rows.Scan(&id, &name, &note, &amount, &at); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		reportDB(b, n, time.Since(start), benchkit.CPU()-cpu0, dbCPU(db.pid)-db0)
	})
}

func benchExecutor(b *testing.B) (*lease.Executor, *kafkatest.Env) {
	k := kafkatest.Connect(b, []string{benchkit.ExternalBroker(b)})
	reg, err := connect.NewRegistry(append(converter.Plugins(), Plugins()...)...)
	if err != nil {
		b.Fatal(err)
	}
	return lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{}), k
}

// copyToKafka runs source leases (incrementing mode, batch.max.rows 5000)
// until the table's n rows are in topic bench-bench_rows, and returns the
// time and the bytes (keys and values) produced. The records are JSON
// with their schemas (JsonConverter's default), or without them when
// schemas is false.
func copyToKafka(b *testing.B, exec *lease.Executor, db benchDB, n int, schemas bool) (elapsed time.Duration, bytes int64) {
	cfg := db.props(map[string]string{
		"name": "bench-src", "connector.class": SourceClass, ModeConfig: ModeIncrementing, IncrementingColumnConfig: "id",
		TopicPrefixConfig: "bench-", TablesConfig: `["bench_rows"]`, BatchMaxRowsConfig: "5000",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable": strconv.FormatBool(schemas), "value.converter.schemas.enable": strconv.FormatBool(schemas),
	})
	start := time.Now()
	var records int64
	for i := 0; records < int64(n); i++ {
		res := exec.Run(context.Background(), lease.Lease{ID: fmt.Sprint("bench-src-", i), Kind: lease.KindSource, Connector: "bench-src",
			Epoch: int64(i + 1), Deadline: time.Now().Add(10 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg,
			Budget: lease.Budget{MaxRecords: 1 << 40, MaxBytes: 1 << 40, MaxTime: lease.Duration(5 * time.Minute), MaxIdle: lease.Duration(50 * time.Millisecond)}})
		if res.Status != lease.Succeeded || res.Records == 0 {
			b.Fatalf("source lease after %d records: %s %s", records, res.Status, res.Error)
		}
		records += res.Records
		bytes += res.Bytes
	}
	return time.Since(start), bytes
}

// BenchmarkJDBCSource: the table into Kafka (external broker) in
// incrementing mode through the lease executor. Its second anchor, measured
// right after it on the same broker: the records it produced, read back
// and produced again to a fresh topic with the same partition count by the
// same producer (pkg/kafka's, at a lease's options) from memory
// (benchkit.RawProduce), the rate at which Kafka takes these very records
// on this machine ("raw-produce-*" metrics).
func BenchmarkJDBCSource(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db benchDB) { benchSource(b, db, true) })
}

// BenchmarkJDBCSourceSchemaless is BenchmarkJDBCSource with the
// JsonConverter's schemas.enable=false: records of about 210 instead of
// 810 bytes (keys and values), the same rows read and converted, to show
// how much of the source's rate and CPU the record size takes.
func BenchmarkJDBCSourceSchemaless(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db benchDB) { benchSource(b, db, false) })
}

func benchSource(b *testing.B, db benchDB, schemas bool) {
	loadRows(b, db, b.N)
	exec, k := benchExecutor(b)
	broker := brokerPID()
	benchkit.ResetPeakRSS()
	stopProfile := benchkit.StartCPUProfile(b, profilePath(b))
	b.ResetTimer()
	cpu0, db0, broker0, heap0 := benchkit.CPU(), dbCPU(db.pid), dbCPU(broker), benchkit.ReadHeap()
	elapsed, bytes := copyToKafka(b, exec, db, b.N, schemas)
	cpu, dbcpu, brokercpu, heap := benchkit.CPU()-cpu0, dbCPU(db.pid)-db0, dbCPU(broker)-broker0, benchkit.ReadHeap().Since(heap0)
	stopProfile()
	b.StopTimer()
	rss := benchkit.PeakRSSMB()
	heap.Report(b, int64(b.N))
	reportProduce(b, k.Client, "bench-bench_rows", bytes, elapsed, heap, broker)
	reportDB(b, int64(b.N), elapsed, cpu, dbcpu)
	b.ReportMetric(rss, "peak-rss-MB") // the source's, not the raw produce's
	b.ReportMetric(brokercpu.Seconds(), "broker-cpu-s")
	if f, ok := figures[b.Name()]; ok {
		f.rss, f.broker = rss, brokercpu.Seconds()
		figures[b.Name()] = f
	}
}

// brokerPID is the benchmark broker's process (benchkit.ExternalBroker's
// child "broker", or the real-Kafka tier's "java"), 0 when there is none
// (dbCPU(0) is 0: broker CPU unknown).
func brokerPID() int {
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		open, close := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || close < open {
			continue
		}
		comm, f := string(b[open+1:close]), strings.Fields(string(b[close+2:]))
		if len(f) > 1 && f[1] == self && (comm == "broker" || comm == "java") {
			pid, _ := strconv.Atoi(e.Name())
			return pid
		}
	}
	return 0
}

// reportProduce reports the source's MB/s (keys and values) and produces
// the records it wrote to topic again (benchkit.RawProduce), reporting
// that anchor's records/s, MB/s and CPU-s, and keeping it for printRatios.
func reportProduce(b *testing.B, client *kafka.Client, topic string, bytes int64, elapsed time.Duration, heap benchkit.Heap, broker int) {
	b.Helper()
	msgs, parts := benchkit.ReadTopic(b, client, topic)
	if len(msgs) != b.N {
		b.Fatalf("%s holds %d records, want %d", topic, len(msgs), b.N)
	}
	broker0 := dbCPU(broker)
	raw := benchkit.RawProduce(b, client, "raw-"+topic, parts, msgs)
	rawBroker := dbCPU(broker) - broker0
	b.ReportMetric(rawBroker.Seconds(), "raw-produce-broker-cpu-s")
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(raw.RecordsPerSecond(), "raw-produce-rows/s")
	b.ReportMetric(raw.MBPerSecond(), "raw-produce-MB/s")
	b.ReportMetric(raw.CPU.Seconds(), "raw-produce-cpu-s")
	b.ReportMetric(float64(raw.Heap.AllocObjects)/float64(raw.Records), "raw-produce-allocs/record")
	if b.N > 1 {
		produced[b.Name()] = produceFigure{bytes: bytes, heap: heap, raw: raw, rawBroker: rawBroker.Seconds()}
	}
}

// produceFigure is a source's bytes, its allocations, and its raw produce
// anchor.
type produceFigure struct {
	bytes     int64
	heap      benchkit.Heap
	raw       benchkit.Produced
	rawBroker float64 // the broker's CPU-s during the raw produce
}

var produced = map[string]produceFigure{}

// BenchmarkJDBCSink: the topic the source wrote, upserted (pk.mode
// record_key, auto.create) into a new table by one sink lease, whose
// figures are the benchmark's; then the upsert-* figures of a second sink
// lease of the same records into the now full table (sinkExisting).
func BenchmarkJDBCSink(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db benchDB) { benchSink(b, db, nil, true) })
}

// BenchmarkJDBCSinkLoadData is BenchmarkJDBCSink into MariaDB with
// mysql.load.data.local=true (LOAD DATA LOCAL INFILE).
func BenchmarkJDBCSinkLoadData(b *testing.B) {
	b.Run("mariadb", func(b *testing.B) {
		benchSink(b, benchDB{newMariaDB(b), mariadbtest.Shared(b).PID()}, map[string]string{MySQLLoadDataConfig: "true"}, false)
	})
}

func benchSink(b *testing.B, db benchDB, extra map[string]string, existing bool) {
	{
		loadRows(b, db, b.N)
		exec, k := benchExecutor(b)
		_, _ = copyToKafka(b, exec, db, b.N, true)
		ctx := context.Background()
		var ranges []lease.Range
		var tps []kafka.TopicPartition
		for p := range int32(4) {
			tps = append(tps, kafka.TopicPartition{Topic: "bench-bench_rows", Partition: p})
		}
		wm, err := k.Client.Watermarks(ctx, tps)
		if err != nil {
			b.Fatal(err)
		}
		for _, tp := range tps {
			ranges = append(ranges, lease.Range{Topic: tp.Topic, Partition: tp.Partition, Start: 0, End: wm[tp].High})
		}
		cfg := db.props(map[string]string{
			"name": "bench-sink", "connector.class": SinkClass, "topics": "bench-bench_rows",
			TableNameFormatConfig: "sink_rows", InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, AutoCreateConfig: "true",
			"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		})
		maps.Copy(cfg, extra)
		broker := brokerPID()
		benchkit.ResetPeakRSS()
		stopProfile := benchkit.StartCPUProfile(b, profilePath(b))
		b.ResetTimer()
		run := runSinkLease(b, exec, db, cfg, ranges, broker)
		stopProfile()
		reportDB(b, run.res.Records, run.elapsed, run.cpu, run.dbcpu)
		brokercpu := run.brokercpu.Seconds()
		b.ReportMetric(brokercpu, "broker-cpu-s")
		if f, ok := figures[b.Name()]; ok {
			f.broker = brokercpu
			figures[b.Name()] = f
		}
		b.StopTimer()
		if got := db.count(b, "SELECT count(*) FROM sink_rows"); got != b.N {
			b.Fatalf("sink_rows has %d rows, want %d", got, b.N)
		}
		if existing {
			sinkExisting(b, db, exec, cfg, ranges, broker)
		}
	}
}

// sinkExisting runs a second sink lease over the same ranges into the
// table the first filled: every record's key is there, so every batch
// conflicts (PostgreSQL: a failed INSERT, then the upserts its backoff
// sends directly). Each row's amount is changed beforehand, so the
// upserts change every row (MariaDB leaves a row set to its own values
// unwritten) and the rows' equality with the source table afterwards shows
// that the lease wrote them all. Its figures are reported as upsert-*
// metrics and kept as BenchmarkJDBCSinkExisting/<db> for printRatios.
func sinkExisting(b *testing.B, db benchDB, exec *lease.Executor, cfg map[string]string, ranges []lease.Range, broker int) {
	b.Helper()
	ctx := context.Background()
	stale := []string{"UPDATE sink_rows SET amount = amount + 1"}
	if db.kind == "postgres" {
		// As compact as the first lease left it, and nothing left for
		// autovacuum or the checkpointer to do during the lease.
		stale = append(stale, "VACUUM FULL sink_rows", "ANALYZE sink_rows", "CHECKPOINT")
	}
	for _, q := range stale {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	const same = `SELECT count(*) FROM sink_rows s JOIN bench_rows r ON r.id = s.id
		WHERE s.name = r.name AND s.note = r.note AND s.amount = r.amount AND s.created_at = r.created_at`
	if got := db.count(b, same); got != 0 {
		b.Fatalf("%d rows of sink_rows equal bench_rows's before the second lease, want 0", got)
	}
	// Another connector, so that exactly-once (the offsets table's rows
	// are the connector's) does not skip the records the first wrote.
	cfg = maps.Clone(cfg)
	cfg["name"] = "bench-sink-existing"
	benchkit.ResetPeakRSS()
	run := runSinkLease(b, exec, db, cfg, ranges, broker)
	if got := db.count(b, "SELECT count(*) FROM sink_rows"); got != b.N {
		b.Fatalf("sink_rows has %d rows after the second lease, want %d", got, b.N)
	}
	if got := db.count(b, same); got != b.N {
		b.Fatalf("%d rows of sink_rows equal bench_rows's after the second lease, want %d", got, b.N)
	}
	f := figure{rows: run.res.Records, rate: float64(run.res.Records) / run.elapsed.Seconds(), cpu: run.cpu.Seconds(), dbcpu: run.dbcpu.Seconds(),
		broker: run.brokercpu.Seconds(), rss: benchkit.PeakRSSMB(), load: loadAverage()}
	b.ReportMetric(f.rate, "upsert-rows/s")
	b.ReportMetric(f.cpu, "upsert-cpu-s")
	b.ReportMetric(f.dbcpu, "upsert-db-cpu-s")
	b.ReportMetric(f.broker, "upsert-broker-cpu-s")
	if b.N > 1 {
		figures["BenchmarkJDBCSinkExisting/"+db.kind] = f
	}
}

// sinkRun is a sink lease's result, its time and the CPU time of this
// process, the database and the broker during it.
type sinkRun struct {
	res                   lease.Result
	elapsed               time.Duration
	cpu, dbcpu, brokercpu time.Duration
}

// runSinkLease runs a sink lease of connector cfg["name"] over ranges,
// failing b unless it wrote all b.N records.
func runSinkLease(b *testing.B, exec *lease.Executor, db benchDB, cfg map[string]string, ranges []lease.Range, broker int) sinkRun {
	b.Helper()
	name := cfg["name"]
	start, cpu0, db0, broker0 := time.Now(), benchkit.CPU(), dbCPU(db.pid), dbCPU(broker)
	res := exec.Run(context.Background(), lease.Lease{ID: name + "-1", Kind: lease.KindSink, Connector: name, Epoch: 1,
		Deadline: time.Now().Add(20 * time.Minute), ConnectorConfig: cfg, TaskConfig: cfg, Ranges: ranges,
		Budget: lease.Budget{MaxTime: lease.Duration(15 * time.Minute)}})
	run := sinkRun{res: res, elapsed: time.Since(start), cpu: benchkit.CPU() - cpu0, dbcpu: dbCPU(db.pid) - db0, brokercpu: dbCPU(broker) - broker0}
	if res.Status != lease.Succeeded || res.Records != int64(b.N) {
		b.Fatalf("sink lease of %s: %s, %d records: %s", name, res.Status, res.Records, res.Error)
	}
	return run
}

// BenchmarkJDBCRawWrite is the sink's anchor: the same rows (in memory)
// written with COPY FROM (PostgreSQL) or multi-row INSERTs of 3000 rows in
// one transaction (MariaDB).
func BenchmarkJDBCRawWrite(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db benchDB) {
		db.exec(b, db.pick(
			"CREATE TABLE raw_rows (id bigint PRIMARY KEY, name text NOT NULL, note text NOT NULL, amount numeric NOT NULL, created_at timestamp(3) NOT NULL)",
			"CREATE TABLE raw_rows (id bigint PRIMARY KEY, name longtext NOT NULL, note longtext NOT NULL, amount decimal(65,2) NOT NULL, created_at datetime(3) NOT NULL)"))
		rows := benchRawRows(b.N)
		benchkit.ResetPeakRSS()
		b.ResetTimer()
		start, cpu0, db0 := time.Now(), benchkit.CPU(), dbCPU(db.pid)
		if db.kind == "postgres" {
			conn, err := pgx.Connect(context.Background(), pgtest.Shared(b).URL(strings.TrimPrefix(db.url[strings.LastIndexByte(db.url, '/'):], "/")))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(context.Background())
			n, err := conn.CopyFrom(context.Background(), pgx.Identifier{"raw_rows"}, []string{"id", "name", "note", "amount", "created_at"}, pgx.CopyFromRows(rows))
			if err != nil || n != int64(b.N) {
				b.Fatalf("COPY: %d rows, %v", n, err)
			}
		} else {
			rawInserts(b, db.sql, rows, 3000)
		}
		reportDB(b, int64(b.N), time.Since(start), benchkit.CPU()-cpu0, dbCPU(db.pid)-db0)
	})
}

// benchRawRows are the rows the raw anchors write, in memory.
func benchRawRows(n int) [][]any {
	rows := make([][]any, n)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		id := int64(i + 1)
		rows[i] = []any{id, fmt.Sprint("customer-", id), strings.Repeat("x", 100) + strconv.FormatInt(id, 10),
			fmt.Sprintf("%d.%02d", id/100, id%100), base.Add(time.Duration(id) * time.Millisecond)}
	}
	return rows
}

// BenchmarkJDBCRawUpsert is the upsert sink's second PostgreSQL anchor:
// the same rows (in memory) upserted by the driver alone into an empty
// table in one transaction, 3000 rows (the sink's batch.size) a statement
// INSERT .. SELECT FROM unnest(typed arrays) ON CONFLICT DO UPDATE, the
// arrays encoded by pgx. COPY FROM is the physical limit of writing the
// rows; this is the limit of upserting them: ON CONFLICT probes the key
// before each insert, and an insert is not batched as COPY's are.
func BenchmarkJDBCRawUpsert(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		db := benchDB{newPostgres(b), pgtest.Shared(b).PID()}
		db.exec(b, "CREATE TABLE raw_rows (id bigint PRIMARY KEY, name text NOT NULL, note text NOT NULL, amount numeric NOT NULL, created_at timestamp(3) NOT NULL)")
		rows := benchRawRows(b.N)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pgtest.Shared(b).URL(strings.TrimPrefix(db.url[strings.LastIndexByte(db.url, '/'):], "/")))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		benchkit.ResetPeakRSS()
		b.ResetTimer()
		start, cpu0, db0 := time.Now(), benchkit.CPU(), dbCPU(db.pid)
		tx, err := conn.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		const per = 3000
		ids, names, notes, amounts, ats := make([]int64, 0, per), make([]string, 0, per), make([]string, 0, per), make([]pgtype.Numeric, 0, per), make([]time.Time, 0, per)
		for at := 0; at < len(rows); at += per {
			ids, names, notes, amounts, ats = ids[:0], names[:0], notes[:0], amounts[:0], ats[:0]
			for _, r := range rows[at:min(at+per, len(rows))] {
				var n pgtype.Numeric
				if err := n.Scan(r[3].(string)); err != nil {
					b.Fatal(err)
				}
				ids, names, notes, amounts, ats = append(ids, r[0].(int64)), append(names, r[1].(string)), append(notes, r[2].(string)), append(amounts, n), append(ats, r[4].(time.Time))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO raw_rows SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::numeric[], $5::timestamp[])
				ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, note = EXCLUDED.note, amount = EXCLUDED.amount, created_at = EXCLUDED.created_at`,
				ids, names, notes, amounts, ats); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		reportDB(b, int64(b.N), time.Since(start), benchkit.CPU()-cpu0, dbCPU(db.pid)-db0)
		b.StopTimer()
		if got := db.count(b, "SELECT count(*) FROM raw_rows"); got != b.N {
			b.Fatalf("raw_rows has %d rows, want %d", got, b.N)
		}
	})
}

// BenchmarkJDBCRawLoadData is MariaDB's second write anchor: the same rows
// (in memory) rendered as tab-separated text and loaded by one LOAD DATA
// LOCAL INFILE streamed from memory into an empty table, in one
// transaction: MariaDB's fastest bulk path.
func BenchmarkJDBCRawLoadData(b *testing.B) {
	b.Run("mariadb", func(b *testing.B) {
		db := benchDB{newMariaDB(b), mariadbtest.Shared(b).PID()}
		db.exec(b, "CREATE TABLE raw_rows (id bigint PRIMARY KEY, name longtext NOT NULL, note longtext NOT NULL, amount decimal(65,2) NOT NULL, created_at datetime(3) NOT NULL)")
		rows := benchRawRows(b.N)
		benchkit.ResetPeakRSS()
		b.ResetTimer()
		start, cpu0, db0 := time.Now(), benchkit.CPU(), dbCPU(db.pid)
		var buf bytes.Buffer
		for _, r := range rows {
			buf.WriteString(strconv.FormatInt(r[0].(int64), 10))
			buf.WriteByte('\t')
			buf.WriteString(r[1].(string))
			buf.WriteByte('\t')
			buf.WriteString(r[2].(string))
			buf.WriteByte('\t')
			buf.WriteString(r[3].(string))
			buf.WriteByte('\t')
			buf.WriteString(r[4].(time.Time).Format("2006-01-02 15:04:05.000"))
			buf.WriteByte('\n')
		}
		mysql.RegisterReaderHandler("bench-raw", func() io.Reader { return bytes.NewReader(buf.Bytes()) })
		defer mysql.DeregisterReaderHandler("bench-raw")
		tx, err := db.sql.Begin()
		if err != nil {
			b.Fatal(err)
		}
		res, err := tx.Exec("LOAD DATA LOCAL INFILE 'Reader::bench-raw' INTO TABLE raw_rows CHARACTER SET binary FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (id, name, note, amount, created_at)")
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		reportDB(b, int64(b.N), time.Since(start), benchkit.CPU()-cpu0, dbCPU(db.pid)-db0)
		b.StopTimer()
		if n, _ := res.RowsAffected(); n != int64(b.N) {
			b.Fatalf("LOAD DATA loaded %d rows, want %d", n, b.N)
		}
	})
}

func rawInserts(b *testing.B, db *sql.DB, rows [][]any, per int) {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		q := "INSERT INTO raw_rows VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")
		args := make([]any, 0, len(chunk)*5)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// profilePath is where the source's or the sink's leases' CPU profile goes:
// $SLUICE_BENCH_CPUPROFILE.<benchmark name> when that is set, none for the
// 1-row probe run (the test binary's -cpuprofile would include loading the
// table and the source lease that fills the topic).
func profilePath(b *testing.B) string {
	prefix := os.Getenv("SLUICE_BENCH_CPUPROFILE")
	if prefix == "" || b.N == 1 {
		return ""
	}
	return prefix + "." + strings.ReplaceAll(b.Name(), "/", "_")
}
