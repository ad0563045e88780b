package e2e_test

import (
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

// lambdaEmulator stands in for AWS Lambda in front of pre-started function
// processes (warm execution environments): it serves the Invoke API
// (POST /2015-03-31/functions/{name}/invocations, RequestResponse) that
// the coordinator calls with SLUICE_INVOKER=lambda, and the Runtime API
// (GET .../runtime/invocation/next, POST .../response and .../error) and
// the Extensions API calls aws-lambda-go makes, that the function
// processes call (AWS_LAMBDA_RUNTIME_API). Each invocation goes to one
// idle process, as Lambda routes one invocation to one environment.
type lambdaEmulator struct {
	srv      *httptest.Server
	function string
	timeout  time.Duration
	queue    chan *invocation
	closing  chan struct{}
	seq      atomic.Int64
	calls    atomic.Int64
	waiting  atomic.Int64 // processes blocked in GET next

	mu       sync.Mutex
	inflight map[string]*invocation
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan answer
}

type answer struct {
	body   []byte
	failed bool
}

func newLambdaEmulator(tb testing.TB, function string, timeout time.Duration) *lambdaEmulator {
	e := &lambdaEmulator{function: function, timeout: timeout, queue: make(chan *invocation),
		closing: make(chan struct{}), inflight: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", e.invoke)
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { e.answer(w, r, false) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { e.answer(w, r, true) })
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		tb.Errorf("%s: init error %s", function, b)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Lambda-Extension-Identifier", "ext-"+r.Header.Get("Lambda-Extension-Name"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"functionName":%q,"functionVersion":"$LATEST","handler":"bootstrap"}`, function)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-e.closing:
		}
	})
	e.srv = httptest.NewServer(mux)
	tb.Cleanup(func() {
		close(e.closing)
		e.srv.Close()
	})
	return e
}

// runtimeAPI is the AWS_LAMBDA_RUNTIME_API value of the function processes.
func (e *lambdaEmulator) runtimeAPI() string { return strings.TrimPrefix(e.srv.URL, "http://") }

func (e *lambdaEmulator) invoke(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("name") != e.function {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: %s"}`, r.PathValue("name"))
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.calls.Add(1)
	inv := &invocation{id: fmt.Sprintf("req-%d", e.seq.Add(1)), payload: payload,
		deadline: time.Now().Add(e.timeout), done: make(chan answer, 1)}
	select {
	case e.queue <- inv:
	case <-r.Context().Done():
		return
	}
	var a answer
	select {
	case a = <-inv.done:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if a.failed {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

// waitIdle waits until n function processes wait for an invocation.
func (e *lambdaEmulator) waitIdle(tb testing.TB, n int, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for e.waiting.Load() < int64(n) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d of %d function processes ready after %s", e.function, e.waiting.Load(), n, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *lambdaEmulator) next(w http.ResponseWriter, r *http.Request) {
	e.waiting.Add(1)
	defer e.waiting.Add(-1)
	var inv *invocation
	select {
	case inv = <-e.queue:
	case <-r.Context().Done():
		return
	case <-e.closing:
		http.Error(w, "shutting down", http.StatusInternalServerError)
		return
	}
	e.mu.Lock()
	e.inflight[inv.id] = inv
	e.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:"+e.function)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

func (e *lambdaEmulator) answer(w http.ResponseWriter, r *http.Request, failed bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	inv, ok := e.inflight[r.PathValue("id")]
	delete(e.inflight, r.PathValue("id"))
	e.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`)
		return
	}
	inv.done <- answer{body: body, failed: failed}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}
