//go:build apicurio

package apicuriotest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestApicurioStopsAndComesBack(t *testing.T) {
	r := Start(t)
	get := func() (int, error) {
		resp, err := http.Get(r.URL + "/subjects")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("GET /subjects = %d, %v", code, err)
	}
	r.Stop()
	if _, err := get(); err == nil {
		t.Fatal("the stopped registry answered")
	}
	r.Restart(t)
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("after Restart: GET /subjects = %d, %v", code, err)
	}
}

// TestApicurioAuthEnforced: the registry with authentication answers 401
// (with a challenge) to a request without credentials, with a wrong
// password or with a token that expired or that another key signed, and
// 200 to User's credentials and to a token of its own.
func TestApicurioAuthEnforced(t *testing.T) {
	r := SharedAuth(t)
	other := &Registry{Auth: true, key: mustKey(t)}
	tests := []struct {
		name      string
		auth      func(*http.Request)
		want      int
		challenge string
	}{
		{"no credentials", func(*http.Request) {}, http.StatusUnauthorized, "basic"},
		{"wrong password", func(req *http.Request) { req.SetBasicAuth(User, "wrong") }, http.StatusUnauthorized, "basic"},
		{"unknown user", func(req *http.Request) { req.SetBasicAuth("mallory", Password) }, http.StatusUnauthorized, "basic"},
		{"basic", func(req *http.Request) { req.SetBasicAuth(User, Password) }, http.StatusOK, ""},
		{"token", func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+r.Token(t, time.Hour)) }, http.StatusOK, ""},
		{"expired token", func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+r.Token(t, -time.Hour)) }, http.StatusUnauthorized, "Bearer"},
		{"token of another key", func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+other.Token(t, time.Hour)) }, http.StatusUnauthorized, "Bearer"},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, r.URL+"/subjects", nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.auth(req)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET /subjects: HTTP %d, want %d", resp.StatusCode, tt.want)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.EqualFold(got, tt.challenge) {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
		})
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
