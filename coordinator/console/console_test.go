package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/coordinator/console"
)

// The console's files are served under /ui/ with their content types; /ui
// redirects there, and nothing else is served.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(console.Handler())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		name, path string
		status     int
		typ, body  string
	}{
		{name: "index", path: "/ui/", status: 200, typ: "text/html", body: `<script src="app.js">`},
		{name: "script", path: "/ui/app.js", status: 200, typ: "text/javascript", body: "/sluice/v1/connectors/"},
		{name: "styles", path: "/ui/style.css", status: 200, typ: "text/css", body: "@media"},
		{name: "no slash", path: "/ui", status: http.StatusMovedPermanently},
		{name: "unknown file", path: "/ui/nope.js", status: 404},
		{name: "no escape", path: "/ui/../console.go", status: 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusMovedPermanently && resp.Header.Get("Location") != console.Path {
				t.Errorf("Location %q", resp.Header.Get("Location"))
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.typ) || !strings.Contains(string(b), tt.body) {
				t.Errorf("Content-Type %q, body %.200s", resp.Header.Get("Content-Type"), b)
			}
			if tt.status == 200 && resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}
