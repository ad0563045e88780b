package mqtt

import (
	"net"
	"time"
)

// NewBufferedConn is newBufferedConn for the benchmark's bare subscriber
// (the anchor), which reads and writes through the same transport as the
// source's client.
func NewBufferedConn(conn net.Conn, writeTimeout time.Duration) net.Conn {
	return newBufferedConn(conn, writeTimeout)
}
