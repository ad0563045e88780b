// Package rest serves Kafka Connect's REST API (port 8083 in Connect) over a
// Herder, so that curl scripts, kcctl, Connect UIs and Terraform providers
// work against Sluice unchanged: same paths, bodies, status codes and error
// shape ({"error_code": <status>, "message": "..."}).
//
// Writes that reach a follower are forwarded to the leader with Connect's
// forward=true|false query parameter, which bounds forwarding to two hops.
package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// DefaultForwardTimeout bounds a forwarded request when Options.Client is
// nil; it is Connect's REST request timeout (90 s).
const DefaultForwardTimeout = 90 * time.Second

// Options configures NewHandler. The zero value is usable.
type Options struct {
	// Version and Commit are reported by GET /.
	Version, Commit string
	// MaxBodyBytes bounds request bodies; larger ones are answered 413.
	// Default DefaultMaxBodyBytes (1 MiB). Connect itself sets no limit.
	MaxBodyBytes int64
	// Logger receives access logs (Info) and internal errors (Error).
	// Default slog.Default().
	Logger *slog.Logger
	// Client forwards writes to the leader. Default: an http.Client with
	// DefaultForwardTimeout.
	Client *http.Client
	// Loggers is the level registry behind /admin/loggers; pass the one the
	// process's slog handlers read. Default: a new registry at INFO.
	Loggers *Loggers
	// Keys signs the requests forwarded to the leader (see Sign), with
	// SignatureAlgorithm (default DefaultSignatureAlgorithm); a write that
	// must be forwarded before the first key is read is answered 409. With
	// Keys nil, forwarded requests go unsigned (for tests and embedding).
	// The caller's Authorization is never forwarded.
	Keys               KeyRing
	SignatureAlgorithm string
	// Admin says where the /admin/* endpoints are served: with the rest
	// (AdminOnMain, the default), only by NewAdminHandler on an admin
	// listener (AdminSeparate), or nowhere (AdminDisabled), as Connect's
	// admin.listeners (KIP-495) unset, set, or set to "".
	Admin AdminMode
}

// AdminMode is where the /admin/* endpoints are served.
type AdminMode int

// The admin modes (Connect's admin.listeners unset, set, and empty).
const (
	AdminOnMain AdminMode = iota
	AdminSeparate
	AdminDisabled
)

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: DefaultForwardTimeout}
	}
	if o.Loggers == nil {
		o.Loggers = NewLoggers(slog.LevelInfo)
	}
	if o.SignatureAlgorithm == "" {
		o.SignatureAlgorithm = DefaultSignatureAlgorithm
	}
	return o
}

// server holds what every endpoint needs.
type server struct {
	herder Herder
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	// patterns are the registered routes, in registration order.
	patterns []string
}

// handlerFunc serves one endpoint. body is the whole request body, already
// bounded by Options.MaxBodyBytes. A returned error has not been written.
type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte) error

// NewHandler returns the Kafka Connect REST API over h. It is safe for
// concurrent use and holds no goroutines of its own.
func NewHandler(h Herder, opts Options) http.Handler {
	s := newServer(h, opts)
	s.routes()
	if s.opts.Admin == AdminOnMain {
		s.adminRoutes()
	}
	s.mux.HandleFunc("/", s.unmatched)
	return s.accessLog(s.mux)
}

// NewAdminHandler returns the /admin/* endpoints alone, for the admin
// listener of Connect's admin.listeners: every other path is 404 there.
func NewAdminHandler(h Herder, opts Options) http.Handler {
	s := newServer(h, opts)
	s.adminRoutes()
	s.mux.HandleFunc("/", s.unmatched)
	return s.accessLog(s.mux)
}

