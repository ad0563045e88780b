package lease

import (
	"context"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// rawTask is a sink task that takes raw values (and keys) when takes
// (takesKeys) says so.
type rawTask struct{ takes, takesKeys bool }

func (rawTask) Start(context.Context, connect.SinkTaskContext, map[string]string) error { return nil }
func (rawTask) Put(context.Context, []connect.SinkRecord) error                         { return nil }
func (rawTask) Stop() error                                                             { return nil }
func (t rawTask) TakesRawValues(connect.Converter) bool                                 { return t.takes }
func (t rawTask) TakesRawKeys(connect.Converter) bool                                   { return t.takesKeys }

// TestRawValuesOnlyWhenNothingReadsThem: the lease leaves values (keys)
// undecoded only for a task that takes them, from a converter that checks
// them, without transforms; and then only the values the converter
// accepts.
func TestRawValuesOnlyWhenNothingReadsThem(t *testing.T) {
	reg, err := connect.NewRegistry(slices.Concat(converter.Plugins(), transforms.Plugins())...)
	if err != nil {
		t.Fatal(err)
	}
	schemaless := map[string]string{"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter"}
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
		name              string
		cfg               map[string]string
		task              connect.SinkTask
		wantVals, wantKey bool
	}{
		{name: "schemaless JSON, a task that takes values", cfg: schemaless, task: rawTask{takes: true}, wantVals: true},
		{name: "and keys", cfg: schemaless, task: rawTask{takes: true, takesKeys: true}, wantVals: true, wantKey: true},
		{name: "keys only", cfg: schemaless, task: rawTask{takesKeys: true}, wantKey: true},
		{name: "a task that declines", cfg: schemaless, task: rawTask{}},
		{name: "a task without the capabilities", cfg: schemaless, task: struct{ connect.SinkTask }{rawTask{takes: true, takesKeys: true}}},
		{name: "a transform", cfg: with(schemaless, "transforms", "d", "transforms.d.type", "org.apache.kafka.connect.transforms.DropHeaders",
			"transforms.d.headers", "h"), task: rawTask{takes: true, takesKeys: true}},
		{name: "converters that do not check", cfg: map[string]string{"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
			"key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"}, task: rawTask{takes: true, takesKeys: true}},
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
			conv.raw, conv.rawKey = rawCheckers(tt.task, st)
			if got := conv.raw != nil; got != tt.wantVals {
				t.Fatalf("raw values: %v, want %v", got, tt.wantVals)
			}
			if got := conv.rawKey != nil; got != tt.wantKey {
				t.Fatalf("raw keys: %v, want %v", got, tt.wantKey)
			}
			for _, v := range []string{`{"a":1}`, `{"a":`, `[1]`, `null`, ``, `"s"`} {
				for _, key := range [][]byte{[]byte("k"), nil} {
					m := kafka.Message{Topic: "t", Key: key, Value: []byte(v)}
					rec, err := conv.toSinkRecord(&m)
					if err != nil && v == `{"a":1}` {
						t.Fatal(err)
					}
					raw, isRaw := rec.Value.(*connect.RawValue)
					if want := tt.wantVals && v == `{"a":1}`; isRaw != want {
						t.Fatalf("%q: value put as %T, raw wanted: %v", v, rec.Value, want)
					}
					if isRaw {
						s, dv, err := raw.Decode()
						if err != nil || s != nil || dv.(map[string]any)["a"] != int64(1) || string(raw.Bytes) != v || raw.Topic != "t" {
							t.Fatalf("%q decodes to %v %v %v", v, s, dv, err)
						}
					}
					rawKey, isRawKey := rec.Key.(*connect.RawValue)
					if want := tt.wantKey && key != nil; isRawKey != want {
						t.Fatalf("key %q: put as %T, raw wanted: %v", key, rec.Key, want)
					}
					if isRawKey {
						if s, k, err := rawKey.Decode(); err != nil || s != data.OptionalStringSchema || k != "k" || rec.KeySchema != nil {
							t.Fatalf("key decodes to %v %v %v (KeySchema %v)", s, k, err, rec.KeySchema)
						}
					}
				}
			}
		})
	}
}
