package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
)

// TestMigrationConnectToSluiceAndBack moves a FileStreamSource, a
// FileStreamSink and a paused connector from Apache Kafka Connect to a
// Sluice coordinator on the same connect-configs, connect-status and
// connect-offsets topics and group id, and back: every connector, its
// configuration and target state carry over, the source goes on from the
// other's file position and the sink from the other's consumer group, and
// every line reaches the topic and the sink's file once.
func TestMigrationConnectToSluiceAndBack(t *testing.T) {
	realkafka.Require(t)
	c := realkafka.Fresh(t, realkafka.Options{})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	const topic = "migration-lines"
	lines := 0
	appendLines := func(n int) {
		t.Helper()
		f, err := os.OpenFile(in, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			lines++
			fmt.Fprintf(f, "line-%05d\n", lines)
		}
		f.Close()
	}
	configs := map[string]map[string]string{
		"mig-source": {"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "tasks.max": "1",
			"file": in, "topic": topic},
		"mig-sink": {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": "1",
			"file": out, "topics": topic},
		"mig-paused": {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": "1",
			"file": filepath.Join(dir, "paused.txt"), "topics": topic},
	}

	for _, cfg := range configs {
		cfg["key.converter"] = "org.apache.kafka.connect.storage.StringConverter"
		cfg["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
	}

	// 1. Kafka Connect creates the connectors and runs them.
	appendLines(300)
	connect := realkafka.StartConnectT(t, c, realkafka.ConnectOptions{})
	for _, name := range []string{"mig-source", "mig-sink", "mig-paused"} {
		create(t, connect.URL, name, configs[name])
	}
	put(t, connect.URL, "/connectors/mig-paused/pause", http.StatusAccepted)
	awaitMigrated(t, c, connect.URL, "Connect", topic, out, in, lines)
	connect.Stop()

	// 2. Sluice takes over, with more lines to read.
	appendLines(200)
	sluice, proc := startSluiceOn(t, c, "connect-cluster", "")
	checkCarriedOver(t, sluice, "Sluice", configs)
	awaitMigrated(t, c, sluice, "Sluice", topic, out, in, lines)
	// kafka-consumer-groups.sh --describe shows the sink's group with
	// Sluice's position and no lag.
	describeGroup(t, c, "connect-mig-sink", topic, int64(lines))
	_ = proc.Cmd.Process.Signal(syscall.SIGTERM)
	if err := proc.Wait(t, time.Minute); err != nil {
		t.Fatalf("coordinator exit: %v", err)
	}

	// 3. And back to Kafka Connect.
	appendLines(100)
	back := realkafka.StartConnectT(t, c, realkafka.ConnectOptions{})
	checkCarriedOver(t, back.URL, "Connect", configs)
	awaitMigrated(t, c, back.URL, "Connect", topic, out, in, lines)
	back.Stop()
}

// awaitMigrated waits until the topic and the sink's file hold lines
// 1..n, each once, and the source's committed position is the end of the
// input file.
func awaitMigrated(t *testing.T, c *realkafka.Cluster, baseURL, who, topic, out, in string, n int) {
	t.Helper()
	st, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	proctest.CheckFor(t, 3*time.Minute, 500*time.Millisecond, func() error {
		b, _ := os.ReadFile(out)
		if err := exactlyLines(string(b), n); err != nil {
			return fmt.Errorf("%s: sink file: %w", who, err)
		}
		var offs struct {
			Offsets []struct {
				Offset map[string]any `json:"offset"`
			} `json:"offsets"`
		}
		if err := getJSON(baseURL+"/connectors/mig-source/offsets", &offs); err != nil {
			return err
		}
		if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["position"]) != strconv.FormatInt(st.Size(), 10) {
			return fmt.Errorf("%s: source offsets %+v, want position %d", who, offs.Offsets, st.Size())
		}
		return nil
	})
	var values []string
	for _, r := range readRecords(t, c, topic, n) {
		values = append(values, string(r.Value)+"\n")
	}
	if err := exactlyLines(strings.Join(values, ""), n); err != nil {
		t.Fatalf("%s: topic %s: %v", who, topic, err)
	}
	if extra := readAvailable(t, c, topic); extra > n {
		t.Fatalf("%s: topic %s has %d records, want %d: lines were produced twice", who, topic, extra, n)
	}
}

// exactlyLines checks that s is line-00001 .. line-n, in order, each once.
func exactlyLines(s string, n int) error {
	got := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if s == "" {
		got = nil
	}
	if len(got) != n {
		return fmt.Errorf("%d lines, want %d", len(got), n)
	}
	for i, l := range got {
		want := fmt.Sprintf("line-%05d", i+1)
		if l != want {
			return fmt.Errorf("line %d is %q, want %s", i+1, l, want)
		}
	}
	return nil
}

