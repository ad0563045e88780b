package schemaregistry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Property names, as Confluent's serializers and converters spell them
// (AbstractKafkaSchemaSerDeConfig, SchemaRegistryClientConfig). Converters
// receive them without their "key.converter."/"value.converter." prefix.
const (
	// URLConfig ("schema.registry.url") is a comma-separated list of
	// registry URLs; requests go to the first that answers.
	URLConfig = "schema.registry.url"
	// BasicAuthSourceConfig ("basic.auth.credentials.source", default URL)
	// is USER_INFO (basic.auth.user.info) or URL (user:password@ in the
	// URL).
	BasicAuthSourceConfig = "basic.auth.credentials.source"
	// UserInfoConfig ("basic.auth.user.info") is "user:password".
	UserInfoConfig = "basic.auth.user.info"
	// BearerSourceConfig ("bearer.auth.credentials.source") is
	// STATIC_TOKEN, with the token in bearer.auth.token.
	BearerSourceConfig = "bearer.auth.credentials.source"
	// BearerTokenConfig ("bearer.auth.token") is the static bearer token.
	BearerTokenConfig = "bearer.auth.token"
	// TLS as PEM: trusted CA certificates, client certificate chain and
	// key, inline or as file locations (Confluent's
	// schema.registry.ssl.truststore.type=PEM forms).
	TruststoreCertificatesConfig = "schema.registry.ssl.truststore.certificates"
	TruststoreLocationConfig     = "schema.registry.ssl.truststore.location"
	KeystoreCertChainConfig      = "schema.registry.ssl.keystore.certificate.chain"
	KeystoreKeyConfig            = "schema.registry.ssl.keystore.key"
	KeystoreLocationConfig       = "schema.registry.ssl.keystore.location"
	// EndpointIdentificationConfig ("schema.registry.ssl.endpoint.identification.algorithm",
	// default https): empty turns off host name verification.
	EndpointIdentificationConfig = "schema.registry.ssl.endpoint.identification.algorithm"
	// ConnectTimeoutConfig ("http.connect.timeout.ms", default 60000) and
	// ReadTimeoutConfig ("http.read.timeout.ms", default 60000) bound one
	// request.
	ConnectTimeoutConfig = "http.connect.timeout.ms"
	ReadTimeoutConfig    = "http.read.timeout.ms"
	// MaxRetriesConfig ("max.retries", default 3), RetriesWaitConfig
	// ("retries.wait.ms", default 1000) and RetriesMaxWaitConfig
	// ("retries.max.wait.ms", default 20000): a request that finds the
	// registry unavailable is tried again with exponential backoff.
	MaxRetriesConfig     = "max.retries"
	RetriesWaitConfig    = "retries.wait.ms"
	RetriesMaxWaitConfig = "retries.max.wait.ms"
	// CacheCapacityConfig ("max.schemas.per.subject", default 1000) bounds
	// each cache.
	CacheCapacityConfig = "max.schemas.per.subject"
	// LatestCacheTTLConfig ("latest.cache.ttl.sec", default -1: never
	// expires) is how long a subject's latest version is remembered.
	LatestCacheTTLConfig = "latest.cache.ttl.sec"
)

// Settings are what a Client needs. Use ParseSettings to read them from
// Confluent's properties.
type Settings struct {
	URLs []string
	// Username and Password, when Username is set, are sent as basic auth.
	Username, Password string
	// BearerToken, when set, is sent as "Authorization: Bearer".
	BearerToken string
	// TLS is used for https URLs; nil means the system's roots.
	TLS *tls.Config

	ConnectTimeout, ReadTimeout time.Duration
	MaxRetries                  int
	RetryWait, RetryMaxWait     time.Duration
	CacheCapacity               int
	// LatestTTL is how long a subject's latest version is cached; a
	// negative value means forever.
	LatestTTL time.Duration

	// fingerprint identifies the configuration for Shared.
	fingerprint string
}

