package lambdatest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// next takes an invocation from an environment as a runtime process
// would, and returns its request id and payload.
func next(t *testing.T, rt *Runtime) (string, string) {
	t.Helper()
	resp, err := http.Get("http://" + rt.Addr() + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), string(b)
}

// Environments of one function share its invocations; Exit fails the
// invocation a killed process held, as Lambda reports a runtime that
// exits, and the environment takes no more.
func TestEnvironmentExit(t *testing.T) {
	rt := NewRuntime(t, "fn")
	env1, env2 := rt.NewEnvironment(t), rt.NewEnvironment(t)
	outcomes := make(chan Outcome, 2)
	invoke := func(payload string) {
		go func() {
			o, err := rt.Invoke(context.Background(), []byte(payload), 10*time.Second)
			if err != nil {
				t.Error(err)
			}
			outcomes <- o
		}()
	}

	invoke(`"first"`)
	id, payload := next(t, env1)
	if payload != `"first"` || env1.Inflight() != 1 || env2.Inflight() != 0 {
		t.Fatalf("env1 took %s %s; in flight %d and %d", id, payload, env1.Inflight(), env2.Inflight())
	}
	if ids := env1.Exit("signal: killed"); len(ids) != 1 || ids[0] != id {
		t.Fatalf("Exit failed %v, want [%s]", ids, id)
	}
	o := <-outcomes
	var e Error
	if !o.Failed || o.ErrorTypeHeader != "Runtime.ExitError" || json.Unmarshal(o.Body, &e) != nil ||
		e.ErrorType != "Runtime.ExitError" || !strings.Contains(e.ErrorMessage, "Runtime exited with error: signal: killed") {
		t.Fatalf("outcome of the killed invocation: %+v %s", o, o.Body)
	}
	// A late answer of the dead process is refused.
	resp, err := http.Post("http://"+env1.Addr()+"/2018-06-01/runtime/invocation/"+id+"/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("late answer: %d, want 400", resp.StatusCode)
	}

	// The next invocation goes to the other environment.
	invoke(`"second"`)
	id, payload = next(t, env2)
	if payload != `"second"` || env2.Inflight() != 1 {
		t.Fatalf("env2 took %s %s", id, payload)
	}
	resp, err = http.Post("http://"+env2.Addr()+"/2018-06-01/runtime/invocation/"+id+"/response", "application/json", strings.NewReader(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if o := <-outcomes; o.Failed || string(o.Body) != `{"ok":true}` {
		t.Fatalf("outcome of the answered invocation: %+v %s", o, o.Body)
	}
	if ids := env2.Exit("signal: killed"); len(ids) != 0 {
		t.Fatalf("Exit of an idle environment failed %v", ids)
	}
}