// readAvailable counts the records of topic's partition 0 (its high
// watermark).
func readAvailable(t *testing.T, c *realkafka.Cluster, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := realkafka.Tool(ctx, "org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", c.Bootstrap(), "--topic", topic)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		parts := strings.Split(line, ":")
		n, err := strconv.Atoi(parts[len(parts)-1])
		if err != nil {
			t.Fatalf("kafka-get-offsets: %q", out)
		}
		total += n
	}
	return total
}

// checkCarriedOver checks that every connector is there with its
// configuration, mig-paused PAUSED and the others RUNNING.
func checkCarriedOver(t *testing.T, baseURL, who string, configs map[string]map[string]string) {
	t.Helper()
	for name, want := range configs {
		proctest.CheckFor(t, 2*time.Minute, 500*time.Millisecond, func() error {
			var got map[string]string
			if err := getJSON(baseURL+"/connectors/"+name+"/config", &got); err != nil {
				return err
			}
			for k, v := range want {
				if got[k] != v {
					return fmt.Errorf("%s: %s config %v, want %v", who, name, got, want)
				}
			}
			wantState := "RUNNING"
			if name == "mig-paused" {
				wantState = "PAUSED"
			}
			var st status
			if err := getJSON(baseURL+"/connectors/"+name+"/status", &st); err != nil {
				return err
			}
			if st.Connector.State != wantState || len(st.Tasks) == 0 || st.Tasks[0].State != wantState {
				return fmt.Errorf("%s: %s status %+v, want %s", who, name, st, wantState)
			}
			return nil
		})
	}
}

// describeGroup runs kafka-consumer-groups --describe on group and checks
// that topic's partition 0 is at offset want with no lag.
func describeGroup(t *testing.T, c *realkafka.Cluster, group, topic string, want int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := realkafka.Tool(ctx, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
		"--bootstrap-server", c.Bootstrap(), "--describe", "--group", group)
	if err != nil {
		t.Fatal(err)
	}
	// GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(group) + `\s+` + regexp.QuoteMeta(topic) + `\s+0\s+(\d+)\s+(\d+)\s+(\d+)`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("kafka-consumer-groups --describe --group %s:\n%s\nwant a row for %s-0", group, out, topic)
	}
	if m[1] != strconv.FormatInt(want, 10) || m[2] != strconv.FormatInt(want, 10) || m[3] != "0" {
		t.Fatalf("kafka-consumer-groups --describe --group %s:\n%s\nwant current and log-end offset %d, lag 0", group, out, want)
	}
	t.Logf("kafka-consumer-groups --describe --group %s:\n%s", group, out)
}

// startSluiceOn starts a coordinator on Connect's own internal topics
// (connect-configs, connect-status, connect-offsets), or on
// <topicPrefix>-configs and the like, and group id, with the extra
// environment variables given.
func startSluiceOn(t testing.TB, c *realkafka.Cluster, group, topicPrefix string, extra ...string) (string, *proctest.Process) {
	t.Helper()
	addr := proctest.FreeAddr(t)
	env := []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + c.Bootstrap(),
		"SLUICE_REST_LISTENER=" + addr,
		"SLUICE_GROUP_ID=" + group,
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_RECONCILE_INTERVAL=200ms",
		// The FileStream connectors' files are in the tests' temporary
		// folders; outside dev mode no path is allowed unless listed.
		"SLUICE_ALLOWED_PATHS=" + os.TempDir(),
	}
	if topicPrefix != "" { // else Connect's own topic names
		env = append(env, "SLUICE_CONFIG_STORAGE_TOPIC="+topicPrefix+"-configs", "SLUICE_STATUS_STORAGE_TOPIC="+topicPrefix+"-status",
			"SLUICE_OFFSET_STORAGE_TOPIC="+topicPrefix+"-offsets", "SLUICE_LEASE_STORAGE_TOPIC="+topicPrefix+"-leases")
	}
	env = append(env, extra...)
	p := proctest.Start(t, "coordinator", coordinatorBinary(t), env)
	tg := &target{name: "Sluice", url: "http://" + addr}
	proctest.CheckFor(t, 2*time.Minute, 200*time.Millisecond, func() error {
		if p.Exited() {
			t.Fatalf("coordinator exited: %v", p.Err())
		}
		st, _, err := request(tg, "PUT", "/connectors/nope/pause", "")
		if err != nil {
			return err
		}
		if st != http.StatusNotFound {
			return fmt.Errorf("not leading yet: %d", st)
		}
		return nil
	})
	return tg.url, p
}

func put(t *testing.T, baseURL, path string, want int) {
	t.Helper()
	proctest.CheckFor(t, time.Minute, 500*time.Millisecond, func() error {
		st, resp, err := request(&target{url: baseURL}, "PUT", path, "")
		if err != nil {
			return err
		}
		if st != want {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("PUT %s: %d %s", path, st, b)
		}
		return nil
	})
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
