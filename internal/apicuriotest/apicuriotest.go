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
// is written next to the tests that meet it.
//
// A second kind of registry enforces authentication (SharedAuth): every
// request needs HTTP basic credentials (User, Password), checked by
// Quarkus's basic authentication mechanism against its embedded users, or
// a bearer token (Token: a JWT signed with a key of the test binary),
// checked by Quarkus's OpenID Connect extension against that key's public
// half; anything else is answered 401. It is the same build started with
// other properties (server/src/.../AuthRequiredPolicy.java). Apicurio's
// own authentication is left out of the build: it needs an OpenID Connect
// server (Keycloak), which does not run here.
package apicuriotest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
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

// The credentials a registry with authentication (SharedAuth) accepts:
// basic authentication as User with Password, or a bearer token whose
// issuer is Issuer (Registry.Token).
const (
	User     = "sluice"
	Password = "apicurio-s3cret"
	Issuer   = "sluice-apicuriotest"
)

// Registry is a running Apicurio Registry.
type Registry struct {
	// URL is the Confluent-compatible API's base URL, what
	// schema.registry.url takes.
	URL string
	// Port is the loopback port it listens on (kept across Restart).
	Port int
	// Dir holds its H2 database and is removed by Close.
	Dir string
	// Auth says that the registry refuses requests without User's
	// credentials or a token of Token (401).
	Auth bool

	// key signs the bearer tokens an Auth registry accepts.
	key *rsa.PrivateKey

	mu     sync.Mutex
	daemon *daemontest.Daemon
	log    *proctest.Buffer
}

// sharedRegistry is one registry shared by the test binary, started on
// first use.
type sharedRegistry struct {
	r   *Registry
	err error
}

var (
	sharedMu   sync.Mutex
	shared     sharedRegistry
	sharedAuth sharedRegistry
)

// Shared returns the registry shared by the test binary, starting it on
// first use. The package's TestMain must call Main so that it stops. Tests
// sharing it use subjects of their own.
func Shared(tb testing.TB) *Registry {
	tb.Helper()
	return shared.get(tb, false)
}

// SharedAuth returns the registry with authentication shared by the test
// binary (a second one, beside Shared's), starting it on first use.
func SharedAuth(tb testing.TB) *Registry {
	tb.Helper()
	return sharedAuth.get(tb, true)
}

func (s *sharedRegistry) get(tb testing.TB, auth bool) *Registry {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s.err != nil {
		tb.Fatalf("apicuriotest: %v", s.err)
	}
	if s.r != nil {
		return s.r
	}
	r, err := launch(auth)
	if err != nil {
		s.err = err
		tb.Fatalf("apicuriotest: %v", err)
	}
	s.r = r
	return r
}

// Main runs the tests and stops the shared registries; call it from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(apicuriotest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for _, s := range []*sharedRegistry{&shared, &sharedAuth} {
		if s.r != nil {
			s.r.Close()
			s.r = nil
		}
	}
	return code
}

// Start starts a registry for one test and closes it when the test ends.
func Start(tb testing.TB) *Registry {
	tb.Helper()
	r, err := launch(false)
	if err != nil {
		tb.Fatalf("apicuriotest: %v", err)
	}
	tb.Cleanup(r.Close)
	return r
}

func launch(auth bool) (*Registry, error) {
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
	r := &Registry{URL: fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port), Port: port, Dir: dir, Auth: auth, log: &proctest.Buffer{}}
	if auth {
		if r.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := r.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// start starts the JVM and waits until the API answers.
func (r *Registry) start() error {
	args := []string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + strconv.Itoa(r.Port),
		"-Dquarkus.datasource.jdbc.min-size=1", "-Dquarkus.datasource.jdbc.initial-size=1",
		"-Dquarkus.log.level=WARN"}
	if r.Auth {
		pub, err := x509.MarshalPKIXPublicKey(&r.key.PublicKey)
		if err != nil {
			return err
		}
		args = append(args,
			"-Dsluice.registry.require-authentication=true",
			"-Dquarkus.security.users.embedded.users."+User+"="+Password,
			// Bearer tokens: Quarkus's OpenID Connect extension verifies
			// them with this public key, without an OpenID Connect server.
			"-Dquarkus.oidc.tenant-enabled=true",
			"-Dquarkus.oidc.public-key="+base64.StdEncoding.EncodeToString(pub),
			"-Dquarkus.oidc.token.issuer="+Issuer)
	}
	args = append(args, "-jar", filepath.Join(Home(), "quarkus-run.jar"))
	cmd := exec.Command("java", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "REGISTRY_DATASOURCE_URL=jdbc:h2:file:"+filepath.Join(r.Dir, "registry"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d, err := daemontest.StartLogged("Apicurio Registry", cmd, syscall.SIGTERM, r.log)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(auth bool) (int, error) {
		req, err := http.NewRequest(http.MethodGet, r.URL+"/subjects", nil)
		if err != nil {
			return 0, err
		}
		if auth {
			req.SetBasicAuth(User, Password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	err = d.WaitReady(startTimeout, func() error {
		code, err := get(r.Auth)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET /subjects: HTTP %d", code)
		}
		return nil
	})
	if err == nil && r.Auth {
		// A registry built before authentication was added to server/
		// answers everyone.
		if code, gerr := get(false); gerr != nil {
			err = gerr
		} else if code != http.StatusUnauthorized {
			err = fmt.Errorf("GET /subjects without credentials: HTTP %d, want 401: the registry in %s was built without authentication; run make registry", code, Home())
		}
	}
	if err != nil {
		d.Kill()
		return fmt.Errorf("%w\n%s", err, tail(r.log.String()))
	}
	r.mu.Lock()
	r.daemon = d
	r.mu.Unlock()
	return nil
}

// Token returns a bearer token that an Auth registry accepts until ttl
// has passed (a negative ttl makes one that has expired): a JWT (RS256)
// for User, issued by Issuer and signed with the registry's key.
func (r *Registry) Token(tb testing.TB, ttl time.Duration) string {
	tb.Helper()
	if r.key == nil {
		tb.Fatal("apicuriotest: Token of a registry without authentication")
	}
	now := time.Now()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": Issuer, "sub": User, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix()})
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, r.key, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
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
