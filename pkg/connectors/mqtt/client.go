package mqtt

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// session is how a task connects: parsed once from the shared keys.
type session struct {
	uris           []string
	clientID       string
	username       string
	password       config.Secret
	cleanSession   bool
	connectTimeout time.Duration
	keepalive      time.Duration
	qos            byte
	tls            *tls.Config
	tlsFiles       string // the PEM files tls was read from
}

// key identifies what a connection was made with, for reusing it.
func (s session) key() string {
	return fmt.Sprintf("%v|%s|%s|%t|%d|%d|%d|%s", s.uris, s.clientID, s.username, s.cleanSession, s.connectTimeout, s.keepalive, s.qos, s.tlsFiles) + "|" + s.password.Value()
}

func newSession(v *config.Values, clientID string) (session, error) {
	s := session{
		uris:           v.List(ServerURIConfig),
		clientID:       clientID,
		username:       v.String(UsernameConfig),
		password:       v.Password(PasswordConfig),
		cleanSession:   v.Bool(CleanSessionConfig),
		connectTimeout: time.Duration(v.Int(ConnectTimeoutConfig)) * time.Second,
		keepalive:      time.Duration(v.Int(KeepaliveIntervalConfig)) * time.Second,
		qos:            byte(v.Int(QoSConfig)),
	}
	needsTLS := false
	for _, u := range s.uris {
		needsTLS = needsTLS || strings.HasPrefix(u, "ssl:") || strings.HasPrefix(u, "tls:") ||
			strings.HasPrefix(u, "mqtts:") || strings.HasPrefix(u, "wss:")
	}
	ca, cert, key := v.String(SSLCAFileConfig), v.String(SSLCertFileConfig), v.String(SSLKeyFileConfig)
	s.tlsFiles = ca + "|" + cert + "|" + key
	if needsTLS || ca != "" || cert != "" {
		cfg, err := tlsConfig(ca, cert, key)
		if err != nil {
			return session{}, err
		}
		s.tls = cfg
	}
	return s, nil
}

func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SSLCAFileConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", SSLCAFileConfig, caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("%s and %s must be set together", SSLCertFileConfig, SSLKeyFileConfig)
		}
		certPEM, err := os.ReadFile(certFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SSLCertFileConfig, err)
		}
		keyPEM, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SSLKeyFileConfig, err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s %s with %s %s: %w", SSLCertFileConfig, certFile, SSLKeyFileConfig, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// connect opens a client. onMessage, when set, receives every message the
// broker sends (including those queued for a persistent session, which
// arrive before any subscription is renewed) in order, on paho's router
// goroutine, and must not block; the messages are acknowledged only by
// their Ack method or writeAck (manual acknowledgement). onLost is called
// if the connection drops; the client does not reconnect by itself, as a
// lease that lost its session must end and leave the messages to the next
// one. opened, when set, is given each connection dialled, the last one
// being the client's once connect returned.
func (s session) connect(ctx context.Context, onMessage paho.MessageHandler, onLost func(error), opened func(*bufferedConn)) (c paho.Client, sessionPresent bool, err error) {
	// With TLS 1.3 a client's handshake ends before the broker has checked
	// the client's certificate: a broker that requires one and gets none
	// closes the connection after the handshake, and the client may see
	// only "connection reset" on its CONNECT instead of the broker's
	// alert. Note whether the broker asked for a certificate this session
	// has not got, to report that instead.
	var asked atomic.Bool
	if s.tls != nil && len(s.tls.Certificates) == 0 && s.tls.GetClientCertificate == nil {
		cfg := s.tls.Clone()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked.Store(true)
			return &tls.Certificate{}, nil // none: the broker decides
		}
		s.tls = cfg
	}
	opts := paho.NewClientOptions().
		SetClientID(s.clientID).
		SetCleanSession(s.cleanSession).
		SetConnectTimeout(s.connectTimeout).
		SetKeepAlive(s.keepalive).
		SetPingTimeout(s.connectTimeout).
		SetWriteTimeout(s.connectTimeout).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetAutoAckDisabled(true).
		SetCustomOpenConnectionFn(func(uri *url.URL, opts paho.ClientOptions) (net.Conn, error) {
			conn, err := s.open(uri, opts)
			if err != nil {
				return nil, err
			}
			if opened != nil {
				opened(conn)
			}
			return conn, nil
		}).
		SetStore(noStore{})
	for _, u := range s.uris {
		opts.AddBroker(u)
	}
	if s.username != "" {
		opts.SetUsername(s.username)
	}
	if s.password.Value() != "" {
		opts.SetPassword(s.password.Value())
	}
	if s.tls != nil {
		opts.SetTLSConfig(s.tls)
	}
	if onMessage != nil {
		opts.SetDefaultPublishHandler(onMessage)
	}
	if onLost != nil {
		opts.SetConnectionLostHandler(func(_ paho.Client, err error) { onLost(err) })
	}
	c = paho.NewClient(opts)
	tok := c.Connect()
	if err := wait(ctx, tok, s.connectTimeout); err != nil {
		if asked.Load() && closedByPeer(err) && !certificateProblem(err) {
			err = fmt.Errorf("the broker asked for a client certificate and none is configured (%s, %s), then closed the connection: %w",
				SSLCertFileConfig, SSLKeyFileConfig, err)
			return nil, false, &ConnectError{URIs: s.uris, ClientID: s.clientID, Err: err}
		}
		cerr := &ConnectError{URIs: s.uris, ClientID: s.clientID, Err: err}
		if refused(err) || certificateProblem(err) {
			// Credentials, authorisation, client id or certificates:
			// trying again changes nothing until the configuration does.
			return nil, false, cerr
		}
		return nil, false, connect.Retriable(cerr)
	}
	return c, tok.(*paho.ConnectToken).SessionPresent(), nil
}

