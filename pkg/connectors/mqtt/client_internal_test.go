package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
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
	_, _, err = s.connect(context.Background(), nil, nil, nil)
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
	if _, _, err := plain.connect(context.Background(), nil, nil, nil); err == nil || !errors.As(err, &re) {
		t.Fatalf("with a client certificate: want a retriable error, got %v", err)
	}
}

// gatedConn is a connection whose first write waits for gate (at most a
// second), counting the writes that reach it.
type gatedConn struct {
	net.Conn
	gate   chan struct{}
	writes atomic.Int32
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if c.writes.Add(1) == 1 {
		select {
		case <-c.gate:
		case <-time.After(time.Second):
		}
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

// loopbackPair returns the two ends of a TCP connection on loopback.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Packets written while the connection is busy go out together, in
// order, and Close sends every packet written before it, then half-closes
// (the broker reads them all, then sees the end of the stream).
func TestBufferedConnCoalescesWritesAndFlushesOnClose(t *testing.T) {
	raw, server := loopbackPair(t)
	g := &gatedConn{Conn: raw, gate: make(chan struct{})}
	c := newBufferedConn(g, 5*time.Second)

	var want []byte
	for i := range 1000 {
		p := []byte{0x40, 0x02, byte(i >> 8), byte(i)} // a PUBACK
		want = append(want, p...)
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	// The writer is held in its first write (the first packet): the
	// other 999 wait for it, then go out in one write.
	deadline := time.Now().Add(5 * time.Second)
	for g.writes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(g.gate)

	got := make(chan []byte, 1)
	go func() {
		_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(server) // until the client half-closes
		got <- b
		server.Close() // the broker closes its side: Close's draining ends
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != string(want) {
		t.Fatalf("the broker read %d bytes, want the %d written, in order", len(b), len(want))
	}
	if w := g.writes.Load(); w > 2 {
		t.Fatalf("%d writes reached the connection for 1000 packets written while it was busy, want 2", w)
	}
	if _, err := c.Write([]byte{0xe0, 0}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
}

// A failed write fails every later Write, so that paho sees the
// connection as lost instead of taking packets that never go out.
func TestBufferedConnWriteFailure(t *testing.T) {
	raw, _ := loopbackPair(t)
	c := newBufferedConn(raw, 5*time.Second)
	raw.Close() // the writer's next write fails
	if _, err := c.Write([]byte{0x40, 0x02, 0, 1}); err != nil {
		t.Fatalf("first write: %v (queued, not written yet)", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Write([]byte{0x40, 0x02, 0, 2})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes kept succeeding after the connection failed")
		}
		time.Sleep(time.Millisecond)
	}
	_ = c.Close()
}
