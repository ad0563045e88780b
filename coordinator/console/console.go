// Package console is Sluice's web console: plain HTML, CSS and JavaScript
// embedded in the coordinator and served at /ui/ on the REST listener,
// behind the REST API's authentication. It has no build step and loads
// nothing from elsewhere: the browser calls the Kafka Connect REST API and
// Sluice's /sluice/v1/ endpoints (lease history, cost, cluster) of the
// coordinator that served it, and polls them for live updates.
package console

import (
	"embed"
	"net/http"
	"strings"
)

// Path is where the console is served.
const Path = "/ui/"

//go:embed assets
var assets embed.FS

// Handler serves the console's files under Path; GET /ui (no slash)
// redirects to it. Register it for Path and "/ui".
func Handler() http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, Path)
		if !ok {
			http.Redirect(w, r, Path, http.StatusMovedPermanently)
			return
		}
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = "/assets/"+rest, ""
		// The files change with the binary: revalidate (Last-Modified is
		// the zero time for embedded files, so ask every time).
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	})
}