// open dials a broker and buffers what is read from it: paho reads each
// packet's header a byte at a time, a system call each without a buffer.
func (s session) open(uri *url.URL, opts paho.ClientOptions) (*bufferedConn, error) {
	dialer := &net.Dialer{Timeout: s.connectTimeout}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "ws", "wss":
		u := *uri
		u.User = nil
		var cfg *tls.Config
		if uri.Scheme == "wss" {
			cfg = s.tls
		}
		conn, err = paho.NewWebsocket(u.String(), cfg, s.connectTimeout, opts.HTTPHeaders, opts.WebsocketOptions)
	case "ssl", "tls", "mqtts":
		cfg := s.tls
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		conn, err = tls.DialWithDialer(dialer, "tcp", uri.Host, cfg)
	default:
		conn, err = dialer.Dial("tcp", uri.Host)
	}
	if err != nil {
		return nil, err
	}
	return newBufferedConn(conn, s.connectTimeout), nil
}

// bufferedConn reads through a buffer and coalesces writes: paho writes
// each packet on its own (one system call per PUBACK, which cost a
// subscriber of small messages a third of its CPU), so Write only appends
// the packet to pending and a writer goroutine hands everything pending to
// the connection at once, as soon as it can. The packets go out in the
// order paho wrote them; Close sends what is pending before closing.
type bufferedConn struct {
	net.Conn
	r        *bufio.Reader
	drainFor time.Duration

	mu sync.Mutex
	// more wakes the writer when pending grows or the connection closes;
	// room wakes Write and Close when the writer took pending or ended.
	more, room *sync.Cond
	pending    []byte
	spare      []byte // the writer's previous buffer, reused
	closing    bool   // Close began: no more writes
	werr       error  // the first failed write; later writes fail with it
	done       bool   // the writer ended

	once sync.Once
	err  error
}

// maxPending bounds what Write takes before the writer wrote it: beyond,
// Write waits (a broker that stops reading stops paho's writing).
const maxPending = 256 << 10

// newBufferedConn wraps conn and starts its writer. writeTimeout bounds
// each write to conn and Close's draining.
func newBufferedConn(conn net.Conn, writeTimeout time.Duration) *bufferedConn {
	c := &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 32<<10), drainFor: writeTimeout}
	c.more = sync.NewCond(&c.mu)
	c.room = sync.NewCond(&c.mu)
	go c.writer()
	return c
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write queues p for the writer. It fails once a write failed or the
// connection is closing, and waits while maxPending bytes are queued.
func (c *bufferedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) >= maxPending && c.werr == nil && !c.closing {
		c.room.Wait()
	}
	if c.werr != nil {
		return 0, c.werr
	}
	if c.closing {
		return 0, net.ErrClosed // "use of closed network connection", which paho does not report
	}
	c.pending = append(c.pending, p...)
	c.more.Signal()
	return len(p), nil
}

// writeAck queues the acknowledgement of message id, a packet of
// packetType (packets.Puback for QoS 1, packets.Pubrec for QoS 2), as
// Write does. It is what paho's Message.Ack sends, without the packet
// objects, the store key and the trip through paho's outgoing goroutine
// (a dozen allocations an acknowledgement). The acknowledgements go out in
// the order of the calls, and before any packet paho writes after them.
func (c *bufferedConn) writeAck(packetType byte, id uint16) error {
	b := [4]byte{packetType << 4, 2, byte(id >> 8), byte(id)}
	_, err := c.Write(b[:])
	return err
}

