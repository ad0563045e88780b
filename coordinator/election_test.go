package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/kafkatest"
)

// fakeElector is an election whose state the test sets. While it does
// not lead, Leader answers described: the URL the group coordinator names.
type fakeElector struct {
	mu        sync.Mutex
	leading   bool
	described string
	changes   chan bool
}

func newFakeElector(described string) *fakeElector {
	return &fakeElector{described: described, changes: make(chan bool, 1)}
}

func (f *fakeElector) Changes() <-chan bool { return f.changes }

func (f *fakeElector) Leading() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leading
}

func (f *fakeElector) Leader() (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.described, f.leading, nil
}

// lead makes this member the leader, as the group session's Setup does.
func (f *fakeElector) lead() {
	f.mu.Lock()
	f.leading = true
	f.mu.Unlock()
	f.changes <- true
}

// requestCounter counts the requests a handler sees and the forwarded ones
// among them (those with a forward parameter).
type requestCounter struct {
	h                   atomic.Pointer[http.Handler]
	requests, forwarded atomic.Int64
}

func (rec *requestCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.requests.Add(1)
	if r.URL.Query().Has("forward") {
		rec.forwarded.Add(1)
	}
	(*rec.h.Load()).ServeHTTP(w, r)
}

// The election window of a starting coordinator: the group coordinator
// already names this coordinator's own URL as the leader's, its group
// session has not taken leadership yet. A REST write then gets Connect's
// 409 (no known leader) and is never forwarded to this coordinator's own
// URL; once it leads, the same write is served.
func TestWriteDuringTheElectionWindowIsNotForwardedToItself(t *testing.T) {
	k := kafkatest.Start(t, 2)
	rec := &requestCounter{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := testConfig()
	cfg.RestAdvertisedURL = srv.URL
	el := newFakeElector(srv.URL)
	coord := newCoordinator(t, k, cfg, el)
	var h http.Handler = rest.NewHandler(coord, rest.Options{})
	rec.h.Store(&h)

	body, _ := json.Marshal(datagenProps(10))
	put := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/connectors/orders-datagen/config", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, answer := put()
	if status != http.StatusConflict || !strings.Contains(answer, rest.NoLeaderMessage) {
		t.Errorf("a write in the election window: %d %s; want 409 %q", status, answer, rest.NoLeaderMessage)
	}
	if n := rec.forwarded.Load(); n != 0 {
		t.Errorf("the write was forwarded %d time(s) to the coordinator's own URL %s", n, srv.URL)
	}
	if url, self := coord.Leader(); self || url != "" {
		t.Errorf("Leader() = %q, %v in the window; want no leader yet", url, self)
	}

	el.lead()
	waitFor(t, 10*time.Second, "the write to be served once leading", func() bool {
		status, answer = put()
		return status == http.StatusCreated || status == http.StatusOK
	})
	if n := rec.forwarded.Load(); n != 0 {
		t.Errorf("writes were forwarded %d time(s) to the coordinator's own URL", n)
	}
}

// A coordinator given a connector file in the election window waits,
// says so once, and creates the connector when it becomes leader.
func TestAddFileWaitsOutTheElectionWindow(t *testing.T) {
	k := kafkatest.Start(t, 2)
	cfg := testConfig()
	el := newFakeElector(cfg.RestAdvertisedURL)
	coord := newCoordinator(t, k, cfg, el)

	var waits atomic.Int64
	type result struct {
		leader string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		leader, err := coord.AddFile(context.Background(), datagenProps(10), func(error) { waits.Add(1) })
		done <- result{leader, err}
	}()
	waitFor(t, 10*time.Second, "AddFile to say it waits", func() bool { return waits.Load() > 0 })
	time.Sleep(time.Second) // a few retries, all in the window
	if names, _ := coord.Connectors(context.Background()); len(names) != 0 {
		t.Fatalf("connectors %q created before leading", names)
	}
	el.lead()
	select {
	case r := <-done:
		if r.err != nil || r.leader != "" {
			t.Fatalf("AddFile = %q, %v; want created here", r.leader, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("AddFile did not return 10s after leading")
	}
	if n := waits.Load(); n != 1 {
		t.Errorf("waiting reported %d times, want once", n)
	}
	if names, _ := coord.Connectors(context.Background()); !slices.Contains(names, "orders-datagen") {
		t.Fatalf("connectors %q, want orders-datagen", names)
	}
}

// A follower given a connector file forwards it to the leader, retrying
// while the leader answers 409, and reports the leader; a configuration
// the leader rejects fails at once.
func TestAddFileForwardsToTheLeader(t *testing.T) {
	k := kafkatest.Start(t, 2)
	var mu sync.Mutex
	var got []*http.Request
	var bodies []map[string]string
	answers := []int{http.StatusConflict, http.StatusCreated, http.StatusBadRequest}
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var b map[string]string
		_ = json.NewDecoder(r.Body).Decode(&b)
		got, bodies = append(got, r), append(bodies, b)
		status := answers[min(len(got), len(answers))-1]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error_code":%d,"message":"answer %s"}`, status, http.StatusText(status))
	}))
	defer leader.Close()
	coord := newCoordinator(t, k, testConfig(), newFakeElector(leader.URL))
	// The leader's session key, which signs forwarded requests.
	key := state.SessionKey{Key: []byte("0123456789abcdef0123456789abcdef"), Algorithm: "HmacSHA256", Created: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other, err := state.Open(ctx, k.Client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Configs.PutSessionKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the session key read", func() bool { return len(coord.InterWorkerKeys()) == 1 })

	var reasons []error
	via, err := coord.AddFile(context.Background(), datagenProps(10), func(reason error) { reasons = append(reasons, reason) })
	if err != nil || via != leader.URL {
		t.Fatalf("AddFile = %q, %v; want forwarded to %s", via, err, leader.URL)
	}
	if len(reasons) != 1 || !strings.Contains(reasons[0].Error(), "409") {
		t.Errorf("waiting reasons %v, want one naming the 409", reasons)
	}
	mu.Lock()
	if len(got) != 2 {
		t.Fatalf("the leader got %d requests, want 2 (409, then 201)", len(got))
	}
	r := got[1]
	if r.Method != http.MethodPut || r.URL.Path != "/connectors/orders-datagen/config" || r.URL.Query().Get("forward") != "true" {
		t.Errorf("forwarded as %s %s, want PUT /connectors/orders-datagen/config?forward=true", r.Method, r.URL)
	}
	if bodies[1]["connector.class"] != "Datagen" {
		t.Errorf("forwarded body %v", bodies[1])
	}
	body, _ := json.Marshal(bodies[1])
	if err := rest.VerifySignature(r, body, []rest.SessionKey{{Key: key.Key}}, []string{"HmacSHA256"}, time.Now()); err != nil {
		t.Errorf("the forwarded request is not signed with the session key: %v", err)
	}
	mu.Unlock()
	if names, _ := coord.Connectors(context.Background()); len(names) != 0 {
		t.Errorf("a follower wrote connectors %q itself", names)
	}

	_, err = coord.AddFile(context.Background(), datagenProps(10), func(reason error) { t.Errorf("waited on a rejection: %v", reason) })
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "answer Bad Request") {
		t.Fatalf("AddFile with a rejecting leader: %v; want the leader's 400", err)
	}
}
