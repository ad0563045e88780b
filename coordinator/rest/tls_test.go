package rest

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
	"strings"
	"testing"
	"time"
)

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by ca, for a server on
// 127.0.0.1 or a client.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})
}

func writeTemp(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// With a client CA file (SLUICE_REST_TLS_CLIENT_CA_FILE), the listener
// serves only clients whose certificate that CA signed (mTLS): no
// certificate, one from another CA and one not meant for clients are
// refused in the handshake. Without it, any client is served. Below TLS
// 1.2 nothing is served.
func TestTLSConfigClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := newTestCA(t, "server CA"), newTestCA(t, "client CA"), newTestCA(t, "other CA")
	srvCert, srvKey := serverCA.issue(t, "coordinator", x509.ExtKeyUsageServerAuth)
	certFile, keyFile := writeTemp(t, dir, "server.pem", srvCert), writeTemp(t, dir, "server.key", srvKey)
	clientCAFile := writeTemp(t, dir, "clients.pem", clientCA.pem)
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)

	clientCert := func(ca *testCA, usage x509.ExtKeyUsage) []tls.Certificate {
		c, k := ca.issue(t, "worker", usage)
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{pair}
	}
	good := clientCert(clientCA, x509.ExtKeyUsageClientAuth)
	foreign := clientCert(otherCA, x509.ExtKeyUsageClientAuth)
	serverOnly := clientCert(clientCA, x509.ExtKeyUsageServerAuth)

	serve := func(t *testing.T, caFile string) string {
		cfg, err := TLSConfig(certFile, keyFile, caFile)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), cfg)
		go srv.Serve(tls.NewListener(ln, cfg))
		t.Cleanup(func() { srv.Close() })
		return "https://" + ln.Addr().String() + "/connectors"
	}
	tests := []struct {
		name       string
		clientCA   string
		certs      []tls.Certificate
		maxVersion uint16
		wantErr    string // "" served
	}{
		{name: "mTLS, the CA's client", clientCA: clientCAFile, certs: good},
		{name: "mTLS, no certificate", clientCA: clientCAFile, wantErr: "certificate required"},
		{name: "mTLS, another CA's client", clientCA: clientCAFile, certs: foreign, wantErr: "unknown certificate authority"},
		{name: "mTLS, a server certificate", clientCA: clientCAFile, certs: serverOnly, wantErr: "bad certificate"},
		{name: "TLS only, no certificate", certs: nil},
		{name: "TLS 1.1", maxVersion: tls.VersionTLS11, wantErr: "protocol version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, tc.clientCA)
			cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tc.maxVersion}
			if tc.certs != nil {
				// Sent whatever CAs the server asks for, so that the
				// server's verification is what is tested.
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc.certs[0], nil }
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
			resp, err := client.Get(url)
			if tc.wantErr == "" {
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
				t.Fatalf("served (status %d), want a handshake error", resp.StatusCode)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}

	if _, err := TLSConfig(certFile, keyFile, writeTemp(t, dir, "empty.pem", []byte("no PEM here"))); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a client CA file without certificates: %v", err)
	}
}
