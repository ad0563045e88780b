package rest

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func newLoggersHandler(t *testing.T, h Herder) (http.Handler, *Loggers) {
	t.Helper()
	loggers := NewLoggers(slog.LevelInfo)
	loggers.now = func() time.Time { return time.UnixMilli(1696000000000) }
	loggers.Leveler("sluice.coordinator")
	loggers.Leveler("sluice.coordinator.rest")
	loggers.Leveler("other")
	return NewHandler(h, Options{Logger: discardLogger(), Loggers: loggers}), loggers
}

func TestLoggerEndpoints(t *testing.T) {
	type step struct {
		method, target, body string
		status               int
		want                 string // JSON, or "" for an empty body
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "initial levels", steps: []step{
			{"GET", "/admin/loggers", "", 200, `{"root":{"level":"INFO","last_modified":null}}`},
			{"GET", "/admin/loggers/", "", 200, `{"root":{"level":"INFO","last_modified":null}}`},
			{"GET", "/admin/loggers/ROOT", "", 200, `{"level":"INFO","last_modified":null}`},
			{"GET", "/admin/loggers/sluice.coordinator", "", 200, `{"level":"INFO","last_modified":null}`},
			{"GET", "/admin/loggers/nope", "", 404, errorBody(404, "Logger nope not found.")},
		}},
		{name: "set a namespace", steps: []step{
			{"PUT", "/admin/loggers/sluice", `{"level":"debug"}`, 200, `["sluice","sluice.coordinator","sluice.coordinator.rest"]`},
			{"GET", "/admin/loggers/sluice.coordinator.rest", "", 200, `{"level":"DEBUG","last_modified":1696000000000}`},
			{"GET", "/admin/loggers/other", "", 200, `{"level":"INFO","last_modified":null}`},
			{"GET", "/admin/loggers", "", 200, `{"root":{"level":"INFO","last_modified":null},` +
				`"sluice":{"level":"DEBUG","last_modified":1696000000000},` +
				`"sluice.coordinator":{"level":"DEBUG","last_modified":1696000000000},` +
				`"sluice.coordinator.rest":{"level":"DEBUG","last_modified":1696000000000}}`},
		}},
		{name: "unchanged level is listed but not modified", steps: []step{
			{"PUT", "/admin/loggers/other?scope=worker", `{"level":"INFO"}`, 200, `["other"]`},
			{"GET", "/admin/loggers/other", "", 200, `{"level":"INFO","last_modified":null}`},
		}},
		{name: "root sets everything", steps: []step{
			{"PUT", "/admin/loggers/root", `{"level":"WARN"}`, 200, `["other","root","sluice.coordinator","sluice.coordinator.rest"]`},
			{"GET", "/admin/loggers/other", "", 200, `{"level":"WARN","last_modified":1696000000000}`},
		}},
		{name: "cluster scope", steps: []step{
			{"PUT", "/admin/loggers/other?scope=cluster", `{"level":"ERROR"}`, 204, ""},
			{"GET", "/admin/loggers/other", "", 200, `{"level":"ERROR","last_modified":1696000000000}`},
		}},
		{name: "unknown scope means worker", steps: []step{
			{"PUT", "/admin/loggers/other?scope=galaxy", `{"level":"TRACE"}`, 200, `["other"]`},
		}},
		{name: "bad requests", steps: []step{
			{"PUT", "/admin/loggers/other", `{"lvl":"INFO"}`, 400, errorBody(400, "Desired 'level' parameter was not specified in request.")},
			{"PUT", "/admin/loggers/other", `{"level":"LOUD"}`, 404, errorBody(404, "invalid log level 'LOUD'.")},
			{"PUT", "/admin/loggers/other", `{"level":`, 400, errorBody(400, "Request body is not valid JSON: unexpected end of JSON input")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newLoggersHandler(t, newFakeHerder())
			for _, st := range tt.steps {
				rec := do(t, h, st.method, st.target, st.body)
				if rec.Code != st.status {
					t.Fatalf("%s %s: status %d, want %d; body %s", st.method, st.target, rec.Code, st.status, rec.Body)
				}
				if st.want == "" {
					requireEqual(t, rec.Body.Len(), 0)
					requireEqual(t, rec.Header().Get("Content-Type"), "")
					continue
				}
				requireJSONEqual(t, rec.Body.Bytes(), []byte(st.want))
			}
		})
	}
}

// clusterHerder records cluster-scope level changes.
type clusterHerder struct {
	*fakeHerder
	set []string
}

func (c *clusterHerder) SetClusterLoggerLevel(_ context.Context, namespace, level string) error {
	c.set = append(c.set, namespace+"="+level)
	return nil
}

func TestClusterScopeUsesHerder(t *testing.T) {
	ch := &clusterHerder{fakeHerder: newFakeHerder()}
	h, loggers := newLoggersHandler(t, ch)
	rec := do(t, h, "PUT", "/admin/loggers/other?scope=CLUSTER", `{"level":"DEBUG"}`)
	requireEqual(t, rec.Code, 204)
	requireEqual(t, ch.set, []string{"other=DEBUG"})
	// The herder applies it everywhere, this node included, when it
	// reads the change back; the handler does not apply it twice.
	lvl, _ := loggers.Level("other")
	requireEqual(t, lvl.Level, "INFO")
}

