package coordinator

import (
	"bytes"
	"context"
	"crypto/rand"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
)

// SessionKeyStore is a ConfigStore that keeps the inter-worker session key
// (KIP-507): the configs topic (*state.ConfigStore). Without one (the
// memory store of standalone mode, where nothing is forwarded) a
// coordinator has no key.
type SessionKeyStore interface {
	SessionKey() (state.SessionKey, bool)
	PutSessionKey(ctx context.Context, k state.SessionKey) error
}

// previousKeyGrace is how long a rotated-out session key still verifies
// forwarded requests: those signed by a coordinator that had not read the
// new key yet.
const previousKeyGrace = time.Minute

// sessionKeyRetry spaces the leader's attempts to write a session key.
const sessionKeyRetry = 5 * time.Second

func (c *Config) interWorkerDefaults() {
	k := &c.InterWorkerKey
	if k.InterWorkerKeyGenerationAlgorithm == "" {
		k.InterWorkerKeyGenerationAlgorithm = rest.DefaultSignatureAlgorithm
	}
	if k.InterWorkerSignatureAlgorithm == "" {
		k.InterWorkerSignatureAlgorithm = rest.DefaultSignatureAlgorithm
	}
	if len(k.InterWorkerVerificationAlgorithms) == 0 {
		k.InterWorkerVerificationAlgorithms = []string{k.InterWorkerSignatureAlgorithm}
	}
	if k.InterWorkerKeyTTL == 0 {
		k.InterWorkerKeyTTL = time.Hour
	}
}

// maintainSessionKey is the leader's part, as Connect's
// DistributedHerder: it writes a new session key to the configs topic when
// there is none, when the current one is older than the TTL, or when it
// was made with another algorithm than the configured one.
func (c *Coordinator) maintainSessionKey() {
	store, ok := c.d.Configs.(SessionKeyStore)
	if !ok || time.Now().Before(c.keyRetryAt) {
		return
	}
	cur, have := store.SessionKey()
	alg := c.cfg.InterWorkerKeyGenerationAlgorithm
	if have && time.Since(cur.Created) < c.cfg.InterWorkerKeyTTL && cur.Algorithm == alg {
		return
	}
	bits := c.cfg.InterWorkerKeySize
	if bits == 0 {
		bits = rest.DefaultKeyBits(alg)
	}
	key := make([]byte, bits/8)
	if _, err := rand.Read(key); err != nil {
		c.log.Error("generating a session key", "error", err)
		c.keyRetryAt = time.Now().Add(sessionKeyRetry)
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, stateWriteTimeout)
	defer cancel()
	if err := store.PutSessionKey(ctx, state.SessionKey{Key: key, Algorithm: alg, Created: time.Now()}); err != nil {
		c.log.Warn("writing a new session key to the configs topic; retrying", "error", err)
		c.keyRetryAt = time.Now().Add(sessionKeyRetry)
		return
	}
	c.log.Info("wrote a new session key to the configs topic", "algorithm", alg, "bits", bits, "rotation", have)
}

// InterWorkerKeys is rest.KeyRing: the session key read from the configs
// topic, then for previousKeyGrace after a rotation the key before it.
func (c *Coordinator) InterWorkerKeys() []rest.SessionKey {
	store, ok := c.d.Configs.(SessionKeyStore)
	if !ok {
		return nil
	}
	cur, have := store.SessionKey()
	if !have {
		return nil
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	if c.curKey != nil && !bytes.Equal(c.curKey.Key, cur.Key) {
		c.prevKey, c.prevUntil = c.curKey, time.Now().Add(previousKeyGrace)
	}
	c.curKey = &rest.SessionKey{Key: cur.Key, Algorithm: cur.Algorithm}
	keys := []rest.SessionKey{*c.curKey}
	if c.prevKey != nil && time.Now().Before(c.prevUntil) {
		keys = append(keys, *c.prevKey)
	}
	return keys
}
