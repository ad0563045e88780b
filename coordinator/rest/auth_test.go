package rest

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// credentialsFile is a JAAS PropertyFileLoginModule file as Connect's
// BasicAuthSecurityRestExtension documentation shows one, with roles.
const credentialsFile = `# user: password[,role...]
admin: admin-secret,admin
ops: ops-secret
viewer: viewer-secret,readonly
! an MD5 password of Jetty's PropertyUserStore ("md5-secret")
hashed: MD5:ff12cfc27d7a2b16f1f2572021225911,read-only
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func authedServer(t *testing.T, h Herder, opts Options, auth *Auth) *httptest.Server {
	t.Helper()
	opts.Logger = discardLogger()
	srv := httptest.NewServer(auth.Wrap(NewHandler(h, opts)))
	t.Cleanup(srv.Close)
	return srv
}

func testAuth(t *testing.T) *Auth {
	t.Helper()
	a := &Auth{OpenPaths: []string{"/health"}}
	if err := a.LoadBasicAuthFile(writeFile(t, "users.properties", credentialsFile)); err != nil {
		t.Fatal(err)
	}
	if err := a.LoadBearerTokensFile(writeFile(t, "tokens", "ci: tok-0123456789abcdef,admin\ndash: tok-readonly-0123456789,readonly\n")); err != nil {
		t.Fatal(err)
	}
	return a
}

// Every route that is not a read (every mutating endpoint of the API) is
// refused without credentials (401 with WWW-Authenticate) and to a
// read-only user (403); an admin reaches the handler. Reads need any valid
// user; /health is open.
func TestAuthOnEveryMutatingEndpoint(t *testing.T) {
	srv := authedServer(t, newFakeHerder(), Options{}, testAuth(t))
	var mutating []string
	sc := bufio.NewScanner(strings.NewReader(mustRead(t, "handler.go")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, `s.route("`) {
			continue
		}
		pattern := strings.SplitN(strings.TrimPrefix(line, `s.route("`), `"`, 2)[0]
		if !strings.HasPrefix(pattern, "GET ") && !strings.HasSuffix(pattern, " ") {
			mutating = append(mutating, pattern)
		}
	}
	// s.route("POST "+p, ...) in the loop over /connectors.
	mutating = append(mutating, "POST /connectors")
	if len(mutating) != 15 {
		t.Fatalf("found %d mutating routes, want 15: %v", len(mutating), mutating)
	}
	r := strings.NewReplacer("{name}", "c1", "{task}", "0", "{plugin}", "FileStreamSink", "{logger}", "root")
	for _, pattern := range mutating {
		method, path, _ := strings.Cut(r.Replace(pattern), " ")
		t.Run(method+" "+path, func(t *testing.T) {
			resp := doAuth(t, method, srv.URL+path, nil)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), ","), `Basic realm="sluice"`) {
				t.Fatalf("no credentials: %s, WWW-Authenticate %q", resp.Status, resp.Header.Values("WWW-Authenticate"))
			}
			for _, bad := range []func(*http.Request){
				func(q *http.Request) { q.SetBasicAuth("admin", "wrong") },
				func(q *http.Request) { q.SetBasicAuth("nobody", "admin-secret") },
				func(q *http.Request) { q.Header.Set("Authorization", "Bearer tok-guess") },
			} {
				if resp := doAuth(t, method, srv.URL+path, bad); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("bad credentials: %s", resp.Status)
				}
			}
			for _, ro := range []func(*http.Request){
				func(q *http.Request) { q.SetBasicAuth("viewer", "viewer-secret") },
				func(q *http.Request) { q.SetBasicAuth("hashed", "md5-secret") },
				func(q *http.Request) { q.Header.Set("Authorization", "Bearer tok-readonly-0123456789") },
			} {
				if resp := doAuth(t, method, srv.URL+path, ro); resp.StatusCode != http.StatusForbidden {
					t.Fatalf("read-only user: %s", resp.Status)
				}
			}
			for _, admin := range []func(*http.Request){
				func(q *http.Request) { q.SetBasicAuth("admin", "admin-secret") },
				func(q *http.Request) { q.SetBasicAuth("ops", "ops-secret") }, // no role: admin, as in Connect
				func(q *http.Request) { q.Header.Set("Authorization", "Bearer tok-0123456789abcdef") },
			} {
				if resp := doAuth(t, method, srv.URL+path, admin); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("admin: %s", resp.Status)
				}
			}
		})
	}
	t.Run("reads", func(t *testing.T) {
		if resp := doAuth(t, "GET", srv.URL+"/connectors", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET /connectors without credentials: %s", resp.Status)
		}
		if resp := doAuth(t, "GET", srv.URL+"/connectors", func(q *http.Request) { q.SetBasicAuth("viewer", "viewer-secret") }); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /connectors as viewer: %s", resp.Status)
		}
		if resp := doAuth(t, "GET", srv.URL+"/health", nil); resp.StatusCode == http.StatusUnauthorized {
			t.Fatalf("GET /health (open): %s", resp.Status)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func doAuth(t *testing.T, method, url string, auth func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCredentialsFileErrors(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"no separator", "admin\n", "line 1"},
		{"no password", "admin: ,admin\n", "no password"},
		{"obfuscated", "admin: OBF:1v2j1uum1xtv\n", "not supported"},
		{"empty", "# nothing\n", "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Auth{}).LoadBasicAuthFile(writeFile(t, "f", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// staticKeys is a KeyRing of fixed keys.
type staticKeys []SessionKey

func (k staticKeys) InterWorkerKeys() []SessionKey { return k }

// A follower forwards a write signed with the session key and without the
// caller's credentials; the leader, which requires signatures on forwarded
// requests (VerifyForwarded), accepts it without credentials. Requests that
// claim to be forwarded with a missing, wrong, stale or replayed-elsewhere
// signature are refused with 403, whether or not authentication is on.
func TestForwardedWritesAreSigned(t *testing.T) {
	key := SessionKey{Key: []byte("0123456789abcdef0123456789abcdef"), Algorithm: "HmacSHA256"}
	for _, authOn := range []bool{true, false} {
		t.Run(map[bool]string{true: "auth on", false: "auth off"}[authOn], func(t *testing.T) {
			auth := &Auth{}
			if authOn {
				auth = testAuth(t)
			}
			var mu sync.Mutex
			var gotAuthz []string
			leaderHerder := newFakeHerder()
			inner := VerifyForwarded(staticKeys{key}, nil, 0, auth.Wrap(NewHandler(leaderHerder, Options{Logger: discardLogger()})))
			leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				gotAuthz = append(gotAuthz, r.Header.Get("Authorization"))
				mu.Unlock()
				inner.ServeHTTP(w, r)
			}))
			t.Cleanup(leader.Close)
			followerHerder := newFakeHerder()
			followerHerder.isLeader, followerHerder.leaderURL = false, leader.URL
			follower := authedServer(t, followerHerder, Options{Keys: staticKeys{key}}, auth)

			req, _ := http.NewRequest("POST", follower.URL+"/connectors", strings.NewReader(createBody))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth("admin", "admin-secret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("forwarded create: %s", resp.Status)
			}
			mu.Lock()
			if len(gotAuthz) != 1 || gotAuthz[0] != "" {
				t.Fatalf("the leader received Authorization %q; the caller's credentials must stay with the follower", gotAuthz)
			}
			mu.Unlock()

			signed := func(method, target string, k SessionKey, alg string, at time.Time) func(*http.Request) {
				return func(q *http.Request) {
					body, _ := io.ReadAll(q.Body)
					q.Body = io.NopCloser(strings.NewReader(string(body)))
					u := *q.URL
					q.URL, _ = url.Parse(target)
					if err := Sign(q, body, k, alg, at); err != nil {
						t.Fatal(err)
					}
					q.URL = &u
					q.Method = method
				}
			}
			other := SessionKey{Key: []byte("another-key-another-key-another!"), Algorithm: "HmacSHA256"}
			tests := []struct {
				name   string
				target string
				mod    func(*http.Request)
				want   int
			}{
				{"missing signature", "/connectors/fwd?forward=true", func(*http.Request) {}, http.StatusForbidden},
				{"wrong key", "/connectors/fwd?forward=true", signed("DELETE", "/connectors/fwd?forward=true", other, "HmacSHA256", time.Now()), http.StatusForbidden},
				{"signed for another path", "/connectors/fwd?forward=true", signed("DELETE", "/connectors/stopped-sink?forward=true", key, "HmacSHA256", time.Now()), http.StatusForbidden},
				{"too old", "/connectors/fwd?forward=true", signed("DELETE", "/connectors/fwd?forward=true", key, "HmacSHA256", time.Now().Add(-time.Hour)), http.StatusForbidden},
				{"algorithm not permitted", "/connectors/fwd?forward=true", signed("DELETE", "/connectors/fwd?forward=true", key, "HmacSHA512", time.Now()), http.StatusForbidden},
				{"garbage", "/connectors/fwd?forward=true", func(q *http.Request) {
					q.Header.Set(SignatureHeader, "!!!")
					q.Header.Set(SignatureTimestampHeader, "x")
				}, http.StatusForbidden},
				{"signature without forward", "/connectors/fwd", func(q *http.Request) { q.Header.Set(SignatureHeader, "AAAA") }, http.StatusForbidden},
				{"good signature", "/connectors/fwd?forward=true", signed("DELETE", "/connectors/fwd?forward=true", key, "HmacSHA256", time.Now()), http.StatusNoContent},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := doAuth(t, "DELETE", leader.URL+tc.target, tc.mod)
					if resp.StatusCode != tc.want {
						t.Fatalf("status %s, want %d", resp.Status, tc.want)
					}
				})
			}
			if authOn {
				// A read-only caller's write is refused at the follower, not forwarded.
				if resp := doAuth(t, "DELETE", follower.URL+"/connectors/fwd", func(q *http.Request) { q.SetBasicAuth("viewer", "viewer-secret") }); resp.StatusCode != http.StatusForbidden {
					t.Fatalf("read-only delete through the follower: %s", resp.Status)
				}
			}
		})
	}
}

