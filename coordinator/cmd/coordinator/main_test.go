package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHelpListsEveryVariable(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"--help"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"SLUICE_BOOTSTRAP_SERVERS", "SLUICE_EMBEDDED_KAFKA_ADDR", "SLUICE_DATA_DIR", "SLUICE_OFFSET_STORAGE_TOPIC",
		"SLUICE_LEASE_TIMEOUT", "SLUICE_SAFETY_MARGIN", "SLUICE_TASK_RETRIES", "127.0.0.1:9092", "SLUICE_GROUP_ID", "SLUICE_REST_LISTENER",
		"SLUICE_INVOKER", "SLUICE_LAMBDA_SOURCE_FUNCTION", "coordinator standalone worker.properties", "Usage:", "-health-check"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s:\n%s", v, out.String())
		}
	}
}

// Every variable in --help is indented alike, the first as the others.
func TestHelpIndentsEveryVariableAlike(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"--help"}, &out); err != nil {
		t.Fatal(err)
	}
	_, vars, ok := strings.Cut(out.String(), "Environment:\n")
	if !ok {
		t.Fatalf("--help has no Environment section:\n%s", out.String())
	}
	vars, _, _ = strings.Cut(vars, "\n\n")
	n := 0
	for line := range strings.Lines(vars) {
		n++
		if !strings.HasPrefix(line, "  SLUICE_") {
			t.Errorf("variable line %d is not indented by two spaces: %q", n, line)
		}
	}
	if n < 30 {
		t.Errorf("%d variable lines, want every SLUICE_ variable:\n%s", n, vars)
	}
}

// A bad connector file is rejected, naming every problem, before any
// broker is started.
func TestBadConnectorFileFailsBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(path, []byte("name=x\nconnector.class=FileStreamSource\ntasks.max=many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("SLUICE_EMBEDDED_KAFKA_ADDR", "127.0.0.1:0")
	err := run([]string{path}, &strings.Builder{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"bad.properties", "4 error(s)", "tasks.max", `"file"`, `"topic"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a broker data folder was created before validation: %v", err)
	}
}

// A connector file whose config provider reference the worker's
// providers refuse is refused at start-up, before any broker starts,
// naming the key, the reference and the setting: with the providers in
// the worker properties (SLUICE_WORKER_PROPERTIES) or inline
// (SLUICE_CONFIG_PROVIDERS, as the template gives the functions and the
// coordinator).
func TestConnectorFileWithRefusedReferenceFailsBeforeStarting(t *testing.T) {
	const providers = "config.providers=env;config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider;" +
		"config.providers.env.param.allowlist.pattern=SLUICE_OK_.*"
	for _, inline := range []bool{false, true} {
		t.Run(map[bool]string{false: "worker properties", true: "inline"}[inline], func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("SLUICE_WORKER_PROPERTIES", "")
			t.Setenv("SLUICE_CONFIG_PROVIDERS", "")
			if inline {
				t.Setenv("SLUICE_CONFIG_PROVIDERS", providers)
			} else {
				worker := filepath.Join(dir, "worker.properties")
				if err := os.WriteFile(worker, []byte(strings.ReplaceAll(providers, ";", "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Setenv("SLUICE_WORKER_PROPERTIES", worker)
			}
			path := filepath.Join(dir, "refused.properties")
			if err := os.WriteFile(path, []byte("name=x\nconnector.class=Datagen\ntopic=t\nbatch.size=${env::SLUICE_REFUSED_SIZE}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("SLUICE_DATA_DIR", filepath.Join(dir, "data"))
			t.Setenv("SLUICE_EMBEDDED_KAFKA_ADDR", "127.0.0.1:0")
			err := run([]string{path}, &strings.Builder{})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range []string{"refused.properties", "1 error(s)",
				`Invalid value ${env::SLUICE_REFUSED_SIZE} for configuration batch.size: environment variable "SLUICE_REFUSED_SIZE" is not allowed by config.providers.env.param.allowlist.pattern`} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
				t.Fatalf("a broker data folder was created before validation: %v", err)
			}
		})
	}
}

func TestMissingConnectorFile(t *testing.T) {
	err := run([]string{filepath.Join(t.TempDir(), "nope.properties")}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "nope.properties") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadLogLevelFailsBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLUICE_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("SLUICE_EMBEDDED_KAFKA_ADDR", "127.0.0.1:0")
	t.Setenv("SLUICE_LOG_LEVEL", "loud")
	err := run(nil, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), `SLUICE_LOG_LEVEL "loud"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a broker data folder was created before validation: %v", err)
	}
}

// An error that stops the REST server before Shutdown is logged; Shutdown
// is not an error.
func TestServeErrorIsLogged(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stop    func(*http.Server, net.Listener)
		wantLog bool
	}{
		{name: "listener lost", stop: func(_ *http.Server, ln net.Listener) { ln.Close() }, wantLog: true},
		{name: "shutdown", stop: func(srv *http.Server, _ net.Listener) { srv.Shutdown(context.Background()) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var logged strings.Builder
			log := slog.New(slog.NewTextHandler(&logged, nil))
			srv := &http.Server{Handler: http.NotFoundHandler()}
			done := make(chan struct{})
			go func() {
				serveHTTP(srv, ln, log)
				close(done)
			}()
			tt.stop(srv, ln)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not return")
			}
			if got := strings.Contains(logged.String(), "the REST server stopped"); got != tt.wantLog {
				t.Errorf("logged %q; want a log line: %v", logged.String(), tt.wantLog)
			}
		})
	}
}

