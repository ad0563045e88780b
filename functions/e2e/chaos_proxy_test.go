package e2e

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// tcpProxy forwards connections from a loopback port to target, and can
// stall them (hold every byte for a while, both ways) or reset them (close
// every open connection with a TCP RST), as a congested or broken network
// would. It stops when the test ends.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]bool
	until time.Time // stall until then
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Reset()
	})
	return p
}

// Addr is the proxy's address.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Stall holds every byte passing through for d from now.
func (p *tcpProxy) Stall(d time.Duration) {
	p.mu.Lock()
	p.until = time.Now().Add(d)
	p.mu.Unlock()
}

// Reset closes every open connection with a TCP RST and returns how many
// there were.
func (p *tcpProxy) Reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		delete(p.conns, c)
		n++
	}
	return n / 2 // both ends of each connection
}

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(in)
	}
}

func (p *tcpProxy) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		in.Close()
		return
	}
	p.mu.Lock()
	p.conns[in], p.conns[out] = true, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.copy(out, in) })
	wg.Go(func() { p.copy(in, out) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
	in.Close()
	out.Close()
}

// copy copies from src to dst, holding what it read while the proxy
// stalls; it closes both when either side ends.
func (p *tcpProxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := time.Until(p.until)
			p.mu.Unlock()
			if wait > 0 {
				time.Sleep(wait)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// The proxy forwards bytes both ways, holds them while it stalls, and a
// reset breaks the connections it carries.
func TestTCPProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p := newTCPProxy(t, ln.Addr().String())
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo := func() (time.Duration, error) {
		began := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			return 0, err
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil {
			return 0, err
		}
		if string(b) != "ping" {
			return 0, fmt.Errorf("echoed %q", b)
		}
		return time.Since(began), nil
	}
	if _, err := echo(); err != nil {
		t.Fatal(err)
	}
	p.Stall(300 * time.Millisecond)
	if d, err := echo(); err != nil || d < 250*time.Millisecond {
		t.Fatalf("echo through a stalled proxy: %s, %v; want at least 250ms", d, err)
	}
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset closed %d connections, want 1", n)
	}
	if _, err := echo(); err == nil {
		t.Fatal("the connection works after a reset")
	}
}
