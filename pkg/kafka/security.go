package kafka

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/xdg-go/scram"
)

// Security protocols (Java security.protocol).
const (
	ProtocolPlaintext     = "PLAINTEXT"
	ProtocolSSL           = "SSL"
	ProtocolSASLPlaintext = "SASL_PLAINTEXT"
	ProtocolSASLSSL       = "SASL_SSL"
)

// SASL mechanisms (Java sasl.mechanism).
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
	// MechanismAWSMSKIAM is Amazon MSK's IAM access control, as Java
	// clients name it with aws-msk-iam-auth's IAMLoginModule. It is spoken
	// as OAUTHBEARER with a SigV4-signed token (AWS's MSK IAM SASL signer),
	// which MSK accepts for IAM; MechanismOAuthBearer is taken to mean the
	// same (Java's IAMOAuthBearerLoginCallbackHandler): Sluice has no other
	// OAUTHBEARER token source.
	MechanismAWSMSKIAM   = "AWS_MSK_IAM"
	MechanismOAuthBearer = "OAUTHBEARER"
)

// mechanisms is the list of supported mechanisms for error messages.
const mechanisms = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM"

// Security is how the client protects its connections and authenticates,
// as the Java client's security.protocol, sasl.* and ssl.* properties say.
// The zero value is PLAINTEXT: no TLS, no SASL. Dial validates it once and
// reads the PEM files once; every connection the Client opens (metadata,
// admin, producers, elections) uses the result.
//
// Typical clusters:
//
//   - Amazon MSK, SASL/SCRAM: Protocol SASL_SSL, SASLMechanism
//     SCRAM-SHA-512, CAFile empty (Amazon's CAs are in the system roots).
//   - Amazon MSK (provisioned or Serverless), IAM: Protocol SASL_SSL,
//     SASLMechanism AWS_MSK_IAM, no username or password: the AWS
//     credentials of the process (Lambda or ECS task role, environment,
//     shared files) sign the token, for the cluster's region (AWSRegion,
//     default AWS_REGION).
//   - Amazon MSK, mutual TLS: Protocol SSL with CertFile and KeyFile.
//   - Confluent Cloud: Protocol SASL_SSL, SASLMechanism PLAIN, the API key
//     and secret as SASLUsername and SASLPassword.
//
// Java keystores and truststores (JKS, PKCS12) are not read: certificates
// and keys must be PEM files.
type Security struct {
	// Protocol is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, in any case
	// (Java security.protocol). Default PLAINTEXT.
	Protocol string
	// SASLMechanism is PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM
	// (OAUTHBEARER: the same), in any case (Java sasl.mechanism). It is
	// required with the SASL_* protocols (Java's default, GSSAPI, is not
	// supported) and ignored with the others.
	SASLMechanism string
	// SASLUsername and SASLPassword are the credentials (the username and
	// password of Java's sasl.jaas.config). Both are required with the
	// SASL_* protocols but AWS_MSK_IAM, and refused otherwise.
	SASLUsername string
	SASLPassword string
	// AWSRegion is the MSK cluster's region, for AWS_MSK_IAM; empty takes
	// AWS_REGION, then AWS_DEFAULT_REGION, from the environment.
	AWSRegion string
	// AWSCredentials sign AWS_MSK_IAM tokens; nil loads the AWS SDK's
	// default credential chain when the first token is needed.
	AWSCredentials aws.CredentialsProvider
	// CAFile is a PEM file of the CA certificates that sign the brokers'
	// certificates (Java ssl.truststore.location with
	// ssl.truststore.type=PEM). Empty trusts the system's roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate (chain) and its
	// unencrypted private key, for mutual TLS (Java ssl.keystore.location
	// with ssl.keystore.type=PEM). Both or neither; they may name the same
	// file.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify accepts any broker certificate, verifying neither
	// its chain nor its host name. It is for tests only; Java's nearest
	// setting, an empty ssl.endpoint.identification.algorithm, skips only
	// the host name check. Default false: verify.
	InsecureSkipVerify bool

	// tls is the TLS configuration built by withDefaults from the files.
	tls *tls.Config
	// iam makes AWS_MSK_IAM tokens, set by withDefaults.
	iam *mskIAMTokens
}

