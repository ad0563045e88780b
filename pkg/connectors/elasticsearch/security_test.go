//go:build search

package elasticsearch_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/elasticsearchtest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// The sink against Elasticsearch with X-Pack security (make
// test-search-security: 8.0.0, whose integ-test-zip has the module): HTTPS
// with a test CA (elastic.https.ssl.ca.file) and basic authentication. The
// right password writes the documents; a wrong one fails the lease at once,
// not retriable, with the server's 401; without the CA the TLS handshake
// fails naming the certificate. The node is a second JVM, started for this
// test only. Against a distribution without security (7.17's) StartWith
// must say so.
func TestSecurity(t *testing.T) {
	if !onElasticsearch {
		t.Skip("security is tested against Elasticsearch (make test-search-security); OpenSearch's security plugin (org.opensearch.plugin:opensearch-security) is not among the artifacts the launcher resolves")
	}
	const password = "s3cret-Pw"
	n, err := elasticsearchtest.StartWith(elasticsearchtest.Options{Password: password})
	if errors.Is(err, elasticsearchtest.ErrNoSecurity) && elasticsearchtest.WantedVersion() < "8" {
		return // 7.17's integ-test-zip: checked to say so, nothing more to test
	}
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	e := newEnv(t)
	const topic = "secured"
	end := e.produce(t, topic, rec("s1", `{"n":1}`), rec("s2", `{"n":2}`), rec("s3", `{"n":3}`))
	secured := func(extra ...string) map[string]string {
		return sinkConfig(n.URL, topic, append([]string{"connection.username", "elastic", "elastic.security.protocol", "SSL",
			"elastic.https.ssl.ca.file", n.CAFile, "read.timeout.ms", "30000"}, extra...)...)
	}
	e.mustRun(t, secured("connection.password", password), topic, 0, end)

	tlsCfg, err := n.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	get := func(path, pw string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, n.URL+path, nil)
		req.SetBasicAuth("elastic", pw)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	if status, _ := get("/"+topic+"/_refresh", password); status != 200 {
		t.Fatalf("refresh: %d", status)
	}
	if status, m := get("/"+topic+"/_count", password); status != 200 || m["count"] != float64(3) {
		t.Fatalf("count: %d %v", status, m)
	}

	res := e.run(secured("connection.password", "wrong"), topic, 0, end)
	if res.Status != lease.Failed || res.Retriable || !strings.Contains(res.Error, "authentication or authorisation failed") || !strings.Contains(res.Error, "401") {
		t.Fatalf("wrong password: %s retriable %t %q", res.Status, res.Retriable, res.Error)
	}
	t.Logf("wrong password: %s", res.Error)
	cfg := secured("connection.password", password, "max.retries", "0")
	delete(cfg, "elastic.https.ssl.ca.file")
	res = e.run(cfg, topic, 0, end)
	if res.Status != lease.Failed || !strings.Contains(res.Error, "certificate") {
		t.Fatalf("without the CA: %s %q", res.Status, res.Error)
	}
	t.Logf("without the CA: %s", res.Error)
}
