package apicuriotest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Credentials are a converter's registry properties that authenticate to
// an Auth registry in one way (or fail to): URL is schema.registry.url,
// Props the other properties as key, value, key, value.
type Credentials struct {
	Name  string
	URL   string
	Props []string
}

// wrongPassword is the password and token that BadCredentials use.
const wrongPassword = "not-the-password"

// GoodCredentials returns the ways r accepts: basic.auth.credentials.source
// USER_INFO and URL, a static bearer token, and USER_INFO with a
// schema.registry.url whose first registry is down.
func GoodCredentials(t testing.TB, r *Registry) []Credentials {
	t.Helper()
	userInfo := []string{"basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", User + ":" + Password}
	return []Credentials{
		{"USER_INFO", r.URL, userInfo},
		{"URL", WithUser(t, r.URL, User, Password), nil},
		{"bearer", r.URL, []string{"bearer.auth.credentials.source", "STATIC_TOKEN", "bearer.auth.token", r.Token(t, time.Hour)}},
		{"first URL down", DeadURL(t) + "," + r.URL, userInfo},
	}
}

// BadCredentials returns ways r refuses: none, a wrong password from
// either source, a token that expired.
func BadCredentials(t testing.TB, r *Registry) []Credentials {
	t.Helper()
	return []Credentials{
		{"none", r.URL, nil},
		{"USER_INFO wrong password", r.URL, []string{"basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", User + ":" + wrongPassword}},
		{"URL wrong password", WithUser(t, r.URL, User, wrongPassword), nil},
		{"expired token", r.URL, []string{"bearer.auth.credentials.source", "STATIC_TOKEN", "bearer.auth.token", r.Token(t, -time.Hour)}},
	}
}

// Properties returns c's properties as a map, with extra (key, value,
// ...): what NewConverter configures a converter with.
func (c Credentials) Properties(extra ...string) map[string]string {
	props := map[string]string{"schema.registry.url": c.URL}
	kv := append(append([]string{}, c.Props...), extra...)
	for i := 0; i+1 < len(kv); i += 2 {
		props[kv[i]] = kv[i+1]
	}
	return props
}

// CheckRefused fails t unless err is what a converter returns when r
// refuses its credentials: a record-level error (*data.Error, which
// errors.tolerance handles), not retriable (the lease is not retried with
// the same credentials), wrapping unauthorized (the registry client's
// sentinel), naming r's URL and HTTP 401, quoting no password or token.
func CheckRefused(t testing.TB, err error, r *Registry, unauthorized error) {
	t.Helper()
	var de *data.Error
	switch {
	case err == nil:
		t.Fatal("no error")
	case !errors.As(err, &de):
		t.Fatalf("%v is not a record-level *data.Error", err)
	case connect.IsRetriable(err):
		t.Fatalf("%v is retriable", err)
	case !errors.Is(err, unauthorized):
		t.Fatalf("%v does not wrap %v", err, unauthorized)
	}
	msg := err.Error()
	if !strings.Contains(msg, r.URL) || !strings.Contains(msg, "HTTP 401") {
		t.Fatalf("the error %q does not name %s and HTTP 401", msg, r.URL)
	}
	if strings.Contains(msg, wrongPassword) || strings.Contains(msg, Password) || strings.Contains(msg, "eyJ") {
		t.Fatalf("the error %q quotes a password or token", msg)
	}
	t.Logf("refused: %s", msg)
}

// DeadURL is a registry URL on a loopback port where nothing listens.
func DeadURL(t testing.TB) string {
	t.Helper()
	port, err := daemontest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port)
}

// WithUser puts user:password into raw's authority (the URL credentials
// source).
func WithUser(t testing.TB, raw, user, password string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// AuthRoundTrips runs a converter's tests against r, a registry with
// authentication. For each of GoodCredentials it runs RoundTrips with
// converters that newConv makes (the writer registers each vector's
// schema, a reader without auto-registration fetches it by id). For each
// of BadCredentials it writes the first vector's value and reads a record
// that the registry holds with a converter whose credentials r refuses:
// both fail as CheckRefused says, after one request each (requests
// returns the request count of the registry client that a converter
// configured with the given properties uses), although max.retries is 5.
func AuthRoundTrips[C Configurable, V any](t *testing.T, r *Registry, newConv func() C, golden Converter,
	vectors []V, vector func(V) (name, hexBytes string), unauthorized error, requests func(testing.TB, map[string]string) int64) {
	t.Helper()
	good := GoodCredentials(t, r)
	for _, c := range good {
		t.Run(c.Name, func(t *testing.T) {
			write := NewConverter(t, newConv(), c.URL, c.Props...)
			read := NewConverter(t, newConv(), c.URL, append(c.Props, "auto.register.schemas", "false")...)
			RoundTrips(t, golden, write, read, vectors, vector)
		})
	}

	name, h := vector(vectors[0])
	raw, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := golden.ToConnectData("apicurio-"+name, raw)
	if err != nil {
		t.Fatal(err)
	}
	topic := "apicurio-refused-" + name
	held, err := NewConverter(t, newConv(), good[0].URL, good[0].Props...).FromConnectData(topic, s, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range BadCredentials(t, r) {
		t.Run("refused/"+c.Name, func(t *testing.T) {
			extra := append(append([]string{}, c.Props...), "max.retries", "5")
			conv := NewConverter(t, newConv(), c.URL, extra...)
			before := requests(t, c.Properties("max.retries", "5"))
			_, err := conv.FromConnectData(topic, s, v)
			CheckRefused(t, err, r, unauthorized)
			_, _, err = conv.ToConnectData(topic, held)
			CheckRefused(t, err, r, unauthorized)
			if n := requests(t, c.Properties("max.retries", "5")) - before; n != 2 {
				t.Fatalf("%d registry requests, want 2 (one per call, no retries)", n)
			}
		})
	}
}