// SecurityEnv is Security as the environment variables of Sluice's
// processes, SLUICE_SECURITY_PROTOCOL, SLUICE_SASL_* and SLUICE_SSL_*, for
// envconfig: embed it in a process's configuration struct. The names come
// from split_words rather than envconfig tags: a tag makes envconfig fall
// back to the unprefixed name, and SSL_CERT_FILE (a CA bundle for OpenSSL
// and Go) is set in many images.
type SecurityEnv struct {
	SecurityProtocol      string `split_words:"true" default:"PLAINTEXT" desc:"Kafka security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"`
	SASLMechanism         string `split_words:"true" desc:"Kafka sasl.mechanism with SASL_*: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM (region from AWS_REGION)"`
	SASLUsername          string `split_words:"true" desc:"SASL username (the username of sasl.jaas.config)"`
	SASLPassword          string `split_words:"true" desc:"SASL password (the password of sasl.jaas.config)"`
	SSLCaFile             string `split_words:"true" desc:"PEM file of the CAs of the brokers' certificates; empty trusts the system roots (Java truststores must be converted to PEM)"`
	SSLCertFile           string `split_words:"true" desc:"PEM client certificate for mutual TLS (with SLUICE_SSL_KEY_FILE)"`
	SSLKeyFile            string `split_words:"true" desc:"PEM unencrypted private key of SLUICE_SSL_CERT_FILE"`
	SSLInsecureSkipVerify bool   `split_words:"true" default:"false" desc:"accept any broker certificate (tests only; verifies neither chain nor host name)"`
}

// Settings returns the Security the variables say; Dial validates it.
func (e SecurityEnv) Settings() Security {
	return Security{
		Protocol:           e.SecurityProtocol,
		SASLMechanism:      e.SASLMechanism,
		SASLUsername:       e.SASLUsername,
		SASLPassword:       e.SASLPassword,
		CAFile:             e.SSLCaFile,
		CertFile:           e.SSLCertFile,
		KeyFile:            e.SSLKeyFile,
		InsecureSkipVerify: e.SSLInsecureSkipVerify,
	}
}

