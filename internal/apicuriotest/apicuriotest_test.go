//go:build apicurio

package apicuriotest

import (
	"net/http"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestApicurioStopsAndComesBack(t *testing.T) {
	r := Start(t)
	get := func() (int, error) {
		resp, err := http.Get(r.URL + "/subjects")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("GET /subjects = %d, %v", code, err)
	}
	r.Stop()
	if _, err := get(); err == nil {
		t.Fatal("the stopped registry answered")
	}
	r.Restart(t)
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("after Restart: GET /subjects = %d, %v", code, err)
	}
}
