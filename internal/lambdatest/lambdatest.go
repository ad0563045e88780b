// Package lambdatest emulates AWS Lambda for tests and benchmarks that run
// the function binaries as processes: a Runtime serves the Lambda Runtime
// API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) and
// the Extensions API calls aws-lambda-go makes, which the processes of one
// function call (AWS_LAMBDA_RUNTIME_API); a Service serves the Invoke API
// (POST /2015-03-31/functions/{name}/invocations, RequestResponse) that
// the coordinator calls with SLUICE_INVOKER=lambda, in front of Runtimes.
// Each invocation goes to one process waiting in GET next, as Lambda
// routes one invocation to one execution environment. A function may have
// several execution environments (NewEnvironment), each with its own
// Runtime API, so that a test can kill one process and fail the
// invocation it held (Exit), as Lambda reports a runtime that exits
// mid-invocation.
package lambdatest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Runtime emulates the Runtime API of one function: invocations queued by
// Invoke are handed out by GET /2018-06-01/runtime/invocation/next and
// answered by POST .../invocation/{id}/response or .../error.
type Runtime struct {
	function string
	srv      *httptest.Server
	queue    chan *invocation // shared by the function's environments
	closing  chan struct{}
	seq      *atomic.Int64 // shared by the function's environments
	waiting  atomic.Int64  // processes blocked in GET next

	mu        sync.Mutex
	exited    bool // Exit was called: the environment takes no more invocations
	inflight  map[string]*invocation
	firstNext time.Time
	nexts     chan struct{} // closed at the first GET next
	initErrs  []Error
	exts      []string // extensions registered
}

// invocation is one queued or running invocation.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	taken    time.Time // when GET next handed it out
	done     chan Outcome
}

// Outcome is how an invocation ended.
type Outcome struct {
	Body []byte
	// Failed is true when the runtime posted to /error; ErrorTypeHeader is
	// its Lambda-Runtime-Function-Error-Type header (or trailer).
	Failed          bool
	ErrorTypeHeader string
	// Taken is when GET next handed the invocation out; Answered when the
	// response or error arrived.
	Taken, Answered time.Time
}

// Error is Lambda's error shape.
type Error struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// NewRuntime starts the Runtime API of function; it closes when the test
// ends. Register it before starting the function processes, so that their
// cleanups (last in, first out) stop them before it closes.
func NewRuntime(tb testing.TB, function string) *Runtime {
	return newRuntime(tb, function, make(chan *invocation), new(atomic.Int64))
}

// NewEnvironment starts another execution environment of rt's function:
// a Runtime API of its own for one more process, fed from the same
// invocations as rt (Invoke on either, or the Service, reaches a process
// of any environment that waits in GET next). It closes when the test
// ends.
func (rt *Runtime) NewEnvironment(tb testing.TB) *Runtime {
	return newRuntime(tb, rt.function, rt.queue, rt.seq)
}