// ParseSettings reads the registry's properties (prefix already stripped).
// schema.registry.url is required. Every bad value is reported.
func ParseSettings(props map[string]string) (Settings, error) {
	c := Settings{
		ConnectTimeout: 60 * time.Second, ReadTimeout: 60 * time.Second,
		MaxRetries: 3, RetryWait: time.Second, RetryMaxWait: 20 * time.Second,
		CacheCapacity: 1000, LatestTTL: -1,
	}
	var errs []error
	bad := func(k, reason string) { errs = append(errs, &ConfigError{Key: k, Value: props[k], Reason: reason}) }

	for _, u := range strings.Split(props[URLConfig], ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.URLs = append(c.URLs, u)
		}
	}
	if len(c.URLs) == 0 {
		errs = append(errs, fmt.Errorf("%w: Missing required configuration %q which has no default value.", errConfig, URLConfig))
	}
	// Credentials in the URLs are taken out of them whatever the source,
	// so that they appear in no request line, error or log; they are
	// sent (the first URL's) only with the URL source.
	var urlUser, urlPassword string
	for i, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			bad(URLConfig, "not a URL: "+err.Error())
			continue
		}
		if u.User != nil {
			if urlUser == "" {
				urlUser = u.User.Username()
				urlPassword, _ = u.User.Password()
			}
			u.User = nil
			c.URLs[i] = u.String()
		}
	}
	switch src := strings.ToUpper(strings.TrimSpace(props[BasicAuthSourceConfig])); src {
	case "", "URL":
		c.Username, c.Password = urlUser, urlPassword
	case "USER_INFO":
		user, pass, ok := strings.Cut(props[UserInfoConfig], ":")
		if !ok {
			bad(UserInfoConfig, "Expected user:password")
		}
		c.Username, c.Password = user, pass
	default:
		bad(BasicAuthSourceConfig, "String must be one of: URL, USER_INFO")
	}
	switch src := strings.ToUpper(strings.TrimSpace(props[BearerSourceConfig])); src {
	case "":
	case "STATIC_TOKEN":
		c.BearerToken = props[BearerTokenConfig]
		if c.BearerToken == "" {
			bad(BearerTokenConfig, "a token is required with bearer.auth.credentials.source=STATIC_TOKEN")
		}
	default:
		bad(BearerSourceConfig, "String must be one of: STATIC_TOKEN")
	}
	ms := func(k string, into *time.Duration, allowNegative bool) {
		v, ok := props[k]
		if !ok {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || (!allowNegative && n < 0) {
			bad(k, "Not a non-negative number of type LONG")
			return
		}
		*into = time.Duration(n) * time.Millisecond
	}
	ms(ConnectTimeoutConfig, &c.ConnectTimeout, false)
	ms(ReadTimeoutConfig, &c.ReadTimeout, false)
	ms(RetriesWaitConfig, &c.RetryWait, false)
	ms(RetriesMaxWaitConfig, &c.RetryMaxWait, false)
	intKey := func(k string, into *int) {
		v, ok := props[k]
		if !ok {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			bad(k, "Not a non-negative number of type INT")
			return
		}
		*into = n
	}
	intKey(MaxRetriesConfig, &c.MaxRetries)
	intKey(CacheCapacityConfig, &c.CacheCapacity)
	if v, ok := props[LatestCacheTTLConfig]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			bad(LatestCacheTTLConfig, "Not a number of type LONG")
		} else if n >= 0 {
			c.LatestTTL = time.Duration(n) * time.Second
		}
	}
	tlsCfg, err := parseTLS(props)
	if err != nil {
		errs = append(errs, err)
	}
	c.TLS = tlsCfg
	if len(errs) > 0 {
		return Settings{}, joinErrors(errs)
	}
	c.fingerprint = fingerprint(props)
	return c, nil
}

// fingerprint renders the properties that shape a client, sorted, so that
// equal configurations share one Client (and its caches).
func fingerprint(props map[string]string) string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(props[k])
		b.WriteByte(0)
	}
	return b.String()
}

func parseTLS(props map[string]string) (*tls.Config, error) {
	pemOf := func(inline, location string) ([]byte, error) {
		if v := strings.TrimSpace(props[inline]); v != "" {
			return []byte(v), nil
		}
		if p := strings.TrimSpace(props[location]); p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, &ConfigError{Key: location, Value: p, Reason: err.Error()}
			}
			return b, nil
		}
		return nil, nil
	}
	ca, err := pemOf(TruststoreCertificatesConfig, TruststoreLocationConfig)
	if err != nil {
		return nil, err
	}
	chain, err := pemOf(KeystoreCertChainConfig, KeystoreLocationConfig)
	if err != nil {
		return nil, err
	}
	key := []byte(strings.TrimSpace(props[KeystoreKeyConfig]))
	if len(key) == 0 && len(chain) > 0 {
		// A keystore file in PEM holds the key beside the chain.
		for rest := chain; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			if strings.Contains(blk.Type, "PRIVATE KEY") {
				key = pem.EncodeToMemory(blk)
			}
		}
	}
	_, verifySet := props[EndpointIdentificationConfig]
	noVerifyHost := verifySet && strings.TrimSpace(props[EndpointIdentificationConfig]) == ""
	if ca == nil && chain == nil && !noVerifyHost {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, &ConfigError{Key: TruststoreCertificatesConfig, Value: "[PEM]", Reason: "no certificate found in the PEM"}
		}
		cfg.RootCAs = pool
	}
	if chain != nil {
		cert, err := tls.X509KeyPair(chain, key)
		if err != nil {
			return nil, &ConfigError{Key: KeystoreCertChainConfig, Value: "[PEM]", Reason: err.Error()}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if noVerifyHost {
		// Confluent's empty endpoint identification algorithm: the chain is
		// still verified, the host name is not.
		cfg.InsecureSkipVerify = true
		roots := cfg.RootCAs
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			certs := make([]*x509.Certificate, len(raw))
			for i, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				certs[i] = c
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}
