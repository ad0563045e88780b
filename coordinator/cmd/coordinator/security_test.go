package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files in dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// curl runs curl with args and returns the HTTP status it printed (000
// when the connection failed) and the body.
func curl(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, _ := exec.Command("curl", append([]string{"-sS", "--max-time", "10", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
	s := strings.TrimRight(string(out), "\n")
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	return s[i+1:], s[:i]
}

// A coordinator with SLUICE_REST_TLS_* and SLUICE_REST_BASIC_AUTH_FILE
// serves HTTPS (TLS 1.2 or later) only, and curl -u works as against
// Connect's BasicAuthSecurityRestExtension: reads need a user, writes an
// admin; /health stays open. The console and the lease history are behind
// the same authentication.
func TestHTTPSAndBasicAuthWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is required (apt-get install curl)")
	}
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	users := filepath.Join(dir, "users.properties")
	if err := os.WriteFile(users, []byte("admin: admin-secret\nviewer: viewer-secret,readonly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broker := startBroker(t)
	addr := proctest.FreeAddr(t)
	// The listener as Connect's listeners=https://… writes it.
	env := append(coordinatorEnv(broker, addr), "SLUICE_REST_LISTENER=https://"+addr, "SLUICE_REST_TLS_CERT_FILE="+cert, "SLUICE_REST_TLS_KEY_FILE="+key,
		"SLUICE_REST_BASIC_AUTH_FILE="+users)
	p := startProcess(t, "tls", addr, env)
	base := "https://" + addr
	// Wait for the REST API and for leadership: writes before this
	// coordinator leads get Connect's 409 (on Apache Kafka the first
	// rebalance takes seconds).
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := curl(t, "--cacert", cert, "-u", "viewer:viewer-secret", base+"/connectors")
		if code == "200" && leads(p) {
			break
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("the coordinator never answered over HTTPS as the leader:\n%s", p.Stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	create := `{"name":"gen","config":{"connector.class":"Datagen","topic":"orders","count":"3","tasks.max":"1"}}`
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no credentials", []string{base + "/connectors"}, "401"},
		{"wrong password", []string{"-u", "admin:guess", base + "/connectors"}, "401"},
		{"health is open", []string{base + "/health"}, "200"},
		{"read-only user writes", []string{"-u", "viewer:viewer-secret", "-X", "POST", "-H", "Content-Type: application/json", "-d", create, base + "/connectors"}, "403"},
		{"no credentials write", []string{"-X", "POST", "-H", "Content-Type: application/json", "-d", create, base + "/connectors"}, "401"},
		{"admin creates", []string{"-u", "admin:admin-secret", "-X", "POST", "-H", "Content-Type: application/json", "-d", create, base + "/connectors"}, "201"},
		{"read-only user reads", []string{"-u", "viewer:viewer-secret", base + "/connectors/gen"}, "200"},
		{"console needs credentials", []string{base + "/ui/"}, "401"},
		{"console for a user", []string{"-u", "viewer:viewer-secret", base + "/ui/app.js"}, "200"},
		{"lease history needs credentials", []string{base + "/sluice/v1/connectors/gen/leases"}, "401"},
		{"lease history for a user", []string{"-u", "viewer:viewer-secret", base + "/sluice/v1/connectors/gen/leases"}, "200"},
		{"TLS 1.1 refused", []string{"--tlsv1.1", "--tls-max", "1.1", "-u", "admin:admin-secret", base + "/connectors"}, "000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := curl(t, append([]string{"--cacert", cert}, tc.args...)...)
			if code != tc.want {
				t.Fatalf("status %s, want %s: %s", code, tc.want, body)
			}
		})
	}
	// The console's URL is printed at start-up, with its scheme.
	if want := "Console: open https://" + addr + "/ui/\n"; !strings.Contains(p.Stdout.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, p.Stdout.String())
	}
	if code, _ := curl(t, "http://"+addr+"/connectors"); code == "200" {
		t.Fatal("plain HTTP answered on the HTTPS listener")
	}
	if code, body := curl(t, "--cacert", cert, base+"/connectors"); !strings.Contains(body, "error_code") || code != "401" {
		t.Fatalf("401 body %q", body)
	}
}
