//go:build apicurio

package schemaregistry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/apicuriotest"
)

// These tests run the client against a real registry that enforces
// authentication (apicuriotest.SharedAuth: Apicurio 2.4.2 behind Quarkus's
// basic authentication and OpenID Connect bearer token checks).

// TestApicurioAuthRoundTrip registers a schema and reads it back (by id,
// by schema, latest) through clients that authenticate in each way
// Confluent's configuration allows: basic.auth.credentials.source
// USER_INFO and URL, and a static bearer token; and through
// schema.registry.url lists whose first registry is down.
func TestApicurioAuthRoundTrip(t *testing.T) {
	reg := apicuriotest.SharedAuth(t)
	userInfo := func(urls string) map[string]string {
		return map[string]string{URLConfig: urls, BasicAuthSourceConfig: "USER_INFO",
			UserInfoConfig: apicuriotest.User + ":" + apicuriotest.Password}
	}
	dead := apicuriotest.DeadURL(t)
	tests := []struct {
		name  string
		props map[string]string
		// minRequests is the number of requests a cold client's first
		// call makes: 2 when it tries the registry that is down first.
		minRequests int64
	}{
		{"USER_INFO", userInfo(reg.URL), 1},
		{"URL", map[string]string{URLConfig: apicuriotest.WithUser(t, reg.URL, apicuriotest.User, apicuriotest.Password)}, 1},
		{"URL is the default source", map[string]string{URLConfig: apicuriotest.WithUser(t, reg.URL, apicuriotest.User, apicuriotest.Password),
			BasicAuthSourceConfig: "URL"}, 1},
		{"bearer STATIC_TOKEN", map[string]string{URLConfig: reg.URL, BearerSourceConfig: "STATIC_TOKEN",
			BearerTokenConfig: reg.Token(t, time.Hour)}, 1},
		{"USER_INFO, first of two URLs down", userInfo(dead + "," + reg.URL), 2},
		{"URL, first of two URLs down", map[string]string{URLConfig: apicuriotest.WithUser(t, dead, apicuriotest.User, apicuriotest.Password) + "," +
			apicuriotest.WithUser(t, reg.URL, apicuriotest.User, apicuriotest.Password)}, 2},
		{"bearer, first of two URLs down", map[string]string{URLConfig: dead + "," + reg.URL, BearerSourceConfig: "STATIC_TOKEN",
			BearerTokenConfig: reg.Token(t, time.Hour)}, 2},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject := uniqueSubject("apicurio-auth")
			s := Schema{Schema: orderSchema}
			c := newTestClient(t, tt.props)
			id, err := c.Register(ctx, subject, s, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := c.Requests(); n != tt.minRequests {
				t.Fatalf("requests = %d, want %d", n, tt.minRequests)
			}
			c = newTestClient(t, tt.props)
			if got, err := c.SchemaByID(ctx, id); err != nil || got.Schema != orderSchema {
				t.Fatalf("SchemaByID(%d) = %q, %v", id, got.Schema, err)
			}
			if ss, err := c.Lookup(ctx, subject, s, false); err != nil || ss.ID != id || ss.Version != 1 {
				t.Fatalf("Lookup = %+v, %v", ss, err)
			}
			if ss, err := c.Latest(ctx, subject); err != nil || ss.ID != id {
				t.Fatalf("Latest = %+v, %v", ss, err)
			}
			if ss, err := c.SchemaInSubject(ctx, subject, id); err != nil || ss.Version != 1 {
				t.Fatalf("SchemaInSubject = %+v, %v", ss, err)
			}
		})
	}
}

// TestApicurioAuthRefused: without credentials, with wrong ones from
// either source or with a bad token, every call fails at once with
// ErrUnauthorized: not retriable, one request (no retries, whatever
// max.retries says), an error that names the registry's URL and HTTP 401
// and does not quote the password.
func TestApicurioAuthRefused(t *testing.T) {
	reg := apicuriotest.SharedAuth(t)
	dead := apicuriotest.DeadURL(t)
	const wrong = "not-the-password"
	tests := []struct {
		name     string
		props    map[string]string
		requests int64
	}{
		{"no credentials", map[string]string{URLConfig: reg.URL}, 1},
		{"USER_INFO, wrong password", map[string]string{URLConfig: reg.URL, BasicAuthSourceConfig: "USER_INFO",
			UserInfoConfig: apicuriotest.User + ":" + wrong}, 1},
		{"USER_INFO, unknown user", map[string]string{URLConfig: reg.URL, BasicAuthSourceConfig: "USER_INFO",
			UserInfoConfig: "mallory:" + wrong}, 1},
		{"URL, wrong password", map[string]string{URLConfig: apicuriotest.WithUser(t, reg.URL, apicuriotest.User, wrong)}, 1},
		// USER_INFO wins: the URL's credentials are not used.
		{"USER_INFO wrong, URL right", map[string]string{URLConfig: apicuriotest.WithUser(t, reg.URL, apicuriotest.User, apicuriotest.Password),
			BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: apicuriotest.User + ":" + wrong}, 1},
		{"expired token", map[string]string{URLConfig: reg.URL, BearerSourceConfig: "STATIC_TOKEN",
			BearerTokenConfig: reg.Token(t, -time.Hour)}, 1},
		{"not a token", map[string]string{URLConfig: reg.URL, BearerSourceConfig: "STATIC_TOKEN",
			BearerTokenConfig: wrong}, 1},
		{"wrong password, first of two URLs down", map[string]string{URLConfig: dead + "," + reg.URL,
			BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: apicuriotest.User + ":" + wrong}, 2},
	}
	ctx := context.Background()
	calls := []struct {
		name string
		call func(*Client) error
	}{
		{"register", func(c *Client) error {
			_, err := c.Register(ctx, "apicurio-refused-value", Schema{Schema: orderSchema}, false)
			return err
		}},
		{"by id", func(c *Client) error { _, err := c.SchemaByID(ctx, 1); return err }},
		{"in subject", func(c *Client) error { _, err := c.SchemaInSubject(ctx, "apicurio-refused-value", 1); return err }},
		{"latest", func(c *Client) error { _, err := c.Latest(ctx, "apicurio-refused-value"); return err }},
		{"subjects", func(c *Client) error { _, err := c.Subjects(ctx); return err }},
	}
	for _, tt := range tests {
		for _, call := range calls {
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				props := map[string]string{MaxRetriesConfig: "5"}
				for k, v := range tt.props {
					props[k] = v
				}
				c := newTestClient(t, props)
				err := call.call(c)
				if !errors.Is(err, ErrUnauthorized) || IsRetriable(err) {
					t.Fatalf("err = %v, want ErrUnauthorized, not retriable", err)
				}
				if n := c.Requests(); n != tt.requests {
					t.Fatalf("requests = %d, want %d (no retries)", n, tt.requests)
				}
				msg := err.Error()
				if !strings.Contains(msg, reg.URL) || !strings.Contains(msg, "401") {
					t.Fatalf("the error %q does not name %s and HTTP 401", msg, reg.URL)
				}
				if strings.Contains(msg, wrong) || strings.Contains(msg, apicuriotest.Password) {
					t.Fatalf("the error %q quotes a password or token", msg)
				}
				// The refusal is not cached: the next call asks again.
				if err := call.call(c); !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("second call: err = %v", err)
				}
			})
		}
	}
}
