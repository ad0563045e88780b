package coordinator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns the coordinator's /metrics text.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// sample returns the value of the series whose line starts with series.
func sample(text, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// GET /metrics in Prometheus' format: the leases that ended and the records
// they moved, counted by connector, kind and status; statuses by state;
// leadership; and a deleted connector's series are dropped.
func TestMetrics(t *testing.T) {
	h := start(t)
	const n = 200
	if err := h.coord.Add(datagenProps(n)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "orders.txt")
	err := h.coord.Add(map[string]string{"name": "orders-file-sink", "connector.class": "FileStreamSink", "topics": "orders", "file": out,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	defer func() {
		if t.Failed() {
			t.Log(grepSluice(text))
		}
	}()
	waitFor(t, 60*time.Second, "every record counted on both sides", func() bool {
		text = scrape(t, h.coord.MetricsHandler())
		src, _ := sample(text, `sluice_lease_records_total{connector="orders-datagen",kind="source"}`)
		snk, _ := sample(text, `sluice_lease_records_total{connector="orders-file-sink",kind="sink"}`)
		return src >= n && snk >= n
	})
	for _, series := range []string{
		`sluice_leases_total{connector="orders-datagen",kind="source",status="succeeded"}`,
		`sluice_leases_total{connector="orders-file-sink",kind="sink",status="succeeded"}`,
		`sluice_lease_duration_seconds_count{kind="sink"}`,
	} {
		if v, ok := sample(text, series); !ok || v < 1 {
			t.Errorf("%s = %v (present %v), want at least 1", series, v, ok)
		}
	}
	for series, want := range map[string]float64{
		`sluice_leader`:                      1,
		`sluice_connectors{state="RUNNING"}`: 2,
		`sluice_tasks{connector="orders-file-sink",state="RUNNING"}`: 1,
	} {
		if v, ok := sample(text, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if b, ok := sample(text, `sluice_lease_bytes_total{connector="orders-datagen",kind="source"}`); !ok || b < n*100 {
		t.Errorf("source bytes %v, want some 200 bytes a record", b)
	}
	if !strings.Contains(text, "go_goroutines ") || !strings.Contains(text, "process_resident_memory_bytes ") {
		t.Error("no Go runtime or process metrics")
	}

	if err := h.coord.DeleteConnector(t.Context(), "orders-file-sink"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the deleted connector's series gone", func() bool {
		return !strings.Contains(scrape(t, h.coord.MetricsHandler()), `connector="orders-file-sink"`)
	})
}

func grepSluice(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "sluice_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
