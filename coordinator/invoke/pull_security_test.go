package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/internal/leasetest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

func postResult(t *testing.T, base, secret, id string, res any) int {
	t.Helper()
	b, _ := json.Marshal(res)
	req, _ := http.NewRequest(http.MethodPost, base+invoke.ResultPath+"/"+id, bytes.NewReader(b))
	if secret != "" {
		req.Header.Set(invoke.SecretHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// otherFirstByte is token with its first character replaced by another
// (a fixed replacement is the same token when the token starts with it:
// one run in 64 accepted the "spoofed" token).
func otherFirstByte(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

// A result is taken only with its lease's token, connector, task and
// epoch, with a known status and no negative count, and only once; the
// rest are refused with 400 (409 for a second result), and the invoker
// still gets the good one.
func TestPullChecksResults(t *testing.T) {
	pull := invoke.NewPull()
	pull.Secret = "worker-secret"
	srv := httptest.NewServer(pull)
	t.Cleanup(srv.Close)
	worker := &invoke.PullClient{BaseURL: srv.URL, Worker: "w1", Kinds: []lease.Kind{lease.KindSource}, Secret: pull.Secret}

	type outcome struct {
		res lease.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := pull.Invoke(context.Background(), leasetest.DatagenLease("s1", 5))
		done <- outcome{res, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := worker.Next(ctx, 3*time.Second)
	if err != nil || l == nil {
		t.Fatalf("lease %v err %v", l, err)
	}
	if len(l.Token) < 40 {
		t.Fatalf("lease token %q is not an unguessable secret", l.Token)
	}
	good := lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: lease.Succeeded, Records: 5, Bytes: 10, Token: l.Token}
	tests := []struct {
		name   string
		secret string
		change func(r *lease.Result)
		want   int
		alt    int // also right
	}{
		{name: "no worker secret", change: func(*lease.Result) {}, want: http.StatusUnauthorized},
		{name: "wrong worker secret", secret: "guess", change: func(*lease.Result) {}, want: http.StatusUnauthorized},
		{name: "negative records", secret: pull.Secret, change: func(r *lease.Result) { r.Records = -1 }, want: http.StatusBadRequest},
		{name: "negative bytes", secret: pull.Secret, change: func(r *lease.Result) { r.Bytes = -5 }, want: http.StatusBadRequest},
		{name: "unknown status", secret: pull.Secret, change: func(r *lease.Result) { r.Status = "ok" }, want: http.StatusBadRequest},
		{name: "no token", secret: pull.Secret, change: func(r *lease.Result) { r.Token = "" }, want: http.StatusBadRequest},
		{name: "spoofed token", secret: pull.Secret, change: func(r *lease.Result) { r.Token = otherFirstByte(r.Token) }, want: http.StatusBadRequest},
		{name: "another epoch", secret: pull.Secret, change: func(r *lease.Result) { r.Epoch++ }, want: http.StatusBadRequest},
		{name: "another task", secret: pull.Secret, change: func(r *lease.Result) { r.Task = 3 }, want: http.StatusBadRequest},
		{name: "another connector", secret: pull.Secret, change: func(r *lease.Result) { r.Connector = "other" }, want: http.StatusBadRequest},
		{name: "the lease's result", secret: pull.Secret, change: func(*lease.Result) {}, want: http.StatusNoContent},
		{name: "a second result", secret: pull.Secret, change: func(r *lease.Result) { r.Records = 99 }, want: http.StatusConflict, alt: http.StatusGone}, // 410 once Invoke returned
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.change(&r)
			if got := postResult(t, srv.URL, tc.secret, l.ID, r); got != tc.want && got != tc.alt {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	out := <-done
	if out.err != nil || out.res.Records != 5 || out.res.Status != lease.Succeeded || out.res.Token != "" {
		t.Fatalf("invoker got %+v, %v", out.res, out.err)
	}
	// A poll without the secret is refused too: the lease carries the
	// connector's configuration (its passwords).
	resp, err := http.Post(srv.URL+invoke.PollPath+"?kind=source&wait=10ms", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("poll without the secret: %s", resp.Status)
	}
}

// The worker endpoints answer other methods with 405 and Allow: POST, a
// malformed result with 400 before its lease is looked up (a result for a
// lease not awaited is 410 only when well formed), and unknown paths 404.
func TestPullEndpointErrors(t *testing.T) {
	pull := invoke.NewPull()
	srv := httptest.NewServer(pull)
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"poll with GET", http.MethodGet, invoke.PollPath, nil, http.StatusMethodNotAllowed},
		{"result with PUT", http.MethodPut, invoke.ResultPath + "/l1", nil, http.StatusMethodNotAllowed},
		{"negative count, unknown lease", http.MethodPost, invoke.ResultPath + "/l1",
			lease.Result{LeaseID: "l1", Status: lease.Succeeded, Bytes: -1, Token: "t"}, http.StatusBadRequest},
		{"unknown status, unknown lease", http.MethodPost, invoke.ResultPath + "/l1",
			lease.Result{LeaseID: "l1", Status: "done", Token: "t"}, http.StatusBadRequest},
		{"no token, unknown lease", http.MethodPost, invoke.ResultPath + "/l1",
			lease.Result{LeaseID: "l1", Status: lease.Failed}, http.StatusBadRequest},
		{"null count, unknown lease", http.MethodPost, invoke.ResultPath + "/l1",
			map[string]any{"lease_id": "l1", "connector": "c", "task": 0, "epoch": 1, "token": "t", "status": "failed", "dead_lettered": nil}, http.StatusBadRequest},
		{"not an object", http.MethodPost, invoke.ResultPath + "/l1", []int{1}, http.StatusBadRequest},
		{"well formed, unknown lease", http.MethodPost, invoke.ResultPath + "/l1",
			lease.Result{LeaseID: "l1", Status: lease.Failed, Token: "t"}, http.StatusGone},
		{"lease id with a slash", http.MethodPost, invoke.ResultPath + "/a%2Fb",
			lease.Result{LeaseID: "a/b", Status: lease.Failed, Token: "t"}, http.StatusGone},
		{"unknown path", http.MethodPost, "/sluice/v1/nope", nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != nil {
				body, _ = json.Marshal(tc.body)
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
				t.Fatalf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}
