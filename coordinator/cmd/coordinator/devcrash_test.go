package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// logRecords is what a topic holds: the values of its records by
// partition and offset, from the log start to the high watermark.
type logRecords map[kafka.TopicPartition][]string

// readTopics dials the broker and reads every record of topics.
func readTopics(t *testing.T, broker string, topics ...string) (logRecords, map[string][]int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.Dial(ctx, kafka.Config{Brokers: []string{broker}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	all, err := cl.TopicPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tps []kafka.TopicPartition
	for _, topic := range topics {
		for _, p := range all[topic] {
			tps = append(tps, kafka.TopicPartition{Topic: topic, Partition: p})
		}
	}
	wms, err := cl.Watermarks(ctx, tps)
	if err != nil {
		t.Fatal(err)
	}
	out := logRecords{}
	for _, tp := range tps {
		wm := wms[tp]
		if wm.Low != 0 {
			t.Fatalf("%s starts at %d, want 0 (nothing deletes records here)", tp, wm.Low)
		}
		vals := make([]string, 0, wm.High)
		err := cl.ReadRange(ctx, tp, 0, wm.High, 1<<20, func(ms []kafka.Message) error {
			for _, m := range ms {
				if m.Offset != int64(len(vals)) {
					return fmt.Errorf("%s: offset %d after %d records", tp, m.Offset, len(vals))
				}
				vals = append(vals, string(m.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out[tp] = vals
	}
	return out, all
}

// connectorState returns a connector's state and worker id.
func connectorState(baseURL, name string) (string, string, error) {
	var st connectorStatus
	if err := getJSON(baseURL+"/connectors/"+name+"/status", &st); err != nil {
		return "", "", err
	}
	return st.Connector.State, st.Connector.WorkerID, nil
}

// Dev mode (the embedded broker, data under SLUICE_DATA_DIR) killed with
// SIGKILL in the middle of a pipeline and started again in the same folder
// has every topic (auto-created ones included), every record acknowledged
// before the kill at the same offset, every connector's configuration,
// status and committed offsets; the pipeline then goes on and delivers
// every order.
func TestDevModeSurvivesKill9(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	out := filepath.Join(t.TempDir(), "orders.jsonl")
	const orders = 3000
	addr, broker := proctest.FreeAddr(t), proctest.FreeAddr(t)
	env := []string{
		"SLUICE_DATA_DIR=" + data,
		"SLUICE_ALLOWED_PATHS=" + os.TempDir(), // the tests' files are under it
		"SLUICE_EMBEDDED_KAFKA_ADDR=" + broker,
		"SLUICE_REST_LISTENER=" + addr,
		"SLUICE_LEASE_TIMEOUT=6s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN=500ms",
		"SLUICE_RECONCILE_INTERVAL=200ms",
	}
	up := func(p *process) {
		t.Helper()
		proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
			if !p.leading() {
				return fmt.Errorf("%s does not lead", p.Name)
			}
			return nil
		})
	}
	first := startProcess(t, "dev-1st", addr, env)
	up(first)

	source, sink := ordersPipeline(orders, 300, out)
	// A second source writing to a topic that only it uses, "crash", an
	// idle one that stays paused and one created stopped: statuses other
	// than RUNNING survive too.
	crash := maps.Clone(source)
	crash["topic"], crash["count"], crash["rate"] = "crash", "1000000", "1000"
	idle := maps.Clone(source)
	idle["topic"] = "idle"
	for name, cfg := range map[string]map[string]string{"orders-source": source, "orders-sink": sink, "crash-source": crash, "idle-source": idle} {
		mustRequest(t, http.MethodPost, first.url()+"/connectors", map[string]any{"name": name, "config": cfg}, http.StatusCreated)
	}
	mustRequest(t, http.MethodPut, first.url()+"/connectors/idle-source/pause", nil, http.StatusAccepted)
	stopped := maps.Clone(source)
	stopped["topic"] = "stopped"
	mustRequest(t, http.MethodPost, first.url()+"/connectors",
		map[string]any{"name": "stopped-source", "config": stopped, "initial_state": "STOPPED"}, http.StatusCreated)
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		for _, name := range []string{"orders-source", "orders-sink", "crash-source"} {
			if err := running(first.url(), name); err != nil {
				return err
			}
		}
		if st, _, err := connectorState(first.url(), "idle-source"); err != nil || st != "PAUSED" {
			return fmt.Errorf("idle-source %s (%v)", st, err)
		}
		if st, worker, err := connectorState(first.url(), "stopped-source"); err != nil || st != "STOPPED" || worker != addr {
			return fmt.Errorf("stopped-source %s on %q (%v)", st, worker, err)
		}
		return nil
	})

	// Let data flow until all three have committed offsets.
	var seqBefore int64
	var sinkBefore map[float64]float64
	var crashOffsetsBefore offsetsBody
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		var err error
		if seqBefore, err = sourceSeq(first.url()); err != nil {
			return err
		}
		if sinkBefore, err = sinkOffsets(first.url()); err != nil {
			return err
		}
		if err := getJSON(first.url()+"/connectors/crash-source/offsets", &crashOffsetsBefore); err != nil {
			return err
		}
		if _, lines, err := orderCounts(out); err != nil || lines < 300 || seqBefore == 0 || len(sinkBefore) == 0 || len(crashOffsetsBefore.Offsets) == 0 {
			return fmt.Errorf("%d orders in the file, source seq %d, sink offsets %v, crash-source offsets %+v (%v)",
				lines, seqBefore, sinkBefore, crashOffsetsBefore, err)
		}
		return nil
	})
	configsBefore := map[string]map[string]string{}
	var names []string
	if err := getJSON(first.url()+"/connectors", &names); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		var cfg map[string]string
		if err := getJSON(first.url()+"/connectors/"+name+"/config", &cfg); err != nil {
			t.Fatal(err)
		}
		configsBefore[name] = cfg
	}
	// Every record read here was acknowledged; the pipeline goes on
	// writing while it is read and until the kill.
	recordsBefore, topicsBefore := readTopics(t, broker, "orders", "crash")
	first.Kill()
	t.Logf("killed %s: source seq %d, sink offsets %v, %d partitions read", first.Name, seqBefore, sinkBefore, len(recordsBefore))

	second := startProcess(t, "dev-2nd", addr, env)
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		status, _, err := request(http.MethodGet, second.url()+"/", nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("REST API not up: %d %v", status, err)
		}
		return nil
	})

	// Topics and records: the topics with their partitions, and every
	// record read before the kill at its offset.
	recordsAfter, topicsAfter := readTopics(t, broker, "orders", "crash")
	for topic, ps := range topicsBefore {
		if !slices.Equal(topicsAfter[topic], ps) {
			t.Errorf("topic %s after the kill has partitions %v, before %v", topic, topicsAfter[topic], ps)
		}
	}
	acked := 0
	for tp, before := range recordsBefore {
		after := recordsAfter[tp]
		if len(after) < len(before) || !slices.Equal(after[:len(before)], before) {
			t.Errorf("%s: %d records before the kill, %d after, or not the same", tp, len(before), len(after))
		}
		acked += len(before)
	}
	if acked == 0 || len(recordsBefore) == 0 {
		t.Fatalf("no records read before the kill: %v", topicsBefore)
	}

	// Configurations, statuses and offsets.
	var namesAfter []string
	if err := getJSON(second.url()+"/connectors", &namesAfter); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(namesAfter, names) {
		t.Fatalf("connectors after the kill %v, before %v", namesAfter, names)
	}
	for name, before := range configsBefore {
		var cfg map[string]string
		if err := getJSON(second.url()+"/connectors/"+name+"/config", &cfg); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(cfg, before) {
			t.Errorf("%s config after the kill %v, before %v", name, cfg, before)
		}
	}
	seqAfter, err := sourceSeq(second.url())
	if err != nil {
		t.Fatal(err)
	}
	if seqAfter < seqBefore {
		t.Errorf("source seq after the kill %d, before %d", seqAfter, seqBefore)
	}
	sinkAfter, err := sinkOffsets(second.url())
	if err != nil {
		t.Fatal(err)
	}
	for p, off := range sinkBefore {
		if sinkAfter[p] < off {
			t.Errorf("sink offset of partition %v after the kill %v, before %v", p, sinkAfter[p], off)
		}
		if high := len(recordsAfter[kafka.TopicPartition{Topic: "orders", Partition: int32(p)}]); int(sinkAfter[p]) > high {
			t.Errorf("sink offset of partition %v is %v, beyond the log end %d", p, sinkAfter[p], high)
		}
	}
	var crashOffsetsAfter offsetsBody
	if err := getJSON(second.url()+"/connectors/crash-source/offsets", &crashOffsetsAfter); err != nil {
		t.Fatal(err)
	}
	if len(crashOffsetsBefore.Offsets) != 1 || len(crashOffsetsAfter.Offsets) != 1 ||
		crashOffsetsAfter.Offsets[0].Offset["seq"].(float64) < crashOffsetsBefore.Offsets[0].Offset["seq"].(float64) {
		t.Fatalf("crash-source offsets after the kill %+v, before %+v", crashOffsetsAfter, crashOffsetsBefore)
	}
	// The committed seq of a datagen source counts the records it wrote:
	// they are all in the topic.
	crashRecords := 0
	for tp, recs := range recordsAfter {
		if tp.Topic == "crash" {
			crashRecords += len(recs)
		}
	}
	if seq := crashOffsetsAfter.Offsets[0].Offset["seq"].(float64); int(seq) > crashRecords {
		t.Errorf("crash-source committed seq %v, but the topic holds %d records", seq, crashRecords)
	}

	up(second)
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		for _, name := range []string{"orders-source", "orders-sink", "crash-source"} {
			if err := running(second.url(), name); err != nil {
				return err
			}
		}
		if st, worker, err := connectorState(second.url(), "idle-source"); err != nil || st != "PAUSED" || worker != addr {
			return fmt.Errorf("idle-source %s on %q (%v), want PAUSED on %s", st, worker, err, addr)
		}
		if st, worker, err := connectorState(second.url(), "stopped-source"); err != nil || st != "STOPPED" || worker != addr {
			return fmt.Errorf("stopped-source %s on %q (%v), want STOPPED on %s", st, worker, err, addr)
		}
		return nil
	})
	dups := awaitAllOrders(t, broker, out, orders)
	t.Logf("%d records acknowledged before the kill all came back; all %d orders arrived, %d duplicate lines", acked, orders, dups)
}
