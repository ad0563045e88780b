//go:build search

package opensearchtest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The launcher starts a node that answers as OpenSearch 2.19 and stops it.
func TestStartAnswersAsOpenSearch(t *testing.T) {
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
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Version.Distribution != "opensearch" || info.Version.Number != Version {
		t.Fatalf("node answers %+v, want opensearch %s", info.Version, Version)
	}
}
