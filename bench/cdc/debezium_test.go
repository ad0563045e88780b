package cdc

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// debeziumMode is SLUICE_BENCH_DEBEZIUM: "" (no Debezium run), "kafka"
// (Debezium's records produced to the benchmark's broker) or "count"
// (counted as the engine hands them over, no sink).
func debeziumMode(b *testing.B) string {
	b.Helper()
	switch m := os.Getenv("SLUICE_BENCH_DEBEZIUM"); m {
	case "", "kafka", "count":
		if m != "" && os.Getenv("SLUICE_DEBEZIUM_LIB") == "" {
			b.Fatal("SLUICE_BENCH_DEBEZIUM is set but SLUICE_DEBEZIUM_LIB (Debezium's class path directory) is not: run make bench-cdc-debezium")
		}
		return m
	default:
		b.Fatalf("SLUICE_BENCH_DEBEZIUM=%q: want kafka or count", m)
		return ""
	}
}

// debeziumSlot creates Debezium's own slot and publication before the
// changes are made, so that its run streams the same changes.
func debeziumSlot(b *testing.B, x *bench) {
	b.Helper()
	x.db.Exec(b, `CREATE PUBLICATION dbz_pub FOR TABLE items`)
	x.db.Exec(b, `SELECT pg_create_logical_replication_slot('dbz_bench', 'pgoutput')`)
}

// debeziumRun is one run of Debezium 3.6.1.Final's PostgresConnector
// (testdata/DebeziumBench.java: embedded engine, pgoutput, streaming only
// from its slot, JsonConverter without schemas as the Sluice capture, a
// JVM with -Xmx512m) until it has the n changes.
type debeziumRun struct {
	mode                string
	elapsed, firstAfter time.Duration // from the JVM's start to the last change, to the first
	cpu, cpuAtFirst     time.Duration // the JVM's user+system CPU, at the end and at the first change
	peakRSSMB           float64
}

func runDebezium(b *testing.B, x *bench, mode string, n int, broker string) debeziumRun {
	b.Helper()
	props := map[string]string{
		"name": "dbzbench", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
		"offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore", "offset.flush.interval.ms": "60000",
		"converter.schemas.enable": "false",
		"database.hostname":        x.db.Server.Host, "database.port": strconv.Itoa(x.db.Server.Port), "database.user": pgtest.User,
		"database.password": x.db.Server.Password, "database.dbname": x.db.Name, "topic.prefix": "dbz",
		"plugin.name": "pgoutput", "slot.name": "dbz_bench", "publication.name": "dbz_pub",
		"publication.autocreate.mode": "disabled", "snapshot.mode": "no_data",
	}
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + "=" + strings.ReplaceAll(v, `\`, `\\`) + "\n")
	}
	propsFile := filepath.Join(b.TempDir(), "dbz.properties")
	if err := os.WriteFile(propsFile, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	src, _ := filepath.Abs(filepath.Join("testdata", "DebeziumBench.java"))
	args := []string{"-Xmx512m", "-cp", os.Getenv("SLUICE_DEBEZIUM_LIB") + "/*", src, propsFile, strconv.Itoa(n)}
	if mode == "kafka" {
		if err := x.k.Client.EnsureTopic(context.Background(), kafka.TopicSpec{Name: "dbz.public.items", Partitions: 4}); err != nil {
			b.Fatal(err)
		}
		args = append(args, broker)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	r := debeziumRun{mode: mode}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || (f[0] != "first" && f[0] != "done") {
			continue
		}
		ms, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			b.Fatalf("DebeziumBench: %q", sc.Text())
		}
		if f[0] == "first" {
			r.firstAfter, r.cpuAtFirst = time.Duration(ms)*time.Millisecond, benchkit.ProcessCPU(b, cmd.Process.Pid)
			continue
		}
		r.elapsed, r.cpu, r.peakRSSMB = time.Duration(ms)*time.Millisecond, benchkit.ProcessCPU(b, cmd.Process.Pid), benchkit.ProcessPeakRSSMiB(b, cmd.Process.Pid)
		return r
	}
	b.Fatalf("Debezium exited before the %d changes (%v)", n, ctx.Err())
	return r
}
