package rest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// NewServer applies the listener's timeouts, each longer than the pull
// long-poll it must let through (checked in package coordinator, which
// knows the long-poll).
func TestNewServerTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout != ReadHeaderTimeout || srv.ReadTimeout != ReadTimeout ||
		srv.WriteTimeout != WriteTimeout || srv.IdleTimeout != IdleTimeout {
		t.Fatalf("timeouts: read header %s, read %s, write %s, idle %s", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if ReadHeaderTimeout <= 0 || ReadHeaderTimeout > ReadTimeout || WriteTimeout <= DefaultForwardTimeout || IdleTimeout <= 0 {
		t.Fatalf("inconsistent timeouts: read header %s, read %s, write %s (forward %s), idle %s",
			ReadHeaderTimeout, ReadTimeout, WriteTimeout, DefaultForwardTimeout, IdleTimeout)
	}
}

// A client that opens a connection and sends part of a request header
// (slowloris) is disconnected after ReadHeaderTimeout, which frees its
// slot of the connection limit: with a limit of one, the next client is
// served. A complete request on the same listener is answered.
func TestSlowHeaderDisconnected(t *testing.T) {
	const readHeader = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := defaultTimeouts
	tt.readHeader = readHeader
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), nil, tt)
	go srv.Serve(LimitListener(ln, 1))
	defer srv.Close()
	addr := ln.Addr().String()

	// The server's ReadHeaderTimeout runs from when it accepted the
	// connection, which is after the dial began, not after it returned.
	start := time.Now()
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /connectors HTTP/1.1\r\nHost: sluice\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection; it must not wait for the rest of
	// the header (or for ReadTimeout, a minute). Bounded wait: 10 s.
	if err := slow.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, slow) // until the server closes it
	elapsed := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection with a partial header is still open after %s", elapsed)
	}
	if elapsed < readHeader {
		t.Fatalf("the connection closed after %s, before ReadHeaderTimeout %s", elapsed, readHeader)
	}

	// Its slot is free again: the one connection allowed serves a request.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET /connectors HTTP/1.1\r\nHost: sluice\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a complete request after the slow client's disconnection: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %s", resp.Status)
	}
}