func TestLevelerFollowsChanges(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		level     string
		logger    string
		want      slog.Level
	}{
		{name: "child inherits", namespace: "sluice", level: "DEBUG", logger: "sluice.coordinator.rest", want: slog.LevelDebug},
		{name: "sibling untouched", namespace: "sluice", level: "DEBUG", logger: "other", want: slog.LevelInfo},
		{name: "root", namespace: "root", level: "ERROR", logger: "other", want: slog.LevelError},
		{name: "off", namespace: "other", level: "off", logger: "other", want: levels[0].level},
		{name: "trace", namespace: "other", level: "TRACE", logger: "other", want: slog.LevelDebug - 4},
		{name: "later logger inherits", namespace: "sluice", level: "WARN", logger: "sluice.new", want: slog.LevelWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLoggers(slog.LevelInfo)
			leveler := l.Leveler(tt.logger)
			if tt.logger == "sluice.new" {
				if _, err := l.SetLevel(tt.namespace, tt.level); err != nil {
					t.Fatal(err)
				}
				requireEqual(t, l.Leveler(tt.logger).Level(), tt.want)
				return
			}
			if _, err := l.SetLevel(tt.namespace, tt.level); err != nil {
				t.Fatal(err)
			}
			requireEqual(t, leveler.Level(), tt.want)
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{name: "upper", in: "DEBUG", want: "DEBUG", ok: true},
		{name: "lower", in: "warn", want: "WARN", ok: true},
		{name: "fatal", in: "Fatal", want: "FATAL", ok: true},
		{name: "all", in: "ALL", want: "ALL", ok: true},
		{name: "unknown", in: "LOUD", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lvl, ok := ParseLevel(tt.in)
			requireEqual(t, ok, tt.ok)
			if ok {
				requireEqual(t, levelName(lvl), tt.want)
			}
		})
	}
}

// PUT /admin/loggers cannot grow the registry without bound: a new logger
// beyond SetMax, or a name longer than MaxLoggerNameLength, is refused with
// 400; existing loggers (and namespaces of them) can still be set.
func TestLoggersCapped(t *testing.T) {
	loggers := NewLoggers(slog.LevelInfo)
	loggers.Leveler("sluice.coordinator") // a component's logger
	loggers.SetMax(3)
	h := NewHandler(newFakeHerder(), Options{Logger: discardLogger(), Loggers: loggers})
	long := strings.Repeat("a", MaxLoggerNameLength+1)
	tests := []struct {
		name, target string
		status       int
	}{
		{"new logger with room", "/admin/loggers/a", 200},
		{"another", "/admin/loggers/b", 200},
		{"full", "/admin/loggers/c", 400},
		{"full, cluster scope", "/admin/loggers/c?scope=cluster", 400},
		{"existing logger", "/admin/loggers/a", 200},
		{"component's logger", "/admin/loggers/sluice.coordinator", 200},
		{"root", "/admin/loggers/root", 200},
		{"name too long", "/admin/loggers/" + long, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, "PUT", tc.target, `{"level":"DEBUG"}`)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 400 && !strings.Contains(rec.Body.String(), "error_code") {
				t.Fatalf("body %s", rec.Body)
			}
		})
	}
	if n := len(loggers.All()); n > 4 { // root and the three allowed
		t.Fatalf("%d loggers with levels", n)
	}
	if _, ok := loggers.Level("c"); ok {
		t.Fatal("refused logger c was registered")
	}
}

// admin.listeners: AdminSeparate serves /admin/* only on NewAdminHandler's
// listener, AdminDisabled nowhere (404 on the main handler, as in Connect).
func TestAdminMode(t *testing.T) {
	tests := []struct {
		name       string
		mode       AdminMode
		mainStatus int
	}{
		{"on the main listener", AdminOnMain, 200},
		{"separate", AdminSeparate, 404},
		{"disabled", AdminDisabled, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Logger: discardLogger(), Admin: tc.mode}
			main := NewHandler(newFakeHerder(), opts)
			for _, m := range []string{"GET", "PUT"} {
				body := ""
				if m == "PUT" {
					body = `{"level":"DEBUG"}`
				}
				if rec := do(t, main, m, "/admin/loggers/root", body); rec.Code != tc.mainStatus {
					t.Fatalf("main %s: status %d, want %d", m, rec.Code, tc.mainStatus)
				}
			}
			if rec := do(t, main, "GET", "/connectors", ""); rec.Code != 200 {
				t.Fatalf("main /connectors: %d", rec.Code)
			}
			admin := NewAdminHandler(newFakeHerder(), opts)
			if rec := do(t, admin, "GET", "/admin/loggers", ""); rec.Code != 200 {
				t.Fatalf("admin listener: %d", rec.Code)
			}
			if rec := do(t, admin, "GET", "/connectors", ""); rec.Code != 404 {
				t.Fatalf("admin listener serves /connectors: %d", rec.Code)
			}
			hasAdmin := slices.Contains(Routes(nil, opts), "GET /admin/loggers")
			if hasAdmin != (tc.mode == AdminOnMain) {
				t.Fatalf("Routes lists the admin endpoints: %v", hasAdmin)
			}
		})
	}
}
