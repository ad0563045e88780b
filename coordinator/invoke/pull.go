// Package invoke holds the HTTP pull protocol by which long-lived workers
// (ECS or any host) take leases from the coordinator and report their
// results: the coordinator's Pull invoker and the workers' PullClient. The
// Lambda invoker is in package awslambda; the in-process invoker of dev
// mode in package coordinator.
package invoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// The worker endpoints, under the coordinator's REST listener.
const (
	// PollPath is POST {PollPath}?kind=source,sink&wait=20s&worker=<id>:
	// 200 with a lease, or 204 when none came within wait.
	PollPath = "/sluice/v1/leases/poll"
	// ResultPath is POST {ResultPath}/{lease id} with the lease.Result: 204,
	// or 410 when the lease is no longer awaited (its deadline passed).
	ResultPath = "/sluice/v1/leases/result"
	// SecretHeader carries the workers' shared secret (Pull.Secret) on
	// every request to the worker endpoints.
	SecretHeader = "Sluice-Worker-Secret"
)

// maxResultBytes bounds a posted lease result.
const maxResultBytes = 16 << 20

// ErrNoResult reports a lease that no worker took, or whose worker did not
// report, before the lease's deadline.
var ErrNoResult = errors.New("no result before the lease deadline")

// Pull hands leases to long-lived workers that poll for them over HTTP
// (ECS services, any host). Invoke blocks until a worker has taken the
// lease and reported its result, or until the lease's deadline: a worker
// that dies loses its lease at the deadline, after which the coordinator
// re-issues the same work. Pull is safe for concurrent use.
type Pull struct {
	queues map[lease.Kind]chan *pending
	// MaxWait caps a poll's wait parameter. Default DefaultMaxWait.
	MaxWait time.Duration
	// Secret, when not empty, is the workers' shared secret: a request to
	// the worker endpoints without it in SecretHeader is refused with 401.
	Secret string

	mu      sync.Mutex
	waiting map[string]*pending // by lease id, once taken

	muxOnce sync.Once
	mux     *http.ServeMux
}

type pending struct {
	lease    lease.Lease
	result   chan lease.Result
	reported bool // under Pull.mu: a result was accepted
}

// DefaultMaxWait is the longest a worker's poll waits for a lease by
// default (Pull.MaxWait, SLUICE_PULL_MAX_WAIT): the REST listener's write
// timeout must outlast it.
const DefaultMaxWait = 30 * time.Second

// NewPull returns a pull invoker with no workers yet.
func NewPull() *Pull {
	return &Pull{
		queues:  map[lease.Kind]chan *pending{lease.KindSource: make(chan *pending), lease.KindSink: make(chan *pending)},
		MaxWait: DefaultMaxWait,
		waiting: map[string]*pending{},
	}
}

// Invoke offers the lease to the next worker polling for its kind and waits
// for the result.
func (p *Pull) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	q, ok := p.queues[l.Kind]
	if !ok {
		return lease.Result{}, fmt.Errorf("%w: unknown lease kind %q", lease.ErrBadLease, l.Kind)
	}
	ctx, cancel := context.WithDeadline(ctx, l.Deadline)
	defer cancel()
	token, err := newToken()
	if err != nil {
		return lease.Result{}, err
	}
	l.Token = token
	pend := &pending{lease: l, result: make(chan lease.Result, 1)}
	p.mu.Lock()
	p.waiting[l.ID] = pend
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, l.ID)
		p.mu.Unlock()
	}()
	select {
	case q <- pend:
	case <-ctx.Done():
		return lease.Result{}, fmt.Errorf("lease %s: no worker took it: %w", l.ID, ErrNoResult)
	}
	select {
	case res := <-pend.result:
		res.Token = ""
		return res, nil
	case <-ctx.Done():
		return lease.Result{}, fmt.Errorf("lease %s: the worker did not report: %w", l.ID, ErrNoResult)
	}
}

// newToken returns an unguessable lease token.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a lease token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ServeHTTP serves the worker endpoints (PollPath and ResultPath).
func (p *Pull) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.Secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(p.Secret)) != 1 {
		w.Header().Set("WWW-Authenticate", `SluiceWorker realm="sluice"`)
		writeError(w, http.StatusUnauthorized, "the worker endpoints need the workers' shared secret in the "+SecretHeader+" header")
		return
	}
	p.muxOnce.Do(p.routes)
	p.mux.ServeHTTP(w, r)
}

// Routes are the patterns of the worker endpoints, as ServeHTTP
// registers them.
func Routes() []string {
	return []string{"POST " + PollPath, "POST " + ResultPath + "/{id...}"}
}

func (p *Pull) routes() {
	p.mux = http.NewServeMux()
	routes := Routes()
	p.mux.HandleFunc(routes[0], p.poll)
	p.mux.HandleFunc(routes[1], func(w http.ResponseWriter, r *http.Request) { p.report(w, r, r.PathValue("id")) })
	for _, path := range []string{PollPath, ResultPath + "/{id...}"} {
		p.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "the worker endpoint "+r.URL.Path+" takes POST, not "+r.Method)
		})
	}
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such worker endpoint: "+r.Method+" "+r.URL.Path)
	})
}

