package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// sessionKeyRecord reads the last session-key record of the configs topic.
func sessionKeyRecord(t *testing.T, broker string) (key []byte, algorithm string, err error) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(broker, ",")...), kgo.ConsumeTopics("connect-configs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, "", err
	}
	defer cl.Close()
	var value []byte
	for quiet := 0; quiet < 2; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			if string(r.Key) == "session-key" {
				value = r.Value
			}
		})
		if n == 0 {
			quiet++
		}
	}
	if value == nil {
		return nil, "", fmt.Errorf("no session-key record in connect-configs")
	}
	var rec struct {
		Key       string `json:"key"`
		Algorithm string `json:"algorithm"`
		Created   *int64 `json:"creation-timestamp"`
	}
	if err := json.Unmarshal(value, &rec); err != nil || rec.Created == nil {
		return nil, "", fmt.Errorf("session-key record %s: %v", value, err)
	}
	key, err = base64.StdEncoding.DecodeString(rec.Key)
	return key, rec.Algorithm, err
}

// Two coordinators with authentication on: the leader writes a session
// key to the configs topic (Connect's session-key record, KIP-507); a
// write sent to the follower reaches the leader signed with it
// (X-Connect-Authorization) and without the caller's credentials, and
// succeeds. At the leader, a request that claims to be forwarded is
// refused with 403 when its signature is missing, wrong, or made for
// another request, valid credentials or not; one signed with the key read
// from the topic is accepted without credentials.
func TestForwardedRequestsSignedBetweenProcesses(t *testing.T) {
	broker := startBroker(t)
	users := filepath.Join(t.TempDir(), "users.properties")
	if err := os.WriteFile(users, []byte("admin: admin-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	procs := make([]*process, 2)
	for i := range procs {
		addr := proctest.FreeAddr(t)
		env := append(coordinatorEnv(broker, addr), "SLUICE_REST_BASIC_AUTH_FILE="+users, "SLUICE_GROUP_ID=signed")
		procs[i] = startProcess(t, fmt.Sprintf("coordinator-%d", i), addr, env)
	}
	do := func(method, url, body string, mod func(*http.Request)) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if mod != nil {
			mod(req)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	admin := func(r *http.Request) { r.SetBasicAuth("admin", "admin-secret") }

	var leader, follower *process
	checkSteady(t, 60*time.Second, 2*time.Second, func() error {
		var leaders []*process
		for _, p := range procs {
			if leads(p) {
				leaders = append(leaders, p)
			}
		}
		if len(leaders) != 1 {
			return fmt.Errorf("%d leaders", len(leaders))
		}
		leader = leaders[0]
		follower = procs[0]
		if follower == leader {
			follower = procs[1]
		}
		// A write about an unknown connector, forwarded and signed, is
		// answered 404 by the leader.
		if status, body := do(http.MethodPut, follower.url()+"/connectors/no-such-connector/pause", "", admin); status != http.StatusNotFound {
			return fmt.Errorf("through %s: %d %s", follower.Name, status, body)
		}
		return nil
	})

	create := `{"name":"gen","config":{"connector.class":"Datagen","topic":"orders","count":"3","tasks.max":"1"}}`
	if status, body := do(http.MethodPost, follower.url()+"/connectors", create, admin); status != http.StatusCreated {
		t.Fatalf("create through the follower: %d %s", status, body)
	}
	if status, body := do(http.MethodPost, follower.url()+"/connectors", create, nil); status != http.StatusUnauthorized {
		t.Fatalf("create through the follower without credentials: %d %s", status, body)
	}

	key, alg, err := sessionKeyRecord(t, broker)
	if err != nil {
		t.Fatal(err)
	}
	if alg != "HmacSHA256" || len(key) != 32 {
		t.Fatalf("session key: %d bytes, algorithm %s", len(key), alg)
	}
	sign := func(k []byte, method, uri string) func(*http.Request) {
		return func(r *http.Request) {
			signed, _ := http.NewRequest(method, "http://x"+uri, nil)
			if err := rest.Sign(signed, nil, rest.SessionKey{Key: k}, "HmacSHA256", time.Now()); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{rest.SignatureHeader, rest.SignatureAlgorithmHeader, rest.SignatureTimestampHeader} {
				r.Header.Set(h, signed.Header.Get(h))
			}
		}
	}
	wrong := bytes.Repeat([]byte{7}, 32)
	pause := "/connectors/gen/pause?forward=false"
	tests := []struct {
		name string
		mod  func(*http.Request)
		want int
	}{
		{"no signature, no credentials", nil, http.StatusForbidden},
		{"no signature, admin credentials", admin, http.StatusForbidden},
		{"wrong key", sign(wrong, http.MethodPut, pause), http.StatusForbidden},
		{"signed for another request", sign(key, http.MethodPut, "/connectors/gen/resume?forward=false"), http.StatusForbidden},
		{"signed with the session key", sign(key, http.MethodPut, pause), http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := do(http.MethodPut, leader.url()+pause, "", tc.mod); status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
		})
	}
	if !slices.ContainsFunc(procs, func(p *process) bool { return strings.Contains(p.Stderr.String(), "wrote a new session key") }) {
		t.Errorf("no leader logged writing the session key")
	}
}
