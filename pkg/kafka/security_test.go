package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

// testPKI is a throwaway CA with a broker certificate for 127.0.0.1 and a
// client certificate, written as PEM files in a test's temporary folder.
type testPKI struct {
	caFile, clientCertFile, clientKeyFile string
	server                                tls.Certificate
	pool                                  *x509.CertPool
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := issue(2, "broker", x509.ExtKeyUsageServerAuth)
	clientDER, clientKey := issue(3, "sluice", x509.ExtKeyUsageClientAuth)

	p := testPKI{
		caFile:         writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER),
		clientCertFile: writePEM(t, dir, "client.pem", "CERTIFICATE", clientDER),
		clientKeyFile:  writePEM(t, dir, "client-key.pem", "PRIVATE KEY", marshalKey(t, clientKey)),
		server:         tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey},
		pool:           x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	return p
}

// serverTLS is the broker's TLS configuration; requireClientCert asks for
// mutual TLS.
func (p testPKI) serverTLS(requireClientCert bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.pool
	}
	return c
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dialErr dials with sec and closes any client it gets.
func dialErr(t *testing.T, c *kfake.Cluster, sec Security) error {
	t.Helper()
	cl, err := Dial(testCtx(t), Config{Brokers: c.ListenAddrs(), Security: sec})
	if err == nil {
		_ = cl.Close()
	}
	return err
}

func TestSASLMechanisms(t *testing.T) {
	for _, mech := range []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "sluice", "s3cret"))
			tests := []struct {
				name     string
				password string
				wantErr  string
			}{
				{name: "right password", password: "s3cret"},
				{name: "wrong password", password: "wrong", wantErr: "authentication"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := dialErr(t, c, Security{Protocol: "sasl_plaintext", SASLMechanism: mech, SASLUsername: "sluice", SASLPassword: tt.password})
					checkErr(t, err, tt.wantErr)
				})
			}
		})
	}
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	plain := newCluster(t, kfake.TLS(pki.serverTLS(false)))
	mutual := newCluster(t, kfake.TLS(pki.serverTLS(true)))
	tests := []struct {
		name    string
		cluster *kfake.Cluster
		sec     Security
		wantErr string
	}{
		{name: "CA file", cluster: plain, sec: Security{Protocol: ProtocolSSL, CAFile: pki.caFile}},
		{name: "system roots only", cluster: plain, sec: Security{Protocol: ProtocolSSL}, wantErr: "certificate"},
		{name: "insecure skip verify", cluster: plain, sec: Security{Protocol: ProtocolSSL, InsecureSkipVerify: true}},
		{name: "mutual TLS", cluster: mutual, sec: Security{Protocol: ProtocolSSL, CAFile: pki.caFile, CertFile: pki.clientCertFile, KeyFile: pki.clientKeyFile}},
		// The broker refuses the handshake: "tls: certificate required".
		{name: "mutual TLS without client certificate", cluster: mutual, sec: Security{Protocol: ProtocolSSL, CAFile: pki.caFile}, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, dialErr(t, tt.cluster, tt.sec), tt.wantErr)
		})
	}
}

