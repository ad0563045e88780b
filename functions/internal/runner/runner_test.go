package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/internal/tlstest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins"
)

func TestHelpListsEveryVariable(t *testing.T) {
	var out strings.Builder
	var own struct {
		Connector string `envconfig:"CONNECTOR" desc:"the function's own variable"`
	}
	if err := Main(Function{Name: "sink-batch", Kind: lease.KindSink, Config: &own}, []string{"--help"}, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"Usage: sink-batch", "AWS_LAMBDA_RUNTIME_API", "SIGTERM", "SLUICE_CONNECTOR", "the function's own variable"}
	// Fields without an envconfig tag take their names from split_words.
	splitWords := map[string]string{
		"SecurityProtocol": "SECURITY_PROTOCOL", "SASLMechanism": "SASL_MECHANISM",
		"SASLUsername": "SASL_USERNAME", "SASLPassword": "SASL_PASSWORD",
		"SSLCaFile": "SSL_CA_FILE", "SSLCertFile": "SSL_CERT_FILE", "SSLKeyFile": "SSL_KEY_FILE",
		"SSLInsecureSkipVerify": "SSL_INSECURE_SKIP_VERIFY",
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if f.Anonymous {
			continue // kafka.SecurityEnv: its fields are visited too
		}
		name := f.Tag.Get("envconfig")
		if name == "" {
			if name = splitWords[f.Name]; name == "" {
				t.Fatalf("Config.%s has no envconfig tag and no split_words name in this test", f.Name)
			}
		}
		want = append(want, "SLUICE_"+name+" ")
	}
	for _, v := range want {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s:\n%s", v, out.String())
		}
	}
}

