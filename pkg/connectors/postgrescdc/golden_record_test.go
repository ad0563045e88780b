//go:build debeziumgolden

package postgrescdc

import (
	"maps"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/debeziumgolden"
	"github.com/sluicehq/sluice/internal/pgtest"
)

// TestRecordDebeziumGolden runs Debezium's PostgresConnector (embedded
// engine, class path in SLUICE_DEBEZIUM_LIB) on the golden scenario and
// writes what it emits to testdata/debezium/<variant>.jsonl: without
// transforms, and with each goldenTransforms variant.
func TestRecordDebeziumGolden(t *testing.T) {
	for _, v := range goldenVariants {
		t.Run(v.File, func(t *testing.T) { recordGolden(t, v) })
	}
}

func recordGolden(t *testing.T, variant debeziumgolden.Variant) {
	lib := debeziumgolden.RecorderLib(t)
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
	maps.Copy(props, variant.Transforms)
	rec := debeziumgolden.StartRecorder(t, lib, filepath.Join("testdata", "debezium", "DebeziumRecorder.java"), props)
	var out []string
	next := func() {
		l, _ := rec.Next(0)
		out = append(out, l)
	}
	for len(out) < variant.Snapshot {
		next()
	}
	time.Sleep(3 * time.Second) // let streaming start
	for _, q := range goldenChanges {
		db.Exec(t, q)
	}
	for len(out) < variant.Total {
		next()
	}
	debeziumgolden.Write(t, variant.File, out)
}