// withDefaults returns s normalized, with its TLS configuration loaded, or
// an error naming every invalid field.
func (s Security) withDefaults() (Security, error) {
	s.Protocol = strings.ToUpper(strings.TrimSpace(s.Protocol))
	if s.Protocol == "" {
		s.Protocol = ProtocolPlaintext
	}
	s.SASLMechanism = strings.ToUpper(strings.TrimSpace(s.SASLMechanism))

	var problems []error
	useTLS, useSASL, known := false, false, true
	switch s.Protocol {
	case ProtocolPlaintext:
	case ProtocolSSL:
		useTLS = true
	case ProtocolSASLPlaintext:
		useSASL = true
	case ProtocolSASLSSL:
		useTLS, useSASL = true, true
	default:
		known = false
		problems = append(problems, fmt.Errorf("kafka: Config.Security.Protocol %q: want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", s.Protocol))
	}
	if s.SASLMechanism == MechanismOAuthBearer {
		s.SASLMechanism = MechanismAWSMSKIAM
	}
	if useSASL && s.SASLMechanism == MechanismAWSMSKIAM {
		if s.AWSRegion == "" {
			s.AWSRegion = cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
		}
		if s.AWSRegion == "" {
			problems = append(problems, errors.New("kafka: Config.Security.AWSRegion is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set; AWS_MSK_IAM signs for the cluster's region"))
		}
		if s.SASLUsername != "" || s.SASLPassword != "" {
			problems = append(problems, errors.New("kafka: Config.Security SASL username and password are set with AWS_MSK_IAM, which takes the AWS credentials of the process instead"))
		}
	} else if useSASL {
		switch s.SASLMechanism {
		case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		case "":
			problems = append(problems, fmt.Errorf("kafka: Config.Security.SASLMechanism is empty; security protocol %s needs %s", s.Protocol, mechanisms))
		default:
			problems = append(problems, fmt.Errorf("kafka: Config.Security.SASLMechanism %q: want %s", s.SASLMechanism, mechanisms))
		}
		if s.SASLUsername == "" {
			problems = append(problems, fmt.Errorf("kafka: Config.Security.SASLUsername is empty; security protocol %s needs it", s.Protocol))
		}
		if s.SASLPassword == "" {
			problems = append(problems, fmt.Errorf("kafka: Config.Security.SASLPassword is empty; security protocol %s needs it", s.Protocol))
		}
	} else if known && (s.SASLUsername != "" || s.SASLPassword != "") {
		// Java would ignore them; here they almost always mean a forgotten
		// SASL_SSL, which would otherwise show up as a refused or dropped
		// connection. A mechanism alone is ignored, as in Java.
		problems = append(problems, fmt.Errorf("kafka: Config.Security SASL credentials are set but Protocol is %s; use SASL_SSL or SASL_PLAINTEXT", s.Protocol))
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		problems = append(problems, errors.New("kafka: Config.Security.CertFile and Config.Security.KeyFile go together: set both or neither"))
	}
	if known && !useTLS && (s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.InsecureSkipVerify) {
		problems = append(problems, fmt.Errorf("kafka: Config.Security TLS settings are set but Protocol is %s; use SSL or SASL_SSL", s.Protocol))
	}
	if len(problems) > 0 {
		return s, errors.Join(problems...)
	}
	if useSASL && s.SASLMechanism == MechanismAWSMSKIAM {
		s.iam = &mskIAMTokens{region: s.AWSRegion, creds: s.AWSCredentials}
	}
	if useTLS {
		tc, err := s.loadTLS()
		if err != nil {
			return s, err
		}
		s.tls = tc
	}
	return s, nil
}

// loadTLS reads the PEM files.
func (s Security) loadTLS() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.InsecureSkipVerify}
	var problems []error
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			problems = append(problems, fmt.Errorf("kafka: Config.Security.CAFile: %w", err))
		} else {
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				problems = append(problems, fmt.Errorf("kafka: Config.Security.CAFile %s holds no PEM certificate (Java JKS/PKCS12 truststores must be converted to PEM)", s.CAFile))
			}
		}
	}
	if s.CertFile != "" && s.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			problems = append(problems, fmt.Errorf("kafka: Config.Security.CertFile %s / KeyFile %s: %w", s.CertFile, s.KeyFile, err))
		} else {
			tc.Certificates = []tls.Certificate{cert}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return tc, nil
}

// apply sets sc's TLS and SASL settings; s has been through withDefaults.
func (s Security) apply(sc *sarama.Config) {
	if s.tls != nil {
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = s.tls
	}
	if s.Protocol != ProtocolSASLPlaintext && s.Protocol != ProtocolSASLSSL {
		return
	}
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Handshake = true
	// SaslAuthenticate (handshake v1) needs Kafka 1.0 or later, as every
	// managed service offers.
	sc.Net.SASL.Version = sarama.SASLHandshakeV1
	sc.Net.SASL.User = s.SASLUsername
	sc.Net.SASL.Password = s.SASLPassword
	switch s.SASLMechanism {
	case MechanismAWSMSKIAM:
		sc.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		sc.Net.SASL.TokenProvider = s.iam
	case MechanismPlain:
		sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case MechanismSCRAMSHA256:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
	case MechanismSCRAMSHA512:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
	}
}

