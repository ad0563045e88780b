package localsink_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	hocf "github.com/hamba/avro/v2/ocf"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/connectors/localsink"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// An Avro topic whose schema evolves — version 2 removes field legacy and
// adds field region with a default — written by the AvroConverter with
// franz-go's in-process registry (srfake), exported through the real lease
// executor to Parquet and to Avro files, and read back with readers
// independent of the writers (parquet-go/parquet-go, hamba/avro).
//
// Offsets 0-9 are version 1, 10-19 version 2, 20-24 version 1 again (an
// old producer), 25-29 version 2.
var (
	customerV1 = data.StructBuilder().Name("sluice.test.Customer").
			Field("id", data.Int64Schema).Field("name", data.StringSchema).Field("legacy", data.StringSchema).MustBuild()
	customerV2 = data.StructBuilder().Name("sluice.test.Customer").
			Field("id", data.Int64Schema).Field("name", data.StringSchema).
			Field("region", data.NewBuilder(data.TypeString).Default("eu").MustBuild()).MustBuild()
)

func version(i int) int {
	if i < 10 || (i >= 20 && i < 25) {
		return 1
	}
	return 2
}

func produceEvolving(t *testing.T, c *kafka.Client, registryURL string) {
	t.Helper()
	conv := avro.New()
	if err := conv.Configure(map[string]string{schemaregistry.URLConfig: registryURL}, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx, kafka.TopicSpec{Name: "customers", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := c.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 30 {
		s := customerV1
		v := data.NewStruct(s).Set("id", int64(i)).Set("name", fmt.Sprint("n", i)).Set("legacy", "old")
		if version(i) == 2 {
			s = customerV2
			v = data.NewStruct(s).Set("id", int64(i)).Set("name", fmt.Sprint("n", i)).Set("region", "us")
		}
		b, err := conv.FromConnectData("customers", s, v)
		if err != nil {
			t.Fatal(err)
		}
		p.Send(ctx, kafka.Message{Topic: "customers", Partition: 0, Value: b, Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func readAvroFile(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	r, err := hocf.NewDecoder(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for r.HasNext() {
		var m map[string]any
		if err := r.Decode(&m); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	if err := r.Error(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSchemaEvolutionExport(t *testing.T) {
	k := kafkatest.Start(t, 1)
	sreg := srfake.New()
	defer sreg.Close()
	produceEvolving(t, k.Client, sreg.URL())
	reg, err := connect.NewRegistry(append(append(converter.Plugins(), avro.Plugins()...), localsink.Plugins()...)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, k.Client, k.Offsets, lease.Options{SafetyMargin: 300 * time.Millisecond})

	// v1 and v2 rows as each file's schema shows them.
	v1Row := func(i int) string { return fmt.Sprintf("id=%d legacy=old name=n%d", i, i) }
	v2Row := func(i int) string {
		region := "us"
		if version(i) == 1 {
			region = "eu" // projected from version 1: the new field's default
		}
		return fmt.Sprintf("id=%d name=n%d region=%s", i, i, region)
	}
	span := func(row func(int) string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, row(i))
		}
		return out
	}
	tests := []struct {
		name, compat, format, ext string
		// files maps each file's first offset to its rows.
		files map[int][]string
	}{
		{name: "NONE rotates at every change, Parquet", compat: "NONE", format: "io.confluent.connect.s3.format.parquet.ParquetFormat", ext: ".snappy.parquet",
			files: map[int][]string{0: span(v1Row, 0, 10), 10: span(v2Row, 10, 20), 20: span(v1Row, 20, 25), 25: span(v2Row, 25, 30)}},
		{name: "BACKWARD projects older records, Parquet", compat: "BACKWARD", format: "io.confluent.connect.s3.format.parquet.ParquetFormat", ext: ".snappy.parquet",
			files: map[int][]string{0: span(v1Row, 0, 10), 10: span(v2Row, 10, 30)}},
		{name: "NONE rotates at every change, Avro", compat: "NONE", format: "io.confluent.connect.s3.format.avro.AvroFormat", ext: ".avro",
			files: map[int][]string{0: span(v1Row, 0, 10), 10: span(v2Row, 10, 20), 20: span(v1Row, 20, 25), 25: span(v2Row, 25, 30)}},
		{name: "BACKWARD projects older records, Avro", compat: "BACKWARD", format: "io.confluent.connect.s3.format.avro.AvroFormat", ext: ".avro",
			files: map[int][]string{0: span(v1Row, 0, 10), 10: span(v2Row, 10, 30)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := fmt.Sprintf("evolve%d", i)
			cfg := map[string]string{
				"name": name, "connector.class": "LocalSinkConnector", "topics": "customers",
				"key.converter":   "org.apache.kafka.connect.converters.ByteArrayConverter",
				"value.converter": avro.Class, "value.converter.schema.registry.url": sreg.URL(),
				"store.url": "file://" + dir, "flush.size": "100", "format.class": tt.format,
				"avro.codec": "snappy", "schema.compatibility": tt.compat,
			}
			res := exec.Run(context.Background(), lease.Lease{ID: name, Kind: lease.KindSink, Connector: name, Epoch: 1,
				Deadline: time.Now().Add(30 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
				Ranges: []lease.Range{{Topic: "customers", Partition: 0, Start: 0, End: 30}}})
			if res.Status != lease.Succeeded {
				t.Fatalf("lease: %s %s\n%s", res.Status, res.Error, res.Trace)
			}
			got := files(t, dir)
			if len(got) != len(tt.files) {
				t.Fatalf("%d files, want %d: %v", len(got), len(tt.files), keys(got))
			}
			for start, want := range tt.files {
				fname := fmt.Sprintf("topics/customers/partition=0/customers+0+%010d%s", start, tt.ext)
				b, ok := got[fname]
				if !ok {
					t.Fatalf("no file %s among %v", fname, keys(got))
				}
				var rows []map[string]any
				if tt.ext == ".avro" {
					rows = readAvroFile(t, b)
				} else {
					rows = readParquet(t, b)
				}
				var lines []string
				for _, r := range rows {
					lines = append(lines, render(r))
				}
				if strings.Join(lines, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s:\n%s\nwant:\n%s", fname, strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

func render(m map[string]any) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
