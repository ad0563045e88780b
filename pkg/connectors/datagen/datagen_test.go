package datagen

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// fakeContext serves one committed offset per task index.
type fakeContext map[int64]map[string]any

func (c fakeContext) Offsets() connect.OffsetReader { return c }

func (c fakeContext) Offset(partition map[string]any) map[string]any {
	t, _ := partition[TaskField].(int64)
	return c[t]
}

func props(kv ...string) map[string]string {
	p := map[string]string{TopicConfig: "orders"}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

func startTask(t testing.TB, tc connect.SourceTaskContext, p map[string]string) *Task {
	t.Helper()
	task := NewTask()
	if err := task.Start(context.Background(), tc, p); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return task
}

// drain polls n times, or until a Poll returns nothing.
func drain(t testing.TB, task *Task, polls int) []connect.SourceRecord {
	t.Helper()
	var all []connect.SourceRecord
	for range polls {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			break
		}
		all = append(all, recs...)
	}
	return all
}

// render is a comparable view of a record.
func render(r connect.SourceRecord) string {
	v := r.Value
	if s, ok := v.(*data.Struct); ok {
		v = s.String()
	}
	return r.Topic + "|" + strconv.Quote(asString(r.Key)) + "|" + asString(v) + "|" + r.Timestamp.Format(time.RFC3339) +
		"|" + asString(r.SourcePartition[TaskField]) + "|" + asString(r.SourceOffset[SeqField])
}

func asString(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return reflect.ValueOf(v).String()
}

func renderAll(recs []connect.SourceRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = render(r)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	for _, shape := range []string{ShapeOrders, ShapeUsers, ShapePageviews, ShapeBytes} {
		t.Run(shape, func(t *testing.T) {
			p := props(ShapeConfig, shape, SeedConfig, "42", CountConfig, "50", BatchSizeConfig, "7")
			a := renderAll(drain(t, startTask(t, nil, p), 100))
			b := renderAll(drain(t, startTask(t, nil, p), 100))
			if len(a) != 50 {
				t.Fatalf("got %d records, want 50", len(a))
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatal("two tasks with the same seed differ")
			}
			p[TaskIndexConfig], p[TaskCountConfig] = "1", "2"
			other := renderAll(drain(t, startTask(t, nil, p), 100))
			if reflect.DeepEqual(a, other) {
				t.Fatal("tasks 0 and 1 produce the same records")
			}
			p[TaskIndexConfig], p[TaskCountConfig], p[SeedConfig] = "0", "1", "43"
			if reseeded := renderAll(drain(t, startTask(t, nil, p), 100)); reflect.DeepEqual(a, reseeded) {
				t.Fatal("seeds 42 and 43 produce the same records")
			}
		})
	}
}

