package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runtimeAPI emulates the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for the
// function processes of one function: invocations queued by Invoke are
// handed out by GET /2018-06-01/runtime/invocation/next and answered by
// POST .../invocation/{id}/response or .../error. It also answers the
// Extensions API calls aws-lambda-go makes for lambda.WithEnableSIGTERM.
type runtimeAPI struct {
	function string
	srv      *httptest.Server
	queue    chan *invocation
	closing  chan struct{}
	seq      atomic.Int64

	mu        sync.Mutex
	inflight  map[string]*invocation
	firstNext time.Time
	nexts     chan struct{} // closed at the first GET next
	initErrs  []lambdaError
	exts      []string // extensions registered
}

// invocation is one queued or running invocation.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	taken    time.Time // when GET next handed it out
	done     chan outcome
}

// outcome is how an invocation ended.
type outcome struct {
	Body []byte
	// Failed is true when the runtime posted to /error; ErrorTypeHeader is
	// its Lambda-Runtime-Function-Error-Type header (or trailer).
	Failed          bool
	ErrorTypeHeader string
	// Taken is when GET next handed the invocation out; Answered when the
	// response or error arrived.
	Taken, Answered time.Time
}

// lambdaError is Lambda's error shape.
type lambdaError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func newRuntimeAPI(t *testing.T, function string) *runtimeAPI {
	rt := &runtimeAPI{function: function, queue: make(chan *invocation), closing: make(chan struct{}),
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
	// Cleanups run last-in first-out: the functions, started later, are
	// killed before the server closes.
	t.Cleanup(func() {
		close(rt.closing)
		rt.srv.Close()
	})
	return rt
}

// addr is the AWS_LAMBDA_RUNTIME_API value.
func (rt *runtimeAPI) addr() string { return strings.TrimPrefix(rt.srv.URL, "http://") }

// Invoke queues payload with a deadline timeout from now and waits for its
// outcome.
func (rt *runtimeAPI) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (outcome, error) {
	inv := &invocation{
		id:      fmt.Sprintf("%s-req-%d", rt.function, rt.seq.Add(1)),
		payload: payload, deadline: time.Now().Add(timeout), done: make(chan outcome, 1),
	}
	select {
	case rt.queue <- inv:
	case <-ctx.Done():
		return outcome{}, fmt.Errorf("no function process took invocation %s: %w", inv.id, ctx.Err())
	}
	select {
	case o := <-inv.done:
		return o, nil
	case <-ctx.Done():
		return outcome{}, fmt.Errorf("invocation %s: no answer: %w", inv.id, ctx.Err())
	}
}

// waitReady waits for the first GET next and returns when it came.
func (rt *runtimeAPI) waitReady(t *testing.T, d time.Duration) time.Time {
	t.Helper()
	select {
	case <-rt.nexts:
	case <-time.After(d):
		t.Fatalf("%s: no GET invocation/next within %s (init errors: %+v)", rt.function, d, rt.initErrors())
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.firstNext
}

func (rt *runtimeAPI) extensions() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.exts...)
}

func (rt *runtimeAPI) initErrors() []lambdaError {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]lambdaError(nil), rt.initErrs...)
}

func (rt *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	rt.mu.Lock()
	if rt.firstNext.IsZero() {
		rt.firstNext = time.Now()
		close(rt.nexts)
	}
	rt.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-rt.queue:
	case <-r.Context().Done():
		return
	case <-rt.closing:
		http.Error(w, "shutting down", http.StatusInternalServerError)
		return
	}
	inv.taken = time.Now()
	rt.mu.Lock()
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

func (rt *runtimeAPI) answer(w http.ResponseWriter, r *http.Request, failed bool) {
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
	o := outcome{Body: body, Failed: failed, Taken: inv.taken, Answered: time.Now()}
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

func (rt *runtimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	var e lambdaError
	_ = json.NewDecoder(r.Body).Decode(&e)
	rt.mu.Lock()
	rt.initErrs = append(rt.initErrs, e)
	rt.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// startFunction runs the function binary at path under rt, with the
// function's SLUICE_* settings.
func startFunction(t *testing.T, rt *runtimeAPI, path string, env ...string) *process {
	t.Helper()
	env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + rt.function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"AWS_REGION=us-east-1",
	}, env...)
	return start(t, rt.function, path, env...)
}
