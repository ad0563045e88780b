//go:build debeziumgolden

package mysqlcdc

import (
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
	"github.com/sluicehq/sluice/internal/mariadbtest"
)

// TestRecordDebeziumGolden runs Debezium's MariaDbConnector (embedded
// engine, class path in SLUICE_DEBEZIUM_LIB) on the golden scenario and
// writes what it emits to testdata/debezium/<variant>.jsonl, the test
// database's name replaced by goldenDB: without transforms, and with each
// goldenVariants variant.
func TestRecordDebeziumGolden(t *testing.T) {
	for i, v := range goldenVariants {
		t.Run(v.File, func(t *testing.T) { recordGolden(t, v, 5990+i) })
	}
}

func recordGolden(t *testing.T, variant debeziumgolden.Variant, serverID int) {
	lib := debeziumgolden.RecorderLib(t)
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
	maps.Copy(props, variant.Transforms)
	rec := debeziumgolden.StartRecorder(t, lib, filepath.Join("..", "postgrescdc", "testdata", "debezium", "DebeziumRecorder.java"), props)
	var out []string
	// next takes the next record; false when none came within quiet.
	next := func(quiet time.Duration) bool {
		l, ok := rec.Next(quiet)
		if ok {
			out = append(out, strings.ReplaceAll(l, db.Name, goldenDB))
		}
		return ok
	}
	for len(out) < variant.Snapshot {
		next(time.Minute)
	}
	time.Sleep(3 * time.Second) // let streaming start
	for _, q := range goldenChanges {
		goldenExec(t, db.SQL, q)
	}
	for len(out) < variant.Total {
		if !next(time.Minute) {
			t.Fatalf("Debezium emitted %d records, want %d", len(out), variant.Total)
		}
	}
	if next(5 * time.Second) {
		t.Fatalf("Debezium emitted more than %d records: %s", variant.Total, out[len(out)-1])
	}
	debeziumgolden.Write(t, variant.File, out)
}
