package kafka

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mskIAM makes a kfake cluster check SASL as an Amazon MSK cluster with IAM
// access control does: OAUTHBEARER is the only mechanism, and the bearer
// token must be a SigV4-presigned kafka-cluster:Connect request for the
// region, signed with the secret key of the access key it names. kfake has
// no OAUTHBEARER of its own, so control functions answer the handshake and
// the authentication; every other request is served by kfake as usual.
type mskIAM struct {
	region  string
	secrets map[string]string // access key id -> secret
	authOK  atomic.Int64
	failed  atomic.Int64
}

func (m *mskIAM) install(c *kfake.Cluster) {
	c.ControlKey(int16(kmsg.SASLHandshake), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.SASLHandshakeRequest)
		resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = []string{"OAUTHBEARER"}
		if req.Mechanism != "OAUTHBEARER" {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.SASLAuthenticateRequest)
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if err := m.verify(req.SASLAuthBytes); err != nil {
			m.failed.Add(1)
			msg := err.Error()
			resp.ErrorCode, resp.ErrorMessage = kerr.SaslAuthenticationFailed.Code, &msg
			return resp, nil, true
		}
		m.authOK.Add(1)
		return resp, nil, true
	})
}

// verify checks an OAUTHBEARER client message (RFC 7628:
// "n,,\x01auth=Bearer <token>\x01\x01") as MSK would.
func (m *mskIAM) verify(msg []byte) error {
	var token string
	for _, kv := range bytes.Split(msg, []byte{1}) {
		if t, ok := bytes.CutPrefix(kv, []byte("auth=Bearer ")); ok {
			token = string(t)
		}
	}
	if token == "" {
		return fmt.Errorf("no bearer token in %q", msg)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return fmt.Errorf("token is not base64url: %w", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return err
	}
	q := u.Query()
	switch {
	case u.Scheme != "https" || u.Host != "kafka."+m.region+".amazonaws.com":
		return fmt.Errorf("token for %s://%s, not this cluster's region %s", u.Scheme, u.Host, m.region)
	case q.Get("Action") != "kafka-cluster:Connect":
		return fmt.Errorf("action %q", q.Get("Action"))
	case q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
		return fmt.Errorf("algorithm %q", q.Get("X-Amz-Algorithm"))
	}
	scope := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(scope) != 5 || scope[2] != m.region || scope[3] != "kafka-cluster" || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q", q.Get("X-Amz-Credential"))
	}
	secret, ok := m.secrets[scope[0]]
	if !ok {
		return fmt.Errorf("unknown access key %s", scope[0])
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	if exp := q.Get("X-Amz-Expires"); exp != "900" || time.Since(signed) > 15*time.Minute {
		return fmt.Errorf("token expired or expiry %q", exp)
	}
	// Sign the same request again with the secret and compare.
	unsigned := url.Values{"Action": {q.Get("Action")}, "X-Amz-Expires": {q.Get("X-Amz-Expires")}}
	req, err := http.NewRequest(http.MethodGet, "https://"+u.Host+"/?"+unsigned.Encode(), nil)
	if err != nil {
		return err
	}
	empty := sha256.Sum256(nil)
	resigned, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret}, req, hex.EncodeToString(empty[:]), "kafka-cluster", m.region, signed)
	if err != nil {
		return err
	}
	want, _ := url.Parse(resigned)
	if got := q.Get("X-Amz-Signature"); got == "" || got != want.Query().Get("X-Amz-Signature") {
		return fmt.Errorf("signature %q does not match", got)
	}
	return nil
}

// AWS_MSK_IAM end to end through sarama's OAUTHBEARER against a cluster
// checking tokens as MSK does: the right key connects and works (a topic
// is created and written to), a wrong secret is refused with a message
// about IAM, and OAUTHBEARER is taken as the same mechanism.
func TestMSKIAM(t *testing.T) {
	c := newCluster(t)
	iam := &mskIAM{region: "eu-west-1", secrets: map[string]string{"AKIDSLUICE": "s3cret/key"}}
	iam.install(c)
	creds := func(secret string) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider("AKIDSLUICE", secret, "")
	}

	for _, mech := range []string{"AWS_MSK_IAM", "oauthbearer"} {
		t.Run(mech, func(t *testing.T) {
			sec := Security{Protocol: ProtocolSASLPlaintext, SASLMechanism: mech, AWSRegion: "eu-west-1", AWSCredentials: creds("s3cret/key")}
			cl, err := Dial(testCtx(t), Config{Brokers: c.ListenAddrs(), Security: sec})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer cl.Close()
			if err := cl.EnsureTopic(testCtx(t), TopicSpec{Name: "iam-" + strings.ToLower(mech), Partitions: 1}); err != nil {
				t.Fatalf("EnsureTopic over IAM-authenticated connections: %v", err)
			}
		})
	}
	if iam.authOK.Load() == 0 {
		t.Fatal("no connection authenticated through the MSK IAM check")
	}

	err := dialErr(t, c, Security{Protocol: ProtocolSASLPlaintext, SASLMechanism: MechanismAWSMSKIAM, AWSRegion: "eu-west-1",
		AWSCredentials: creds("wrong")})
	checkErr(t, err, "AWS_MSK_IAM authentication failed")
	if iam.failed.Load() == 0 {
		t.Fatal("the wrong secret never reached the check")
	}
}

func TestMSKIAMValidation(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	tests := []struct {
		name    string
		sec     Security
		wantErr string
	}{
		{name: "no region", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismAWSMSKIAM}, wantErr: "AWSRegion is empty"},
		{name: "region", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismAWSMSKIAM, AWSRegion: "us-east-1"}},
		{name: "username with IAM", sec: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismAWSMSKIAM, AWSRegion: "us-east-1", SASLUsername: "u"},
			wantErr: "set with AWS_MSK_IAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Config{Brokers: []string{"localhost:9092"}, Security: tt.sec}.withDefaults()
			checkErr(t, err, tt.wantErr)
		})
	}
	t.Setenv("AWS_REGION", "ap-south-1")
	cfg, err := Config{Brokers: []string{"localhost:9092"}, Security: Security{Protocol: ProtocolSASLSSL, SASLMechanism: "OAUTHBEARER"}}.withDefaults()
	if err != nil || cfg.Security.AWSRegion != "ap-south-1" || cfg.Security.SASLMechanism != MechanismAWSMSKIAM {
		t.Fatalf("region from AWS_REGION: %+v %v", cfg.Security, err)
	}
}
