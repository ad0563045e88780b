package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/tlstest"
	"github.com/sluicehq/sluice/pkg/connect"
)

// A broker that asks for a client certificate, gets none and closes the
// connection right after the TLS 1.3 handshake (the client sees "connection
// reset", not the broker's alert; with Mosquitto this happens in some
// runs): the connect error names the missing certificate and is not
// retriable, as when the alert arrives.
func TestConnectWithoutRequestedClientCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "test-ca")
	certPEM, keyPEM := ca.Issue(t, "broker", x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS13})
				if tc.Handshake() == nil {
					// Let the client's CONNECT arrive unread, then close
					// at once: the kernel answers with a reset.
					time.Sleep(50 * time.Millisecond)
				}
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}()
		}
	}()

	s := session{uris: []string{"ssl://" + ln.Addr().String()}, clientID: "c1", connectTimeout: 5 * time.Second,
		keepalive: 30 * time.Second, tls: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}}
	_, _, err = s.connect(context.Background(), nil, nil)
	if err == nil {
		t.Fatal("connected to a broker that closed the connection")
	}
	var re *connect.RetriableError
	if errors.As(err, &re) || !strings.Contains(err.Error(), "asked for a client certificate") || !strings.Contains(err.Error(), SSLCertFileConfig) {
		t.Fatalf("want a non-retriable error naming the missing client certificate, got (retriable %t) %v", errors.As(err, &re), err)
	}

	// A certificate the broker did not ask for changes nothing: the same
	// closed connection is an ordinary, retriable network failure.
	plain := session{uris: s.uris, clientID: "c2", connectTimeout: 5 * time.Second, keepalive: 30 * time.Second,
		tls: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}}
	if _, _, err := plain.connect(context.Background(), nil, nil); err == nil || !errors.As(err, &re) {
		t.Fatalf("with a client certificate: want a retriable error, got %v", err)
	}
}
