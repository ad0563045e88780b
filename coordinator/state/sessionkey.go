package state

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// SessionKey is the inter-worker key of KIP-507, kept in the configs topic
// under the key "session-key" as Connect's leader writes it:
// {"key":"<base64>","algorithm":"HmacSHA256","creation-timestamp":<ms>}.
// The coordinators sign the requests they forward to the leader with it.
type SessionKey struct {
	Key       []byte
	Algorithm string // the key generation algorithm, such as HmacSHA256
	Created   time.Time
}

// EncodeSessionKey returns a session-key value.
func EncodeSessionKey(k SessionKey) []byte {
	b := append(make([]byte, 0, 128), `{"key":`...)
	b = appendString(b, base64.StdEncoding.EncodeToString(k.Key))
	b = append(b, `,"algorithm":`...)
	b = appendString(b, k.Algorithm)
	b = append(b, `,"creation-timestamp":`...)
	b = strconv.AppendInt(b, k.Created.UnixMilli(), 10)
	return append(b, '}')
}

// applySessionKey reads a session-key record; ok is false when it is
// malformed (the previous key stays).
func (s *configState) applySessionKey(obj object) bool {
	encoded, ok := obj.str("key")
	if !ok {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) == 0 {
		return false
	}
	alg, ok := obj.str("algorithm")
	if !ok {
		return false
	}
	ms, err := strconv.ParseInt(string(obj["creation-timestamp"]), 10, 64)
	if err != nil {
		return false
	}
	s.sessionKey = &SessionKey{Key: key, Algorithm: alg, Created: time.UnixMilli(ms)}
	return true
}

// SessionKey returns the last session key read from the configs topic.
func (s *ConfigStore) SessionKey() (SessionKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.state.sessionKey == nil {
		return SessionKey{}, false
	}
	k := *s.state.sessionKey
	k.Key = append([]byte(nil), k.Key...)
	return k, true
}

// PutSessionKey writes a new session key (the leader's job) and reads it
// back.
func (s *ConfigStore) PutSessionKey(ctx context.Context, k SessionKey) error {
	if len(k.Key) == 0 || k.Algorithm == "" {
		return fmt.Errorf("%w: empty session key or algorithm", ErrInvalid)
	}
	return s.write(ctx, "session key", []Record{{Key: []byte(sessionKeyKey), Value: EncodeSessionKey(k)}})
}
