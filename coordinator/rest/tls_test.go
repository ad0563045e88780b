package rest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/tlstest"
)

// With a client CA file (SLUICE_REST_TLS_CLIENT_CA_FILE), the listener
// serves only clients whose certificate that CA signed (mTLS): no
// certificate, one from another CA and one not meant for clients are
// refused in the handshake. Without it, any client is served. Below TLS
// 1.2 nothing is served.
func TestTLSConfigClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "other CA")
	certFile, keyFile := serverCA.IssueFiles(t, dir, "coordinator", x509.ExtKeyUsageServerAuth)
	clientCAFile := tlstest.WriteFile(t, dir, "clients.pem", clientCA.PEM)
	roots := serverCA.Pool()
	good := []tls.Certificate{clientCA.KeyPair(t, "worker", x509.ExtKeyUsageClientAuth)}
	foreign := []tls.Certificate{otherCA.KeyPair(t, "worker", x509.ExtKeyUsageClientAuth)}
	serverOnly := []tls.Certificate{clientCA.KeyPair(t, "worker", x509.ExtKeyUsageServerAuth)}

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

	if _, err := TLSConfig(certFile, keyFile, tlstest.WriteFile(t, dir, "empty.pem", []byte("no PEM here"))); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a client CA file without certificates: %v", err)
	}
}
