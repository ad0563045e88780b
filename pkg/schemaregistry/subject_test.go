package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// countingServer serves reg and counts the requests it answers, by
// "METHOD path", on the server's side. listing says how GET /schemas
// answers: "yes" as Confluent's registry, "404" as registries without
// that endpoint, "html" with a 200 page that is not a list (a proxy's).
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newCountingServer(t *testing.T, reg *srfake.Registry, listing string) *countingServer {
	t.Helper()
	cs := &countingServer{seen: map[string]int{}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if strings.HasPrefix(path, "/schemas/ids/") {
			path = "/schemas/ids/{id}"
		}
		cs.mu.Lock()
		cs.seen[r.Method+" "+path]++
		cs.mu.Unlock()
		switch {
		case r.URL.Path != "/schemas" || listing == "yes":
		case listing == "404":
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":404,"message":"HTTP 404 Not Found"}`))
			return
		default:
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><body>Welcome</body></html>`))
			return
		}
		reg.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// take returns the requests counted since the last call, sorted.
func (cs *countingServer) take() []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []string
	for k, n := range cs.seen {
		out = append(out, fmt.Sprintf("%s x%d", k, n))
	}
	clear(cs.seen)
	sort.Strings(out)
	return out
}

func versionSchema(v int) string {
	fields := `{"name":"id","type":"long"}`
	for i := 2; i <= v; i++ {
		fields += fmt.Sprintf(`,{"name":"f%d","type":"string","default":""}`, i)
	}
	return `{"type":"record","name":"Order","namespace":"sluice.test","fields":[` + fields + `]}`
}

func TestSchemaInSubjectOneRequestPerSubject(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		listing string
		// cold: what a cold client asks for the subject's three
		// versions; later: for a fourth registered afterwards; unknown:
		// for an id the registry does not have, twice.
		cold, later, unknown []string
	}{
		{
			name:    "registry lists subjects",
			listing: "yes",
			cold:    []string{"GET /schemas x1"},
			later:   []string{"GET /schemas x1"},
			unknown: []string{"GET /schemas x1", "GET /schemas/ids/{id} x2"},
		},
		{
			name:    "registry without GET /schemas",
			listing: "404",
			cold:    []string{"GET /schemas x1", "GET /schemas/ids/{id} x3", "POST /subjects/orders-value x3"},
			later:   []string{"GET /schemas/ids/{id} x1", "POST /subjects/orders-value x1"},
			unknown: []string{"GET /schemas/ids/{id} x2"},
		},
		{
			name:    "a 200 that is not a list of schemas",
			listing: "html",
			cold:    []string{"GET /schemas x1", "GET /schemas/ids/{id} x3", "POST /subjects/orders-value x3"},
			later:   []string{"GET /schemas/ids/{id} x1", "POST /subjects/orders-value x1"},
			unknown: []string{"GET /schemas/ids/{id} x2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := srfake.New()
			defer reg.Close()
			srv := newCountingServer(t, reg, tt.listing)
			writer := newTestClient(t, map[string]string{URLConfig: reg.URL()})
			var ids []int
			for v := 1; v <= 4; v++ {
				id, err := writer.Register(ctx, "orders-value", Schema{Schema: versionSchema(v)}, false)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
				// Another subject's schemas, which the listing's prefix
				// matches and the client must skip.
				if _, err := writer.Register(ctx, "orders-value-archive", Schema{Schema: `"string"`}, false); err != nil {
					t.Fatal(err)
				}
				if v == 3 {
					break
				}
			}

			c := newTestClient(t, map[string]string{URLConfig: srv.URL})
			var wg sync.WaitGroup
			for range 10 {
				for i, id := range ids {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ss, err := c.SchemaInSubject(ctx, "orders-value", id)
						if err != nil || ss.Version != i+1 || ss.Schema.Schema != versionSchema(i+1) {
							t.Errorf("id %d: version %d, schema %q, %v; want version %d", id, ss.Version, ss.Schema.Schema, err, i+1)
						}
					}()
				}
				wg.Wait()
			}
			if got := srv.take(); fmt.Sprint(got) != fmt.Sprint(tt.cold) {
				t.Fatalf("cold client asked %v, want %v", got, tt.cold)
			}

			id4, err := writer.Register(ctx, "orders-value", Schema{Schema: versionSchema(4)}, false)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if ss, err := c.SchemaInSubject(ctx, "orders-value", id4); err != nil || ss.Version != 4 {
					t.Fatalf("new id %d: %+v, %v", id4, ss, err)
				}
			}
			if got := srv.take(); fmt.Sprint(got) != fmt.Sprint(tt.later) {
				t.Fatalf("a schema registered later cost %v, want %v", got, tt.later)
			}

			for range 2 {
				if _, err := c.SchemaInSubject(ctx, "orders-value", 0x7f7f0000); !errors.Is(err, ErrSchemaNotFound) {
					t.Fatalf("unknown id: %v, want ErrSchemaNotFound", err)
				}
			}
			if got := srv.take(); fmt.Sprint(got) != fmt.Sprint(tt.unknown) {
				t.Fatalf("an unknown id cost %v, want %v", got, tt.unknown)
			}
		})
	}
}

func TestSchemaInSubjectOtherSubject(t *testing.T) {
	// A schema registered under another subject (a producer with
	// RecordNameStrategy, a reader with TopicNameStrategy) has no version
	// under the topic's subject. The subject is listed once; after that,
	// each schema costs its fetch by id and a lookup, as with Confluent's
	// deserializers.
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	srv := newCountingServer(t, reg, "yes")
	writer := newTestClient(t, map[string]string{URLConfig: reg.URL()})
	id1, err := writer.Register(ctx, "sluice.test.Order", Schema{Schema: versionSchema(1)}, false)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := writer.Register(ctx, "sluice.test.Order", Schema{Schema: versionSchema(2)}, false)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, map[string]string{URLConfig: srv.URL})
	for _, id := range []int{id1, id2, id1, id2} {
		ss, err := c.SchemaInSubject(ctx, "orders-value", id)
		if err != nil || ss.Version != 0 || ss.ID != id || ss.Schema.Schema == "" {
			t.Fatalf("id %d: %+v, %v", id, ss, err)
		}
	}
	want := []string{"GET /schemas x1", "GET /schemas/ids/{id} x2", "POST /subjects/orders-value x1"}
	if got := srv.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("asked %v, want %v", got, want)
	}
}
