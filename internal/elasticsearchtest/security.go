package elasticsearchtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/internal/tlstest"
)

// Options configure StartWith.
type Options struct {
	// Password, when set, starts the node with X-Pack security on (the
	// 8.0 distribution has it; 7.17's integ-test-zip does not): HTTPS
	// with a certificate for 127.0.0.1 signed by a test CA (Node.CAFile),
	// and basic authentication, the built-in superuser elastic having this
	// password (bootstrap.password in the node's keystore).
	Password string
}

// ErrNoSecurity is returned by StartWith for a secured node when the
// distribution has no X-Pack security module.
var ErrNoSecurity = fmt.Errorf("elasticsearchtest: this distribution has no X-Pack security (modules/x-pack-security); Elasticsearch 8.0.0's has")

// secure prepares the copy of the distribution the node runs from: the
// test CA and the node's certificate under config/certs (Elasticsearch
// reads TLS files only from its config directory), and a keystore with
// bootstrap.password.
func (n *Node) secure(password string) error {
	certs := filepath.Join(n.home, "config", "certs")
	if err := os.MkdirAll(certs, 0o755); err != nil {
		return err
	}
	ca, err := tlstest.New("elasticsearchtest CA")
	if err != nil {
		return fmt.Errorf("elasticsearchtest: certificates: %w", err)
	}
	cert, key, err := ca.IssuePEM("127.0.0.1", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return fmt.Errorf("elasticsearchtest: certificates: %w", err)
	}
	for name, b := range map[string][]byte{"ca.pem": ca.PEM, "node.pem": cert, "node-key.pem": key} {
		if err := os.WriteFile(filepath.Join(certs, name), b, 0o644); err != nil {
			return err
		}
	}
	n.CAFile = filepath.Join(n.Dir, "ca.pem") // a copy the tests may read, outside the node's tree
	if err := os.WriteFile(n.CAFile, ca.PEM, 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{{"create"}, {"add", "-x", "bootstrap.password"}} {
		cmd := exec.Command(filepath.Join(n.home, "bin", "elasticsearch-keystore"), args...)
		cmd.Env, cmd.Dir = n.env(), n.Dir
		cmd.SysProcAttr = n.procAttr()
		cmd.Stdin = strings.NewReader(password)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("elasticsearchtest: elasticsearch-keystore %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	n.password = password
	return nil
}

// securityArgs are the node's settings for security: on, HTTPS with the
// test certificate, no TLS on the transport (a single node has no peers).
func securityArgs() []string {
	var args []string
	for _, s := range []string{"xpack.security.enabled=true", "xpack.security.http.ssl.enabled=true",
		"xpack.security.http.ssl.certificate=certs/node.pem", "xpack.security.http.ssl.key=certs/node-key.pem",
		"xpack.security.http.ssl.certificate_authorities=certs/ca.pem", "xpack.security.transport.ssl.enabled=false",
		"xpack.security.enrollment.enabled=false"} {
		args = append(args, "-E", s)
	}
	return args
}

// TLSConfig trusts the test CA.
func (n *Node) TLSConfig() (*tls.Config, error) {
	b, err := os.ReadFile(n.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("elasticsearchtest: no certificate in %s", n.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
