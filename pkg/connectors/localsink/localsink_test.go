package localsink_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pg "github.com/parquet-go/parquet-go"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/kafka"
)

func produceJSON(t *testing.T, c *kafka.Client, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		p.Send(context.Background(), kafka.Message{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("k%d", i)),
			Value: []byte(fmt.Sprintf(`{"id":%d,"name":"n%d","ok":%t}`, i, i, i%2 == 0)), Timestamp: t0.Add(time.Duration(i) * time.Minute)})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// files returns every regular file under dir, relative, with its bytes.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readParquet(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	pf, err := pg.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := pg.NewReader(pf)
	var rows []map[string]any
	for range pf.NumRows() {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	return rows
}

// A schemaless JSON topic exported through the real lease executor into
// Parquet files that an independent reader reads back; a replay rewrites
// the same bytes.
func TestParquetExportReadBack(t *testing.T) {
	k := kafkatest.Start(t, 1)
	produceJSON(t, k.Client, "orders", 25)
	reg, err := connect.NewRegistry(append(converter.Plugins(), localsink.Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})
	dir := t.TempDir()
	cfg := map[string]string{
		"name": "dev-export", "connector.class": "LocalSinkConnector", "topics": "orders",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"store.url": "file://" + dir, "flush.size": "10",
	}
	run := func(id string, epoch int64) {
		t.Helper()
		res := exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSink, Connector: "dev-export", Epoch: epoch,
			Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: "orders", Partition: 0, Start: 0, End: 25}}})
		if res.Status != lease.Succeeded {
			t.Fatalf("lease %s: %s %s\n%s", id, res.Status, res.Error, res.Trace)
		}
	}
	run("l1", 1)
	first := files(t, dir)
	var names []string
	for name := range first {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{
		"topics/orders/partition=0/orders+0+0000000000.snappy.parquet",
		"topics/orders/partition=0/orders+0+0000000010.snappy.parquet",
		"topics/orders/partition=0/orders+0+0000000020.snappy.parquet",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("files:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	next := 0
	for _, name := range names {
		for _, row := range readParquet(t, first[name]) {
			if fmt.Sprint(row["id"]) != fmt.Sprint(next) || fmt.Sprint(row["name"]) != fmt.Sprintf("n%d", next) {
				t.Fatalf("%s: row %v, want id %d", name, row, next)
			}
			next++
		}
	}
	if next != 25 {
		t.Fatalf("read back %d rows, want 25", next)
	}

	run("l2", 2)
	again := files(t, dir)
	if len(again) != len(first) {
		t.Fatalf("replay left %d files, want %d", len(again), len(first))
	}
	for name, b := range first {
		if !bytes.Equal(again[name], b) {
			t.Fatalf("replay rewrote %s with other bytes", name)
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantKey string
	}{
		{name: "valid with local.dir", props: map[string]string{"flush.size": "100", "local.dir": "/tmp/x"}},
		{name: "valid with store.url", props: map[string]string{"flush.size": "100", "store.url": "file:///tmp/x"}},
		{name: "no directory", props: map[string]string{"flush.size": "100"}, wantKey: "local.dir"},
		{name: "not a file URL", props: map[string]string{"flush.size": "100", "store.url": "s3://bucket"}, wantKey: "store.url"},
		{name: "no flush.size", props: map[string]string{"local.dir": "/tmp/x"}, wantKey: "flush.size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := localsink.NewConnector()
			for _, k := range c.Config().Keys() {
				if k.Doc == "" {
					t.Errorf("key %s has no doc", k.Name)
				}
			}
			err := c.Start(context.Background(), nil, tc.props)
			if tc.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("Start error = %v, want one about %s", err, tc.wantKey)
			}
		})
	}
}
