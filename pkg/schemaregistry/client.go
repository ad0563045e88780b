// Package schemaregistry is Sluice's Confluent Schema Registry client: every
// registry call of the converters goes through it. It wraps franz-go's
// pkg/sr (the HTTP API) and adds what Confluent's CachedSchemaRegistryClient
// has and sr lacks: caches by schema id, by (subject, schema) and of each
// subject's latest version, retries with exponential backoff when the
// registry is unavailable, failover across every URL of
// schema.registry.url on any unavailable answer (not only on connection
// errors), Confluent's configuration keys, and a request counter.
//
// The wire format (magic byte 0, 4-byte big-endian schema id, payload; for
// Protobuf the message indexes after the id) is in wire.go.
package schemaregistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// Schema, SubjectSchema, SchemaReference and SchemaType are franz-go's.
type (
	Schema          = sr.Schema
	SubjectSchema   = sr.SubjectSchema
	SchemaReference = sr.SchemaReference
	SchemaType      = sr.SchemaType
)

// Schema types.
const (
	TypeAvro     = sr.TypeAvro
	TypeProtobuf = sr.TypeProtobuf
	TypeJSON     = sr.TypeJSON
)

// Client talks to one registry (one or several URLs). Lookups that hit a
// cache make no request; concurrent misses for the same key make one. A
// Client is safe for concurrent use.
type Client struct {
	cfg Settings
	// rotations[i] is an sr client whose URLs start at the i-th URL: try i
	// of a request uses rotations[i % len], so that an unavailable first
	// registry is skipped on the retry even when it answered (5xx).
	rotations []*sr.Client
	requests  atomic.Int64

	mu       sync.Mutex
	byID     map[int]Schema
	bySchema map[subjectSchemaKey]SubjectSchema
	latest   map[string]latestEntry
	inflight map[any]*call
	// versions[{subject, id}] is id's version under subject, 0 when it is
	// not registered there; listed[subject] is the highest id that the
	// subject's last listing returned.
	versions map[subjectID]int
	listed   map[string]int
	// noListing is set once the registry has refused GET /schemas.
	noListing atomic.Bool

	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

type subjectSchemaKey struct {
	subject, schema string
	typ             SchemaType
	normalize       bool
}

type subjectID struct {
	subject string
	id      int
}

type latestEntry struct {
	ss SubjectSchema
	at time.Time
}

type call struct {
	done chan struct{}
	val  any
	err  error
}

// New returns a client for cfg.
func New(cfg Settings) (*Client, error) {
	if len(cfg.URLs) == 0 {
		return nil, fmt.Errorf("%w: no %s", errConfig, URLConfig)
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.ReadTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	httpcl := &http.Client{Transport: transport, Timeout: cfg.ConnectTimeout + cfg.ReadTimeout}
	c := &Client{
		cfg: cfg, byID: map[int]Schema{}, bySchema: map[subjectSchemaKey]SubjectSchema{},
		latest: map[string]latestEntry{}, inflight: map[any]*call{},
		versions: map[subjectID]int{}, listed: map[string]int{},
		now: time.Now, sleep: sleepCtx,
	}
	for i := range cfg.URLs {
		urls := append(append([]string{}, cfg.URLs[i:]...), cfg.URLs[:i]...)
		opts := []sr.ClientOpt{sr.URLs(urls...), sr.HTTPClient(httpcl), sr.UserAgent("sluice"),
			sr.PreReq(func(*http.Request) error { c.requests.Add(1); return nil })}
		if cfg.Username != "" {
			opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
		}
		if cfg.BearerToken != "" {
			opts = append(opts, sr.BearerToken(cfg.BearerToken))
		}
		cl, err := sr.NewClient(opts...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errConfig, err)
		}
		c.rotations = append(c.rotations, cl)
	}
	return c, nil
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Client{}
)

// Shared returns the process's client for cfg, creating it on first use:
// converters configured alike (the key and value converters of a
// connector, the leases that a warm function or a worker runs one after
// the other) share its caches, so a schema is fetched once per process.
func Shared(cfg Settings) (*Client, error) {
	if cfg.fingerprint == "" {
		return New(cfg)
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if c, ok := shared[cfg.fingerprint]; ok {
		return c, nil
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	shared[cfg.fingerprint] = c
	return c, nil
}

// Requests returns the number of HTTP requests the client has sent,
// retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// SchemaByID returns the schema with the given global id (GET
// /schemas/ids/{id}), cached for good: ids never change meaning.
func (c *Client) SchemaByID(ctx context.Context, id int) (Schema, error) {
	c.mu.Lock()
	s, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	v, err := c.once(ctx, id, func(cl *sr.Client) (any, error) { return cl.SchemaByID(ctx, id) })
	if err != nil {
		return Schema{}, fmt.Errorf("fetching schema id %d: %w", id, err)
	}
	s = v.(Schema)
	c.mu.Lock()
	bound(c.byID, c.cfg.CacheCapacity)
	c.byID[id] = s
	c.mu.Unlock()
	return s, nil
}

// Register registers s under subject, or finds it when it is already
// registered (POST /subjects/{subject}/versions), and returns its id. The
// answer is cached by (subject, schema).
func (c *Client) Register(ctx context.Context, subject string, s Schema, normalize bool) (int, error) {
	k := subjectSchemaKey{subject: subject, schema: s.Schema, typ: s.Type, normalize: normalize}
	if ss, ok := c.cachedSubjectSchema(k); ok {
		return ss.ID, nil
	}
	v, err := c.once(ctx, k, func(cl *sr.Client) (any, error) {
		return cl.RegisterSchema(withNormalize(ctx, normalize), subject, s, -1, -1)
	})
	if err != nil {
		return 0, fmt.Errorf("registering a schema under subject %s: %w", subject, err)
	}
	id := v.(int)
	c.cacheSubjectSchema(k, SubjectSchema{Subject: subject, ID: id, Schema: s})
	c.cacheID(id, s)
	return id, nil
}

// Lookup finds s among subject's versions (POST /subjects/{subject}) and
// returns its id and version, cached by (subject, schema). A schema not
// registered under subject is ErrSchemaNotFound (or ErrSubjectNotFound).
func (c *Client) Lookup(ctx context.Context, subject string, s Schema, normalize bool) (SubjectSchema, error) {
	k := subjectSchemaKey{subject: subject, schema: s.Schema, typ: s.Type, normalize: normalize}
	if ss, ok := c.cachedSubjectSchema(k); ok && ss.Version > 0 {
		return ss, nil
	}
	v, err := c.once(ctx, [2]any{"lookup", k}, func(cl *sr.Client) (any, error) {
		return cl.LookupSchema(withNormalize(ctx, normalize), subject, s)
	})
	if err != nil {
		return SubjectSchema{}, fmt.Errorf("looking up a schema under subject %s: %w", subject, err)
	}
	ss := v.(SubjectSchema)
	c.cacheSubjectSchema(k, ss)
	c.cacheID(ss.ID, ss.Schema)
	return ss, nil
}

// SchemaInSubject returns the schema of id with its version under subject
// (Version 0 when id is not registered there): what a deserializer needs
// to name a record's schema. A client that has not met subject lists it
// in one request (GET /schemas?subjectPrefix=subject&deleted=true), which
// answers for every schema of the subject at once, so that a cold lease
// makes one request per subject, not two per schema; an id newer than
// that listing lists the subject again. An id that the listing lacks
// costs GET /schemas/ids/{id} as well (an unknown id fails there); a
// registry without GET /schemas is asked by id and then by schema (POST
// /subjects/{subject}), as Confluent's deserializers do.
func (c *Client) SchemaInSubject(ctx context.Context, subject string, id int) (SubjectSchema, error) {
	if ss, ok := c.cachedInSubject(subject, id); ok {
		return ss, nil
	}
	listed := false
	if c.shouldList(subject, id) {
		// The answer is cached (and a refusal noted) before the call
		// ends, so that a caller who comes after it finds it.
		_, err := c.once(ctx, [2]any{"list", subject}, func(cl *sr.Client) (any, error) {
			all, err := cl.AllSchemas(sr.WithParams(ctx, sr.SubjectPrefix(subject), sr.ShowDeleted))
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			switch {
			case err == nil:
				c.cacheListing(subject, all)
			case errors.As(err, &syntax) || errors.As(err, &typ):
				// A 200 whose body is no list of schemas (a proxy's
				// page, a registry that reads the path otherwise).
				c.noListing.Store(true)
				return nil, fmt.Errorf("%w: %w", errNoListing, err)
			case errors.Is(fromSR(err), ErrUnauthorized):
				// Refused credentials say nothing of GET /schemas,
				// and asking by id would be refused as well.
			case !IsRetriable(fromSR(err)):
				// An older registry (or a proxy) without GET
				// /schemas: ask by id from now on.
				c.noListing.Store(true)
			}
			return all, err
		})
		if IsRetriable(err) || errors.Is(err, ErrUnauthorized) {
			return SubjectSchema{}, fmt.Errorf("listing the schemas of subject %s: %w", subject, err)
		}
		if ss, ok := c.cachedInSubject(subject, id); ok {
			return ss, nil
		}
		if err == nil {
			listed = true
			// Ids up to this one are answered: a damaged record's
			// made-up id does not list the subject again and again.
			c.raiseListed(subject, id)
		}
	} else if ss, ok := c.cachedInSubject(subject, id); ok {
		return ss, nil
	}
	s, err := c.SchemaByID(ctx, id)
	if err != nil {
		return SubjectSchema{}, err
	}
	ss := SubjectSchema{Subject: subject, ID: id, Schema: s}
	if listed {
		// The registry knows id but not under subject: its records are
		// registered elsewhere (another subject name strategy), so
		// listing subject will not answer for the next ones either.
		c.raiseListed(subject, math.MaxInt)
	} else {
		found, err := c.Lookup(ctx, subject, s, false)
		switch {
		case err == nil:
			ss.Version = found.Version
		case IsRetriable(err):
			return SubjectSchema{}, err
		}
	}
	c.mu.Lock()
	bound(c.versions, c.cfg.CacheCapacity)
	c.versions[subjectID{subject, id}] = ss.Version
	c.mu.Unlock()
	return ss, nil
}

func (c *Client) raiseListed(subject string, id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listed[subject] = max(c.listed[subject], id)
}

func (c *Client) cachedInSubject(subject string, id int) (SubjectSchema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byID[id]
	if !ok {
		return SubjectSchema{}, false
	}
	v, ok := c.versions[subjectID{subject, id}]
	return SubjectSchema{Subject: subject, Version: v, ID: id, Schema: s}, ok
}

// shouldList reports whether listing subject may answer for id: the
// registry lists, and subject has not been listed since id was made.
func (c *Client) shouldList(subject string, id int) bool {
	if c.noListing.Load() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	high, ok := c.listed[subject]
	return !ok || id > high
}

// cacheListing caches what GET /schemas answered for subject: the
// subjectPrefix filter also matches longer subjects, which are skipped.
func (c *Client) cacheListing(subject string, all []SubjectSchema) {
	high := 0
	for _, ss := range all {
		if ss.Subject != subject || ss.ID <= 0 {
			continue
		}
		high = max(high, ss.ID)
		c.cacheID(ss.ID, ss.Schema)
		c.cacheSubjectSchema(subjectSchemaKey{subject: subject, schema: ss.Schema.Schema, typ: ss.Type}, ss)
		c.mu.Lock()
		bound(c.versions, c.cfg.CacheCapacity)
		c.versions[subjectID{subject, ss.ID}] = ss.Version
		c.mu.Unlock()
	}
	c.mu.Lock()
	bound(c.listed, c.cfg.CacheCapacity)
	c.listed[subject] = max(c.listed[subject], high)
	c.mu.Unlock()
}

// Latest returns subject's latest version, cached for latest.cache.ttl.sec
// (forever by default, as Confluent's client).
func (c *Client) Latest(ctx context.Context, subject string) (SubjectSchema, error) {
	c.mu.Lock()
	e, ok := c.latest[subject]
	c.mu.Unlock()
	if ok && (c.cfg.LatestTTL < 0 || c.now().Sub(e.at) < c.cfg.LatestTTL) {
		return e.ss, nil
	}
	v, err := c.once(ctx, [2]any{"latest", subject}, func(cl *sr.Client) (any, error) {
		return cl.SchemaByVersion(ctx, subject, -1)
	})
	if err != nil {
		return SubjectSchema{}, fmt.Errorf("fetching the latest version of subject %s: %w", subject, err)
	}
	ss := v.(SubjectSchema)
	c.mu.Lock()
	bound(c.latest, c.cfg.CacheCapacity)
	c.latest[subject] = latestEntry{ss: ss, at: c.now()}
	c.mu.Unlock()
	c.cacheID(ss.ID, ss.Schema)
	return ss, nil
}

// SchemaByVersion returns one version of subject (uncached; version -1 is
// the latest).
func (c *Client) SchemaByVersion(ctx context.Context, subject string, version int) (SubjectSchema, error) {
	v, err := c.retry(ctx, func(cl *sr.Client) (any, error) { return cl.SchemaByVersion(ctx, subject, version) })
	if err != nil {
		return SubjectSchema{}, fmt.Errorf("fetching version %d of subject %s: %w", version, subject, err)
	}
	return v.(SubjectSchema), nil
}

// Subjects lists the registry's subjects (uncached).
func (c *Client) Subjects(ctx context.Context) ([]string, error) {
	v, err := c.retry(ctx, func(cl *sr.Client) (any, error) { return cl.Subjects(ctx) })
	if err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	return v.([]string), nil
}

// Versions lists subject's versions (uncached).
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	v, err := c.retry(ctx, func(cl *sr.Client) (any, error) { return cl.SubjectVersions(ctx, subject) })
	if err != nil {
		return nil, fmt.Errorf("listing the versions of subject %s: %w", subject, err)
	}
	return v.([]int), nil
}

// CheckCompatibility tests s against subject's version (-1: the latest)
// and returns whether it is compatible and, when not, the registry's
// reasons.
func (c *Client) CheckCompatibility(ctx context.Context, subject string, version int, s Schema) (bool, []string, error) {
	v, err := c.retry(ctx, func(cl *sr.Client) (any, error) {
		return cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, version, s)
	})
	if err != nil {
		return false, nil, fmt.Errorf("checking compatibility with subject %s: %w", subject, err)
	}
	r := v.(sr.CheckCompatibilityResult)
	return r.Is, r.Messages, nil
}

func withNormalize(ctx context.Context, normalize bool) context.Context {
	if normalize {
		return sr.WithParams(ctx, sr.Normalize)
	}
	return ctx
}

func (c *Client) cachedSubjectSchema(k subjectSchemaKey) (SubjectSchema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ss, ok := c.bySchema[k]
	return ss, ok
}

func (c *Client) cacheSubjectSchema(k subjectSchemaKey, ss SubjectSchema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.bySchema[k]; ok && ss.Version == 0 {
		ss.Version = old.Version
	}
	bound(c.bySchema, c.cfg.CacheCapacity)
	c.bySchema[k] = ss
}

func (c *Client) cacheID(id int, s Schema) {
	if id <= 0 || s.Schema == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; !ok {
		bound(c.byID, c.cfg.CacheCapacity)
		c.byID[id] = s
	}
}

// bound empties a cache that is full: a cheap bound that suits the
// handful of schemas a connector meets.
func bound[K comparable, V any](m map[K]V, capacity int) {
	if capacity > 0 && len(m) >= capacity {
		clear(m)
	}
}

// once runs fn with retries, sharing one run among concurrent callers of
// the same key.
func (c *Client) once(ctx context.Context, key any, fn func(*sr.Client) (any, error)) (any, error) {
	c.mu.Lock()
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-cl.done:
			return cl.val, cl.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()
	cl.val, cl.err = c.retry(ctx, fn)
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(cl.done)
	return cl.val, cl.err
}

// retry runs fn until it succeeds, fails with an error other than
// ErrUnavailable, or max.retries retries have failed, waiting
// retries.wait.ms doubled each time up to retries.max.wait.ms (with
// jitter) and starting each try at the next URL.
func (c *Client) retry(ctx context.Context, fn func(*sr.Client) (any, error)) (any, error) {
	wait := c.cfg.RetryWait
	for try := 0; ; try++ {
		v, err := fn(c.rotations[try%len(c.rotations)])
		err = fromSR(err)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrUnavailable) || try >= c.cfg.MaxRetries || ctx.Err() != nil {
			return nil, err
		}
		d := wait
		if c.cfg.RetryMaxWait > 0 && d > c.cfg.RetryMaxWait {
			d = c.cfg.RetryMaxWait
		}
		d += time.Duration(rand.Int64N(int64(d)/5 + 1))
		if serr := c.sleep(ctx, d); serr != nil {
			return nil, err
		}
		wait *= 2
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func joinErrors(errs []error) error { return errors.Join(errs...) }
