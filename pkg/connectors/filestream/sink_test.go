package filestream

import (
	"context"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func sinkRecords(values ...any) []connect.SinkRecord {
	recs := make([]connect.SinkRecord, len(values))
	for i, v := range values {
		recs[i] = connect.SinkRecord{Record: connect.Record{Topic: "t", Value: v}, Offset: int64(i)}
	}
	return recs
}

func startSink(t *testing.T, path string) *SinkTask {
	t.Helper()
	task := NewSinkTask()
	t.Cleanup(func() { _ = task.Stop() })
	if err := task.Start(context.Background(), nil, map[string]string{FileConfig: path, "topics": "t"}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return task
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSinkPutFlush(t *testing.T) {
	schema := data.StructBuilder().Name("s").
		Field("id", data.Int32Schema).
		Field("name", data.OptionalStringSchema).
		Field("score", data.Float64Schema).MustBuild()
	tests := []struct {
		name     string
		existing string
		batches  [][]any
		want     string
	}{
		{name: "strings", batches: [][]any{{"a", "b"}, {"c"}}, want: "a\nb\nc\n"},
		{name: "appends to existing file", existing: "old\n", batches: [][]any{{"new"}}, want: "old\nnew\n"},
		{name: "numbers and nil", batches: [][]any{{int32(1), int64(-2), 1.5, nil, true}}, want: "1\n-2\n1.5\nnull\ntrue\n"},
		{name: "struct", batches: [][]any{{data.NewStruct(schema).Set("id", int32(7)).Set("score", 2.0)}},
			want: "Struct{id=7,score=2.0}\n"},
		{name: "map and list", batches: [][]any{{map[string]any{"b": int32(2), "a": "x"}, []any{"a", int64(1), nil}}},
			want: "{a=x, b=2}\n[a, 1, null]\n"},
		{name: "large batch", batches: [][]any{manyLines(50000)}, want: strings.Repeat("0123456789\n", 50000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.txt")
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			task := startSink(t, path)
			for _, b := range tt.batches {
				if err := task.Put(context.Background(), sinkRecords(b...)); err != nil {
					t.Fatalf("Put: %v", err)
				}
			}
			if err := task.Flush(context.Background(), nil); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			// Read through a new descriptor while the task still holds the file.
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file = %.200q, want %.200q", got, tt.want)
			}
		})
	}
}

func manyLines(n int) []any {
	v := make([]any, n)
	for i := range v {
		v[i] = "0123456789"
	}
	return v
}

// TestSinkUnflushedDropped shows that only flushed lines reach the file:
// records put after the last Flush were not committed and are delivered
// again by the next lease.
func TestSinkUnflushedDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	task := startSink(t, path)
	if err := task.Put(context.Background(), sinkRecords("a")); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(context.Background(), sinkRecords("b")); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "a\n" {
		t.Errorf("file = %q, want %q", got, "a\n")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^0o644 != 0 {
		t.Errorf("mode = %v, want at most 0644", perm)
	}
}

func TestSinkStartErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{name: "missing file key", props: map[string]string{}, want: `Missing required configuration "file"`},
		{name: "directory", props: map[string]string{FileConfig: dir}, want: dir},
		{name: "no parent", props: map[string]string{FileConfig: filepath.Join(dir, "no", "such", "out.txt")}, want: filepath.Join(dir, "no")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := NewSinkTask()
			defer task.Stop()
			err := task.Start(context.Background(), nil, tt.props)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	var verr *config.ValidationError
	if err := NewSinkConnector().Start(context.Background(), nil, map[string]string{}); !errors.As(err, &verr) {
		t.Errorf("connector Start without file: %v", err)
	}
}

func TestSinkTaskConfigs(t *testing.T) {
	c := NewSinkConnector()
	props := map[string]string{FileConfig: "/tmp/out"}
	if err := c.Start(context.Background(), nil, props); err != nil {
		t.Fatal(err)
	}
	got, _ := c.TaskConfigs(3)
	if len(got) != 3 || got[2][FileConfig] != "/tmp/out" {
		t.Errorf("TaskConfigs(3) = %v", got)
	}
}

func TestAppendValue(t *testing.T) {
	schema := data.StructBuilder().
		Field("a", data.StringSchema).
		Field("b", data.OptionalInt64Schema).
		Field("c", data.ArrayBuilder(data.StringSchema).MustBuild()).MustBuild()
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{name: "nil", value: nil, want: "null"},
		{name: "string", value: "héllo", want: "héllo"},
		{name: "bytes raw", value: []byte("raw"), want: "raw"},
		{name: "int8", value: int8(-8), want: "-8"},
		{name: "int16", value: int16(16), want: "16"},
		{name: "int32", value: int32(32), want: "32"},
		{name: "int64", value: int64(math.MaxInt64), want: "9223372036854775807"},
		{name: "bool", value: false, want: "false"},
		{name: "double whole", value: 3.0, want: "3.0"},
		{name: "double small", value: 0.0001, want: "1.0E-4"},
		{name: "double large", value: 12345678.9, want: "1.23456789E7"},
		{name: "double nan", value: math.NaN(), want: "NaN"},
		{name: "float", value: float32(0.1), want: "0.1"},
		{name: "decimal", value: data.NewDecimal(1230, 2), want: "12.30"},
		{name: "decimal negative scale", value: data.Decimal{Unscaled: big.NewInt(123), Scale: -3}, want: "1.23E+5"},
		{name: "decimal tiny", value: data.NewDecimal(-5, 9), want: "-5E-9"},
		{name: "timestamp", value: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), want: "Mon Jan 01 00:00:00 UTC 2024"},
		{name: "struct skips nulls", value: data.NewStruct(schema).Set("a", "x").Set("c", []any{"p", "q"}), want: "Struct{a=x,c=[p, q]}"},
		{name: "map any", value: map[any]any{int32(2): nil, int32(1): "one"}, want: "{1=one, 2=null}"},
		{name: "empty list", value: []any{}, want: "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendValue(nil, tt.value)); got != tt.want {
				t.Errorf("AppendValue(%#v) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}
