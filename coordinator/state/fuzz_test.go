package state

import (
	"io"
	"log/slog"
	"testing"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// FuzzConfigsTopicRecord: any record on the configs topic (Connect's
// formats, or garbage another client wrote) is applied or skipped, never
// a panic, and the snapshot stays readable.
func FuzzConfigsTopicRecord(f *testing.F) {
	for _, kv := range [][2]string{
		{"connector-a", `{"properties":{"connector.class":"Datagen","name":"a"}}`},
		{"task-a-0", `{"properties":{"x":"y"}}`},
		{"commit-a", `{"tasks":1}`},
		{"target-state-a", `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"session-key", `{"key":"AA==","algorithm":"HmacSHA256","creation-timestamp":1}`},
		{"task-a-x", `{}`},
		{"commit-a", `{"tasks":-5}`},
	} {
		f.Add([]byte(kv[0]), []byte(kv[1]))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		s := newConfigState()
		s.apply(kafka.Message{Key: []byte("connector-a"), Value: []byte(`{"properties":{"name":"a"}}`)}, log)
		s.apply(kafka.Message{Key: key, Value: value}, log)
		s.apply(kafka.Message{Key: key, Value: nil}, log)
		s.apply(kafka.Message{Key: key, Value: value}, log)
		_ = s.snapshot()
	})
}
