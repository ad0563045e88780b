// Package mototest starts moto's server, an independent implementation of
// the AWS APIs (from PyPI, https://pypi.org/project/moto/), for tests of
// the code that calls AWS Secrets Manager and SSM Parameter Store: a child
// process on a free loopback port, stopped when the test ends.
//
// Sluice makes its Secrets Manager and SSM calls itself (pkg/configprovider's
// awsClient) instead of linking the SDK's service clients, so its requests
// and its reading of answers and error codes are checked here against a
// server it did not write. moto accepts any SigV4 signature; that the
// requests are signed is checked by the tests with a local listener.
//
// moto comes from `make moto`, which installs it into a virtualenv under
// $HOME/.cache/sluice/moto-<version> ($SLUICE_MOTO_SERVER names the
// moto_server program instead); `make test` and .ci/run call it. When it is
// missing, Start fails the test rather than skipping it.
package mototest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
)

// Version is the moto release `make moto` installs.
const Version = "5.2.5"

// Server is a running moto server.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:<port>: the endpoint of every
	// service it implements.
	Endpoint string
	// Region is the region resources are created in.
	Region string
	t      testing.TB
	d      *daemontest.Daemon
}

// program finds moto_server.
func program(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SLUICE_MOTO_SERVER"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		tb.Fatalf("finding moto_server: %v", err)
	}
	return filepath.Join(home, ".cache", "sluice", "moto-"+Version, "bin", "moto_server")
}

// Start starts a moto server and stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	prog := program(tb)
	if _, err := os.Stat(prog); err != nil {
		tb.Fatalf("moto %s is not installed (%v): run `make moto` (moto[server] from PyPI into a virtualenv), or set SLUICE_MOTO_SERVER", Version, err)
	}
	port, err := daemontest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	// moto needs no privileges and writes nothing: it runs as the test's
	// own user, in its own process group, killed if the test binary dies.
	cmd := exec.Command(prog, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// The test's AWS settings (credentials, config files) are the client's,
	// not the server's.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	d, err := daemontest.Start("moto_server", cmd, syscall.SIGTERM)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Stop)
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Region: "us-east-1", t: tb, d: d}
	// moto answers its own health path once its routes are loaded (a
	// cold start of the Python process takes a second or two).
	if err := d.WaitReady(60*time.Second, func() error {
		resp, err := http.Get(s.Endpoint + "/moto-api/data.json")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	}); err != nil {
		tb.Fatalf("%v\n%s", err, d.Log.String())
	}
	return s
}

// call makes one AWS JSON 1.1 request (target "secretsmanager.CreateSecret",
// "AmazonSSM.PutParameter", …) with a syntactically valid SigV4
// Authorization header, which moto needs to find the region and service
// but does not verify, and decodes the answer into out (if not nil).
func (s *Server) call(target, service string, in, out any) {
	s.t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/"+s.Region+"/"+service+"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("%s: %s: %s\nmoto's log:\n%s", target, resp.Status, data, s.d.Log.String())
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s: decoding %s: %v", target, data, err)
		}
	}
}

// CreateSecret creates a secret holding SecretString value and returns its
// ARN (moto's, with the random suffix Secrets Manager adds).
func (s *Server) CreateSecret(name, value string) string {
	s.t.Helper()
	var out struct{ ARN string }
	s.call("secretsmanager.CreateSecret", "secretsmanager", map[string]any{"Name": name, "SecretString": value}, &out)
	return out.ARN
}

// CreateBinarySecret creates a secret holding SecretBinary value.
func (s *Server) CreateBinarySecret(name string, value []byte) {
	s.t.Helper()
	s.call("secretsmanager.CreateSecret", "secretsmanager", map[string]any{"Name": name, "SecretBinary": value}, nil)
}

// PutSecretValue stores a new current version of a secret's SecretString.
func (s *Server) PutSecretValue(id, value string) {
	s.t.Helper()
	s.call("secretsmanager.PutSecretValue", "secretsmanager", map[string]any{"SecretId": id, "SecretString": value}, nil)
}

// PutParameter creates or overwrites an SSM parameter; secure makes it a
// SecureString (encrypted with the account's default key).
func (s *Server) PutParameter(name, value string, secure bool) {
	s.t.Helper()
	typ := "String"
	if secure {
		typ = "SecureString"
	}
	s.call("AmazonSSM.PutParameter", "ssm", map[string]any{"Name": name, "Value": value, "Type": typ, "Overwrite": true}, nil)
}