// authFailure says why a bootstrap that failed with err most likely failed
// when SASL is on, or returns "" when err does not point at authentication.
// Kafka answers a bad password with SASL_AUTHENTICATION_FAILED and then
// closes the connection; some brokers (and kfake) only close it, which
// sarama reports as EOF.
func (s Security) authFailure(err error) string {
	if s.Protocol != ProtocolSASLPlaintext && s.Protocol != ProtocolSASLSSL {
		return ""
	}
	if s.SASLMechanism == MechanismAWSMSKIAM && (errors.Is(err, sarama.ErrSASLAuthenticationFailed) || errors.Is(err, io.EOF)) {
		return fmt.Sprintf("AWS_MSK_IAM authentication failed: check that the cluster has IAM access control on, that "+
			"the process's AWS credentials may kafka-cluster:Connect, and the region %s", s.AWSRegion)
	}
	switch {
	case errors.Is(err, sarama.ErrSASLAuthenticationFailed):
		return fmt.Sprintf("SASL authentication failed for user %q with %s", s.SASLUsername, s.SASLMechanism)
	case errors.Is(err, io.EOF):
		return fmt.Sprintf("the brokers closed the connection during SASL authentication of user %q with %s: check the username, password, sasl.mechanism and security.protocol %s",
			s.SASLUsername, s.SASLMechanism, s.Protocol)
	}
	return ""
}

// mskIAMTokens makes the OAUTHBEARER tokens of Amazon MSK's IAM access
// control with AWS's signer: a SigV4-presigned kafka-cluster:Connect
// request for the region, valid 15 minutes. sarama asks for one per
// connection it authenticates.
type mskIAMTokens struct {
	region string

	once  sync.Once
	creds aws.CredentialsProvider
	err   error
}

var _ sarama.AccessTokenProvider = (*mskIAMTokens)(nil)

// Token signs a new token with the process's AWS credentials.
func (t *mskIAMTokens) Token() (*sarama.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.once.Do(func() {
		if t.creds != nil {
			return
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(t.region))
		if err != nil {
			t.err = fmt.Errorf("kafka: AWS_MSK_IAM: loading AWS credentials: %w", err)
			return
		}
		t.creds = cfg.Credentials
	})
	if t.err != nil {
		return nil, t.err
	}
	token, _, err := signer.GenerateAuthTokenFromCredentialsProvider(ctx, t.region, t.creds)
	if err != nil {
		return nil, fmt.Errorf("kafka: AWS_MSK_IAM: signing the token: %w", err)
	}
	return &sarama.AccessToken{Token: token}, nil
}

// scramClient runs one SCRAM exchange for sarama (RFC 5802).
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

var _ sarama.SCRAMClient = (*scramClient)(nil)

func (c *scramClient) Begin(user, password, authzID string) error {
	client, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return fmt.Errorf("kafka: SCRAM client: %w", err)
	}
	c.conv = client.NewConversation()
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) {
	return c.conv.Step(challenge)
}

func (c *scramClient) Done() bool { return c.conv.Done() }

