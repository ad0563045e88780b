package rest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Requests one coordinator forwards to another are signed as Kafka
// Connect's workers sign their internal requests (KIP-507): an HMAC with
// the cluster's session key, which the leader generates and keeps in the
// configs topic, in X-Connect-Authorization, and the MAC's name in
// X-Connect-Request-Signature-Algorithm. Connect signs the body alone;
// Sluice forwards every write, so it signs the method, the request URI and
// a timestamp too (X-Sluice-Request-Timestamp, Unix milliseconds): a
// signature cannot be moved to another request, nor replayed after
// MaxSignatureAge.
const (
	SignatureHeader          = "X-Connect-Authorization"
	SignatureAlgorithmHeader = "X-Connect-Request-Signature-Algorithm"
	SignatureTimestampHeader = "X-Sluice-Request-Timestamp"
)

// MaxSignatureAge is how far a signed request's timestamp may be from the
// receiver's clock.
const MaxSignatureAge = 5 * time.Minute

// DefaultSignatureAlgorithm is Connect's inter.worker.signature.algorithm
// default.
const DefaultSignatureAlgorithm = "HmacSHA256"

// macs are the MAC algorithms, by their Java names, and their default key
// sizes in bits (Java's KeyGenerator defaults).
var macs = map[string]struct {
	hash    func() hash.Hash
	keyBits int
}{
	"HmacSHA256": {sha256.New, 256},
	"HmacSHA384": {sha512.New384, 384},
	"HmacSHA512": {sha512.New, 512},
}

// MACAlgorithms are the algorithm names Sluice signs, verifies and
// generates keys with.
func MACAlgorithms() []string { return []string{"HmacSHA256", "HmacSHA384", "HmacSHA512"} }

// DefaultKeyBits returns the key size Java's KeyGenerator uses for
// algorithm, or 0 for an unknown one.
func DefaultKeyBits(algorithm string) int { return macs[algorithm].keyBits }

// SessionKey is the inter-worker key as the REST layer needs it.
type SessionKey struct {
	Key       []byte
	Algorithm string // its generation algorithm
}

// KeyRing gives the session keys a coordinator signs and verifies with.
type KeyRing interface {
	// InterWorkerKeys returns the keys that verify a request, the current
	// one (which signs) first; none before the first key is read.
	InterWorkerKeys() []SessionKey
}

// signedPayload is what the signature covers.
func signedPayload(method, requestURI, timestamp string, body []byte) []byte {
	b := make([]byte, 0, len(method)+len(requestURI)+len(timestamp)+3+len(body))
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, requestURI...)
	b = append(b, '\n')
	b = append(b, timestamp...)
	b = append(b, '\n')
	return append(b, body...)
}

func mac(algorithm string, key, payload []byte) ([]byte, error) {
	m, ok := macs[algorithm]
	if !ok {
		return nil, fmt.Errorf("unknown signature algorithm %q", algorithm)
	}
	h := hmac.New(m.hash, key)
	h.Write(payload)
	return h.Sum(nil), nil
}

// Sign adds the signature headers to req, whose body is body, with key
// and the MAC algorithm (inter.worker.signature.algorithm).
func Sign(req *http.Request, body []byte, key SessionKey, algorithm string, now time.Time) error {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sum, err := mac(algorithm, key.Key, signedPayload(req.Method, req.URL.RequestURI(), ts, body))
	if err != nil {
		return err
	}
	req.Header.Set(SignatureHeader, base64.StdEncoding.EncodeToString(sum))
	req.Header.Set(SignatureAlgorithmHeader, algorithm)
	req.Header.Set(SignatureTimestampHeader, ts)
	return nil
}

// VerifySignature checks r's signature over body against keys, with an
// algorithm of allowed (inter.worker.verification.algorithms).
func VerifySignature(r *http.Request, body []byte, keys []SessionKey, allowed []string, now time.Time) error {
	sig, alg, ts := r.Header.Get(SignatureHeader), r.Header.Get(SignatureAlgorithmHeader), r.Header.Get(SignatureTimestampHeader)
	if sig == "" || ts == "" {
		return errors.New("the request has no inter-worker signature")
	}
	if alg == "" {
		alg = DefaultSignatureAlgorithm
	}
	if !slices.Contains(allowed, alg) {
		return fmt.Errorf("signature algorithm %q is not among the permitted %v", alg, allowed)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("malformed " + SignatureTimestampHeader)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSignatureAge || d < -MaxSignatureAge {
		return errors.New("the signature's timestamp is too far from this worker's clock")
	}
	presented, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("malformed " + SignatureHeader)
	}
	if len(keys) == 0 {
		return errors.New("this worker has no session key yet")
	}
	payload := signedPayload(r.Method, r.URL.RequestURI(), ts, body)
	for _, k := range keys {
		if want, err := mac(alg, k.Key, payload); err == nil && hmac.Equal(want, presented) {
			return nil
		}
	}
	return errors.New("the request signature is invalid")
}

type forwardedKey struct{}

// IsForwarded reports whether ctx is a request's that another coordinator
// forwarded and signed (VerifyForwarded checked it).
func IsForwarded(ctx context.Context) bool {
	v, _ := ctx.Value(forwardedKey{}).(bool)
	return v
}

// VerifyForwarded returns next behind the check of forwarded requests: a
// request that says it was forwarded (Connect's forward query parameter) or
// carries a signature must be signed with one of keys' session keys, with
// an algorithm of allowed; otherwise it is answered 403. A verified request
// reaches next marked (IsForwarded), so that Auth lets it through as the
// forwarding coordinator's, which authenticated its caller. maxBody bounds
// the body read for the check.
func VerifyForwarded(keys KeyRing, allowed []string, maxBody int64, next http.Handler) http.Handler {
	if len(allowed) == 0 {
		allowed = []string{DefaultSignatureAlgorithm}
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("forward") && r.Header.Get(SignatureHeader) == "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			status, msg := errorStatus(err)
			writeErrorMessage(w, status, msg)
			return
		}
		var ring []SessionKey
		if keys != nil {
			ring = keys.InterWorkerKeys()
		}
		if err := VerifySignature(r, body, ring, allowed, time.Now()); err != nil {
			writeErrorMessage(w, http.StatusForbidden, "Forbidden: a request forwarded between workers must be signed with the cluster's session key: "+err.Error())
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true))
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
