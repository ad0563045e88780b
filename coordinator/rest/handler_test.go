package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// sinkConfig is the configuration of Connect's quickstart file sink.
var sinkConfig = map[string]string{
	"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
	"tasks.max":       "1",
	"topics":          "test-topic",
	"file":            "/tmp/test.sink.txt",
}

// newTestHandler returns a handler over a fake holding "local-file-sink"
// (RUNNING) and "stopped-sink" (STOPPED).
func newTestHandler(t *testing.T) (http.Handler, *fakeHerder) {
	t.Helper()
	f := newFakeHerder()
	f.add("local-file-sink", StateRunning, sinkConfig)
	f.add("stopped-sink", StateStopped, sinkConfig)
	return NewHandler(f, Options{Version: "3.9.0", Commit: "a60e31147e6b01ee", Logger: discardLogger(), MaxBodyBytes: 4096}), f
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func do(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// requireJSONEqual compares two JSON documents structurally.
func requireJSONEqual(t *testing.T, got []byte, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

func requireEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func errorBody(status int, msg string) string {
	b, _ := json.Marshal(ErrorMessage{ErrorCode: status, Message: msg})
	return string(b)
}

const notStoppedMessage = "Connectors must be in the STOPPED state before their offsets can be modified. " +
	"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/local-file-sink/stop' endpoint"

func TestEndpoints(t *testing.T) {
	bigBody := `{"name":"big","config":{"connector.class":"FileStreamSink","file":"` + strings.Repeat("x", 5000) + `"}}`
	tests := []struct {
		name   string
		method string
		target string
		body   string
		status int
		want   string // JSON body (bodies_test.go has the longer ones)
		header map[string]string
		empty  bool // no body and no Content-Type
	}{
		{name: "server info", method: "GET", target: "/", status: 200, want: serverInfoBody},
		{name: "health", method: "GET", target: "/health", status: 200, want: healthBody},
		{name: "list", method: "GET", target: "/connectors", status: 200, want: `["local-file-sink","stopped-sink"]`},
		{name: "list trailing slash", method: "GET", target: "/connectors/", status: 200, want: `["local-file-sink","stopped-sink"]`},
		{name: "expand status", method: "GET", target: "/connectors?expand=status", status: 200, want: connectorsExpandStatusBody},
		{name: "expand info", method: "GET", target: "/connectors?expand=info", status: 200, want: connectorsExpandInfoBody},
		{name: "expand both", method: "GET", target: "/connectors?expand=status&expand=info", status: 200, want: connectorsExpandBothBody},
		{name: "expand unknown", method: "GET", target: "/connectors?expand=bogus", status: 200, want: `{"local-file-sink":{},"stopped-sink":{}}`},

		{name: "create", method: "POST", target: "/connectors", status: 201, want: createConnectorBody,
			body:   `{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test"}}`,
			header: map[string]string{"Location": "/connectors/local-file-source", "Content-Type": "application/json"}},
		{name: "create coerces numbers and trims the name", method: "POST", target: "/connectors/", status: 201,
			body:   `{"name":" n2 ","config":{"connector.class":"FileStreamSink","tasks.max":2}}`,
			want:   `{"name":"n2","config":{"connector.class":"FileStreamSink","tasks.max":"2","name":"n2"},"tasks":[{"connector":"n2","task":0},{"connector":"n2","task":1}],"type":"sink"}`,
			header: map[string]string{"Location": "/connectors/n2"}},
		{name: "create stopped", method: "POST", target: "/connectors", status: 201,
			body: `{"name":"s","config":{"connector.class":"FileStreamSink"},"initial_state":"stopped"}`,
			want: `{"name":"s","config":{"connector.class":"FileStreamSink","name":"s"},"tasks":[],"type":"sink"}`},
		{name: "create bad initial state", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"s","config":{"connector.class":"FileStreamSink"},"initial_state":"asleep"}`,
			want: errorBody(400, `Invalid initial_state "asleep": must be one of RUNNING, PAUSED, STOPPED`)},
		{name: "create existing", method: "POST", target: "/connectors", status: 409,
			body: `{"name":"local-file-sink","config":{"connector.class":"FileStreamSink"}}`,
			want: errorBody(409, "Connector local-file-sink already exists")},
		{name: "create invalid config", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"bad","config":{"connector.class":"FileStreamSource","tasks.max":"x"}}`,
			want: errorBody(400, "Connector configuration is invalid and contains the following 3 error(s):\n"+
				"Invalid value x for configuration tasks.max: Not a number of type INT\n"+
				"Invalid value null for configuration tasks.max: Value must be non-null\n"+
				"Missing required configuration \"topic\" which has no default value.\n"+
				"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")},
		{name: "create name mismatch", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"a","config":{"name":"b","connector.class":"FileStreamSink"}}`,
			want: errorBody(400, "Connector name configuration (b) doesn't match connector name in the URL (a)")},
		{name: "create bare config", method: "POST", target: "/connectors", status: 400,
			body: `{"connector.class":"FileStreamSink","name":"a"}`,
			want: errorBody(400, `Unrecognized field "connector.class" (class CreateConnectorRequest), not marked as ignorable (3 known properties: "name", "config", "initial_state")`)},
		{name: "create without config", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"a"}`, want: errorBody(400, `The connector configuration ("config") is required`)},
		{name: "create malformed JSON", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"a",}`, want: errorBody(400, "Request body is not valid JSON: invalid character '}' looking for beginning of object key string")},
		{name: "create object value", method: "POST", target: "/connectors", status: 400,
			body: `{"name":"a","config":{"x":{}}}`, want: errorBody(400, `Cannot deserialize the value of configuration "x" as a string: found an object`)},
		{name: "create oversized", method: "POST", target: "/connectors", status: 413, body: bigBody,
			want: errorBody(413, "Request body is larger than the limit of 4096 bytes")},

		{name: "get", method: "GET", target: "/connectors/local-file-sink", status: 200, want: connectorInfoBody},
		{name: "get unknown", method: "GET", target: "/connectors/nope", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "get config", method: "GET", target: "/connectors/local-file-sink/config", status: 200, want: connectorConfigBody},
		{name: "get config unknown", method: "GET", target: "/connectors/nope/config", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "put config creates", method: "PUT", target: "/connectors/new-sink/config", status: 201,
			body:   `{"connector.class":"FileStreamSink","file":"/tmp/new.txt"}`,
			want:   `{"name":"new-sink","config":{"connector.class":"FileStreamSink","file":"/tmp/new.txt","name":"new-sink"},"tasks":[{"connector":"new-sink","task":0}],"type":"sink"}`,
			header: map[string]string{"Location": "/connectors/new-sink"}},
		{name: "put config updates", method: "PUT", target: "/connectors/local-file-sink/config", status: 200,
			body: `{"connector.class":"FileStreamSink","tasks.max":"2","name":"local-file-sink"}`,
			want: `{"name":"local-file-sink","config":{"connector.class":"FileStreamSink","tasks.max":"2","name":"local-file-sink"},"tasks":[{"connector":"local-file-sink","task":0},{"connector":"local-file-sink","task":1}],"type":"sink"}`},
		{name: "put config name mismatch", method: "PUT", target: "/connectors/local-file-sink/config", status: 400,
			body: `{"connector.class":"FileStreamSink","name":"other"}`,
			want: errorBody(400, "Connector name configuration (other) doesn't match connector name in the URL (local-file-sink)")},
		{name: "put config null value", method: "PUT", target: "/connectors/local-file-sink/config", status: 400,
			body: `{"connector.class":"FileStreamSink","file":null}`, want: errorBody(400, `The value of configuration "file" must not be null`)},
		{name: "put config array", method: "PUT", target: "/connectors/local-file-sink/config", status: 400,
			body: `["a"]`, want: errorBody(400, "Cannot deserialize a configuration map of strings from JSON array: the request body must be a JSON object")},
		{name: "patch removes null keys", method: "PATCH", target: "/connectors/local-file-sink/config", status: 200,
			body: `{"file":null,"tasks.max":"3"}`,
			want: `{"name":"local-file-sink","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","tasks.max":"3","topics":"test-topic","name":"local-file-sink"},"tasks":[{"connector":"local-file-sink","task":0},{"connector":"local-file-sink","task":1},{"connector":"local-file-sink","task":2}],"type":"sink"}`},
		{name: "patch unknown", method: "PATCH", target: "/connectors/nope/config", status: 404, body: `{"file":"x"}`,
			want: errorBody(404, "Connector nope not found")},
		{name: "patch rename", method: "PATCH", target: "/connectors/local-file-sink/config", status: 400, body: `{"name":"x"}`,
			want: errorBody(400, "Connector name configuration (x) doesn't match connector name in the URL (local-file-sink)")},

		{name: "status", method: "GET", target: "/connectors/local-file-sink/status", status: 200, want: connectorStatusBody},
		{name: "status unknown", method: "GET", target: "/connectors/nope/status", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "tasks", method: "GET", target: "/connectors/local-file-sink/tasks", status: 200, want: tasksBody},
		{name: "tasks of stopped", method: "GET", target: "/connectors/stopped-sink/tasks", status: 200, want: `[]`},
		{name: "task status", method: "GET", target: "/connectors/local-file-sink/tasks/0/status", status: 200, want: taskStatusBody},
		{name: "task status unknown", method: "GET", target: "/connectors/local-file-sink/tasks/7/status", status: 404,
			want: errorBody(404, "No status found for task local-file-sink-7")},
		{name: "task id not a number", method: "GET", target: "/connectors/local-file-sink/tasks/x/status", status: 404,
			want: errorBody(404, "HTTP 404 Not Found")},
		{name: "task restart", method: "POST", target: "/connectors/local-file-sink/tasks/0/restart", status: 204, empty: true},
		{name: "task restart unknown", method: "POST", target: "/connectors/local-file-sink/tasks/3/restart", status: 404,
			want: errorBody(404, "No status found for task local-file-sink-3")},
		{name: "restart", method: "POST", target: "/connectors/local-file-sink/restart", status: 204, empty: true},
		{name: "restart with explicit false", method: "POST", target: "/connectors/local-file-sink/restart?includeTasks=false&onlyFailed=false", status: 204, empty: true},
		{name: "restart include tasks", method: "POST", target: "/connectors/local-file-sink/restart?includeTasks=true&onlyFailed=false", status: 202,
			want: restartIncludeTasksBody, header: map[string]string{"Content-Type": "application/json"}},
		{name: "restart unknown", method: "POST", target: "/connectors/nope/restart", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "pause", method: "PUT", target: "/connectors/local-file-sink/pause", status: 202, empty: true},
		{name: "pause unknown", method: "PUT", target: "/connectors/nope/pause", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "resume", method: "PUT", target: "/connectors/local-file-sink/resume", status: 202, empty: true},
		{name: "stop", method: "PUT", target: "/connectors/local-file-sink/stop", status: 204, empty: true},
		{name: "fence", method: "PUT", target: "/connectors/local-file-sink/fence", status: 204, empty: true},
		{name: "fence unknown", method: "PUT", target: "/connectors/nope/fence", status: 404,
			want: `{"error_code":404,"message":"Connector nope not found"}`},
		{name: "delete", method: "DELETE", target: "/connectors/local-file-sink", status: 204, empty: true},
		{name: "delete unknown", method: "DELETE", target: "/connectors/nope", status: 404, want: errorBody(404, "Connector nope not found")},
		{name: "topics", method: "GET", target: "/connectors/local-file-sink/topics", status: 200, want: activeTopicsBody},
		{name: "topics reset", method: "PUT", target: "/connectors/local-file-sink/topics/reset", status: 202, empty: true},

		{name: "offsets", method: "GET", target: "/connectors/stopped-sink/offsets", status: 200, want: `{"offsets":[]}`},
		{name: "alter offsets while running", method: "PATCH", target: "/connectors/local-file-sink/offsets", status: 400,
			body: `{"offsets":[{"partition":{"kafka_topic":"test-topic","kafka_partition":0},"offset":{"kafka_offset":5}}]}`,
			want: errorBody(400, notStoppedMessage)},
		{name: "alter offsets", method: "PATCH", target: "/connectors/stopped-sink/offsets", status: 200,
			body: `{"offsets":[{"partition":{"kafka_topic":"test-topic","kafka_partition":0},"offset":{"kafka_offset":5}}]}`,
			want: offsetsAlteredBody},
		{name: "alter offsets empty", method: "PATCH", target: "/connectors/stopped-sink/offsets", status: 400, body: `{"offsets":[]}`,
			want: errorBody(400, "Partitions / offsets need to be provided for an alter offsets request")},
		{name: "alter offsets null partition", method: "PATCH", target: "/connectors/stopped-sink/offsets", status: 400,
			body: `{"offsets":[{"partition":null,"offset":null}]}`,
			want: errorBody(400, "The partition for a connector offset cannot be null or missing")},
		{name: "alter offsets missing partition", method: "PATCH", target: "/connectors/stopped-sink/offsets", status: 400,
			body: `{"offsets":[{"offset":{"kafka_offset":5}}]}`,
			want: errorBody(400, "The partition for a connector offset cannot be null or missing")},
		{name: "alter offsets unknown field", method: "PATCH", target: "/connectors/stopped-sink/offsets", status: 400, body: `{"offset":[]}`,
			want: errorBody(400, `Request body is not a valid ConnectorOffsets: json: unknown field "offset"`)},
		{name: "reset offsets", method: "DELETE", target: "/connectors/stopped-sink/offsets", status: 200, want: offsetsResetBody},
		{name: "reset offsets while running", method: "DELETE", target: "/connectors/local-file-sink/offsets", status: 400,
			want: errorBody(400, notStoppedMessage)},

		{name: "plugins", method: "GET", target: "/connector-plugins", status: 200, want: connectorPluginsBody},
		{name: "plugins trailing slash", method: "GET", target: "/connector-plugins/", status: 200, want: connectorPluginsBody},
		{name: "all plugins", method: "GET", target: "/connector-plugins?connectorsOnly=false", status: 200, want: connectorPluginsAllBody},
		{name: "plugin config", method: "GET", target: "/connector-plugins/FileStreamSource/config", status: 200, want: pluginConfigBody},
		{name: "plugin config unknown", method: "GET", target: "/connector-plugins/Nope/config", status: 404, want: errorBody(404, "Unknown plugin Nope.")},
		{name: "validate", method: "PUT", target: "/connector-plugins/FileStreamSourceConnector/config/validate", status: 200, want: validateBody,
			body: `{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","name":"v","tasks.max":"x"}`},
		{name: "validate hides passwords", method: "PUT", target: "/connector-plugins/SecretSink/config/validate", status: 200, want: validatePasswordBody,
			body: `{"connector.class":"com.example.SecretSinkConnector","name":"v","api.key":"s3cr3t"}`},
		{name: "validate type mismatch", method: "PUT", target: "/connector-plugins/FileStreamSink/config/validate", status: 400,
			body: `{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector"}`,
			want: errorBody(400, "Included connector type org.apache.kafka.connect.file.FileStreamSourceConnector does not match request type FileStreamSink")},

		{name: "unknown path", method: "GET", target: "/nope", status: 404, want: errorBody(404, "HTTP 404 Not Found")},
		{name: "wrong method", method: "DELETE", target: "/connectors", status: 405, want: errorBody(405, "HTTP 405 Method Not Allowed"),
			header: map[string]string{"Allow": "GET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t)
			rec := do(t, h, tt.method, tt.target, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			for k, v := range tt.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			switch {
			case tt.empty:
				if rec.Body.Len() != 0 {
					t.Errorf("body %q, want none", rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "" {
					t.Errorf("Content-Type %q on an empty %d", ct, rec.Code)
				}
			default:
				requireJSONEqual(t, rec.Body.Bytes(), []byte(tt.want))
			}
			if !tt.empty && rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q, want application/json", rec.Header().Get("Content-Type"))
			}
		})
	}
}

// TestStateChanges checks that writes reach the herder: the same requests a
// user makes with curl, one after the other.
func TestStateChanges(t *testing.T) {
	h, _ := newTestHandler(t)
	steps := []struct {
		name   string
		method string
		target string
		body   string
		status int
		want   string
	}{
		{name: "pause", method: "PUT", target: "/connectors/local-file-sink/pause", status: 202},
		{name: "paused", method: "GET", target: "/connectors/local-file-sink/status", status: 200,
			want: `{"name":"local-file-sink","connector":{"state":"PAUSED","worker_id":"fakehost:8083"},"tasks":[{"id":0,"state":"PAUSED","worker_id":"fakehost:8083"}],"type":"sink"}`},
		{name: "stop", method: "PUT", target: "/connectors/local-file-sink/stop", status: 204},
		{name: "alter", method: "PATCH", target: "/connectors/local-file-sink/offsets", status: 200,
			body: `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":9007199254740993}}]}`},
		{name: "offsets keep precision", method: "GET", target: "/connectors/local-file-sink/offsets", status: 200,
			want: `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":9007199254740993}}]}`},
		{name: "reset", method: "DELETE", target: "/connectors/local-file-sink/offsets", status: 200},
		{name: "reset done", method: "GET", target: "/connectors/local-file-sink/offsets", status: 200, want: `{"offsets":[]}`},
		{name: "topics reset", method: "PUT", target: "/connectors/local-file-sink/topics/reset", status: 202},
		{name: "no topics", method: "GET", target: "/connectors/local-file-sink/topics", status: 200, want: `{"local-file-sink":{"topics":[]}}`},
		{name: "delete", method: "DELETE", target: "/connectors/local-file-sink", status: 204},
		{name: "gone", method: "GET", target: "/connectors", status: 200, want: `["stopped-sink"]`},
	}
	for _, st := range steps {
		rec := do(t, h, st.method, st.target, st.body)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d; body %s", st.name, rec.Code, st.status, rec.Body)
		}
		if st.want != "" {
			requireJSONEqual(t, rec.Body.Bytes(), []byte(st.want))
		}
	}
}

// TestPasswordNotHiddenInConfig checks that GET .../config shows values as
// submitted, as Connect does; only validate hides passwords.
func TestPasswordNotHiddenInConfig(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := do(t, h, "POST", "/connectors", `{"name":"s","config":{"connector.class":"SecretSink","api.key":"s3cr3t"}}`)
	requireEqual(t, rec.Code, 201)
	rec = do(t, h, "GET", "/connectors/s/config", "")
	requireJSONEqual(t, rec.Body.Bytes(), []byte(`{"connector.class":"SecretSink","api.key":"s3cr3t","name":"s"}`))
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{name: "not found", err: ConnectorNotFound("c"), status: 404, msg: "Connector c not found"},
		{name: "exists", err: ConnectorExists("c"), status: 409, msg: "Connector c already exists"},
		{name: "bad request", err: &BadRequestError{Message: "bad"}, status: 400, msg: "bad"},
		{name: "conflict default", err: &ConflictError{}, status: 409, msg: ConflictMessage},
		{name: "conflict stale", err: &ConflictError{Message: StaleConfigMessage}, status: 409, msg: StaleConfigMessage},
		{name: "status", err: &StatusError{StatusCode: 403, Message: "Topic tracking is disabled."}, status: 403, msg: "Topic tracking is disabled."},
		{name: "no leader", err: &NotLeaderError{}, status: 409, msg: NoLeaderMessage},
		{name: "wrapped", err: errorsJoin(ConnectorNotFound("c")), status: 404, msg: "Connector c not found"},
		{name: "other", err: io.ErrUnexpectedEOF, status: 500, msg: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := errorStatus(tt.err)
			requireEqual(t, status, tt.status)
			requireEqual(t, msg, tt.msg)
		})
	}
}

func errorsJoin(err error) error { return fmt.Errorf("herder: %w", err) }

// panickyHerder is the fake, except that ConnectorStatus panics: a bug of
// the herder or of a plugin it calls.
type panickyHerder struct{ *fakeHerder }

func (panickyHerder) ConnectorStatus(context.Context, string) (ConnectorStateInfo, error) {
	panic("boom in ConnectorStatus")
}

// A handler that panics is answered 500 with the panic's message in
// Connect's error shape (not a dropped connection), and the handler goes
// on serving the next requests on the same connection.
func TestHandlerPanicIs500(t *testing.T) {
	srv := httptest.NewServer(NewHandler(panickyHerder{newFakeHerder()}, Options{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	for range 2 {
		resp, err := srv.Client().Get(srv.URL + "/connectors/local-file-sink/status")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `{"error_code":500,"message":"boom in ConnectorStatus"}`; resp.StatusCode != 500 || string(body) != want {
			t.Fatalf("GET status: %d %s, want 500 %s", resp.StatusCode, body, want)
		}
		resp, err = srv.Client().Get(srv.URL + "/connectors")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /connectors after the panic: %s", resp.Status)
		}
	}
}
