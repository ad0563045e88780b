package sink_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/sink"
)

// TestTakesRawValues: the task takes values undecoded only from the
// schemaless JsonConverter, into a format that writes them, when nothing
// else reads the value.
func TestTakesRawValues(t *testing.T) {
	schemaless := converter.NewJSONConverter()
	if err := schemaless.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		t.Fatal(err)
	}
	enveloped := converter.NewJSONConverter()
	if err := enveloped.Configure(nil, false); err != nil {
		t.Fatal(err)
	}
	parquet := func(extra ...string) map[string]string {
		return baseProps(append([]string{"format.class", sink.ParquetClass}, extra...)...)
	}
	tests := []struct {
		name     string
		props    map[string]string
		conv     connect.Converter
		want     bool
		wantKeys bool
	}{
		{name: "parquet, schemaless JSON", props: parquet(), conv: schemaless, want: true, wantKeys: true},
		{name: "parquet, keys and headers files", props: parquet("store.kafka.keys", "true", "store.kafka.headers", "true"), conv: schemaless, want: true},
		{name: "parquet, headers files", props: parquet("store.kafka.headers", "true"), conv: schemaless, want: true, wantKeys: true},
		{name: "parquet, JSON with schemas", props: parquet(), conv: enveloped, want: false, wantKeys: true},
		{name: "parquet, string converter", props: parquet(), conv: converter.NewStringConverter(), want: false, wantKeys: true},
		{name: "json format", props: baseProps("format.class", sink.JSONClass), conv: schemaless, want: false, wantKeys: true},
		{name: "field partitioner", props: parquet("partitioner.class", "io.confluent.connect.storage.partitioner.FieldPartitioner",
			"partition.field.name", "id"), conv: schemaless, want: false, wantKeys: true},
		{name: "hourly, record time", props: parquet("partitioner.class", "io.confluent.connect.storage.partitioner.HourlyPartitioner",
			"locale", "en-US", "timezone", "UTC", "timestamp.extractor", "Record"), conv: schemaless, want: true, wantKeys: true},
		{name: "hourly, record field time", props: parquet("partitioner.class", "io.confluent.connect.storage.partitioner.HourlyPartitioner",
			"locale", "en-US", "timezone", "UTC", "timestamp.extractor", "RecordField", "timestamp.field", "ts"), conv: schemaless, want: false, wantKeys: true},
		{name: "rotate interval, record time", props: parquet("rotate.interval.ms", "1000"), conv: schemaless, want: true, wantKeys: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(newTestStore())
			opts.NewFormat = func(class string, props map[string]string) (storage.Format, error) {
				return sink.NewFormat(class, props)
			}
			opts.IsSchemaChange = func(err error) bool { return errors.Is(err, sink.ErrSchemaChanged) }
			task := sink.NewTask(opts)
			if err := task.Start(context.Background(), nil, tt.props); err != nil {
				t.Fatal(err)
			}
			defer task.Stop()
			if got := task.TakesRawValues(tt.conv); got != tt.want {
				t.Fatalf("TakesRawValues = %v, want %v", got, tt.want)
			}
			if got := task.TakesRawKeys(converter.NewStringConverter()); got != tt.wantKeys {
				t.Fatalf("TakesRawKeys = %v, want %v", got, tt.wantKeys)
			}
		})
	}
	if task := sink.NewTask(testOptions(newTestStore())); task.TakesRawValues(schemaless) || task.TakesRawKeys(schemaless) {
		t.Error("a task not started takes raw values or keys")
	}
}
