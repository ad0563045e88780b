package schemaregistry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/internal/tlstest"
)

// TestClientMutualTLS: against a registry (srfake behind Go's TLS server)
// that requires a client certificate signed by its client CA, the client
// connects with the keystore given inline (schema.registry.ssl.keystore.
// certificate.chain and .key) or as one PEM file holding chain and key
// (.keystore.location), trusting the server's CA inline or from a file;
// without a client certificate, with one another CA signed or without
// trusting the server's CA, it fails, retriably. The registry records the client certificate it saw, so a test
// passes only when the configured one was sent.
func TestClientMutualTLS(t *testing.T) {
	serverCA := tlstest.NewCA(t, "registry-ca")
	clientCA := tlstest.NewCA(t, "client-ca")
	otherCA := tlstest.NewCA(t, "other-ca")

	reg := srfake.New()
	defer reg.Close()
	var mu sync.Mutex
	var seen []string
	handler := reg.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCA.KeyPair(t, "registry", x509.ExtKeyUsageServerAuth)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool(),
	}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	chain, key := clientCA.Issue(t, "sluice-client", x509.ExtKeyUsageClientAuth)
	keystore := tlstest.WriteFile(t, dir, "keystore.pem", append(append([]byte{}, chain...), key...))
	truststore := tlstest.WriteFile(t, dir, "truststore.pem", serverCA.PEM)
	otherChain, otherKey := otherCA.Issue(t, "stranger", x509.ExtKeyUsageClientAuth)

	tests := []struct {
		name  string
		props map[string]string
		ok    bool
	}{
		{"inline keystore and truststore", map[string]string{TruststoreCertificatesConfig: string(serverCA.PEM),
			KeystoreCertChainConfig: string(chain), KeystoreKeyConfig: string(key)}, true},
		{"keystore and truststore files", map[string]string{TruststoreLocationConfig: truststore, KeystoreLocationConfig: keystore}, true},
		{"no client certificate", map[string]string{TruststoreCertificatesConfig: string(serverCA.PEM)}, false},
		{"a client certificate of another CA", map[string]string{TruststoreCertificatesConfig: string(serverCA.PEM),
			KeystoreCertChainConfig: string(otherChain), KeystoreKeyConfig: string(otherKey)}, false},
		{"the server's CA not trusted", map[string]string{KeystoreLocationConfig: keystore}, false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			props := map[string]string{URLConfig: srv.URL, MaxRetriesConfig: "0"}
			for k, v := range tt.props {
				props[k] = v
			}
			_, err := newTestClient(t, props).Register(ctx, "mtls-value", Schema{Schema: orderSchema}, false)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			// A failed handshake counts as a registry that cannot be
			// reached: retriable (as the README says).
			if err != nil && !IsRetriable(err) {
				t.Fatalf("%v is not retriable", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.ok && (len(seen) != 1 || seen[0] != "sluice-client") {
				t.Fatalf("the registry saw client certificates %q, want [sluice-client]", seen)
			}
			if !tt.ok && len(seen) != 0 {
				t.Fatalf("a refused client reached the registry as %q", seen)
			}
		})
	}
}
