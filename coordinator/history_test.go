package coordinator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
)

// getJSON GETs path from h into v and returns the status.
func getJSON(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return rec.Code
}

// The leases of a source and a sink connector are kept per task and served
// at GET /sluice/v1/connectors/{name}/leases with their records and cost
// (priced as Lambda invocations in dev mode), totalled per connector in
// GET /sluice/v1/connectors, and counted in sluice_lease_gb_seconds_total
// and sluice_lease_estimated_cost_usd_total.
func TestLeaseHistoryAndCost(t *testing.T) {
	h := start(t)
	api := rest.NewHandler(h.coord, rest.Options{Version: "test"})
	const n = 200
	if err := h.coord.Add(datagenProps(n)); err != nil {
		t.Fatal(err)
	}
	err := h.coord.Add(map[string]string{"name": "orders-file-sink", "connector.class": "FileStreamSink", "topics": "orders",
		"file":            filepath.Join(t.TempDir(), "orders.txt"),
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	var sink rest.ConnectorLeases
	var all map[string]rest.ConnectorSummary
	// The sink may deliver records before the source lease that produced
	// them has ended: wait for both.
	waitFor(t, 60*time.Second, "the source's and the sink's leases to cover every record", func() bool {
		if getJSON(t, api, "/sluice/v1/connectors/orders-file-sink/leases", &sink) != http.StatusOK ||
			getJSON(t, api, "/sluice/v1/connectors", &all) != http.StatusOK {
			return false
		}
		return sink.Total.Records >= n && all["orders-datagen"].Total.Records >= n
	})
	if len(sink.Tasks) != 1 || sink.Tasks[0].Task != 0 || len(sink.Tasks[0].Leases) == 0 {
		t.Fatalf("tasks %+v", sink.Tasks)
	}
	var records int64
	for _, l := range sink.Tasks[0].Leases {
		records += l.Records
		if l.Kind != "sink" || l.Status != "succeeded" || len(l.Ranges) == 0 || l.End.Before(l.Start) ||
			l.MemoryMB != 1024 || l.CostUSD < 0.0000002 || l.GBSeconds <= 0 {
			t.Errorf("lease %+v", l)
		}
	}
	if sink.Total.Leases <= 50 && records != sink.Total.Records {
		t.Errorf("kept leases hold %d records, total %d (fewer leases than the ring holds)", records, sink.Total.Records)
	}
	if sink.Total.Requests != sink.Total.Leases || sink.Total.USD <= 0 || sink.Total.GBSeconds <= 0 {
		t.Errorf("total %+v", sink.Total)
	}

	src := all["orders-datagen"]
	if src.LastLease == nil || src.LastLease.Kind != "source" || src.LastLease.MemoryMB != 512 || src.Total.Records < n || src.LastHour.Records < n {
		t.Errorf("datagen summary %+v", src)
	}

	// The sink's lag per partition, from its last check: all caught up.
	waitFor(t, 30*time.Second, "the sink's lag to reach 0", func() bool {
		getJSON(t, api, "/sluice/v1/connectors", &all)
		return all["orders-file-sink"].SinkLag != nil && *all["orders-file-sink"].SinkLag == 0
	})
	if all["orders-datagen"].SinkLag != nil {
		t.Errorf("a source has a sink lag: %d", *all["orders-datagen"].SinkLag)
	}
	getJSON(t, api, "/sluice/v1/connectors/orders-file-sink/leases", &sink)
	var end int64
	for _, p := range sink.SinkLag {
		end += p.End
		if p.Topic != "orders" || p.Lag != 0 || p.Committed != p.End && p.End > 0 {
			t.Errorf("partition lag %+v", p)
		}
	}
	if len(sink.SinkLag) == 0 || end < n || sink.LagChecked == nil {
		t.Errorf("sink lag %+v checked %v: want every partition of orders, %d records in all", sink.SinkLag, sink.LagChecked, n)
	}

	var cluster rest.ClusterInfo
	if code := getJSON(t, api, "/sluice/v1/cluster", &cluster); code != http.StatusOK ||
		cluster.Pricing.Model != "lambda" || cluster.LeaseHistory != 50 || cluster.Leader == "" || cluster.Version != "test" {
		t.Errorf("cluster %d %+v", code, cluster)
	}
	// Without an election the group is this coordinator alone, leading.
	if cs := cluster.Coordinators; len(cs) != 1 || !cs[0].Self || !cs[0].Leader || cs[0].URL != cluster.Leader {
		t.Errorf("coordinators %+v, want this one alone, leading %s", cs, cluster.Leader)
	}
	var e rest.ErrorMessage
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sluice/v1/connectors/nope/leases", nil))
	if _ = json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != http.StatusNotFound || e.ErrorCode != 404 {
		t.Errorf("unknown connector: %d %s", rec.Code, rec.Body)
	}

	text := scrape(t, h.coord.MetricsHandler())
	for _, series := range []string{
		`sluice_lease_gb_seconds_total{connector="orders-file-sink",kind="sink"}`,
		`sluice_lease_estimated_cost_usd_total{connector="orders-datagen",kind="source"}`,
	} {
		if v, ok := sample(text, series); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want more than 0", series, v, ok)
		}
	}
}