func newRuntime(tb testing.TB, function string, queue chan *invocation, seq *atomic.Int64) *Runtime {
	rt := &Runtime{function: function, queue: queue, seq: seq, closing: make(chan struct{}),
		inflight: map[string]*invocation{}, nexts: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", rt.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { rt.answer(w, r, false) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { rt.answer(w, r, true) })
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", rt.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		rt.exts = append(rt.exts, r.Header.Get("Lambda-Extension-Name"))
		rt.mu.Unlock()
		w.Header().Set("Lambda-Extension-Identifier", "ext-"+r.Header.Get("Lambda-Extension-Name"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"functionName":%q,"functionVersion":"$LATEST","handler":"bootstrap"}`, function)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		// No events were registered for: this blocks until shutdown.
		select {
		case <-r.Context().Done():
		case <-rt.closing:
		}
	})
	rt.srv = httptest.NewServer(mux)
	tb.Cleanup(func() {
		close(rt.closing)
		rt.srv.Close()
	})
	return rt
}

// Function is the function's name.
func (rt *Runtime) Function() string { return rt.function }

// Addr is the AWS_LAMBDA_RUNTIME_API value of the function's processes.
func (rt *Runtime) Addr() string { return strings.TrimPrefix(rt.srv.URL, "http://") }

// Env is the environment Lambda gives the function's processes: the
// Runtime API's address, the function's name and version, its memory and
// the region.
func (rt *Runtime) Env() []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + rt.function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"AWS_REGION=us-east-1",
	}
}

// Invoke queues payload with a deadline timeout from now and waits for its
// outcome.
func (rt *Runtime) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Outcome, error) {
	inv := &invocation{
		id:      fmt.Sprintf("%s-req-%d", rt.function, rt.seq.Add(1)),
		payload: payload, deadline: time.Now().Add(timeout), done: make(chan Outcome, 1),
	}
	select {
	case rt.queue <- inv:
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("no function process took invocation %s: %w", inv.id, ctx.Err())
	}
	select {
	case o := <-inv.done:
		return o, nil
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("invocation %s: no answer: %w", inv.id, ctx.Err())
	}
}

// Inflight is how many invocations the environment's process holds.
func (rt *Runtime) Inflight() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.inflight)
}

// Exit tells the environment that its process is gone (the test killed
// it): each invocation it held ends as Lambda ends an invocation whose
// runtime exits, with an Unhandled error of type Runtime.ExitError, and
// the environment takes no more invocations (start a new environment for
// a new process). It returns the ids of the invocations it failed.
func (rt *Runtime) Exit(reason string) []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.exited = true
	var ids []string
	for id, inv := range rt.inflight {
		body, _ := json.Marshal(Error{ErrorType: "Runtime.ExitError",
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", id, reason)})
		inv.done <- Outcome{Body: body, Failed: true, ErrorTypeHeader: "Runtime.ExitError", Taken: inv.taken, Answered: time.Now()}
		delete(rt.inflight, id)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// WaitReady waits for the first GET next and returns when it came.
func (rt *Runtime) WaitReady(tb testing.TB, d time.Duration) time.Time {
	tb.Helper()
	select {
	case <-rt.nexts:
	case <-time.After(d):
		tb.Fatalf("%s: no GET invocation/next within %s (init errors: %+v)", rt.function, d, rt.InitErrors())
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.firstNext
}

// WaitIdle waits until n function processes wait for an invocation.
func (rt *Runtime) WaitIdle(tb testing.TB, n int, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for rt.waiting.Load() < int64(n) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d of %d function processes ready after %s (init errors: %+v)", rt.function, rt.waiting.Load(), n, d, rt.InitErrors())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Extensions returns the names of the extensions registered so far.
func (rt *Runtime) Extensions() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.exts)
}

// InitErrors returns the init errors the processes posted so far.
func (rt *Runtime) InitErrors() []Error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.initErrs)
}

func (rt *Runtime) next(w http.ResponseWriter, r *http.Request) {
	rt.mu.Lock()
	if rt.firstNext.IsZero() {
		rt.firstNext = time.Now()
		close(rt.nexts)
	}
	rt.mu.Unlock()
	rt.waiting.Add(1)
	var inv *invocation
	select {
	case inv = <-rt.queue:
	case <-r.Context().Done():
		rt.waiting.Add(-1)
		return
	case <-rt.closing:
		rt.waiting.Add(-1)
		http.Error(w, "shutting down", http.StatusInternalServerError)
		return
	}
	rt.waiting.Add(-1)
	inv.taken = time.Now()
	rt.mu.Lock()
	if rt.exited || r.Context().Err() != nil {
		// The process is gone: another environment takes the invocation.
		rt.mu.Unlock()
		go func() {
			select {
			case rt.queue <- inv:
			case <-rt.closing:
			}
		}()
		return
	}
	rt.inflight[inv.id] = inv
	rt.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:"+rt.function)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

func (rt *Runtime) answer(w http.ResponseWriter, r *http.Request, failed bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rt.mu.Lock()
	inv, ok := rt.inflight[id]
	delete(rt.inflight, id)
	rt.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errorMessage":"unknown request id %s","errorType":"InvalidRequestID"}`, id)
		return
	}
	o := Outcome{Body: body, Failed: failed, Taken: inv.taken, Answered: time.Now()}
	if failed {
		o.ErrorTypeHeader = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		if o.ErrorTypeHeader == "" {
			o.ErrorTypeHeader = r.Trailer.Get("Lambda-Runtime-Function-Error-Type")
		}
	}
	inv.done <- o
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func (rt *Runtime) initError(w http.ResponseWriter, r *http.Request) {
	var e Error
	_ = json.NewDecoder(r.Body).Decode(&e)
	rt.mu.Lock()
	rt.initErrs = append(rt.initErrs, e)
	rt.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// Service emulates the Lambda Invoke API in front of Runtimes: each
// invocation is fed to a process of its function through the function's
// Runtime, and the response or error is relayed, an error with
// X-Amz-Function-Error: Unhandled as Lambda does.
type Service struct {
	srv       *httptest.Server
	functions map[string]*Runtime
	timeout   time.Duration // the functions' configured timeout

	mu     sync.Mutex
	calls  map[string]int
	errors []string
}

// NewService starts the Invoke API for functions, each invocation with a
// deadline timeout from its start; it closes when the test ends.
func NewService(tb testing.TB, timeout time.Duration, functions ...*Runtime) *Service {
	s := &Service{functions: map[string]*Runtime{}, timeout: timeout, calls: map[string]int{}}
	for _, rt := range functions {
		s.functions[rt.function] = rt
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.invoke)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the Invoke API's endpoint (the coordinator's SLUICE_LAMBDA_ENDPOINT).
func (s *Service) URL() string { return s.srv.URL }

// Stats returns the invocations so far by function, and the bodies of the
// failed ones ("function: body").
func (s *Service) Stats() (calls map[string]int, errors []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls), slices.Clone(s.errors)
}

func (s *Service) invoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rt, ok := s.functions[name]
	if !ok {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: %s"}`, name)
		return
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		http.Error(w, "only RequestResponse is emulated, not "+t, http.StatusBadRequest)
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	o, err := rt.Invoke(r.Context(), payload, s.timeout)
	if err != nil {
		return // the caller gave up
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if o.Failed {
		s.mu.Lock()
		s.errors = append(s.errors, name+": "+string(o.Body))
		s.mu.Unlock()
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(o.Body)
}
