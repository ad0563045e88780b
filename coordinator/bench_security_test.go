package coordinator_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
)

// restVariant is one way BenchmarkCoordinator's REST load reaches the
// listener: plain HTTP or HTTPS (TLS 1.2+, as SLUICE_REST_TLS_* sets it
// up), without credentials or with HTTP Basic (a JAAS
// PropertyFileLoginModule file) or bearer authentication, as
// SLUICE_REST_BASIC_AUTH_FILE and SLUICE_REST_BEARER_TOKENS_FILE set them
// up. The same request mix is sent in every variant.
type restVariant struct {
	name          string
	tls           bool
	basic, bearer bool
}

var restVariants = []restVariant{
	{name: "plain"},
	{name: "basic", basic: true},
	{name: "bearer", bearer: true},
	{name: "tls", tls: true},
	{name: "tls-basic", tls: true, basic: true},
	{name: "tls-bearer", tls: true, bearer: true},
}

const (
	benchUser   = "admin"
	benchPass   = "bench-admin-secret"
	benchToken  = "bench-token-0123456789abcdef0123456789abcdef"
	benchReader = "viewer"
)

// restSecurity is what a variant needs: the server's authentication and
// TLS configuration, and the client's transport and credentials.
type restSecurity struct {
	auth      *rest.Auth
	serverTLS *tls.Config
	clientTLS *tls.Config
	setAuth   func(*http.Request)
}

// setUp builds v's server and client sides from files in dir, loaded by
// the same functions the coordinator uses.
func (v restVariant) setUp(b *testing.B, dir string) restSecurity {
	b.Helper()
	s := restSecurity{auth: &rest.Auth{OpenPaths: []string{"/health"}}, setAuth: func(*http.Request) {}}
	if v.basic {
		f := filepath.Join(dir, "users.properties")
		writeBenchFile(b, f, benchReader+": viewer-secret,readonly\n"+benchUser+": "+benchPass+"\n")
		if err := s.auth.LoadBasicAuthFile(f); err != nil {
			b.Fatal(err)
		}
		s.setAuth = func(r *http.Request) { r.SetBasicAuth(benchUser, benchPass) }
	}
	if v.bearer {
		f := filepath.Join(dir, "tokens.properties")
		writeBenchFile(b, f, "ci: "+benchToken+"\n")
		if err := s.auth.LoadBearerTokensFile(f); err != nil {
			b.Fatal(err)
		}
		s.setAuth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+benchToken) }
	}
	if v.tls {
		cert, key, pool := benchCertificate(b, dir)
		var err error
		if s.serverTLS, err = rest.TLSConfig(cert, key, ""); err != nil {
			b.Fatal(err)
		}
		s.clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return s
}

func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		b.Fatal(err)
	}
}

// benchCertificate writes a self-signed P-256 certificate for 127.0.0.1
// and its key as PEM files in dir, and returns them with a pool trusting
// the certificate.
func benchCertificate(b *testing.B, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice-bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeBenchFile(b, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeBenchFile(b, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	c, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}
