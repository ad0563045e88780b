// Package s3test starts S3 servers for tests: versitygw, a real S3 server
// run as a child process on a free loopback port (Start), and gofakes3 in
// process for fast unit tests (StartFake). Both create a bucket with the
// AWS SDK and stop when the test ends.
//
// versitygw is installed by `make tools`
// (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0); when it
// is missing, Start fails the test rather than skipping it.
package s3test

import (
	"context"
	"go/build"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Region is the region both servers are started with.
const Region = "us-east-1"

// Server is a running versitygw with the posix backend in a temporary
// directory. Its methods must be called from the test's goroutine.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:<port>.
	Endpoint string
	// AccessKey and SecretKey are the root account's credentials.
	AccessKey string
	SecretKey string
	// Bucket was created by Start.
	Bucket string

	tb     testing.TB
	bin    string
	addr   string
	dir    string
	log    *proctest.Buffer
	daemon *daemontest.Daemon
}

// Start starts versitygw on a free loopback port, waits until it answers,
// creates a bucket and stops the server when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := versitygwPath()
	if bin == "" {
		tb.Fatalf("s3test: versitygw is not installed (looked in $PATH and %s); run make tools "+
			"(go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)", filepath.Join(gopath(), "bin"))
	}
	s := &Server{
		AccessKey: "SLUICE" + strings.ToUpper(daemontest.RandomHex(7)),
		SecretKey: daemontest.RandomHex(20),
		Bucket:    "sluice-" + daemontest.RandomHex(4),
		tb:        tb,
		bin:       bin,
		dir:       tb.TempDir(),
		log:       &proctest.Buffer{},
	}
	// A port picked by listening on :0 could be taken by someone else
	// before versitygw binds it; try a few.
	var err error
	for range 3 {
		s.addr = proctest.FreeAddr(tb)
		s.Endpoint = "http://" + s.addr
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("s3test: starting versitygw: %v\n%s", err, s.log.String())
	}
	tb.Cleanup(s.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		tb.Fatalf("s3test: creating bucket %s: %v", s.Bucket, err)
	}
	return s
}

// CommandLine returns the command that starts the server (with the
// secret), for messages and docs.
func (s *Server) CommandLine() []string {
	return []string{s.bin, "--port", s.addr, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", Region, "--quiet", "posix", s.dir}
}

// start starts versitygw and waits until it answers.
func (s *Server) start() error {
	args := s.CommandLine()
	cmd := exec.Command(args[0], args[1:]...)
	// Its own process group, so that a signal to the test does not reach it
	// first and Stop can end it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d, err := daemontest.StartLogged("versitygw", cmd, syscall.SIGTERM, s.log)
	if err != nil {
		return err
	}
	s.daemon = d
	err = d.WaitReady(20*time.Second, func() error {
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	if err != nil {
		d.Stop()
	}
	return err
}

// Stop ends the server (SIGTERM, then SIGKILL after 20 s). The data stays
// in its directory for Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.daemon != nil {
		s.daemon.Stop()
	}
}

// Restart starts the stopped server again on the same port with the same
// data and credentials.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	// The port may linger for a moment after the kill.
	if err := daemontest.Retry(50, 100*time.Millisecond, s.start); err != nil {
		s.tb.Fatalf("s3test: restarting versitygw: %v\n%s", err, s.log.String())
	}
}

// NewBucket creates another, empty bucket and returns its name.
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	return createBucket(tb, s.Client())
}

// Log returns what versitygw printed.
func (s *Server) Log() string { return s.log.String() }

// Client returns an SDK client for the server, signed with the root
// credentials, using path-style addressing.
func (s *Server) Client() *s3.Client {
	return newClient(s.Endpoint, s.AccessKey, s.SecretKey)
}

// Props returns the connector properties that point Sluice's S3 store at
// the server and its bucket.
func (s *Server) Props() map[string]string {
	return props(s.Endpoint, s.Bucket, s.AccessKey, s.SecretKey)
}

// Fake is a gofakes3 server in process on a loopback port. It accepts any
// credentials (gofakes3 does not check signatures), so only use it for
// behaviour that does not depend on authentication.
type Fake struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	// Backend is gofakes3's in-memory backend, for looking behind the API.
	Backend *s3mem.Backend
}

// StartFake starts gofakes3 with a bucket and closes it when the test ends.
func StartFake(tb testing.TB) *Fake {
	tb.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	srv := httptest.NewServer(faker.Server()) // listens on 127.0.0.1
	tb.Cleanup(srv.Close)
	f := &Fake{Endpoint: srv.URL, AccessKey: "fake-access", SecretKey: "fake-secret",
		Bucket: "sluice-fake", Backend: backend}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(f.Bucket)}); err != nil {
		tb.Fatalf("s3test: creating bucket %s in gofakes3: %v", f.Bucket, err)
	}
	return f
}

// NewBucket creates another, empty bucket and returns its name.
func (f *Fake) NewBucket(tb testing.TB) string {
	tb.Helper()
	return createBucket(tb, f.Client())
}

// Client returns an SDK client for the fake, using path-style addressing.
func (f *Fake) Client() *s3.Client { return newClient(f.Endpoint, f.AccessKey, f.SecretKey) }

// Props returns the connector properties that point Sluice's S3 store at
// the fake and its bucket.
func (f *Fake) Props() map[string]string {
	return props(f.Endpoint, f.Bucket, f.AccessKey, f.SecretKey)
}

func props(endpoint, bucket, access, secret string) map[string]string {
	return map[string]string{
		"store.url":                    endpoint,
		"s3.bucket.name":               bucket,
		"s3.region":                    Region,
		"s3.path.style.access.enabled": "true",
		"aws.access.key.id":            access,
		"aws.secret.access.key":        secret,
	}
}

func createBucket(tb testing.TB, c *s3.Client) string {
	tb.Helper()
	name := "sluice-" + daemontest.RandomHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("s3test: creating bucket %s: %v", name, err)
	}
	return name
}

func newClient(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     Region,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// versitygwPath finds versitygw on $PATH or in $(go env GOPATH)/bin.
func versitygwPath() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	p := filepath.Join(gopath(), "bin", "versitygw")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	return ""
}

func gopath() string {
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.SplitList(gp)[0]
	}
	return build.Default.GOPATH
}