func (p *Pull) poll(w http.ResponseWriter, r *http.Request) {
	wait := 20 * time.Second
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, "wait must be a duration such as 20s, not "+v)
			return
		}
		wait = d
	}
	wait = min(wait, p.MaxWait)
	var src, snk chan *pending // nil channels never deliver
	for _, k := range strings.Split(r.URL.Query().Get("kind"), ",") {
		switch lease.Kind(strings.TrimSpace(k)) {
		case lease.KindSource:
			src = p.queues[lease.KindSource]
		case lease.KindSink:
			snk = p.queues[lease.KindSink]
		default:
			writeError(w, http.StatusBadRequest, "kind must list source and/or sink, not "+k)
			return
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	var pend *pending
	select {
	case pend = <-src:
	case pend = <-snk:
	case <-t.C:
		w.WriteHeader(http.StatusNoContent)
		return
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(pend.lease)
}

func (p *Pull) report(w http.ResponseWriter, r *http.Request, id string) {
	res, err := decodeResult(io.LimitReader(r.Body, maxResultBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed lease result: "+err.Error())
		return
	}
	if res.LeaseID != id {
		writeError(w, http.StatusBadRequest, "result for lease "+res.LeaseID+" posted to lease "+id)
		return
	}
	if err := res.Check(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pend, ok := p.waiting[id]
	if !ok {
		writeError(w, http.StatusGone, "lease "+id+" is not awaited any more (its deadline passed or it was never issued)")
		return
	}
	if err := res.CheckFor(pend.lease); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if pend.reported {
		writeError(w, http.StatusConflict, "lease "+id+" already has its result")
		return
	}
	pend.reported = true
	pend.result <- res // buffered for the one accepted result
	w.WriteHeader(http.StatusNoContent)
}

// resultRequired are the members a worker's result always has: the lease's
// identity and token, and the outcome.
var resultRequired = []string{"lease_id", "connector", "task", "epoch", "status", "token"}

// decodeResult decodes a posted lease result. A null member is refused
// (workers omit what they do not set, and encoding/json would read null as
// zero), and so is one without a member of resultRequired.
func decodeResult(r io.Reader) (lease.Result, error) {
	var res lease.Result
	var members map[string]json.RawMessage
	body, err := io.ReadAll(r)
	if err == nil {
		err = json.Unmarshal(body, &members)
	}
	if err == nil && members == nil {
		err = errors.New("the result is not a JSON object")
	}
	if err != nil {
		return res, err
	}
	for k, v := range members {
		if string(bytes.TrimSpace(v)) == "null" {
			return res, fmt.Errorf("%q is null", k)
		}
	}
	for _, k := range resultRequired {
		if _, ok := members[k]; !ok {
			return res, fmt.Errorf("%q is missing", k)
		}
	}
	return res, json.Unmarshal(body, &res)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}

// PullClient is the worker's side of the pull protocol.
type PullClient struct {
	// BaseURL is the coordinator's REST URL, e.g. http://coordinator:8083.
	BaseURL string
	// Worker identifies the worker in logs.
	Worker string
	Kinds  []lease.Kind
	HTTP   *http.Client
	// Secret is the workers' shared secret (the coordinator's Pull.Secret),
	// sent in SecretHeader; empty sends none.
	Secret string
}

func (c *PullClient) do(req *http.Request) (*http.Response, error) {
	if c.Secret != "" {
		req.Header.Set(SecretHeader, c.Secret)
	}
	return c.client().Do(req)
}

func (c *PullClient) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Next waits up to wait for a lease; it returns nil when none came.
func (c *PullClient) Next(ctx context.Context, wait time.Duration) (*lease.Lease, error) {
	kinds := make([]string, len(c.Kinds))
	for i, k := range c.Kinds {
		kinds[i] = string(k)
	}
	q := url.Values{"kind": {strings.Join(kinds, ",")}, "wait": {wait.String()}, "worker": {c.Worker}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+PollPath+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusOK:
		var l lease.Lease
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			return nil, fmt.Errorf("malformed lease from %s: %w", c.BaseURL, err)
		}
		return &l, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, fmt.Errorf("polling %s: %s: %s", c.BaseURL, resp.Status, bytes.TrimSpace(b))
}

// Report posts a lease's result. A 410 (the coordinator stopped waiting)
// is returned as ErrNoResult.
func (c *PullClient) Report(ctx context.Context, res lease.Result) error {
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+ResultPath+"/"+url.PathEscape(res.LeaseID), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusGone:
		return fmt.Errorf("lease %s: %w", res.LeaseID, ErrNoResult)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Errorf("reporting lease %s: %s: %s", res.LeaseID, resp.Status, bytes.TrimSpace(b))
}
