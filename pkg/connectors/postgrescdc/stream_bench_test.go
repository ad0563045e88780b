package postgrescdc

import (
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluicehq/sluice/internal/benchkit"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
)

// The pgoutput messages of the streaming benchmarks, as the server sends
// them inside CopyData (proto_version 1).

func xlogData(lsn uint64, msg []byte) []byte {
	b := []byte{pglogrepl.XLogDataByteID}
	b = binary.BigEndian.AppendUint64(b, lsn)
	b = binary.BigEndian.AppendUint64(b, lsn)
	b = binary.BigEndian.AppendUint64(b, 0)
	return append(b, msg...)
}

func beginMsg(final uint64, xid uint32) []byte {
	b := []byte{'B'}
	b = binary.BigEndian.AppendUint64(b, final)
	b = binary.BigEndian.AppendUint64(b, uint64(time.Hour/time.Microsecond)) // commit time, µs since 2000
	return binary.BigEndian.AppendUint32(b, xid)
}

func commitMsg(lsn, end uint64) []byte {
	b := []byte{'C', 0}
	b = binary.BigEndian.AppendUint64(b, lsn)
	b = binary.BigEndian.AppendUint64(b, end)
	return binary.BigEndian.AppendUint64(b, uint64(time.Hour/time.Microsecond))
}

func tupleData(b []byte, cols ...string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(cols)))
	for _, c := range cols {
		b = append(b, 't')
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

func insertMsg(rel uint32, cols ...string) []byte {
	b := binary.BigEndian.AppendUint32([]byte{'I'}, rel)
	return tupleData(append(b, 'N'), cols...)
}

// streamTask is a task between a Begin and its Commit, with one captured
// table (id bigint primary key, ver int, payload text: the bench-cdc
// table) as relation 1, as after its Relation message.
func streamTask(b *testing.B) *Task {
	b.Helper()
	s, err := parseSettings(map[string]string{
		HostnameConfig: "localhost", UserConfig: "u", DBNameConfig: "db", TopicPrefixConfig: "bench",
	})
	if err != nil {
		b.Fatal(err)
	}
	t := &Task{s: s, partition: map[string]any{serverKey: s.prefix}, tables: map[string]*table{}, rels: map[uint32]*table{}}
	t.rels[1] = s.newTable("public", "items", []catalogColumn{
		{name: "id", oid: oidInt8, typmod: -1, key: 0},
		{name: "ver", oid: oidInt4, typmod: -1, key: -1},
		{name: "payload", oid: oidText, typmod: -1, key: -1},
	})
	return t
}

// BenchmarkStreamInsert measures what the task does for each streamed
// insert of the bench-cdc table: decode the pgoutput message and build the
// change event (decode), and that plus the JsonConverter (schemas off, as
// make bench-cdc) on its key and value (decode+json). One op is one insert,
// in transactions of 10,000.
func BenchmarkStreamInsert(b *testing.B) {
	payload := strings.Repeat("abcdefghij", 18)
	key, value := converter.NewJSONConverter(), converter.NewJSONConverter()
	if err := key.Configure(map[string]string{"schemas.enable": "false"}, true); err != nil {
		b.Fatal(err)
	}
	if err := value.Configure(map[string]string{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		json bool
	}{{name: "decode"}, {name: "decode+json", json: true}} {
		b.Run(tc.name, func(b *testing.B) {
			t := streamTask(b)
			ctx := context.Background()
			const txRows = 10_000
			lsn := uint64(1 << 24)
			handle := func(msg []byte) []connect.SourceRecord {
				recs, err := t.handleCopyData(ctx, nil, xlogData(lsn, msg))
				if err != nil {
					b.Fatal(err)
				}
				return recs
			}
			inserts := make([][]byte, txRows)
			for i := range inserts {
				inserts[i] = xlogData(0, insertMsg(1, strconv.Itoa(i+1), "0", payload))
			}
			// The records go into batches of 2,048 (max.batch.size), a
			// new one when full, as Poll's.
			var batch []connect.SourceRecord
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := benchkit.CPU()
			for i := 0; i < b.N; i++ {
				n := i % txRows
				if n == 0 {
					handle(beginMsg(lsn+txRows*100, uint32(1000+i/txRows)))
				}
				lsn += 100
				// The message's LSN is in its XLogData header.
				msg := inserts[n]
				binary.BigEndian.PutUint64(msg[1:], lsn)
				if len(batch) == cap(batch) {
					batch = make([]connect.SourceRecord, 0, 2048)
				}
				before := len(batch)
				var err error
				batch, err = t.handleCopyData(ctx, batch, msg)
				recs := batch[before:]
				if err != nil || len(recs) != 1 {
					b.Fatalf("%d records, %v", len(recs), err)
				}
				if tc.json {
					r := &recs[0]
					if _, err := key.FromConnectData(r.Topic, r.KeySchema, r.Key); err != nil {
						b.Fatal(err)
					}
					if _, err := value.FromConnectData(r.Topic, r.ValueSchema, r.Value); err != nil {
						b.Fatal(err)
					}
				}
				if n == txRows-1 {
					lsn += 100
					handle(commitMsg(lsn, lsn+50))
				}
			}
			// The machine may be shared: CPU time is steadier than ns/op.
			b.ReportMetric(float64(benchkit.CPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