func TestRecordShape(t *testing.T) {
	tests := []struct {
		name      string
		props     map[string]string
		keySchema *data.Schema
		schema    *data.Schema
	}{
		{name: "orders", props: props(), keySchema: data.StringSchema, schema: OrderSchema},
		{name: "users", props: props(ShapeConfig, ShapeUsers), keySchema: data.StringSchema, schema: UserSchema},
		{name: "pageviews", props: props(ShapeConfig, ShapePageviews), keySchema: data.StringSchema, schema: PageviewSchema},
		{name: "bytes", props: props(ShapeConfig, ShapeBytes, ValueSizeConfig, "37"), schema: data.BytesSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.props
			p[TaskIndexConfig], p[TaskCountConfig] = "3", "4"
			recs := drain(t, startTask(t, nil, p), 1)
			if len(recs) != DefaultBatchSize {
				t.Fatalf("first Poll returned %d records, want batch.size %d", len(recs), DefaultBatchSize)
			}
			for i, r := range recs {
				if r.Topic != "orders" || r.KeySchema != tt.keySchema || r.ValueSchema != tt.schema {
					t.Fatalf("record %d: topic %q key schema %v value schema %v", i, r.Topic, r.KeySchema, r.ValueSchema)
				}
				if err := data.Validate(r.ValueSchema, r.Value); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if s, ok := r.Value.(*data.Struct); ok {
					if err := s.Validate(); err != nil {
						t.Fatalf("record %d: %v", i, err)
					}
				}
				if want := Epoch.Add(time.Duration(i) * time.Second); !r.Timestamp.Equal(want) {
					t.Fatalf("record %d: timestamp %v, want %v", i, r.Timestamp, want)
				}
				if !reflect.DeepEqual(r.SourcePartition, map[string]any{TaskField: int64(3)}) ||
					!reflect.DeepEqual(r.SourceOffset, map[string]any{SeqField: int64(i + 1)}) {
					t.Fatalf("record %d: partition %v offset %v", i, r.SourcePartition, r.SourceOffset)
				}
			}
			if b, ok := recs[0].Value.([]byte); ok && len(b) != 37 {
				t.Errorf("bytes value has %d bytes, want 37", len(b))
			}
			if s, ok := recs[5].Value.(*data.Struct); ok && tt.name == "orders" {
				if s.Get("order_id") != int64(3*orderIDsPerTask+5) || s.Get("customer_id") != recs[5].Key ||
					!s.Get("ordered_at").(time.Time).Equal(recs[5].Timestamp) {
					t.Errorf("order 5 = %v, key %v", s, recs[5].Key)
				}
			}
		})
	}
}

// TestOrderJSONSize checks that an order encodes, as the JsonConverter does
// with schemas.enable=false, to about 200 bytes.
func TestOrderJSONSize(t *testing.T) {
	recs := drain(t, startTask(t, nil, props(CountConfig, "2000")), 10)
	total := 0
	for _, r := range recs {
		s := r.Value.(*data.Struct)
		m := map[string]any{}
		for _, f := range OrderSchema.Fields {
			v := s.Get(f.Name)
			if ts, ok := v.(time.Time); ok {
				v = ts.UnixMilli()
			}
			m[f.Name] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 150 || len(b) > 250 {
			t.Fatalf("order %s is %d bytes, want 150 to 250", b, len(b))
		}
		total += len(b)
	}
	if avg := total / len(recs); avg < 170 || avg > 230 {
		t.Errorf("average order is %d bytes, want about 200", avg)
	}
}

func TestResumeAndCount(t *testing.T) {
	p := props(SeedConfig, "7", CountConfig, "25", BatchSizeConfig, "10")
	all := renderAll(drain(t, startTask(t, nil, p), 100))
	if len(all) != 25 {
		t.Fatalf("count 25 gave %d records", len(all))
	}
	tests := []struct {
		name   string
		offset any
		want   []string
	}{
		{name: "int64", offset: int64(12), want: all[12:]},
		{name: "float64", offset: float64(20), want: all[20:]},
		{name: "at count", offset: int64(25), want: nil},
		{name: "beyond count", offset: int64(40), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := startTask(t, fakeContext{0: {SeqField: tt.offset}}, p)
			got := renderAll(drain(t, task, 100))
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resumed at %v: got %d records, want %d", tt.offset, len(got), len(tt.want))
			}
			// Once count is reached, Poll keeps returning nothing.
			if recs, err := task.Poll(context.Background()); recs != nil || err != nil {
				t.Errorf("Poll after count = %d records, %v", len(recs), err)
			}
		})
	}

	t.Run("bad offset", func(t *testing.T) {
		for _, bad := range []any{"12", -1.0, 1.5} {
			if err := NewTask().Start(context.Background(), fakeContext{0: {SeqField: bad}}, p); err == nil {
				t.Errorf("offset %v accepted", bad)
			}
		}
	})
}

func TestRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     string
		runFor   time.Duration
		min, max int
	}{
		// 200/s for 300 ms is about 60; the bounds allow for a slow machine.
		{name: "200 per second", rate: "200", runFor: 300 * time.Millisecond, min: 20, max: 70},
		// 2/s: the first record at once, the next one due after 500 ms.
		{name: "2 per second", rate: "2", runFor: 200 * time.Millisecond, min: 1, max: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := startTask(t, nil, props(RateConfig, tt.rate))
			n := 0
			start := time.Now()
			for time.Since(start) < tt.runFor {
				pollStart := time.Now()
				recs, err := task.Poll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(pollStart); d > time.Second {
					t.Fatalf("Poll blocked for %v", d)
				}
				n += len(recs)
			}
			if n < tt.min || n > tt.max {
				t.Errorf("%d records in %v at rate %s, want %d to %d", n, tt.runFor, tt.rate, tt.min, tt.max)
			}
		})
	}

	t.Run("cancelled context returns at once", func(t *testing.T) {
		task := startTask(t, nil, props(RateConfig, "0.01"))
		if recs, _ := task.Poll(context.Background()); len(recs) != 1 {
			t.Fatalf("first Poll returned %d records, want 1", len(recs))
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if recs, err := task.Poll(ctx); recs != nil || err != nil {
			t.Fatalf("Poll = %d records, %v", len(recs), err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Poll with a cancelled context took %v", d)
		}
	})
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		want    settings
		wantErr []string
	}{
		{name: "defaults", props: map[string]string{TopicConfig: "t"},
			want: settings{topic: "t", shape: ShapeOrders, valueSize: 200, count: -1, batchSize: 1000}},
		{name: "all keys", props: map[string]string{TopicConfig: "t", ShapeConfig: "bytes", ValueSizeConfig: "64",
			CountConfig: "10", RateConfig: "2.5", SeedConfig: "-3", BatchSizeConfig: "5"},
			want: settings{topic: "t", shape: ShapeBytes, valueSize: 64, count: 10, rate: 2.5, seed: -3, batchSize: 5}},
		{name: "confluent keys", props: map[string]string{KafkaTopicConfig: "k", QuickstartConfig: "USERS",
			IterationsConfig: "100", MaxIntervalConfig: "250"},
			want: settings{topic: "k", shape: ShapeUsers, valueSize: 200, count: 100, rate: 4, batchSize: 1000}},
		{name: "confluent unlimited and unpaced", props: map[string]string{KafkaTopicConfig: "k", QuickstartConfig: "",
			IterationsConfig: "0", MaxIntervalConfig: "0"},
			want: settings{topic: "k", shape: ShapeOrders, valueSize: 200, count: -1, batchSize: 1000}},
		{name: "agreeing aliases", props: map[string]string{TopicConfig: "t", KafkaTopicConfig: "t", ShapeConfig: "orders",
			QuickstartConfig: "ORDERS", CountConfig: "-1", IterationsConfig: "-5", RateConfig: "2", MaxIntervalConfig: "500"},
			want: settings{topic: "t", shape: ShapeOrders, valueSize: 200, count: -1, rate: 2, batchSize: 1000}},
		{name: "missing topic", props: map[string]string{},
			wantErr: []string{`Missing required configuration "topic" which has no default value.`}},
		{name: "bad values", props: map[string]string{TopicConfig: "t", ShapeConfig: "clickstream", CountConfig: "-2",
			RateConfig: "-1", BatchSizeConfig: "0", ValueSizeConfig: "0", SeedConfig: "x"},
			wantErr: []string{
				"Invalid value clickstream for configuration shape: String must be one of: orders, users, pageviews, bytes",
				"Invalid value -2 for configuration count: Value must be at least -1",
				"Invalid value -1.0 for configuration rate: Value must be at least 0",
				"Invalid value 0 for configuration batch.size: Value must be at least 1",
				"Invalid value 0 for configuration value.size: Value must be at least 1",
				"Invalid value x for configuration seed: Not a number of type LONG",
			}},
		{name: "bad confluent values", props: map[string]string{KafkaTopicConfig: "k", QuickstartConfig: "clickstream",
			MaxIntervalConfig: "-1"},
			wantErr: []string{
				"Invalid value clickstream for configuration quickstart: String must be one of (case insensitive): ORDERS, USERS, PAGEVIEWS, BYTES",
				"Invalid value -1 for configuration max.interval: Value must be at least 0",
			}},
		{name: "conflicting aliases", props: map[string]string{TopicConfig: "a", KafkaTopicConfig: "b", CountConfig: "5", IterationsConfig: "6"},
			wantErr: []string{
				"Invalid value b for configuration kafka.topic: conflicts with topic=a",
				"Invalid value 6 for configuration iterations: conflicts with count=5",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSettings(tt.props)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got != tt.want {
					t.Errorf("settings = %+v, want %+v", got, tt.want)
				}
				if err := NewConnector().Start(context.Background(), nil, tt.props); err != nil {
					t.Errorf("Start: %v", err)
				}
				return
			}
			var verr *config.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *config.ValidationError", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if err := NewConnector().Start(context.Background(), nil, tt.props); err == nil {
				t.Error("Start accepted the configuration")
			}
		})
	}
}

