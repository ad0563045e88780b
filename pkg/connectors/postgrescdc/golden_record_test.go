//go:build debeziumgolden

package postgrescdc

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/pgtest"
)

// TestRecordDebeziumGolden runs Debezium's PostgresConnector (embedded
// engine, class path in SLUICE_DEBEZIUM_LIB) on the golden scenario and
// writes what it emits to testdata/debezium/<variant>.jsonl: without
// transforms, and with each goldenTransforms variant.
func TestRecordDebeziumGolden(t *testing.T) {
	for _, v := range goldenVariants {
		t.Run(v.file, func(t *testing.T) { recordGolden(t, v) })
	}
}

func recordGolden(t *testing.T, variant goldenVariant) {
	lib := os.Getenv("SLUICE_DEBEZIUM_LIB")
	if lib == "" {
		t.Fatal("SLUICE_DEBEZIUM_LIB is not set: run testdata/debezium/record.sh")
	}
	db := pgtest.NewDB(t)
	for _, q := range goldenSetup {
		db.Exec(t, q)
	}
	slot := "dbz_" + db.Name
	t.Cleanup(func() {
		time.Sleep(time.Second)
		_, _ = db.SQL.Exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
	})
	props := map[string]string{
		"name": "golden", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
		"offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore", "offset.flush.interval.ms": "0",
		"converter.schemas.enable": "true",
		"database.hostname":        db.Server.Host, "database.port": strconv.Itoa(db.Server.Port), "database.user": pgtest.User,
		"database.password": db.Server.Password, "database.dbname": db.Name, "topic.prefix": "srv",
		"plugin.name": "pgoutput", "slot.name": slot, "publication.name": "dbzpub_" + db.Name, "snapshot.mode": "initial",
	}
	for k, v := range variant.transforms {
		props[k] = v
	}
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + "=" + strings.ReplaceAll(v, `\`, `\\`) + "\n")
	}
	propsFile := filepath.Join(t.TempDir(), "golden.properties")
	if err := os.WriteFile(propsFile, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Abs(filepath.Join("testdata", "debezium", "DebeziumRecorder.java"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, "java", "-Xmx384m", "-cp", lib+"/*", src, propsFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"topic":`) {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	var out []string
	next := func() {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("Debezium stopped after %d records", len(out))
			}
			var check map[string]any
			if err := json.Unmarshal([]byte(l), &check); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			out = append(out, l)
		case <-ctx.Done():
			t.Fatalf("Debezium emitted %d records before the time limit", len(out))
		}
	}
	for len(out) < variant.snapshot {
		next()
	}
	time.Sleep(3 * time.Second) // let streaming start
	for _, q := range goldenChanges {
		db.Exec(t, q)
	}
	for len(out) < variant.total {
		next()
	}
	if err := os.WriteFile(filepath.Join("testdata", "debezium", variant.file), []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
