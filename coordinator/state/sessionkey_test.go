package state

import (
	"bytes"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/kafka"
)

// The session-key record is read as Connect writes it; a malformed one
// leaves the last good key; EncodeSessionKey writes Connect's format.
func TestSessionKeyRecords(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		wantKey string // "" when no key
		wantAlg string
		wantMs  int64
	}{
		{name: "none"},
		{name: "connect's record", values: []string{`{"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1}`},
			wantKey: "key", wantAlg: "HmacSHA256", wantMs: 1},
		{name: "the last one wins", values: []string{`{"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1}`,
			`{"key":"bmV3","algorithm":"HmacSHA512","creation-timestamp":2}`}, wantKey: "new", wantAlg: "HmacSHA512", wantMs: 2},
		{name: "malformed ones are ignored", values: []string{`{"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1}`,
			`{"key":"not base64!","algorithm":"HmacSHA256","creation-timestamp":2}`, `{"key":"","algorithm":"HmacSHA256","creation-timestamp":2}`,
			`{"key":"bmV3","creation-timestamp":2}`, `{"key":"bmV3","algorithm":"HmacSHA256"}`, `[]`, `<nil>`},
			wantKey: "key", wantAlg: "HmacSHA256", wantMs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newConfigState()
			for i, v := range tt.values {
				m := kafka.Message{Offset: int64(i), Key: []byte("session-key")}
				if v != "<nil>" {
					m.Value = []byte(v)
				}
				s.apply(m, quiet)
			}
			if tt.wantKey == "" {
				if s.sessionKey != nil {
					t.Fatalf("key %+v", s.sessionKey)
				}
				return
			}
			k := s.sessionKey
			if k == nil || string(k.Key) != tt.wantKey || k.Algorithm != tt.wantAlg || k.Created.UnixMilli() != tt.wantMs {
				t.Fatalf("key %+v", k)
			}
		})
	}
	got := EncodeSessionKey(SessionKey{Key: []byte("key"), Algorithm: "HmacSHA256", Created: time.UnixMilli(1)})
	if want := `{"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1}`; !bytes.Equal(got, []byte(want)) {
		t.Fatalf("encoded %s, want %s", got, want)
	}
}