func newServer(h Herder, opts Options) *server {
	opts = opts.withDefaults()
	return &server{herder: h, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
}

// Routes returns the patterns ("METHOD /path/{param}") that NewHandler
// registers for h with opts, in registration order: what the API serves,
// for checks against its OpenAPI document. h is only looked at for the
// capabilities it has (Operations); a typed nil pointer does.
func Routes(h Herder, opts Options) []string {
	s := newServer(h, opts)
	s.routes()
	if s.opts.Admin == AdminOnMain {
		s.adminRoutes()
	}
	return s.patterns
}

// AdminRoutes returns the patterns NewAdminHandler registers.
func AdminRoutes() []string {
	s := newServer(nil, Options{})
	s.adminRoutes()
	return s.patterns
}

// routes registers every endpoint. Writes (forwarded to the leader) are the
// ones Connect sends through completeOrForwardRequest, plus pause, resume and
// topic reset, which Sluice also performs on the leader only.
func (s *server) routes() {
	const read, write = false, true
	s.route("GET /{$}", read, s.serverInfo)
	s.route("GET /health", read, s.health)
	s.route("GET /openapi.json", read, s.openAPI)

	// Connect's @Path("/") under /connectors answers with or without the
	// trailing slash; kcctl uses the latter.
	for _, p := range []string{"/connectors", "/connectors/{$}"} {
		s.route("GET "+p, read, s.listConnectors)
		s.route("POST "+p, write, s.createConnector)
	}
	s.route("GET /connectors/{name}", read, s.getConnector)
	s.route("DELETE /connectors/{name}", write, s.deleteConnector)
	s.route("GET /connectors/{name}/config", read, s.getConnectorConfig)
	s.route("PUT /connectors/{name}/config", write, s.putConnectorConfig)
	s.route("PATCH /connectors/{name}/config", write, s.patchConnectorConfig)
	s.route("GET /connectors/{name}/status", read, s.connectorStatus)
	s.route("GET /connectors/{name}/tasks", read, s.taskConfigs)
	s.route("GET /connectors/{name}/tasks/{task}/status", read, s.taskStatus)
	s.route("POST /connectors/{name}/tasks/{task}/restart", write, s.restartTask)
	s.route("POST /connectors/{name}/restart", write, s.restartConnector)
	s.route("PUT /connectors/{name}/pause", write, s.pauseConnector)
	s.route("PUT /connectors/{name}/resume", write, s.resumeConnector)
	s.route("PUT /connectors/{name}/stop", write, s.stopConnector)
	s.route("PUT /connectors/{name}/fence", write, s.fenceZombies)
	s.route("GET /connectors/{name}/topics", read, s.activeTopics)
	s.route("PUT /connectors/{name}/topics/reset", write, s.resetActiveTopics)
	s.route("GET /connectors/{name}/offsets", read, s.getOffsets)
	s.route("PATCH /connectors/{name}/offsets", write, s.alterOffsets)
	s.route("DELETE /connectors/{name}/offsets", write, s.resetOffsets)

	for _, p := range []string{"/connector-plugins", "/connector-plugins/{$}"} {
		s.route("GET "+p, read, s.listPlugins)
	}
	s.route("GET /connector-plugins/{plugin}/config", read, s.pluginConfig)
	s.route("PUT /connector-plugins/{plugin}/config/validate", read, s.validateConfig)

	s.operationsRoutes()
}

// adminRoutes registers the /admin/* endpoints (Connect's
// LoggingResource), which admin.listeners may move or turn off.
func (s *server) adminRoutes() {
	const read = false
	for _, p := range []string{"/admin/loggers", "/admin/loggers/{$}"} {
		s.route("GET "+p, read, s.listLoggers)
	}
	s.route("GET /admin/loggers/{logger}", read, s.getLogger)
	s.route("PUT /admin/loggers/{logger}", read, s.setLogger)
}

// route registers h for pattern. It bounds and buffers the body, forwards
// writes when this node is not the leader, and writes returned errors in
// Connect's shape; a panic of h is answered 500 (recoverHandler).
func (s *server) route(pattern string, write bool, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverHandler(w, r)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if write {
			if leader, isLeader := s.herder.Leader(); !isLeader {
				s.forward(w, r, body, leader)
				return
			}
		}
		err = h(w, r, body)
		if err == nil {
			return
		}
		// The leader may have changed between Leader and the call.
		if nl, ok := errors.AsType[*NotLeaderError](err); ok {
			s.forward(w, r, body, nl.LeaderURL)
			return
		}
		s.writeError(w, r, err)
	})
}

// recoverHandler (deferred) answers a panic of a handler or of the herder
// below it 500 with the panic's message in Connect's error shape, as
// Connect's ConnectExceptionMapper answers an uncaught exception, and logs
// it with its stack. Without it net/http would recover the panic too, but
// drop the connection without an answer. http.ErrAbortHandler still
// aborts.
func (s *server) recoverHandler(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.ErrorContext(r.Context(), "REST handler panicked", "method", r.Method, "path", r.URL.Path,
		"panic", p, "stack", string(debug.Stack()))
	if rec, ok := w.(*statusRecorder); ok && rec.wroteHeader {
		panic(http.ErrAbortHandler) // too late for a status: cut the answer short
	}
	writeErrorMessage(w, http.StatusInternalServerError, fmt.Sprintf("%v", p))
}

// unmatched answers what Jersey answers for an unknown path (404) or a known
// path with another method (405), in Connect's error shape.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		writeErrorMessage(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	for _, m := range allowed {
		w.Header().Add("Allow", m)
	}
	writeErrorMessage(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
}

// writeError writes err as Connect's ConnectExceptionMapper would.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status >= http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "REST request failed",
			"method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	writeErrorMessage(w, status, msg)
}

func writeErrorMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorMessage{ErrorCode: status, Message: msg})
}

// jsonBuffers hold answers while they are encoded: a GET /connectors of
// 1,000 connectors is 20 KB, which json.Marshal would allocate afresh on
// every request (and copy once more).
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON is the largest buffer put back in jsonBuffers.
const maxPooledJSON = 1 << 20

// writeJSON writes v with Content-Type application/json, as json.Marshal
// encodes it. It returns nil so handlers can end with "return
// writeJSON(...)".
func writeJSON(w http.ResponseWriter, status int, v any) error {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledJSON {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		// The entities always marshal; this guards a herder's odd offsets.
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(buf).Encode(ErrorMessage{ErrorCode: status, Message: err.Error()})
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n")) // Encode's, which Marshal does not add
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// writeEmpty writes a status with no body and, unlike a JSON answer, no
// Content-Type: Connect clients treat a JSON content type on 202/204 as a
// body to parse.
func writeEmpty(w http.ResponseWriter, status int) error {
	w.WriteHeader(status)
	return nil
}

// accessLog logs one line per request, like Connect's Jetty request log.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "REST request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.RequestURI()),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
			slog.String("user_agent", r.UserAgent()),
		)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// bodyReader returns body as a fresh reader.
func bodyReader(body []byte) io.Reader { return bytes.NewReader(body) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
