// Package apicuriotest runs a real Schema Registry for tests: Apicurio
// Registry 2.4.2.Final, whose Confluent-compatible API
// (/apis/ccompat/v7) Sluice's client and converters talk to as they talk
// to Confluent's, on a loopback port, with its H2 storage in a file of a
// temporary directory (so that a registry stopped and started again keeps
// its schemas and ids).
//
// The registry is built from Maven Central by `make registry` (Quarkus's
// Maven plugin, server/pom.xml) into
// $HOME/.cache/sluice/apicurio-registry-<Version>, or SLUICE_APICURIO_HOME.
// When it or Java is missing, Start fails the test rather than skipping it.
//
// A registry takes 5 to 30 seconds to start, so tests share one per test
// binary (Shared; the package's TestMain calls Main) and a test that stops
// the registry starts its own (Start).
//
// What Apicurio 2.4.2's compatibility API does not do as Confluent's does
// is written next to the tests that meet it. Basic authentication is not
// available: Apicurio's own basic authentication exchanges the credentials
// for a token at an OpenID Connect server (Keycloak), which does not run
// here.
package apicuriotest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Version is the Apicurio Registry version server/pom.xml builds.
const Version = "2.4.2.Final"

// startTimeout bounds a registry's start (about 8 s on a quiet machine,
// 30 s on a loaded one).
const startTimeout = 3 * time.Minute

// Home is the folder holding the built registry (quarkus-run.jar).
func Home() string {
	if d := os.Getenv("SLUICE_APICURIO_HOME"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sluice", "apicurio-registry-"+Version)
}

// Registry is a running Apicurio Registry.
type Registry struct {
	// URL is the Confluent-compatible API's base URL, what
	// schema.registry.url takes.
	URL string
	// Port is the loopback port it listens on (kept across Restart).
	Port int
	// Dir holds its H2 database and is removed by Close.
	Dir string

	mu     sync.Mutex
	daemon *daemontest.Daemon
	log    *proctest.Buffer
}

var (
	sharedMu  sync.Mutex
	shared    *Registry
	sharedErr error
)

// Shared returns the registry shared by the test binary, starting it on
// first use. The package's TestMain must call Main so that it stops. Tests
// sharing it use subjects of their own.
func Shared(tb testing.TB) *Registry {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedErr != nil {
		tb.Fatalf("apicuriotest: %v", sharedErr)
	}
	if shared != nil {
		return shared
	}
	r, err := launch()
	if err != nil {
		sharedErr = err
		tb.Fatalf("apicuriotest: %v", err)
	}
	shared = r
	return r
}

// Main runs the tests and stops the shared registry; call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(apicuriotest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Close()
		shared = nil
	}
	return code
}

// Start starts a registry for one test and closes it when the test ends.
func Start(tb testing.TB) *Registry {
	tb.Helper()
	r, err := launch()
	if err != nil {
		tb.Fatalf("apicuriotest: %v", err)
	}
	tb.Cleanup(r.Close)
	return r
}

func launch() (*Registry, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java is not installed: a JDK (17+) runs Apicurio Registry")
	}
	if _, err := os.Stat(filepath.Join(Home(), "quarkus-run.jar")); err != nil {
		return nil, fmt.Errorf("Apicurio Registry %s is not built in %s: run make registry", Version, Home())
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sluice-apicurio-")
	if err != nil {
		return nil, err
	}
	r := &Registry{URL: fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port), Port: port, Dir: dir, log: &proctest.Buffer{}}
	if err := r.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// start starts the JVM and waits until the API answers.
func (r *Registry) start() error {
	cmd := exec.Command("java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port="+strconv.Itoa(r.Port),
		"-Dquarkus.datasource.jdbc.min-size=1", "-Dquarkus.datasource.jdbc.initial-size=1",
		"-Dquarkus.log.level=WARN",
		"-jar", filepath.Join(Home(), "quarkus-run.jar"))
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "REGISTRY_DATASOURCE_URL=jdbc:h2:file:"+filepath.Join(r.Dir, "registry"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d, err := daemontest.StartLogged("Apicurio Registry", cmd, syscall.SIGTERM, r.log)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	err = d.WaitReady(startTimeout, func() error {
		resp, err := client.Get(r.URL + "/subjects")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /subjects: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		d.Kill()
		return fmt.Errorf("%w\n%s", err, tail(r.log.String()))
	}
	r.mu.Lock()
	r.daemon = d
	r.mu.Unlock()
	return nil
}

// Stop stops the registry (SIGTERM, then SIGKILL after 20 s): its port
// refuses connections until Restart. Stopping a stopped registry does
// nothing.
func (r *Registry) Stop() {
	r.mu.Lock()
	d := r.daemon
	r.daemon = nil
	r.mu.Unlock()
	if d != nil {
		d.Stop()
	}
}

// Restart starts a stopped registry again on the same port with the same
// storage.
func (r *Registry) Restart(tb testing.TB) {
	tb.Helper()
	r.Stop()
	// The port may linger for a moment.
	if err := daemontest.Retry(20, 250*time.Millisecond, r.start); err != nil {
		tb.Fatalf("apicuriotest: restarting the registry: %v", err)
	}
}

// Log returns what the registry printed (warnings and errors).
func (r *Registry) Log() string { return r.log.String() }

// Close stops the registry and removes its directory.
func (r *Registry) Close() {
	r.Stop()
	_ = os.RemoveAll(r.Dir)
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return s[len(s)-max:]
	}
	return s
}
