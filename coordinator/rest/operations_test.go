package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// opsHerder is a fake herder with the Operations capability; its answers
// name it.
type opsHerder struct {
	*fakeHerder
	name string
}

func (o opsHerder) Cluster(context.Context) (ClusterInfo, error) {
	return ClusterInfo{URL: o.name, Invoker: "inprocess"}, nil
}

func (o opsHerder) ConnectorSummaries(context.Context) (map[string]ConnectorSummary, error) {
	return map[string]ConnectorSummary{o.name: {Total: CostInfo{Leases: 1}}}, nil
}

func (o opsHerder) ConnectorLeases(_ context.Context, name string) (ConnectorLeases, error) {
	if name != "c" {
		return ConnectorLeases{}, ConnectorNotFound(name)
	}
	return ConnectorLeases{Name: o.name, Tasks: []TaskLeases{}}, nil
}

// The lease history and summaries are the leader's (a follower forwards
// them); the cluster view is the answering coordinator's; without the
// capability the paths are unknown.
func TestOperationsRoutes(t *testing.T) {
	serve := func(h Herder) *httptest.Server {
		srv := httptest.NewServer(NewHandler(h, Options{Logger: discardLogger(), Version: "v-test"}))
		t.Cleanup(srv.Close)
		return srv
	}
	leader := serve(opsHerder{newFakeHerder(), "leader"})
	followerHerder := newFakeHerder()
	followerHerder.isLeader, followerHerder.leaderURL = false, leader.URL
	follower := serve(opsHerder{followerHerder, "follower"})
	plain := serve(newFakeHerder())

	for _, tt := range []struct {
		name, url string
		status    int
		check     func(body []byte) bool
	}{
		{name: "leases from the leader", url: follower.URL + "/sluice/v1/connectors/c/leases", status: 200,
			check: func(b []byte) bool { var l ConnectorLeases; return json.Unmarshal(b, &l) == nil && l.Name == "leader" }},
		{name: "summaries from the leader", url: follower.URL + "/sluice/v1/connectors", status: 200,
			check: func(b []byte) bool {
				var m map[string]ConnectorSummary
				return json.Unmarshal(b, &m) == nil && m["leader"].Total.Leases == 1
			}},
		{name: "cluster from the follower", url: follower.URL + "/sluice/v1/cluster", status: 200,
			check: func(b []byte) bool {
				var c ClusterInfo
				return json.Unmarshal(b, &c) == nil && c.URL == "follower" && c.Version == "v-test"
			}},
		{name: "unknown connector", url: leader.URL + "/sluice/v1/connectors/nope/leases", status: 404,
			check: func(b []byte) bool { var e ErrorMessage; return json.Unmarshal(b, &e) == nil && e.ErrorCode == 404 }},
		{name: "without the capability", url: plain.URL + "/sluice/v1/cluster", status: 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, http.MethodGet, tt.url, "")
			if resp.StatusCode != tt.status || tt.check != nil && !tt.check([]byte(body)) {
				t.Errorf("GET %s: %d %s", tt.url, resp.StatusCode, body)
			}
		})
	}
}