func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "no bootstrap servers", env: map[string]string{"SLUICE_BOOTSTRAP_SERVERS": ""}, want: []string{"BOOTSTRAP_SERVERS"}},
		{name: "worker without coordinator", env: map[string]string{"SLUICE_COORDINATOR_URL": ""},
			want: []string{"SLUICE_COORDINATOR_URL is required outside AWS Lambda"}},
		{name: "every problem at once", env: map[string]string{"SLUICE_SAFETY_MARGIN": "0s", "SLUICE_CONCURRENCY": "0", "SLUICE_POLL_WAIT": "-1s"},
			want: []string{"SLUICE_SAFETY_MARGIN", "SLUICE_CONCURRENCY", "SLUICE_POLL_WAIT", "SLUICE_COORDINATOR_URL"}},
		{name: "function's own variable", env: map[string]string{"SLUICE_COORDINATOR_URL": "http://127.0.0.1:1", "SLUICE_FLUSH_EVERY": "often"},
			want: []string{"FLUSH_EVERY"}},
		{name: "bad log level", env: map[string]string{"SLUICE_COORDINATOR_URL": "http://127.0.0.1:1", "SLUICE_LOG_LEVEL": "loud"},
			want: []string{"SLUICE_LOG_LEVEL"}},
		{name: "client certificate without its key", env: map[string]string{"SLUICE_COORDINATOR_URL": "https://127.0.0.1:1", "SLUICE_COORDINATOR_TLS_CERT_FILE": "worker.pem"},
			want: []string{"SLUICE_COORDINATOR_TLS_CERT_FILE and SLUICE_COORDINATOR_TLS_KEY_FILE go together"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RuntimeAPIEnv, "")
			t.Setenv("SLUICE_BOOTSTRAP_SERVERS", "127.0.0.1:1")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var own struct {
				FlushEvery time.Duration `envconfig:"FLUSH_EVERY"`
			}
			err := Main(Function{Name: "source-poll", Kind: lease.KindSource, Config: &own}, nil, io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// Under Lambda, a function that cannot start says why through the Runtime
// API's init error endpoint.
func TestInitErrorReported(t *testing.T) {
	got := make(chan map[string]string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/2018-06-01/runtime/init/error" {
			http.NotFound(w, r)
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["header"] = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		got <- body
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	t.Setenv(RuntimeAPIEnv, strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("SLUICE_BOOTSTRAP_SERVERS", "")
	if err := Main(Function{Name: "sink-batch", Kind: lease.KindSink}, nil, io.Discard); err == nil {
		t.Fatal("started without bootstrap servers")
	}
	select {
	case body := <-got:
		if body["errorType"] != "Sluice.InitError" || body["header"] != "Sluice.InitError" || !strings.Contains(body["errorMessage"], "BOOTSTRAP_SERVERS") {
			t.Fatalf("init error %v", body)
		}
	default:
		t.Fatal("no init error reported")
	}
}

// Payloads the handler rejects before anything runs: the executor is nil,
// so reaching it would panic.
func TestHandlerRejects(t *testing.T) {
	deadline := time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)
	src := `{"id":"l1","kind":"source","connector":"c","deadline":"` + deadline + `","connector_config":{"connector.class":"Datagen"}}`
	tests := []struct {
		name     string
		kind     lease.Kind
		payload  string
		ctx      time.Duration // invocation deadline from now; 0 for none
		wantType string
		want     string
	}{
		{name: "not JSON", kind: lease.KindSource, payload: `{"id":`, wantType: ErrorTypeMalformedPayload, want: "not JSON"},
		{name: "lease that does not decode", kind: lease.KindSource, payload: `{"kind":"source","connector":"c","epoch":"one"}`,
			wantType: ErrorTypeMalformedPayload, want: "epoch"},
		{name: "unknown event", kind: lease.KindSource, payload: `{"detail-type":"Scheduled Event","source":"aws.events"}`,
			wantType: ErrorTypeUnknownEvent, want: "not a lease"},
		{name: "array", kind: lease.KindSink, payload: `[1,2]`, wantType: ErrorTypeUnknownEvent, want: "not a lease"},
		{name: "lease of the other kind", kind: lease.KindSink, payload: src, wantType: ErrorTypeBadLease, want: `runs sink leases, lease l1 is a "source" lease`},
		{name: "no id", kind: lease.KindSource, payload: `{"kind":"source","connector":"c","deadline":"` + deadline + `"}`,
			wantType: ErrorTypeBadLease, want: "id, connector and deadline are required"},
		{name: "no class", kind: lease.KindSource, payload: `{"id":"l1","kind":"source","connector":"c","deadline":"` + deadline + `"}`,
			wantType: ErrorTypeBadLease, want: "no connector.class"},
		{name: "unknown class", kind: lease.KindSource, payload: strings.Replace(src, "Datagen", "com.example.Nope", 1),
			wantType: ErrorTypeBadLease, want: "com.example.Nope"},
		{name: "sink class in a source lease", kind: lease.KindSource, payload: strings.Replace(src, "Datagen", "FileStreamSink", 1),
			wantType: ErrorTypeBadLease, want: "FileStreamSink"},
		{name: "expired lease", kind: lease.KindSource,
			payload:  strings.Replace(src, deadline, time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano), 1),
			wantType: ErrorTypeLeaseExpired, want: "the lease's deadline"},
		{name: "invocation deadline too short", kind: lease.KindSource, payload: src, ctx: 1500 * time.Millisecond,
			wantType: ErrorTypeLeaseExpired, want: "the invocation's deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{Kind: tt.kind, Deps: Deps{Config: Config{Executor: env.Executor{SafetyMargin: time.Second}}, Plugins: plugins.Registry()}}
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			out, err := h.Invoke(ctx, []byte(tt.payload))
			var le messages.InvokeResponse_Error
			if !errors.As(err, &le) {
				t.Fatalf("Invoke = %s, %v; want a Lambda error", out, err)
			}
			if le.Type != tt.wantType || !strings.Contains(le.Message, tt.want) {
				t.Fatalf("error %s: %q, want %s mentioning %q", le.Type, le.Message, tt.wantType, tt.want)
			}
		})
	}
}

// Payloads that are not leases go to Events, whose answer or error is the
// invocation's; an export request has "connector" but no "kind".
func TestHandlerDispatchesEvents(t *testing.T) {
	var got []string
	h := &Handler{Kind: lease.KindSink, Deps: Deps{Plugins: plugins.Registry()},
		Events: func(_ context.Context, _ Deps, p json.RawMessage) (any, error) {
			got = append(got, string(p))
			if strings.Contains(string(p), "unknown") {
				return nil, ErrUnknownEvent
			}
			if strings.Contains(string(p), "broken") {
				return nil, errors.New("export failed")
			}
			return map[string]bool{"complete": true}, nil
		}}
	out, err := h.Invoke(context.Background(), []byte(`{"connector":"s3","until":"now"}`))
	if err != nil || string(out) != `{"complete":true}` {
		t.Fatalf("export: %s, %v", out, err)
	}
	for _, tt := range []struct{ payload, wantType string }{
		{`{"unknown":1}`, ErrorTypeUnknownEvent},
		{`{"broken":1}`, ErrorTypeEventFailed},
	} {
		_, err := h.Invoke(context.Background(), []byte(tt.payload))
		var le messages.InvokeResponse_Error
		if !errors.As(err, &le) || le.Type != tt.wantType {
			t.Errorf("%s: err %v, want type %s", tt.payload, err, tt.wantType)
		}
	}
	if len(got) != 3 {
		t.Fatalf("Events saw %q", got)
	}
}

// A worker reaches a coordinator serving HTTPS with the CA file
// (SLUICE_COORDINATOR_TLS_CA_FILE), and one requiring client certificates
// (mTLS) with its certificate and key (SLUICE_COORDINATOR_TLS_CERT_FILE,
// _KEY_FILE); without them the handshake fails.
func TestCoordinatorClientTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "worker CA")
	caFile := tlstest.WriteFile(t, dir, "server-ca.pem", serverCA.PEM)
	certFile, keyFile := clientCA.IssueFiles(t, dir, "worker", x509.ExtKeyUsageClientAuth)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCA.KeyPair(t, "coordinator", x509.ExtKeyUsageServerAuth)},
		ClientCAs: clientCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	tests := []struct {
		name                string
		ca, cert, key       string
		wantErr, wantConfig string
	}{
		{name: "CA and client certificate", ca: caFile, cert: certFile, key: keyFile},
		{name: "no client certificate", ca: caFile, wantErr: "certificate required"},
		{name: "no CA", cert: certFile, key: keyFile, wantErr: "certificate signed by unknown authority"},
		{name: "not a CA file", ca: keyFile, wantConfig: "no PEM certificate"},
		{name: "missing key", ca: caFile, cert: certFile, key: filepath.Join(dir, "nope.key"), wantConfig: "SLUICE_COORDINATOR_TLS_CERT_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{PollWait: time.Second, CoordinatorTLSCAFile: tt.ca, CoordinatorTLSCertFile: tt.cert, CoordinatorTLSKeyFile: tt.key}
			client, err := c.coordinatorClient()
			if tt.wantConfig != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantConfig) {
					t.Fatalf("err = %v, want %q", err, tt.wantConfig)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Get(srv.URL)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("status %d", resp.StatusCode)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("served without the TLS settings")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