// The Def's rule reports what the key declarations cannot.
func TestValidateConfig(t *testing.T) {
	c := NewConnector()
	problems := func(props map[string]string) map[string][]string {
		var out map[string][]string
		for _, r := range c.Config().Validate(props) {
			if len(r.Errors) > 0 {
				if out == nil {
					out = map[string][]string{}
				}
				out[r.Name] = r.Errors
			}
		}
		return out
	}
	got := problems(map[string]string{RateConfig: "1", MaxIntervalConfig: "100"})
	want := map[string][]string{
		TopicConfig:       {missingTopicMsg},
		MaxIntervalConfig: {"Invalid value 100 for configuration max.interval: conflicts with rate=1; set only one of rate and max.interval"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ValidateConfig = %q, want %q", got, want)
	}
	if got := problems(map[string]string{KafkaTopicConfig: "k"}); got != nil {
		t.Errorf("ValidateConfig with kafka.topic = %q", got)
	}
	// Config declares every key, Confluent's included, without panicking.
	if _, ok := c.Config().Key(QuickstartConfig); !ok {
		t.Error("quickstart is not declared")
	}
}

func TestTaskConfigs(t *testing.T) {
	c := NewConnector()
	p := props(SeedConfig, "1")
	if err := c.Start(context.Background(), nil, p); err != nil {
		t.Fatal(err)
	}
	configs, err := c.TaskConfigs(3)
	if err != nil || len(configs) != 3 {
		t.Fatalf("TaskConfigs(3) = %d configs, %v", len(configs), err)
	}
	for i, tc := range configs {
		if tc[TaskIndexConfig] != strconv.Itoa(i) || tc[TaskCountConfig] != "3" || tc[SeedConfig] != "1" {
			t.Errorf("task %d config = %v", i, tc)
		}
		task := startTask(t, nil, tc)
		if task.index != int64(i) {
			t.Errorf("task %d started as index %d", i, task.index)
		}
	}
	if _, ok := p[TaskIndexConfig]; ok {
		t.Error("TaskConfigs modified the connector's properties")
	}
	if err := NewTask().Start(context.Background(), nil, props(TaskIndexConfig, "3", TaskCountConfig, "3")); err == nil {
		t.Error("task.index 3 of 3 accepted")
	}
}

func TestPlugins(t *testing.T) {
	r, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Class, ConfluentClass, "DatagenConnector", "Datagen"} {
		p, err := r.Connector(name)
		if err != nil || p.Class != Class {
			t.Errorf("lookup %s = %s, %v", name, p.Class, err)
		}
	}
}

func BenchmarkPoll(b *testing.B) {
	task := startTask(b, nil, props(BatchSizeConfig, "1000"))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		recs, err := task.Poll(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		records += len(recs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
