package main

import (
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// offsetsBody is the body of GET /connectors/{name}/offsets.
type offsetsBody struct {
	Offsets []struct {
		Partition map[string]any `json:"partition"`
		Offset    map[string]any `json:"offset"`
	} `json:"offsets"`
}

// sourceSeq returns the datagen source's committed seq (0 if none).
func sourceSeq(baseURL string) (int64, error) {
	var o offsetsBody
	if err := getJSON(baseURL+"/connectors/orders-source/offsets", &o); err != nil {
		return 0, err
	}
	if len(o.Offsets) == 0 {
		return 0, nil
	}
	seq, ok := o.Offsets[0].Offset["seq"].(float64)
	if len(o.Offsets) != 1 || !ok {
		return 0, fmt.Errorf("unexpected source offsets %+v", o)
	}
	return int64(seq), nil
}

// sinkOffsets returns the sink's committed offsets per partition.
func sinkOffsets(baseURL string) (map[float64]float64, error) {
	var o offsetsBody
	if err := getJSON(baseURL+"/connectors/orders-sink/offsets", &o); err != nil {
		return nil, err
	}
	out := map[float64]float64{}
	for _, e := range o.Offsets {
		p, _ := e.Partition["kafka_partition"].(float64)
		out[p], _ = e.Offset["kafka_offset"].(float64)
	}
	return out, nil
}

// A coordinator killed in the middle of its leases and started again on
// the same broker finds its connectors, configurations, statuses and
// offsets in Kafka, and the pipeline goes on without losing an order.
func TestRestartRecovery(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	out := filepath.Join(t.TempDir(), "orders.jsonl")
	const orders = 2000
	addr := proctest.FreeAddr(t)
	env := coordinatorEnv(broker, addr)

	first := startProcess(t, "coordinator-1st", addr, env)
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if !first.leading() {
			return fmt.Errorf("%s does not lead", first.Name)
		}
		return nil
	})
	source, sink := ordersPipeline(orders, 200, out)
	mustRequest(t, http.MethodPost, first.url()+"/connectors", map[string]any{"name": "orders-source", "config": source}, http.StatusCreated)
	mustRequest(t, http.MethodPost, first.url()+"/connectors", map[string]any{"name": "orders-sink", "config": sink}, http.StatusCreated)
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if err := running(first.url(), "orders-source"); err != nil {
			return err
		}
		return running(first.url(), "orders-sink")
	})

	// Let data flow until both connectors have committed offsets.
	var seqBefore int64
	var sinkBefore map[float64]float64
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		var err error
		if seqBefore, err = sourceSeq(first.url()); err != nil {
			return err
		}
		if sinkBefore, err = sinkOffsets(first.url()); err != nil {
			return err
		}
		if _, lines, err := orderCounts(out); err != nil || lines < 200 || seqBefore == 0 || len(sinkBefore) == 0 {
			return fmt.Errorf("%d orders in the file, source seq %d, sink offsets %v (%v)", lines, seqBefore, sinkBefore, err)
		}
		return nil
	})
	var connectorsBefore []string
	if err := getJSON(first.url()+"/connectors", &connectorsBefore); err != nil {
		t.Fatal(err)
	}
	configsBefore := map[string]map[string]string{}
	for _, name := range connectorsBefore {
		var cfg map[string]string
		if err := getJSON(first.url()+"/connectors/"+name+"/config", &cfg); err != nil {
			t.Fatal(err)
		}
		configsBefore[name] = cfg
	}

	first.Kill()
	_, linesAtKill, err := orderCounts(out)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("killed %s with %d orders in the file, source seq %d, sink offsets %v", first.Name, linesAtKill, seqBefore, sinkBefore)
	if seqBefore >= orders {
		t.Logf("the source had finished before the kill: only the sink was interrupted")
	}

	second := startProcess(t, "coordinator-2nd", addr, env)
	proctest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		status, _, err := request(http.MethodGet, second.url()+"/", nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("REST API not up: %d %v", status, err)
		}
		return nil
	})

	// State read back from the topics, before the new process runs anything.
	var connectorsAfter []string
	if err := getJSON(second.url()+"/connectors", &connectorsAfter); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(connectorsAfter, connectorsBefore) || len(connectorsAfter) != 2 {
		t.Fatalf("connectors after the restart %v, before %v", connectorsAfter, connectorsBefore)
	}
	for name, before := range configsBefore {
		var cfg map[string]string
		if err := getJSON(second.url()+"/connectors/"+name+"/config", &cfg); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(cfg, before) {
			t.Errorf("%s config after the restart %v, before %v", name, cfg, before)
		}
	}
	seqAfter, err := sourceSeq(second.url())
	if err != nil {
		t.Fatal(err)
	}
	if seqAfter < seqBefore {
		t.Errorf("source seq after the restart %d, before %d", seqAfter, seqBefore)
	}
	sinkAfter, err := sinkOffsets(second.url())
	if err != nil {
		t.Fatal(err)
	}
	for p, off := range sinkBefore {
		if sinkAfter[p] < off {
			t.Errorf("sink offset of partition %v after the restart %v, before %v", p, sinkAfter[p], off)
		}
	}

	proctest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		if !second.leading() {
			return fmt.Errorf("%s does not lead", second.Name)
		}
		return nil
	})
	leadAfter := time.Since(killed)
	for _, name := range connectorsBefore {
		proctest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
			var st connectorStatus
			if err := getJSON(second.url()+"/connectors/"+name+"/status", &st); err != nil {
				return err
			}
			if st.Connector.WorkerID != addr {
				return fmt.Errorf("%s status from worker %s, want %s", name, st.Connector.WorkerID, addr)
			}
			return running(second.url(), name)
		})
	}
	proctest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		_, lines, err := orderCounts(out)
		if err != nil {
			return err
		}
		if lines <= linesAtKill {
			return fmt.Errorf("the file has not grown since the kill (%d orders)", lines)
		}
		return nil
	})
	t.Logf("the new process led %s and the file grew again %s after the kill",
		leadAfter.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	dups := awaitAllOrders(t, broker, out, orders)
	proctest.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		seq, err := sourceSeq(second.url())
		if err != nil {
			return err
		}
		if seq != orders {
			return fmt.Errorf("source seq %d, want %d", seq, orders)
		}
		return nil
	})
	t.Logf("all %d orders arrived; %d duplicate lines (at-least-once replays); sink offsets right after the restart %v",
		orders, dups, sinkAfter)
}