// SetWriteDeadline does nothing: Write does not write to the connection,
// the writer does, each write bounded by drainFor.
func (c *bufferedConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only (SetWriteDeadline).
func (c *bufferedConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// writer writes what Write queued, all of it at once, until Close or a
// failed write.
func (c *bufferedConn) writer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for len(c.pending) == 0 && !c.closing {
			c.more.Wait()
		}
		if len(c.pending) == 0 {
			break // closing, everything written
		}
		buf := c.pending
		c.pending, c.spare = c.spare[:0], nil
		c.room.Broadcast()
		c.mu.Unlock()
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.drainFor))
		_, err := c.Conn.Write(buf)
		c.mu.Lock()
		if cap(buf) <= maxPending {
			c.spare = buf[:0]
		}
		if err != nil {
			c.werr = err
			c.pending = nil
			break
		}
	}
	c.done = true
	c.room.Broadcast()
}

// flush waits until the writer wrote everything queued, or failed, and
// ended; Write fails from now on.
func (c *bufferedConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	c.more.Signal()
	for !c.done {
		c.room.Wait()
	}
	return c.werr
}

// Close closes the connection gracefully where the transport can
// half-close (TCP, TLS): it writes what is queued (the DISCONNECT paho
// wrote last), ends its sending side, then reads and drops what the
// broker still sends until the broker, having processed every packet
// before the DISCONNECT, closes its side (for at most drainFor). Closing
// a socket with unread data in it resets the connection instead, and a
// broker that sees the reset may drop acknowledgements it had not read
// yet. paho calls Close from Disconnect (which waits for it up to its
// quiesce time) and when the connection drops.
func (c *bufferedConn) Close() error {
	c.once.Do(func() {
		if c.flush() == nil {
			if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
				_ = c.Conn.SetReadDeadline(time.Now().Add(c.drainFor))
				_, _ = io.Copy(io.Discard, c.Conn)
			}
		}
		c.err = c.Conn.Close()
	})
	return c.err
}

// halfCloses reports whether every URI's transport closes gracefully
// (bufferedConn.Close): plain TCP and TLS, not WebSockets.
func halfCloses(uris []string) bool {
	for _, u := range uris {
		if strings.HasPrefix(u, "ws:") || strings.HasPrefix(u, "wss:") {
			return false
		}
	}
	return true
}

// noStore is a paho store that keeps nothing. paho's stores let a client
// resume its in-flight messages after reconnecting in the same process; a
// lease never reconnects (the broker's session is what carries messages
// from one lease to the next), so keeping every packet would only cost.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}

// refused reports whether the broker refused the connection for a reason
// only a configuration change fixes.
func refused(err error) bool {
	for _, e := range []error{packets.ErrorRefusedBadUsernameOrPassword, packets.ErrorRefusedNotAuthorised,
		packets.ErrorRefusedIDRejected, packets.ErrorRefusedBadProtocolVersion} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// certificateProblem reports whether a TLS handshake failed over a
// certificate: the broker's is not trusted or does not name the host, or
// the broker refused (or required) the client's ("remote error: tls:
// certificate required", "bad certificate", "unknown certificate
// authority").
func certificateProblem(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) {
		return true
	}
	// The broker's alert is an unexported type inside a net.OpError.
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate")
}

// closedByPeer reports whether err says the broker closed the connection
// (reset, broken pipe, or end of stream).
func closedByPeer(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset by peer")
}

// wait waits for a paho token, bounded by ctx and timeout.
func wait(ctx context.Context, t paho.Token, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
}

// subscribe sends a SUBSCRIBE for filters at qos; granted checks the
// answer.
func subscribe(c paho.Client, filters []string, qos byte) paho.Token {
	m := make(map[string]byte, len(filters))
	for _, f := range filters {
		m[f] = qos
	}
	return c.SubscribeMultiple(m, nil)
}

// granted waits for a SUBSCRIBE's answer and checks the broker granted
// every filter.
func granted(ctx context.Context, t paho.Token, filters []string, timeout time.Duration) error {
	if err := wait(ctx, t, timeout); err != nil {
		return fmt.Errorf("subscribing to %s: %w", strings.Join(filters, ","), err)
	}
	var refused []string
	for f, granted := range t.(*paho.SubscribeToken).Result() {
		if granted == 0x80 {
			refused = append(refused, f)
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w: %s", ErrSubscriptionRefused, strings.Join(refused, ","))
	}
	return nil
}

// disconnect sends DISCONNECT and closes the connection, waiting at most
// quiesce for both (bufferedConn.Close). paho writes acknowledgements
// handed to it before the DISCONNECT (both pass through one ordered
// channel), so messages acked before disconnect are acked at the broker.
func disconnect(c paho.Client, quiesce time.Duration) {
	if c != nil && c.IsConnectionOpen() {
		c.Disconnect(uint(max(quiesce, time.Second).Milliseconds()))
	}
}