// A follower that has read no session key yet answers a write it would
// forward with 409 (retriable), and sends nothing unsigned.
func TestForwardWithoutSessionKey(t *testing.T) {
	called := false
	leader := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	t.Cleanup(leader.Close)
	h := newFakeHerder()
	h.isLeader, h.leaderURL = false, leader.URL
	follower := authedServer(t, h, Options{Keys: staticKeys{}}, &Auth{})
	resp, body := send(t, "POST", follower.URL+"/connectors", createBody)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "session key") || called {
		t.Fatalf("status %s, body %s, leader called %v", resp.Status, body, called)
	}
}

// /health and /metrics are served without credentials only when listed in
// OpenPaths (SLUICE_REST_AUTH_OPEN_PATHS, default /health); the other
// paths still want them.
func TestOpenPaths(t *testing.T) {
	tests := []struct {
		name       string
		open       []string
		path       string
		wantNoAuth int
	}{
		{name: "health open by default", open: []string{"/health"}, path: "/health", wantNoAuth: http.StatusOK},
		{name: "metrics closed by default", open: []string{"/health"}, path: "/metrics", wantNoAuth: http.StatusUnauthorized},
		{name: "metrics listed", open: []string{"/health", "/metrics"}, path: "/metrics", wantNoAuth: http.StatusOK},
		{name: "health not listed", open: []string{"/metrics"}, path: "/health", wantNoAuth: http.StatusUnauthorized},
		{name: "a listed path opens no other", open: []string{"/health", "/metrics"}, path: "/connectors", wantNoAuth: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testAuth(t)
			a.OpenPaths = tt.open
			srv := httptest.NewServer(a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })))
			defer srv.Close()
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantNoAuth {
				t.Fatalf("GET %s without credentials: %d, want %d", tt.path, resp.StatusCode, tt.wantNoAuth)
			}
		})
	}
}
