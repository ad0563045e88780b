package lease

import (
	"context"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// rawTask is a sink task that takes raw values when takes says so.
type rawTask struct{ takes bool }

func (rawTask) Start(context.Context, connect.SinkTaskContext, map[string]string) error { return nil }
func (rawTask) Put(context.Context, []connect.SinkRecord) error                         { return nil }
func (rawTask) Stop() error                                                             { return nil }
func (t rawTask) TakesRawValues(connect.Converter) bool                                 { return t.takes }

// TestRawValuesOnlyWhenNothingReadsThem: the lease leaves values
// undecoded only for a task that takes them, from a converter that checks
// them, without transforms; and then only the values the converter
// accepts.
func TestRawValuesOnlyWhenNothingReadsThem(t *testing.T) {
	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), transforms.Plugins())...)
	if err != nil {
		t.Fatal(err)
	}
	schemaless := map[string]string{"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		cfg  map[string]string
		task connect.SinkTask
		want bool
	}{
		{name: "schemaless JSON, a task that takes them", cfg: schemaless, task: rawTask{takes: true}, want: true},
		{name: "a task that declines", cfg: schemaless, task: rawTask{takes: false}},
		{name: "a task without the capability", cfg: schemaless, task: struct{ connect.SinkTask }{rawTask{takes: true}}},
		{name: "a transform", cfg: with(schemaless, "transforms", "d", "transforms.d.type", "org.apache.kafka.connect.transforms.DropHeaders",
			"transforms.d.headers", "h"), task: rawTask{takes: true}},
		{name: "string converter", cfg: map[string]string{"value.converter": "org.apache.kafka.connect.storage.StringConverter"}, task: rawTask{takes: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, err := newConverters(reg, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			chain, err := transforms.NewChain(reg, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			st := &stages{conv: conv, chain: chain}
			conv.raw = rawChecker(tt.task, st)
			if got := conv.raw != nil; got != tt.want {
				t.Fatalf("raw values: %v, want %v", got, tt.want)
			}
			for _, v := range []string{`{"a":1}`, `{"a":`, `[1]`, `null`, ``, `"s"`} {
				m := kafka.Message{Topic: "t", Value: []byte(v)}
				rec, err := conv.toSinkRecord(&m)
				raw, isRaw := rec.Value.(*connect.RawValue)
				wantRaw := tt.want && v == `{"a":1}`
				if isRaw != wantRaw {
					t.Fatalf("%q: put as %T, raw wanted: %v", v, rec.Value, wantRaw)
				}
				if !isRaw {
					continue
				}
				if err != nil || string(raw.Bytes) != v || raw.Topic != "t" {
					t.Fatalf("%q: %+v, %v", v, raw, err)
				}
				s, dv, err := raw.Decode()
				if err != nil || s != nil || dv.(map[string]any)["a"] != int64(1) {
					t.Fatalf("%q decodes to %v %v %v", v, s, dv, err)
				}
			}
		})
	}
}