// SecurityFromProperties reads the security settings of a Kafka client or
// Connect worker properties file: security.protocol, sasl.mechanism,
// sasl.jaas.config (the username and password of a PlainLoginModule or
// ScramLoginModule line), and PEM truststores and keystores
// (ssl.truststore.location / ssl.keystore.location with
// ssl.truststore.type / ssl.keystore.type PEM). Keys that are absent leave
// the fields empty. JKS and PKCS12 stores are refused, naming the property:
// Go reads PEM files only. The result is validated by Dial.
func SecurityFromProperties(props map[string]string) (Security, error) {
	s := Security{
		Protocol:      props["security.protocol"],
		SASLMechanism: props["sasl.mechanism"],
	}
	var problems []error
	if jaas := strings.TrimSpace(props["sasl.jaas.config"]); isIAMLogin(jaas, props) {
		// aws-msk-iam-auth's IAMLoginModule (sasl.mechanism AWS_MSK_IAM) or
		// OAuthBearerLoginModule with its IAM callback handler: the token is
		// signed with the process's AWS credentials.
		if strings.Contains(jaas, "=") {
			problems = append(problems, fmt.Errorf("kafka: sasl.jaas.config %s: options such as awsRoleArn or awsProfileName are not supported; give the process the role (Lambda or ECS task role) or use AWS_PROFILE", strings.Fields(jaas)[0]))
		}
	} else if jaas != "" {
		user, pass, err := parseJAAS(jaas)
		if err != nil {
			problems = append(problems, err)
		}
		s.SASLUsername, s.SASLPassword = user, pass
	}
	if loc := props["ssl.truststore.location"]; loc != "" {
		if t := props["ssl.truststore.type"]; !strings.EqualFold(t, "PEM") {
			problems = append(problems, fmt.Errorf("kafka: ssl.truststore.location %s: ssl.truststore.type is %q, but only PEM files can be read: convert the truststore to PEM and set ssl.truststore.type=PEM", loc, t))
		}
		s.CAFile = loc
	}
	if loc := props["ssl.keystore.location"]; loc != "" {
		if t := props["ssl.keystore.type"]; !strings.EqualFold(t, "PEM") {
			problems = append(problems, fmt.Errorf("kafka: ssl.keystore.location %s: ssl.keystore.type is %q, but only PEM files (certificate chain and unencrypted key) can be read: convert the keystore to PEM and set ssl.keystore.type=PEM", loc, t))
		}
		if props["ssl.key.password"] != "" || props["ssl.keystore.password"] != "" {
			problems = append(problems, fmt.Errorf("kafka: ssl.keystore.location %s: encrypted keys (ssl.key.password, ssl.keystore.password) are not supported; use an unencrypted PEM key", loc))
		}
		s.CertFile, s.KeyFile = loc, loc
	}
	if len(problems) > 0 {
		return s, errors.Join(problems...)
	}
	return s, nil
}

// isIAMLogin reports whether a sasl.jaas.config line is one of the login
// modules Amazon MSK's IAM access control is configured with:
// aws-msk-iam-auth's IAMLoginModule, or OAuthBearerLoginModule with its
// IAM callback handler (other OAUTHBEARER setups are not supported).
func isIAMLogin(jaas string, props map[string]string) bool {
	f := strings.Fields(jaas)
	switch {
	case len(f) == 0:
		return false
	case strings.HasSuffix(f[0], ".IAMLoginModule"):
		return true
	case strings.HasSuffix(f[0], ".OAuthBearerLoginModule"):
		return strings.HasPrefix(props["sasl.login.callback.handler.class"], "software.amazon.msk.auth.iam.") ||
			strings.HasPrefix(props["sasl.client.callback.handler.class"], "software.amazon.msk.auth.iam.")
	}
	return false
}

// jaasOption matches one key=value option of a JAAS login module line; the
// value is double-quoted (with backslash escapes) or bare.
var jaasOption = regexp.MustCompile(`(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)`)

// jaasEscape matches a backslash escape inside a quoted JAAS value: \c
// stands for c, as in Java's StreamTokenizer for the common cases (\" and
// \\).
var jaasEscape = regexp.MustCompile(`\\(.)`)

// parseJAAS reads username and password from a sasl.jaas.config value such
// as
//
//	org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";
func parseJAAS(jaas string) (user, pass string, err error) {
	module := strings.Fields(jaas)[0]
	rest := jaas[len(module):]
	if !strings.HasSuffix(module, ".PlainLoginModule") && !strings.HasSuffix(module, ".ScramLoginModule") {
		return "", "", fmt.Errorf("kafka: sasl.jaas.config login module %q: want PlainLoginModule or ScramLoginModule", module)
	}
	for _, m := range jaasOption.FindAllStringSubmatch(rest, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			v = jaasEscape.ReplaceAllString(v[1:len(v)-1], "$1")
		}
		switch m[1] {
		case "username":
			user = v
		case "password":
			pass = v
		}
	}
	if user == "" || pass == "" {
		return user, pass, fmt.Errorf("kafka: sasl.jaas.config %s needs username=\"...\" and password=\"...\"", module)
	}
	return user, pass, nil
}
