// Package mosquittotest starts Mosquitto, a real MQTT broker, for tests: a
// child process with its own configuration on a free loopback port, its
// persistence in a temporary directory, optionally a TLS listener (with a
// CA and server certificate generated for the test) and a password file.
// The broker is stopped when the test ends.
//
// Mosquitto comes from Debian's package, installed by `make mosquitto`
// (which `make test` and .ci/run call); when it is missing, Start fails the
// test rather than skipping it.
package mosquittotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/daemontest"
	"github.com/sluicehq/sluice/internal/proctest"
)

// Options configure the broker.
type Options struct {
	// Users, when set, turns anonymous access off and writes a password
	// file with these users and passwords.
	Users map[string]string
	// TLS adds a TLS listener (TLSURI) with a server certificate signed by
	// a CA generated for the test (CAFile).
	TLS bool
	// MaxInflight is max_inflight_messages: how many QoS 1 and 2 messages
	// the broker sends a client before it acknowledges them. 0 means no
	// limit, which lets one lease receive a whole backlog (Mosquitto's own
	// default is 20).
	MaxInflight int
	// MaxQueued is max_queued_messages: how many messages the broker keeps
	// for a persistent session while its client is away. 0 means no limit
	// (Mosquitto's own default is 1000, past which it drops messages).
	MaxQueued int
}

// Broker is a running Mosquitto. Its methods must be called from the
// test's goroutine.
type Broker struct {
	// URI is the plain listener, tcp://127.0.0.1:<port>.
	URI string
	// TLSURI is the TLS listener, ssl://127.0.0.1:<port> (Options.TLS).
	TLSURI string
	// CAFile is the PEM file of the CA that signed the server certificate
	// (Options.TLS); CA is the same as a pool.
	CAFile string
	CA     *x509.CertPool
	// Dir holds the configuration, the certificates and the persistence.
	Dir string

	tb     testing.TB
	bin    string
	conf   string
	addrs  []string
	log    *proctest.Buffer
	daemon *daemontest.Daemon
}

// Binary returns the path of the mosquitto executable, or "" when it is
// not installed. Debian puts it in /usr/sbin, which is not always on $PATH.
func Binary() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a broker with opts and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Broker {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		tb.Fatal("mosquittotest: mosquitto is not installed; run make mosquitto (apt-get install mosquitto)")
	}
	b := &Broker{tb: tb, bin: bin, Dir: tb.TempDir(), log: &proctest.Buffer{}}
	var err error
	for range 3 { // a free port may be taken before mosquitto binds it
		if err = b.configure(opts); err != nil {
			tb.Fatalf("mosquittotest: %v", err)
		}
		if err = b.start(); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("mosquittotest: starting mosquitto: %v\n%s", err, b.log.String())
	}
	tb.Cleanup(func() {
		b.Stop()
		if tb.Failed() {
			tb.Logf("mosquitto log (last 40 lines):\n%s", proctest.LastLines(b.log.String(), 40))
		}
	})
	return b
}

func (b *Broker) configure(opts Options) error {
	addr := proctest.FreeAddr(b.tb)
	b.URI = "tcp://" + addr
	b.addrs = []string{addr}
	host, port, _ := net.SplitHostPort(addr)
	var c strings.Builder
	fmt.Fprintf(&c, "# written by mosquittotest\n")
	// Run as root stays root: the files live in the test's private temp dir.
	fmt.Fprintf(&c, "user root\n")
	fmt.Fprintf(&c, "persistence true\npersistence_location %s/\n", b.Dir)
	fmt.Fprintf(&c, "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
	fmt.Fprintf(&c, "max_inflight_messages %d\nmax_queued_messages %d\n", opts.MaxInflight, opts.MaxQueued)
	if len(opts.Users) > 0 {
		pw := filepath.Join(b.Dir, "passwords")
		if err := writePasswords(pw, opts.Users); err != nil {
			return err
		}
		fmt.Fprintf(&c, "allow_anonymous false\npassword_file %s\n", pw)
	} else {
		fmt.Fprintf(&c, "allow_anonymous true\n")
	}
	fmt.Fprintf(&c, "listener %s %s\n", port, host)
	if opts.TLS {
		if b.CAFile == "" {
			if err := b.makeCerts(); err != nil {
				return err
			}
		}
		tlsAddr := proctest.FreeAddr(b.tb)
		b.TLSURI = "ssl://" + tlsAddr
		b.addrs = append(b.addrs, tlsAddr)
		th, tp, _ := net.SplitHostPort(tlsAddr)
		fmt.Fprintf(&c, "listener %s %s\ncafile %s\ncertfile %s\nkeyfile %s\n", tp, th,
			b.CAFile, filepath.Join(b.Dir, "server.pem"), filepath.Join(b.Dir, "server-key.pem"))
	}
	b.conf = filepath.Join(b.Dir, "mosquitto.conf")
	return os.WriteFile(b.conf, []byte(c.String()), 0o600)
}

// writePasswords writes a Mosquitto password file with mosquitto_passwd,
// which hashes the passwords as the broker expects.
func writePasswords(path string, users map[string]string) error {
	tool, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		tool = "/usr/bin/mosquitto_passwd"
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return err
	}
	for user, pass := range users {
		out, err := exec.Command(tool, "-b", path, user, pass).CombinedOutput()
		if err != nil {
			return fmt.Errorf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	return nil
}

// start starts mosquitto and waits until it listens on every address.
func (b *Broker) start() error {
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d, err := daemontest.StartLogged("mosquitto", cmd, syscall.SIGTERM, b.log)
	if err != nil {
		return err
	}
	b.daemon = d
	err = d.WaitReady(10*time.Second, func() error {
		for _, addr := range b.addrs {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return err
			}
			c.Close()
		}
		return nil
	})
	if err != nil {
		d.Stop()
	}
	return err
}

// Stop ends the broker (SIGTERM, which saves the persistence, then SIGKILL
// after 20 s). Stopping a stopped broker does nothing.
func (b *Broker) Stop() {
	if b.daemon != nil {
		b.daemon.Stop()
	}
}

// Restart stops the broker and starts it again on the same ports with the
// same persistence, so that persistent sessions and their queued messages
// survive.
func (b *Broker) Restart() {
	b.tb.Helper()
	b.Stop()
	// The ports may linger for a moment.
	if err := daemontest.Retry(50, 100*time.Millisecond, b.start); err != nil {
		b.tb.Fatalf("mosquittotest: restarting mosquitto: %v\n%s", err, b.log.String())
	}
}

// Log returns what the broker printed.
func (b *Broker) Log() string { return b.log.String() }

// TLSConfig returns a client TLS configuration that trusts the test CA.
func (b *Broker) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: b.CA, MinVersion: tls.VersionTLS12}
}

// makeCerts writes ca.pem, server.pem and server-key.pem: a CA and a
// server certificate for 127.0.0.1 and localhost signed by it.
func (b *Broker) makeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mosquittotest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return err
	}
	b.CAFile = filepath.Join(b.Dir, "ca.pem")
	files := []struct {
		name, typ string
		der       []byte
	}{{"ca.pem", "CERTIFICATE", caDER}, {"server.pem", "CERTIFICATE", srvDER}, {"server-key.pem", "EC PRIVATE KEY", keyDER}}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(b.Dir, f.name), pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			return err
		}
	}
	b.CA = x509.NewCertPool()
	b.CA.AddCert(ca)
	return nil
}
