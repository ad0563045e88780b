// Package tlstest makes certificate authorities and the certificates they
// sign, for tests of TLS listeners and clients (mTLS included): ECDSA
// P-256, valid for an hour either side of now.
package tlstest

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
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for a test.
type CA struct {
	Cert *x509.Certificate
	PEM  []byte // Cert, PEM-encoded
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

// NewCA makes a certificate authority named name.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	ca, err := New(name)
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

// New is NewCA for code without a testing.TB (a TestMain starting a
// server): it returns the error.
func New(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool is a pool holding only the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue returns a PEM certificate named name for usage (a server's on
// 127.0.0.1 and localhost, or a client's), signed by ca, and its PEM key.
func (ca *CA) Issue(tb testing.TB, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	tb.Helper()
	certPEM, keyPEM, err := ca.IssuePEM(name, usage)
	if err != nil {
		tb.Fatal(err)
	}
	return certPEM, keyPEM
}

// IssuePEM is Issue returning the error.
func (ca *CA) IssuePEM(name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k}), nil
}

// IssueFiles is Issue writing the certificate and key to files in dir,
// named after name; it returns their paths.
func (ca *CA) IssueFiles(tb testing.TB, dir, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	tb.Helper()
	c, k := ca.Issue(tb, name, usage)
	return WriteFile(tb, dir, name+".pem", c), WriteFile(tb, dir, name+".key", k)
}

// KeyPair is Issue as a tls.Certificate.
func (ca *CA) KeyPair(tb testing.TB, name string, usage x509.ExtKeyUsage) tls.Certificate {
	tb.Helper()
	c, k := ca.Issue(tb, name, usage)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		tb.Fatal(err)
	}
	return pair
}

// WriteFile writes b to dir/name (mode 0600) and returns its path.
func WriteFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
