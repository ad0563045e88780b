package rest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// node is one coordinator: a fake herder behind a real HTTP server, with
// the forward parameter of every request it received.
type node struct {
	herder *fakeHerder
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []string
}

func newNode(t *testing.T) *node {
	t.Helper()
	n := &node{herder: newFakeHerder()}
	h := NewHandler(n.herder, Options{Logger: discardLogger()})
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.seen = append(n.seen, r.Method+" "+r.URL.Path+" forward="+r.URL.Query().Get("forward"))
		n.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

// follows makes n a follower of leader ("" for no known leader).
func (n *node) follows(leader string) {
	n.herder.mu.Lock()
	defer n.herder.mu.Unlock()
	n.herder.isLeader, n.herder.leaderURL = false, leader
}

func (n *node) requests() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.seen)
}

func send(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

const createBody = `{"name":"fwd","config":{"connector.class":"FileStreamSink"}}`

func TestForwarding(t *testing.T) {
	tests := []struct {
		name     string
		topology func(a, b, c *node) // a receives the client's request
		method   string
		path     string
		body     string
		status   int
		want     string // JSON body, or "" for none
		location string
		// created reports which nodes' herders must hold the connector.
		created [3]bool
		// seen is what each node received, in order.
		seen [3][]string
	}{
		{
			name:     "follower forwards a create to the leader",
			topology: func(a, b, c *node) { a.follows(b.srv.URL) },
			method:   "POST", path: "/connectors", body: createBody, status: 201,
			want:     `{"name":"fwd","config":{"connector.class":"FileStreamSink","name":"fwd"},"tasks":[{"connector":"fwd","task":0}],"type":"sink"}`,
			location: "/connectors/fwd",
			created:  [3]bool{false, true, false},
			seen:     [3][]string{{"POST /connectors forward="}, {"POST /connectors forward=true"}, nil},
		},
		{
			name:     "two hops reach a leader",
			topology: func(a, b, c *node) { a.follows(b.srv.URL); b.follows(c.srv.URL) },
			method:   "POST", path: "/connectors", body: createBody, status: 201,
			location: "/connectors/fwd",
			created:  [3]bool{false, false, true},
			seen: [3][]string{{"POST /connectors forward="}, {"POST /connectors forward=true"},
				{"POST /connectors forward=false"}},
		},
		{
			name: "a third hop is a conflict",
			topology: func(a, b, c *node) {
				a.follows(b.srv.URL)
				b.follows(c.srv.URL)
				c.follows(a.srv.URL)
			},
			method: "POST", path: "/connectors", body: createBody, status: 409,
			want: errorBody(409, ConflictMessage),
			seen: [3][]string{{"POST /connectors forward="}, {"POST /connectors forward=true"},
				{"POST /connectors forward=false"}},
		},
		{
			name:     "no known leader",
			topology: func(a, b, c *node) { a.follows("") },
			method:   "PUT", path: "/connectors/x/pause", status: 409,
			want: errorBody(409, NoLeaderMessage),
			seen: [3][]string{{"PUT /connectors/x/pause forward="}, nil, nil},
		},
		{
			name:     "forwarded 204 stays empty",
			topology: func(a, b, c *node) { a.follows(b.srv.URL); b.herder.add("s", StateRunning, sinkConfig) },
			method:   "PUT", path: "/connectors/s/stop", status: 204,
			seen: [3][]string{{"PUT /connectors/s/stop forward="}, {"PUT /connectors/s/stop forward=true"}, nil},
		},
		{
			name:     "leader's error is relayed",
			topology: func(a, b, c *node) { a.follows(b.srv.URL) },
			method:   "DELETE", path: "/connectors/nope", status: 404,
			want: errorBody(404, "Connector nope not found"),
			seen: [3][]string{{"DELETE /connectors/nope forward="}, {"DELETE /connectors/nope forward=true"}, nil},
		},
		{
			name:     "restart query parameters are kept",
			topology: func(a, b, c *node) { a.follows(b.srv.URL); b.herder.add("s", StateRunning, sinkConfig) },
			method:   "POST", path: "/connectors/s/restart?includeTasks=true", status: 202,
			want: `{"name":"s","connector":{"state":"RESTARTING","worker_id":"fakehost:8083"},"tasks":[{"id":0,"state":"RESTARTING","worker_id":"fakehost:8083"}],"type":"sink"}`,
			seen: [3][]string{{"POST /connectors/s/restart forward="}, {"POST /connectors/s/restart forward=true"}, nil},
		},
		{
			name:     "reads are served locally",
			topology: func(a, b, c *node) { a.follows(b.srv.URL); a.herder.add("s", StateRunning, sinkConfig) },
			method:   "GET", path: "/connectors", status: 200, want: `["s"]`,
			seen: [3][]string{{"GET /connectors forward="}, nil, nil},
		},
		{
			name: "herder's NotLeaderError forwards",
			topology: func(a, b, c *node) {
				a.herder.notLeader, a.herder.leaderURL = true, b.srv.URL
			},
			method: "POST", path: "/connectors", body: createBody, status: 201,
			location: "/connectors/fwd",
			created:  [3]bool{false, true, false},
			seen:     [3][]string{{"POST /connectors forward="}, {"POST /connectors forward=true"}, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := []*node{newNode(t), newNode(t), newNode(t)}
			tt.topology(nodes[0], nodes[1], nodes[2])
			resp, body := send(t, tt.method, nodes[0].srv.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if tt.want != "" {
				requireJSONEqual(t, []byte(body), []byte(tt.want))
			}
			if resp.StatusCode == 204 || resp.StatusCode == 202 && tt.want == "" {
				requireEqual(t, body, "")
				requireEqual(t, resp.Header.Get("Content-Type"), "")
			}
			requireEqual(t, resp.Header.Get("Location"), tt.location)
			for i, n := range nodes {
				_, err := n.herder.ConnectorInfo(t.Context(), "fwd")
				requireEqual(t, err == nil, tt.created[i])
				requireEqual(t, n.requests(), tt.seen[i])
			}
		})
	}
}

func TestForwardToUnreachableLeader(t *testing.T) {
	a := newNode(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	a.follows(gone.URL)
	resp, body := send(t, "POST", a.srv.URL+"/connectors", createBody)
	requireEqual(t, resp.StatusCode, 500)
	if !strings.Contains(body, `"message":"IO Error trying to forward REST request: `) {
		t.Fatalf("body %s", body)
	}
}
