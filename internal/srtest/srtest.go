// Package srtest serves franz-go's in-process Schema Registry (srfake)
// behind a test server that counts the requests it answers, so that tests
// can check how often a converter asks the registry, on the registry's side.
package srtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Registry is an srfake registry behind a counting server at CountingURL. Both
// close when the test ends.
type Registry struct {
	*srfake.Registry
	// CountingURL is the counting server's address; the embedded
	// Registry's URL() is srfake's own, not counted.
	CountingURL string

	mu    sync.Mutex
	asked map[string]int
}

// Start starts a counting registry.
func Start(tb testing.TB) *Registry {
	tb.Helper()
	r := &Registry{Registry: srfake.New(), asked: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.Path
		if strings.HasPrefix(p, "/schemas/ids/") {
			p = "/schemas/ids/{id}"
		}
		r.mu.Lock()
		r.asked[req.Method+" "+p]++
		r.mu.Unlock()
		r.Handler().ServeHTTP(w, req)
	}))
	r.CountingURL = srv.URL
	tb.Cleanup(func() { srv.Close(); r.Close() })
	return r
}

// Requests returns the requests answered so far, each as
// "<method> <path> x<count>" (ids in paths as {id}), sorted.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, n := range r.asked {
		out = append(out, fmt.Sprintf("%s x%d", k, n))
	}
	sort.Strings(out)
	return out
}

// ClientRequests returns the request count of the registry client that a
// converter configured with props uses (schemaregistry.Shared): the
// client's side of the count, for registries that do not count (a real
// one).
func ClientRequests(t testing.TB, props map[string]string) int64 {
	t.Helper()
	s, err := schemaregistry.ParseSettings(props)
	if err != nil {
		t.Fatal(err)
	}
	c, err := schemaregistry.Shared(s)
	if err != nil {
		t.Fatal(err)
	}
	return c.Requests()
}
