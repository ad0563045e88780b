package rest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkAuthWrap is the time the authentication layer adds to one REST
// request, in process and without the network: a GET through Auth.Wrap
// to a handler that answers at once, with no authentication, HTTP Basic
// (the first, a middle and the last user of a 100-user JAAS file, and an
// MD5 password) and a bearer token (of 100). Its ns/op bound what the
// layer adds to a request's latency, p99 included, on an idle CPU; make
// bench-coordinator measures whole requests over HTTP and HTTPS.
func BenchmarkAuthWrap(b *testing.B) {
	dir := b.TempDir()
	users := "hashed: MD5:ff12cfc27d7a2b16f1f2572021225911,readonly\n"
	tokens := ""
	for i := range 100 {
		users += "user" + strconv.Itoa(i) + ": secret-" + strconv.Itoa(i) + "\n"
		tokens += "ci" + strconv.Itoa(i) + ": tok-0123456789abcdef-" + strconv.Itoa(i) + "\n"
	}
	usersFile, tokensFile := filepath.Join(dir, "users"), filepath.Join(dir, "tokens")
	if err := os.WriteFile(usersFile, []byte(users), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(tokensFile, []byte(tokens), 0o600); err != nil {
		b.Fatal(err)
	}
	a := &Auth{OpenPaths: []string{"/health"}}
	if err := a.LoadBasicAuthFile(usersFile); err != nil {
		b.Fatal(err)
	}
	if err := a.LoadBearerTokensFile(tokensFile); err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, bc := range []struct {
		name string
		h    http.Handler
		set  func(*http.Request)
	}{
		{"none", ok, func(*http.Request) {}},
		{"basic-first", a.Wrap(ok), func(r *http.Request) { r.SetBasicAuth("hashed", "md5-secret") }},
		{"basic-middle", a.Wrap(ok), func(r *http.Request) { r.SetBasicAuth("user50", "secret-50") }},
		{"basic-last", a.Wrap(ok), func(r *http.Request) { r.SetBasicAuth("user99", "secret-99") }},
		{"bearer", a.Wrap(ok), func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok-0123456789abcdef-50") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/connectors", nil)
			bc.set(req)
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
