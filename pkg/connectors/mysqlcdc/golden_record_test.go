//go:build debeziumgolden

package mysqlcdc

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mariadbtest"
)

// TestRecordDebeziumGolden runs Debezium's MariaDbConnector (embedded
// engine, class path in SLUICE_DEBEZIUM_LIB) on the golden scenario and
// writes what it emits to testdata/debezium/<variant>.jsonl, the test
// database's name replaced by goldenDB: without transforms, and with each
// goldenVariants variant.
func TestRecordDebeziumGolden(t *testing.T) {
	for i, v := range goldenVariants {
		t.Run(v.file, func(t *testing.T) { recordGolden(t, v, 5990+i) })
	}
}

func recordGolden(t *testing.T, variant goldenVariant, serverID int) {
	lib := os.Getenv("SLUICE_DEBEZIUM_LIB")
	if lib == "" {
		t.Fatal("SLUICE_DEBEZIUM_LIB is not set: run testdata/debezium/record.sh")
	}
	db := mariadbtest.NewDB(t)
	for _, q := range goldenSetup {
		goldenExec(t, db.SQL, q)
	}
	// Schema change events (on topic srv) are left out: Sluice does not
	// emit them.
	props := map[string]string{
		"name": "golden", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
		"offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore", "offset.flush.interval.ms": "0",
		"schema.history.internal":  "io.debezium.relational.history.MemorySchemaHistory",
		"converter.schemas.enable": "true", "include.schema.changes": "false",
		"database.hostname": db.Server.Host, "database.port": strconv.Itoa(db.Server.Port), "database.user": mariadbtest.User,
		"database.password": db.Server.Password, "database.server.id": strconv.Itoa(serverID), "database.ssl.mode": "disable",
		"database.include.list": db.Name, "topic.prefix": "srv", "snapshot.mode": "initial",
	}
	maps.Copy(props, variant.transforms)
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + "=" + strings.ReplaceAll(v, `\`, `\\`) + "\n")
	}
	propsFile := filepath.Join(t.TempDir(), "golden.properties")
	if err := os.WriteFile(propsFile, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Abs(filepath.Join("..", "postgrescdc", "testdata", "debezium", "DebeziumRecorder.java"))
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
	// next takes the next record; false when none came within quiet.
	next := func(quiet time.Duration) bool {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("Debezium stopped after %d records", len(out))
			}
			var check map[string]any
			if err := json.Unmarshal([]byte(l), &check); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			out = append(out, strings.ReplaceAll(l, db.Name, goldenDB))
			return true
		case <-time.After(quiet):
			return false
		case <-ctx.Done():
			t.Fatalf("Debezium emitted %d records before the time limit", len(out))
		}
		return false
	}
	for len(out) < variant.snapshot {
		next(time.Minute)
	}
	time.Sleep(3 * time.Second) // let streaming start
	for _, q := range goldenChanges {
		goldenExec(t, db.SQL, q)
	}
	for len(out) < variant.total {
		if !next(time.Minute) {
			t.Fatalf("Debezium emitted %d records, want %d", len(out), variant.total)
		}
	}
	if next(5 * time.Second) {
		t.Fatalf("Debezium emitted more than %d records: %s", variant.total, out[len(out)-1])
	}
	if err := os.WriteFile(filepath.Join("testdata", "debezium", variant.file), []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
