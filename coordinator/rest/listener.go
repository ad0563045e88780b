package rest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Server timeouts. The write timeout outlasts the longest request the
// listener serves: a forwarded write (DefaultForwardTimeout) and a pull
// worker's long poll (at most 30 s).
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = DefaultForwardTimeout + 30*time.Second
	IdleTimeout       = 120 * time.Second
)

// timeouts are an http.Server's timeouts; tests shorten them.
type timeouts struct{ readHeader, read, write, idle time.Duration }

// defaultTimeouts are the timeouts above, NewServer's.
var defaultTimeouts = timeouts{readHeader: ReadHeaderTimeout, read: ReadTimeout, write: WriteTimeout, idle: IdleTimeout}

// NewServer returns an http.Server for h with the timeouts above.
func NewServer(h http.Handler, tlsConfig *tls.Config) *http.Server {
	return newHTTPServer(h, tlsConfig, defaultTimeouts)
}

func newHTTPServer(h http.Handler, tlsConfig *tls.Config, t timeouts) *http.Server {
	return &http.Server{Handler: h, TLSConfig: tlsConfig, ReadHeaderTimeout: t.readHeader,
		ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle, MaxHeaderBytes: 64 << 10}
}

// TLSConfig returns the REST listener's TLS configuration: the PEM
// certificate and key, TLS 1.2 or later, and, when clientCAFile is set,
// client certificates required and verified against its CAs (mTLS).
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("REST listener certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("REST client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("REST client CA: no PEM certificate in %s", clientCAFile)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// DefaultMaxConnections is the connection limit of a REST listener when
// none is set: well above the pull workers' long polls (one each).
const DefaultMaxConnections = 1024

// LimitListener returns ln accepting at most n connections at once: past
// that, Accept waits until one closes (the clients wait in the listen
// backlog, as with Jetty's bounded acceptor), so that a flood of idle
// connections costs the process no more than n of them. n <= 0 means
// DefaultMaxConnections.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConnections
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
