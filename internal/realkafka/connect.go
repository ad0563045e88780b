package realkafka

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ConnectOptions shape an Apache Kafka Connect worker (connect-distributed).
type ConnectOptions struct {
	// GroupID is the worker group (group.id; "connect-cluster" if empty).
	GroupID string
	// ConfigTopic, StatusTopic and OffsetsTopic are the internal topics
	// (connect-configs, connect-status, connect-offsets if empty).
	ConfigTopic, StatusTopic, OffsetsTopic string
	// Props are added to (and override) worker.properties.
	Props map[string]string
}

// Connect is a running Kafka Connect worker.
type Connect struct {
	// URL is the REST API's base URL, http://127.0.0.1:port.
	URL  string
	dir  string
	proc *jvm
}

// StartConnect starts a distributed Kafka Connect worker against cluster
// from the same jars, with the file connectors, JSON converter and
// transforms on its class path, and waits (within ctx) until its REST API
// serves /connectors.
func StartConnect(ctx context.Context, c *Cluster, o ConnectOptions) (*Connect, error) {
	libs, err := Libs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("sluice-realkafka-%d-connect-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	w := &Connect{dir: dir}
	addr, err := FreeAddr()
	if err != nil {
		w.Close()
		return nil, err
	}
	w.URL = "http://" + addr
	rf := fmt.Sprint(min(c.opts.ReplicationFactor, len(c.nodes)))
	props := map[string]string{
		"bootstrap.servers":                       c.Bootstrap(),
		"group.id":                                or(o.GroupID, "connect-cluster"),
		"config.storage.topic":                    or(o.ConfigTopic, "connect-configs"),
		"status.storage.topic":                    or(o.StatusTopic, "connect-status"),
		"offset.storage.topic":                    or(o.OffsetsTopic, "connect-offsets"),
		"config.storage.replication.factor":       rf,
		"status.storage.replication.factor":       rf,
		"offset.storage.replication.factor":       rf,
		"key.converter":                           "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                         "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":            "true",
		"value.converter.schemas.enable":          "true",
		"offset.flush.interval.ms":                "1000",
		"listeners":                               "http://" + addr,
		"rest.advertised.host.name":               "127.0.0.1",
		"rest.advertised.port":                    addr[strings.LastIndex(addr, ":")+1:],
		"plugin.discovery":                        "only_scan",
		"scheduled.rebalance.max.delay.ms":        "0",
		"task.shutdown.graceful.timeout.ms":       "2000",
		"session.timeout.ms":                      "10000",
		"heartbeat.interval.ms":                   "1000",
		"topic.creation.enable":                   "true",
		"connector.client.config.override.policy": "All",
	}
	maps.Copy(props, o.Props)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	path := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		w.Close()
		return nil, err
	}
	if err := writeLog4j(dir); err != nil {
		w.Close()
		return nil, err
	}
	if w.proc, err = startJVM(libs, dir, filepath.Join(dir, "connect.log"),
		"org.apache.kafka.connect.cli.ConnectDistributed", path); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.waitReady(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *Connect) waitReady(ctx context.Context) error {
	var last error
	for {
		if w.proc.exited() {
			return fmt.Errorf("realkafka: Connect exited: %v\n%s", w.proc.err, w.Log())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL+"/connectors", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /connectors: %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("realkafka: Connect not ready: %v (%w)\n%s", last, ctx.Err(), w.Log())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Log is the end of the worker's log.
func (w *Connect) Log() string {
	b, _ := os.ReadFile(filepath.Join(w.dir, "connect.log"))
	return lastLines(string(b), 80)
}

// Stop stops the worker gracefully (SIGTERM: its tasks stop and commit
// their offsets), killing it after 30 s.
func (w *Connect) Stop() {
	if w.proc != nil {
		w.proc.stop(30 * time.Second)
	}
}

// Close kills the worker if it runs and removes its folder.
func (w *Connect) Close() {
	if w.proc != nil {
		w.proc.kill()
	}
	os.RemoveAll(w.dir)
}

// StartConnectT starts a worker for a test and stops it when the test
// ends, logging its log if the test failed.
func StartConnectT(tb testing.TB, c *Cluster, o ConnectOptions) *Connect {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	start := time.Now()
	w, err := StartConnect(ctx, c, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("realkafka: Apache Kafka Connect %s at %s, started in %s", Version, w.URL, time.Since(start).Round(time.Millisecond))
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("Connect log (last lines):\n%s", w.Log())
		}
		w.Close()
	})
	return w
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Pid is the worker's process id (for CPU and memory figures).
func (w *Connect) Pid() int { return w.proc.cmd.Process.Pid }