// TestSASLSSL runs each kind of connection the package opens over SASL/SCRAM
// on TLS: the client and admin (Dial, EnsureTopic), a producer, fetches,
// group offsets, the reads of the offsets store and an election's
// consumer group.
func TestSASLSSL(t *testing.T) {
	pki := newTestPKI(t)
	c := newCluster(t, kfake.TLS(pki.serverTLS(false)), kfake.EnableSASL(),
		kfake.Superuser(MechanismSCRAMSHA512, "sluice", "s3cret"), kfake.GroupMinSessionTimeout(time.Second))
	ctx := testCtx(t)
	cl, err := Dial(ctx, Config{Brokers: c.ListenAddrs(), Security: Security{
		Protocol: ProtocolSASLSSL, SASLMechanism: MechanismSCRAMSHA512, SASLUsername: "sluice", SASLPassword: "s3cret", CAFile: pki.caFile}})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })

	if err := cl.EnsureTopic(ctx, TopicSpec{Name: "secure", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, cl, ProducerOptions{})
	produceBatches(t, p, "secure", 0, 2, 3)
	tp := TopicPartition{Topic: "secure", Partition: 0}
	got, _, err := fetchAll(ctx, cl, tp, 0, 6, 1<<20)
	if err != nil {
		t.Fatalf("FetchRange: %v", err)
	}
	requireEqual(t, "records", len(got), 6)
	requireEqual(t, "last value", string(got[5].Value), "v5")

	if _, err := cl.CommitOffsets(ctx, "connect-secure", map[TopicPartition]int64{tp: 6}); err != nil {
		t.Fatalf("CommitOffsets: %v", err)
	}
	committed, err := cl.CommittedOffsets(ctx, "connect-secure", []TopicPartition{tp})
	if err != nil {
		t.Fatalf("CommittedOffsets: %v", err)
	}
	requireEqual(t, "committed", committed[tp], 6)

	// The offsets store (coordinator/state) reads with ReadRange and writes
	// with a producer: both kinds of connection, over SASL_SSL.
	var read []Message
	if err := cl.ReadRange(ctx, tp, 0, 6, 0, func(ms []Message) error { read = append(read, ms...); return nil }); err != nil {
		t.Fatalf("ReadRange: %v", err)
	}
	requireEqual(t, "records read", len(read), 6)

	e, err := cl.Campaign(ctx, ElectionOptions{Group: "secure-cluster", Topic: "secure-leader", URL: "http://node:8083", SessionTimeout: 6 * time.Second})
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	defer e.Close()
	for !e.Leading() {
		select {
		case <-ctx.Done():
			t.Fatal("the only candidate never led")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestAuthFailure covers what a real broker answers to a bad password,
// SASL_AUTHENTICATION_FAILED, which kfake does not send (it closes the
// connection, covered by TestSASLMechanisms).
func TestAuthFailure(t *testing.T) {
	sasl := Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismSCRAMSHA512, SASLUsername: "alice"}
	tests := []struct {
		name string
		sec  Security
		err  error
		want string
	}{
		{name: "rejected", sec: sasl, err: sarama.Wrap(sarama.ErrOutOfBrokers, sarama.ErrSASLAuthenticationFailed), want: `SASL authentication failed for user "alice" with SCRAM-SHA-512`},
		{name: "closed", sec: sasl, err: sarama.Wrap(sarama.ErrOutOfBrokers, io.EOF), want: `the brokers closed the connection during SASL authentication of user "alice" with SCRAM-SHA-512: check the username, password, sasl.mechanism and security.protocol SASL_SSL`},
		{name: "unreachable", sec: sasl, err: sarama.Wrap(sarama.ErrOutOfBrokers, syscall.ECONNREFUSED)},
		{name: "no SASL", sec: Security{Protocol: ProtocolSSL}, err: sarama.Wrap(sarama.ErrOutOfBrokers, io.EOF)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, "authFailure", tt.sec.authFailure(tt.err), tt.want)
		})
	}
}

