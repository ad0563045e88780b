//go:build search

package elasticsearchtest

import (
	"encoding/json"
	"net/http"
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
