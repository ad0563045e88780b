//go:build search

package elasticsearchtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// The node answers as the wanted Elasticsearch version (not OpenSearch)
// and stops.
func TestStartAnswersAsElasticsearch(t *testing.T) {
	n, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	resp, err := http.Get(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Version struct {
			Distribution string `json:"distribution"`
			Number       string `json:"number"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Version.Number != WantedVersion() || info.Version.Distribution != "" || info.Tagline != "You Know, for Search" {
		t.Fatalf("node answers %+v", info)
	}
	n.Stop()
	if _, err := http.Get(n.URL); err == nil {
		t.Fatal("the node still answers after Stop")
	}
}

// With a password the node runs with X-Pack security (8.0.0): HTTPS with
// the test CA, the password required. 7.17's distribution has no security:
// StartWith says so.
func TestStartWithSecurity(t *testing.T) {
	n, err := StartWith(Options{Password: "s3cret-Pw"})
	if WantedVersion() < "8" {
		if !errors.Is(err, ErrNoSecurity) {
			t.Fatalf("StartWith on %s: %v, want ErrNoSecurity", WantedVersion(), err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !strings.HasPrefix(n.URL, "https://") {
		t.Fatalf("URL %s", n.URL)
	}
	cfg, err := n.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	for _, tt := range []struct {
		name     string
		password string
		want     int
	}{{"right password", "s3cret-Pw", 200}, {"wrong password", "nope", 401}} {
		req, _ := http.NewRequest(http.MethodGet, n.URL, nil)
		req.SetBasicAuth("elastic", tt.password)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if _, err := http.Get(n.URL); err == nil {
		t.Error("a client without the test CA connected")
	}
}