func TestSecurityValidation(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name    string
		sec     Security
		wantErr string // empty: valid
	}{
		{name: "zero value is plaintext", sec: Security{}},
		{name: "lower case protocol", sec: Security{Protocol: "sasl_ssl", SASLMechanism: "scram-sha-256", SASLUsername: "u", SASLPassword: "p"}},
		{name: "unknown protocol", sec: Security{Protocol: "TLS"}, wantErr: `Config.Security.Protocol "TLS"`},
		{name: "SASL without mechanism", sec: Security{Protocol: ProtocolSASLSSL, SASLUsername: "u", SASLPassword: "p"}, wantErr: "Config.Security.SASLMechanism is empty"},
		{name: "GSSAPI", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: "GSSAPI", SASLUsername: "u", SASLPassword: "p"}, wantErr: `Config.Security.SASLMechanism "GSSAPI"`},
		{name: "SASL without username", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismPlain, SASLPassword: "p"}, wantErr: "Config.Security.SASLUsername is empty"},
		{name: "SASL without password", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismPlain, SASLUsername: "u"}, wantErr: "Config.Security.SASLPassword is empty"},
		{name: "SASL credentials on plaintext", sec: Security{SASLUsername: "u", SASLPassword: "p"}, wantErr: "SASL credentials are set but Protocol is PLAINTEXT"},
		{name: "mechanism alone on SSL is ignored", sec: Security{Protocol: ProtocolSSL, SASLMechanism: MechanismSCRAMSHA512}},
		{name: "TLS settings on SASL_PLAINTEXT", sec: Security{Protocol: ProtocolSASLPlaintext, SASLMechanism: MechanismPlain, SASLUsername: "u", SASLPassword: "p", CAFile: pki.caFile}, wantErr: "TLS settings are set but Protocol is SASL_PLAINTEXT"},
		{name: "cert without key", sec: Security{Protocol: ProtocolSSL, CertFile: pki.clientCertFile}, wantErr: "CertFile and Config.Security.KeyFile go together"},
		{name: "missing CA file", sec: Security{Protocol: ProtocolSSL, CAFile: filepath.Join(t.TempDir(), "none.pem")}, wantErr: "Config.Security.CAFile"},
		{name: "CA file not PEM", sec: Security{Protocol: ProtocolSSL, CAFile: writeFile(t, "ca.jks", "\xfe\xed\xfe\xed")}, wantErr: "holds no PEM certificate"},
		{name: "key does not match", sec: Security{Protocol: ProtocolSSL, CertFile: pki.clientCertFile, KeyFile: pki.caFile}, wantErr: "Config.Security.CertFile"},
		{name: "mutual TLS files", sec: Security{Protocol: ProtocolSSL, CertFile: pki.clientCertFile, KeyFile: pki.clientKeyFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Config{Brokers: []string{"localhost:9092"}, Security: tt.sec}.withDefaults()
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestSecurityFromProperties(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		want    Security
		wantErr string
	}{
		{name: "none", props: map[string]string{"bootstrap.servers": "b:9092"}},
		{
			name: "Confluent Cloud",
			props: map[string]string{
				"security.protocol": "SASL_SSL",
				"sasl.mechanism":    "PLAIN",
				"sasl.jaas.config":  `org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY" password="SE\"CR;ET";`,
			},
			want: Security{Protocol: "SASL_SSL", SASLMechanism: "PLAIN", SASLUsername: "KEY", SASLPassword: `SE"CR;ET`},
		},
		{
			name: "MSK SCRAM, bare values",
			props: map[string]string{
				"security.protocol": "SASL_SSL",
				"sasl.mechanism":    "SCRAM-SHA-512",
				"sasl.jaas.config":  "org.apache.kafka.common.security.scram.ScramLoginModule required\n  password=p4ss username=alice;",
			},
			want: Security{Protocol: "SASL_SSL", SASLMechanism: "SCRAM-SHA-512", SASLUsername: "alice", SASLPassword: "p4ss"},
		},
		{
			name: "PEM stores",
			props: map[string]string{
				"security.protocol":       "SSL",
				"ssl.truststore.type":     "PEM",
				"ssl.truststore.location": "/etc/kafka/ca.pem",
				"ssl.keystore.type":       "PEM",
				"ssl.keystore.location":   "/etc/kafka/client.pem",
			},
			want: Security{Protocol: "SSL", CAFile: "/etc/kafka/ca.pem", CertFile: "/etc/kafka/client.pem", KeyFile: "/etc/kafka/client.pem"},
		},
		{name: "JKS truststore", props: map[string]string{"ssl.truststore.location": "/etc/kafka/truststore.jks"}, wantErr: "only PEM files can be read"},
		{name: "encrypted keystore", props: map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": "k.pem", "ssl.key.password": "x"}, wantErr: "encrypted keys"},
		{name: "OAuth login module", props: map[string]string{"sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"}, wantErr: "want PlainLoginModule or ScramLoginModule"},
		{
			name: "MSK IAM",
			props: map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "AWS_MSK_IAM",
				"sasl.jaas.config":                   "software.amazon.msk.auth.iam.IAMLoginModule required;",
				"sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler"},
			want: Security{Protocol: "SASL_SSL", SASLMechanism: "AWS_MSK_IAM"},
		},
		{
			name: "MSK IAM over OAUTHBEARER",
			props: map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
				"sasl.jaas.config":                  "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
				"sasl.login.callback.handler.class": "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler"},
			want: Security{Protocol: "SASL_SSL", SASLMechanism: "OAUTHBEARER"},
		},
		{name: "MSK IAM with a role to assume", props: map[string]string{"sasl.mechanism": "AWS_MSK_IAM",
			"sasl.jaas.config": `software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::1:role/r";`}, wantErr: "not supported"},
		{name: "JAAS without password", props: map[string]string{"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u";`}, wantErr: "needs username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SecurityFromProperties(tt.props)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SecurityFromProperties = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// checkErr fails unless err is nil when want is empty, or mentions want
// (case-insensitively) otherwise.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one mentioning %q", want)
	case want != "" && !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)):
		t.Fatalf("error %q does not mention %q", err, want)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
