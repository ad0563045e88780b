package invoke_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/internal/leasetest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

func TestPullInvoker(t *testing.T) {
	exec := leasetest.Executor(t)
	pull := invoke.NewPull()
	srv := httptest.NewServer(pull)
	t.Cleanup(srv.Close)
	worker := &invoke.PullClient{BaseURL: srv.URL, Worker: "w1", Kinds: []lease.Kind{lease.KindSource, lease.KindSink}}

	t.Run("a worker takes the lease and reports", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			l, err := worker.Next(ctx, 5*time.Second)
			if err != nil || l == nil {
				done <- errors.Join(err, errors.New("no lease"))
				return
			}
			done <- worker.Report(ctx, exec.Run(ctx, *l))
		}()
		res, err := pull.Invoke(context.Background(), leasetest.DatagenLease("p1", 20))
		if err != nil || res.Status != lease.Succeeded || res.Records != 20 {
			t.Fatalf("res %+v err %v", res, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a worker that dies loses the lease at its deadline", func(t *testing.T) {
		l := leasetest.DatagenLease("p2", 5)
		l.Deadline = time.Now().Add(800 * time.Millisecond)
		taken := make(chan *lease.Lease, 1)
		go func() {
			got, _ := worker.Next(context.Background(), 5*time.Second)
			taken <- got // and never reports
		}()
		_, err := pull.Invoke(context.Background(), l)
		if !errors.Is(err, invoke.ErrNoResult) {
			t.Fatalf("err %v, want ErrNoResult", err)
		}
		got := <-taken
		if got == nil || got.ID != "p2" {
			t.Fatalf("worker took %+v", got)
		}
		late := worker.Report(context.Background(), lease.Result{LeaseID: "p2", Connector: got.Connector, Task: got.Task, Epoch: got.Epoch, Status: lease.Succeeded, Token: got.Token})
		if !errors.Is(late, invoke.ErrNoResult) {
			t.Fatalf("late report: %v, want ErrNoResult (410)", late)
		}
	})
	t.Run("no worker", func(t *testing.T) {
		l := leasetest.DatagenLease("p3", 5)
		l.Deadline = time.Now().Add(300 * time.Millisecond)
		if _, err := pull.Invoke(context.Background(), l); !errors.Is(err, invoke.ErrNoResult) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("an idle poll returns nothing", func(t *testing.T) {
		l, err := worker.Next(context.Background(), 50*time.Millisecond)
		if err != nil || l != nil {
			t.Fatalf("lease %v err %v", l, err)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		resp, err := http.Post(srv.URL+invoke.PollPath+"?kind=other", "", nil)
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("resp %v err %v", resp, err)
		}
		resp.Body.Close()
		resp, err = http.Post(srv.URL+invoke.ResultPath+"/x", "application/json", strings.NewReader("{"))
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("resp %v err %v", resp, err)
		}
		resp.Body.Close()
	})
}
