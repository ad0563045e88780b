package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/coordinator/rest"
)

// openAPIDoc is the part of the OpenAPI document the checks read.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIOperation struct {
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// specRoute turns a ServeMux pattern into the OpenAPI document's
// "METHOD /path": {$} is a trailing slash, {x...} a parameter.
func specRoute(pattern string) string {
	pattern = strings.TrimSuffix(pattern, "{$}")
	return regexp.MustCompile(`\{(\w+)\.\.\.\}`).ReplaceAllString(pattern, "{$1}")
}

// The committed OpenAPI document lists exactly the routes the REST
// listener registers (the REST API's, /metrics and the pull workers'),
// with every path parameter declared and the auth schemes defined.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(rest.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(op.Parameters, func(p struct {
					Name string `json:"name"`
					In   string `json:"in"`
				}) bool {
					return p.Name == m[1] && p.In == "path"
				}) {
					t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
				}
			}
		}
	}
	var served []string
	for _, r := range mainRoutes(nil, rest.Options{}, true) {
		served = append(served, specRoute(r))
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("openapi.json documents %s, which no route serves", r)
		}
	}
	// With admin.listeners set, the admin routes move to their own
	// listener: still documented, no longer on the main one.
	admin := rest.AdminRoutes()
	main := mainRoutes(nil, rest.Options{Admin: rest.AdminSeparate}, false)
	for _, r := range admin {
		if slices.Contains(main, r) {
			t.Errorf("%s on the main listener with admin.listeners set", r)
		}
		if !slices.Contains(documented, specRoute(r)) {
			t.Errorf("admin route %s is not in openapi.json", r)
		}
	}
	for _, s := range []string{"basicAuth", "bearerAuth", "workerSecret", "interWorker"} {
		if _, ok := doc.Components.SecuritySchemes[s]; !ok {
			t.Errorf("security scheme %s missing", s)
		}
	}
}

// The document is served at GET /openapi.json.
func TestOpenAPIServed(t *testing.T) {
	h := rest.NewHandler(nil, rest.Options{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !slices.Equal(rec.Body.Bytes(), rest.OpenAPI) {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
}

// Methods other than GET on /metrics and the console get 405 with Allow,
// as on the REST API's paths (schemathesis's unsupported_method check).
func TestRestMuxMethodNotAllowed(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux := restMux(ok, ok)
	for _, path := range []string{"/metrics", "/ui", "/ui/"} {
		for method, want := range map[string]int{http.MethodGet: -1, http.MethodPost: 405, "TRACE": 405, http.MethodDelete: 405} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if want == -1 {
				if rec.Code == http.StatusMethodNotAllowed || rec.Code == http.StatusNotFound {
					t.Errorf("GET %s: %d", path, rec.Code)
				}
				continue
			}
			if rec.Code != want || rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d, Allow %q", method, path, rec.Code, rec.Header().Get("Allow"))
			}
		}
	}
}
