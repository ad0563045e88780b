package configprovider

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mototest"
)

// TestAWSProvidersAgainstMoto resolves TestAWSProviders' references against
// moto's server, an AWS implementation Sluice did not write, holding the
// same secrets and parameters: the requests Sluice builds itself
// (awsClient) are understood, and moto's answers and error codes are read
// as the fake's are. moto also stores new versions of a secret and
// encrypts SecureString parameters, which the fake does not.
func TestAWSProvidersAgainstMoto(t *testing.T) {
	isolateAWS(t)
	m := mototest.Start(t)
	m.CreateSecret("prod/db", `{"username":"admin","password":"`+fakeDBPassword+`","port":5432,"tls":true,"nested":{"a":1},"gone":null}`)
	arn := m.CreateSecret("api", `{"token":"`+fakeAPIToken+`"}`)
	m.CreateSecret("plain", fakeRawSecret)
	m.CreateSecret("notjson", "not json "+fakeRawSecret)
	m.CreateBinarySecret("binary", []byte("bin"))
	m.CreateSecret("rotated", "old-value")
	m.PutSecretValue("rotated", "new-"+fakeRawSecret)
	m.PutParameter("/msk/db/password", fakeSSMPassword, true)
	m.PutParameter("/msk/db/user", fakeSSMPlain, false)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:") {
		t.Fatalf("moto gave ARN %q", arn)
	}
	runAWSCases(t, m.Endpoint, append(awsCases(url.QueryEscape(arn)),
		// Without WithDecryption moto answers "kms:alias/aws/ssm:<value>".
		awsCase{name: "ssm SecureString decrypted", value: "${ssm::/msk/db/password}", want: fakeSSMPassword},
		awsCase{name: "current version after PutSecretValue", value: "${secretsmanager:rotated}", want: "new-" + fakeRawSecret},
	))
}
