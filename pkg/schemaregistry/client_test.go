package schemaregistry

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// These tests run against franz-go's srfake, an in-process implementation
// of Confluent's REST API, and against recorded answers of Confluent's
// registry for the error cases that srfake does not produce; apicurio_test.go
// runs the client against a real registry (make test-registry).

const orderSchema = `{"type":"record","name":"Order","namespace":"sluice.test","fields":[{"name":"id","type":"long"}]}`

func newTestClient(t *testing.T, props map[string]string) *Client {
	t.Helper()
	cfg, err := ParseSettings(props)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

func TestClientCachesOneRequestPerSchema(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	c := newTestClient(t, map[string]string{URLConfig: reg.URL()})
	ctx := context.Background()
	s := Schema{Schema: orderSchema}
	id, err := c.Register(ctx, "orders-value", s, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Register(ctx, "orders-value", s, false); err != nil {
				t.Error(err)
			}
			got, err := c.SchemaByID(ctx, id)
			if err != nil || got.Schema != orderSchema {
				t.Errorf("SchemaByID(%d) = %q, %v", id, got.Schema, err)
			}
		}()
	}
	wg.Wait()
	if n := c.Requests(); n != 1 {
		t.Fatalf("requests = %d, want 1 (register; the id is cached from it)", n)
	}
	// A fresh client (a cold function) needs one request per schema id,
	// however many concurrent readers ask for it.
	c2 := newTestClient(t, map[string]string{URLConfig: reg.URL()})
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = c2.SchemaByID(ctx, id) }()
	}
	wg.Wait()
	if n := c2.Requests(); n != 1 {
		t.Fatalf("cold client requests = %d, want 1", n)
	}
	ss, err := c2.Lookup(ctx, "orders-value", s, false)
	if err != nil || ss.ID != id || ss.Version != 1 {
		t.Fatalf("Lookup = %+v, %v", ss, err)
	}
	latest, err := c2.Latest(ctx, "orders-value")
	if err != nil || latest.ID != id {
		t.Fatalf("Latest = %+v, %v", latest, err)
	}
	if _, err := c2.Latest(ctx, "orders-value"); err != nil {
		t.Fatal(err)
	}
	if n := c2.Requests(); n != 3 {
		t.Fatalf("requests = %d, want 3", n)
	}
}

func TestClientErrors(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	c := newTestClient(t, map[string]string{URLConfig: reg.URL()})
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown id", func() error { _, err := c.SchemaByID(ctx, 4242); return err }, ErrSchemaNotFound},
		{"unknown subject", func() error { _, err := c.Latest(ctx, "nope-value"); return err }, ErrSubjectNotFound},
		{"lookup of an unregistered schema", func() error {
			_, _ = c.Register(ctx, "a-value", Schema{Schema: orderSchema}, false)
			_, err := c.Lookup(ctx, "a-value", Schema{Schema: `"string"`}, false)
			return err
		}, ErrSchemaNotFound},
		{"invalid schema", func() error { _, err := c.Register(ctx, "b-value", Schema{Schema: `{"type":`}, false); return err }, ErrInvalidSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if IsRetriable(err) {
				t.Fatalf("%v is retriable", err)
			}
		})
	}
}

