package rest

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// A listener limited to two connections serves no third while two idle
// connections are open, and serves it once one of them closes.
func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), nil)
	go srv.Serve(LimitListener(ln, 2))
	defer srv.Close()
	addr := ln.Addr().String()

	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// Both slots are taken once the server has accepted both connections;
	// a third client is not answered, however long it waits here.
	short := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := short.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was served: %s", resp.Status)
	}
	idle[0].Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("after a connection closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %s", resp.Status)
	}
}