// admin.listeners comes from SLUICE_ADMIN_LISTENERS or, when that is
// unset, from the worker properties; set and empty turns /admin/* off.
func TestAdminListenersSetting(t *testing.T) {
	tests := []struct {
		name    string
		env     *string
		worker  string
		want    []string
		wantSet bool
	}{
		{name: "unset"},
		{name: "env", env: ptr("http://127.0.0.1:8084, https://0.0.0.0:8085"), want: []string{"http://127.0.0.1:8084", "https://0.0.0.0:8085"}, wantSet: true},
		{name: "env empty", env: ptr(""), wantSet: true},
		{name: "worker", worker: "admin.listeners=http://localhost:9093\n", want: []string{"http://localhost:9093"}, wantSet: true},
		{name: "worker empty", worker: "admin.listeners=\n", wantSet: true},
		{name: "env wins", env: ptr("127.0.0.1:1"), worker: "admin.listeners=\n", want: []string{"127.0.0.1:1"}, wantSet: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLUICE_ADMIN_LISTENERS", "")
			os.Unsetenv("SLUICE_ADMIN_LISTENERS")
			if tc.env != nil {
				t.Setenv("SLUICE_ADMIN_LISTENERS", *tc.env)
			}
			t.Setenv("SLUICE_REST_TLS_CERT_FILE", "cert.pem") // for https:// (not read by parse)
			t.Setenv("SLUICE_REST_TLS_KEY_FILE", "key.pem")
			t.Setenv("SLUICE_WORKER_PROPERTIES", "")
			if tc.worker != "" {
				path := filepath.Join(t.TempDir(), "worker.properties")
				if err := os.WriteFile(path, []byte(tc.worker), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Setenv("SLUICE_WORKER_PROPERTIES", path)
			}
			s, err := parse(nil, &strings.Builder{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.cfg.AdminListeners, tc.want) || s.cfg.AdminListenersSet != tc.wantSet {
				t.Fatalf("admin listeners %q (set %v), want %q (set %v)", s.cfg.AdminListeners, s.cfg.AdminListenersSet, tc.want, tc.wantSet)
			}
		})
	}
}

// The REST listener may be written as Connect's listeners are
// (http://host:port, https://host:port), in SLUICE_REST_LISTENER or
// standalone mode's listeners: the address is kept, https:// needs the
// listener's certificate and http:// refuses one.
func TestRestListenerScheme(t *testing.T) {
	dir := t.TempDir()
	worker := func(content string) string {
		path := filepath.Join(t.TempDir(), "worker.properties")
		if err := os.WriteFile(path, []byte("bootstrap.servers=127.0.0.1:9092\noffset.storage.file.filename="+filepath.Join(dir, "offsets")+"\n"+content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name         string
		listener     string // SLUICE_REST_LISTENER, "" unset
		worker       string // standalone worker properties, "" for distributed mode
		tls          bool
		want         string
		wantAdvertis string
		wantErr      string
	}{
		{name: "address", listener: "127.0.0.1:18083", want: "127.0.0.1:18083", wantAdvertis: "http://127.0.0.1:18083"},
		{name: "http", listener: "http://127.0.0.1:18083", want: "127.0.0.1:18083", wantAdvertis: "http://127.0.0.1:18083"},
		{name: "https", listener: "https://127.0.0.1:18443", tls: true, want: "127.0.0.1:18443", wantAdvertis: "https://127.0.0.1:18443"},
		{name: "upper case scheme", listener: "HTTPS://127.0.0.1:18443", tls: true, want: "127.0.0.1:18443"},
		{name: "https without a certificate", listener: "https://127.0.0.1:18443", wantErr: "is HTTPS: set SLUICE_REST_TLS_CERT_FILE"},
		{name: "http with a certificate", listener: "http://127.0.0.1:18083", tls: true, wantErr: "write https://127.0.0.1:18083"},
		{name: "standalone https", worker: "listeners=https://127.0.0.1:18443,http://127.0.0.1:18083\n", tls: true,
			want: "127.0.0.1:18443", wantAdvertis: "https://127.0.0.1:18443"},
		{name: "standalone advertised host", worker: "listeners=https://0.0.0.0:18443\nrest.advertised.host.name=connect.example\n", tls: true,
			want: "0.0.0.0:18443", wantAdvertis: "https://connect.example:18443"},
		{name: "standalone https without a certificate", worker: "listeners=https://127.0.0.1:18443\n", wantErr: "is HTTPS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLUICE_REST_LISTENER", tc.listener)
			if tc.listener == "" {
				os.Unsetenv("SLUICE_REST_LISTENER")
			}
			t.Setenv("SLUICE_WORKER_PROPERTIES", "")
			t.Setenv("SLUICE_REST_ADVERTISED_URL", "")
			t.Setenv("SLUICE_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
			cert, key := "", ""
			if tc.tls {
				cert, key = "cert.pem", "key.pem" // not read by parse
			}
			t.Setenv("SLUICE_REST_TLS_CERT_FILE", cert)
			t.Setenv("SLUICE_REST_TLS_KEY_FILE", key)
			var args []string
			if tc.worker != "" {
				args = []string{"standalone", worker(tc.worker)}
			}
			s, err := parse(args, &strings.Builder{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.cfg.RestListener != tc.want {
				t.Errorf("listener %q, want %q", s.cfg.RestListener, tc.want)
			}
			if tc.wantAdvertis != "" && s.cfg.RestAdvertisedURL != tc.wantAdvertis {
				t.Errorf("advertised URL %q, want %q", s.cfg.RestAdvertisedURL, tc.wantAdvertis)
			}
		})
	}
}

// The console's URL, as printed at start-up, for the REST listener.
func TestConsoleURL(t *testing.T) {
	for _, tt := range []struct {
		name, listener string
		tls            bool
		want           string
	}{
		{name: "every interface", listener: ":8083", want: "http://127.0.0.1:8083/ui/"},
		{name: "unspecified IPv4", listener: "0.0.0.0:8083", want: "http://127.0.0.1:8083/ui/"},
		{name: "loopback", listener: "127.0.0.1:18083", want: "http://127.0.0.1:18083/ui/"},
		{name: "a host over TLS", listener: "coord.example:8443", tls: true, want: "https://coord.example:8443/ui/"},
		{name: "IPv6", listener: "[::1]:8083", want: "http://[::1]:8083/ui/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := consoleURL(tt.listener, tt.tls); got != tt.want {
				t.Errorf("consoleURL(%q) = %q, want %q", tt.listener, got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