// recorded holds answers of Confluent's Schema Registry, as its API
// reference documents them, for what srfake does not produce.
var recorded = map[string]struct {
	status int
	body   string
}{
	"incompatible": {409, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"orders-value\", details: [{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'qty' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'qty'}, {oldSchemaVersion: 1}, {oldSchema: '{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}'}, {validateFields: 'false', compatibility: 'BACKWARD'}]"}`},
	"compat":       {200, `{"is_compatible":false,"messages":["{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'qty' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'qty'}"]}`},
	"unauthorized": {401, `{"error_code":401,"message":"Unauthorized"}`},
	"unavailable":  {503, `<html><body><h1>503 Service Unavailable</h1></body></html>`},
}

func replay(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded[name]
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(rec.status)
		_, _ = w.Write([]byte(rec.body))
	})
}

func TestClientRecordedAnswers(t *testing.T) {
	ctx := context.Background()
	s := Schema{Schema: orderSchema}
	tests := []struct {
		name string
		call func(*Client) error
		want error
	}{
		{"incompatible", func(c *Client) error { _, err := c.Register(ctx, "orders-value", s, false); return err }, ErrIncompatible},
		{"unauthorized", func(c *Client) error { _, err := c.SchemaByID(ctx, 1); return err }, ErrUnauthorized},
		{"unavailable", func(c *Client) error { _, err := c.SchemaByID(ctx, 1); return err }, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(replay(tt.name))
			defer srv.Close()
			c := newTestClient(t, map[string]string{URLConfig: srv.URL, MaxRetriesConfig: "2"})
			err := tt.call(c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			wantRequests := int64(1)
			if tt.want == ErrUnavailable {
				wantRequests = 3 // the try and max.retries=2 retries
			}
			if n := c.Requests(); n != wantRequests {
				t.Fatalf("requests = %d, want %d", n, wantRequests)
			}
			if IsRetriable(err) != (tt.want == ErrUnavailable) {
				t.Fatalf("IsRetriable(%v) = %v", err, IsRetriable(err))
			}
		})
	}
	srv := httptest.NewServer(replay("compat"))
	defer srv.Close()
	ok, msgs, err := newTestClient(t, map[string]string{URLConfig: srv.URL}).CheckCompatibility(ctx, "orders-value", -1, s)
	if err != nil || ok || len(msgs) != 1 || !strings.Contains(msgs[0], "READER_FIELD_MISSING_DEFAULT_VALUE") {
		t.Fatalf("CheckCompatibility = %v, %q, %v", ok, msgs, err)
	}
}

func TestClientBasicAuth(t *testing.T) {
	reg := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("fred:letmein"))))
	defer reg.Close()
	ctx := context.Background()
	u := strings.Replace(reg.URL(), "http://", "http://fred:letmein@", 1)
	tests := []struct {
		name  string
		props map[string]string
		want  error
	}{
		{"user info", map[string]string{URLConfig: reg.URL(), BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: "fred:letmein"}, nil},
		{"in the URL", map[string]string{URLConfig: u}, nil},
		{"wrong password", map[string]string{URLConfig: reg.URL(), BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: "fred:nope"}, ErrUnauthorized},
		{"none", map[string]string{URLConfig: reg.URL()}, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.props)
			_, err := c.Register(ctx, "orders-value", Schema{Schema: orderSchema}, false)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClientBearerToken(t *testing.T) {
	reg := srfake.New(srfake.WithAuth("Bearer s3cret"))
	defer reg.Close()
	c := newTestClient(t, map[string]string{URLConfig: reg.URL(), BearerSourceConfig: "STATIC_TOKEN", BearerTokenConfig: "s3cret"})
	if _, err := c.Register(context.Background(), "orders-value", Schema{Schema: orderSchema}, false); err != nil {
		t.Fatal(err)
	}
}

// TestClientFailoverAndRecovery: the first URL is a registry that answers
// 503, the second a closed port, the third works; then every URL is down
// (ErrUnavailable, retriable) and one comes back.
func TestClientFailoverAndRecovery(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	down := httptest.NewServer(replay("unavailable"))
	defer down.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	ctx := context.Background()
	id, _, err := reg.RegisterSchema("orders-value", Schema{Schema: orderSchema})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, map[string]string{URLConfig: down.URL + "," + closed + "," + reg.URL()})
	if _, err := c.SchemaByID(ctx, id); err != nil {
		t.Fatalf("failover: %v", err)
	}

	var up atomic.Bool
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			replay("unavailable").ServeHTTP(w, r)
			return
		}
		reg.Handler().ServeHTTP(w, r)
	}))
	defer flaky.Close()
	c = newTestClient(t, map[string]string{URLConfig: flaky.URL + "," + closed, MaxRetriesConfig: "1"})
	_, err = c.SchemaByID(ctx, id)
	if !IsRetriable(err) {
		t.Fatalf("registry down: err = %v, want a retriable error", err)
	}
	up.Store(true)
	if s, err := c.SchemaByID(ctx, id); err != nil || s.Schema != orderSchema {
		t.Fatalf("registry back: %q, %v", s.Schema, err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantErr string
		check   func(*testing.T, Settings)
	}{
		{name: "url required", props: map[string]string{}, wantErr: "schema.registry.url"},
		{name: "several urls and defaults", props: map[string]string{URLConfig: "http://a:8081, http://b:8081"},
			check: func(t *testing.T, c Settings) {
				if len(c.URLs) != 2 || c.URLs[1] != "http://b:8081" || c.MaxRetries != 3 || c.RetryWait != time.Second || c.CacheCapacity != 1000 {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "URL credentials", props: map[string]string{URLConfig: "http://fred:s3cret@a:8081, http://b:8081"},
			check: func(t *testing.T, c Settings) {
				if c.Username != "fred" || c.Password != "s3cret" || c.URLs[0] != "http://a:8081" || c.URLs[1] != "http://b:8081" {
					t.Fatalf("%+v", c)
				}
			}},
		// USER_INFO's credentials are sent; the URL's are taken out of the
		// URL all the same, so that no error or log quotes them.
		{name: "user info beside URL credentials", props: map[string]string{URLConfig: "http://fred:s3cret@a:8081",
			BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: "ann:other"},
			check: func(t *testing.T, c Settings) {
				if c.Username != "ann" || c.Password != "other" || c.URLs[0] != "http://a:8081" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "user info needs a colon", props: map[string]string{URLConfig: "http://a", BasicAuthSourceConfig: "USER_INFO", UserInfoConfig: "fred"}, wantErr: UserInfoConfig},
		{name: "bad source", props: map[string]string{URLConfig: "http://a", BasicAuthSourceConfig: "SASL_INHERIT"}, wantErr: BasicAuthSourceConfig},
		{name: "bad numbers reported together", props: map[string]string{URLConfig: "http://a", MaxRetriesConfig: "x", ReadTimeoutConfig: "-1"}, wantErr: ReadTimeoutConfig},
		{name: "bad PEM", props: map[string]string{URLConfig: "https://a", TruststoreCertificatesConfig: "not pem"}, wantErr: TruststoreCertificatesConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseSettings(tt.props)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestClientTLS(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	srv := httptest.NewTLSServer(reg.Handler())
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	ctx := context.Background()
	tests := []struct {
		name  string
		props map[string]string
		ok    bool
	}{
		{"trusted CA", map[string]string{URLConfig: srv.URL, TruststoreCertificatesConfig: caPEM}, true},
		{"system roots refuse a self-signed registry", map[string]string{URLConfig: srv.URL, MaxRetriesConfig: "0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestClient(t, tt.props).Register(ctx, "orders-value", Schema{Schema: orderSchema}, false)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestWireFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		id      int
		payload []byte
		err     error
	}{
		{"ok", []byte{0, 0, 0, 1, 2, 'x'}, 258, []byte("x"), nil},
		{"empty payload", []byte{0, 0, 0, 0, 7}, 7, []byte{}, nil},
		{"wrong magic byte", []byte{1, 0, 0, 0, 1, 'x'}, 0, nil, ErrUnknownMagicByte},
		{"plain JSON", []byte(`{"a":1}`), 0, nil, ErrUnknownMagicByte},
		{"too short", []byte{0, 0, 1}, 0, nil, ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, p, err := Decode(tt.in)
			if !errors.Is(err, tt.err) || id != tt.id || string(p) != string(tt.payload) {
				t.Fatalf("Decode = %d, %q, %v", id, p, err)
			}
			if err == nil {
				if got := append(AppendHeader(nil, id), p...); string(got) != string(tt.in) {
					t.Fatalf("AppendHeader round trip = %v", got)
				}
			}
		})
	}
	for _, idx := range [][]int{{0}, {1}, {2, 0, 3}} {
		b := AppendMessageIndexes(nil, idx)
		got, rest, err := DecodeMessageIndexes(append(b, 9))
		if err != nil || len(rest) != 1 || len(got) != len(idx) || got[0] != idx[0] {
			t.Fatalf("indexes %v: %v %v %v", idx, got, rest, err)
		}
	}
	if b := AppendMessageIndexes(nil, []int{0}); len(b) != 1 || b[0] != 0 {
		t.Fatalf("[0] = %v, want the single byte 0", b)
	}
}
