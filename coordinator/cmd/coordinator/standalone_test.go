package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// writeLines appends lines from..to-1 ("line-0001" ...) to path.
func writeLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		fmt.Fprintf(f, "line-%04d\n", i)
	}
}

// lineCounts counts each complete line of path.
func lineCounts(path string) (map[string]int, int, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]int{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	counts := map[string]int{}
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.HasSuffix(line, "\n") {
			counts[strings.TrimSuffix(line, "\n")]++
			n++
		}
	}
	return counts, n, nil
}

// filePosition returns the position a standalone offsets file holds for
// the FileStreamSource reading file (-1 if none).
func filePosition(offsetsFile, file string) (int64, error) {
	b, err := os.ReadFile(offsetsFile)
	if os.IsNotExist(err) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	var doc struct {
		Offsets []struct {
			Key   json.RawMessage `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"offsets"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return 0, fmt.Errorf("%s: %w", offsetsFile, err)
	}
	for _, o := range doc.Offsets {
		// The key is Connect's ["<connector>",{"filename":...}].
		var key []json.RawMessage
		var partition struct {
			Filename string `json:"filename"`
		}
		if json.Unmarshal(o.Key, &key) != nil || len(key) != 2 || json.Unmarshal(key[1], &partition) != nil || partition.Filename != file {
			continue
		}
		var value struct {
			Position *int64 `json:"position"`
		}
		if err := json.Unmarshal(o.Value, &value); err != nil || value.Position == nil {
			return 0, fmt.Errorf("offset value %s: %v", o.Value, err)
		}
		return *value.Position, nil
	}
	return -1, nil
}

// Standalone mode: connectors from properties files, converters inherited
// from worker.properties, the source's offsets in a file. A stop (SIGTERM)
// and a restart resume the source at the stored position: no line is lost
// or written twice.
func TestStandaloneMode(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	offsetsFile := filepath.Join(dir, "offsets")
	addr := proctest.FreeAddr(t)
	files := map[string]string{
		"worker.properties": "bootstrap.servers=" + broker + "\n" +
			"offset.storage.file.filename=" + offsetsFile + "\n" +
			"offset.flush.interval.ms=1000\n" +
			"listeners=http://" + addr + "\n" +
			"key.converter=org.apache.kafka.connect.storage.StringConverter\n" +
			"value.converter=org.apache.kafka.connect.storage.StringConverter\n",
		"source.properties": "name=file-source\nconnector.class=FileStreamSource\ntasks.max=1\n" +
			"file=" + in + "\ntopic=lines\n",
		"sink.properties": "name=file-sink\nconnector.class=FileStreamSink\ntasks.max=1\n" +
			"file=" + out + "\ntopics=lines\n",
	}
	var args []string
	for _, name := range []string{"worker.properties", "source.properties", "sink.properties"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	args = append([]string{"standalone"}, args...)
	writeLines(t, in, 0, 100)

	// waitFor waits until out holds want lines and the offsets file the
	// position of in's end.
	waitFor := func(p *process, want int) {
		t.Helper()
		info, err := os.Stat(in)
		if err != nil {
			t.Fatal(err)
		}
		proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
			if p.Exited() {
				return fmt.Errorf("%s exited: %v", p.Name, p.Err())
			}
			_, n, err := lineCounts(out)
			if err != nil {
				return err
			}
			pos, err := filePosition(offsetsFile, in)
			if err != nil {
				return err
			}
			if n < want || pos != info.Size() {
				return fmt.Errorf("%d lines out of %d written, source position %d of %d", n, want, pos, info.Size())
			}
			return nil
		})
	}

	first := startProcess(t, "standalone-1st", addr, allowTemp, args...)
	waitFor(first, 100)
	var names []string
	if err := getJSON(first.url()+"/connectors", &names); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"file-sink", "file-source"}) {
		t.Fatalf("GET /connectors = %v", names)
	}
	for _, name := range names {
		if err := running(first.url(), name); err != nil {
			t.Error(err)
		}
	}
	// Prometheus metrics on the REST listener.
	status, body, err := request(http.MethodGet, first.url()+"/metrics", nil)
	if err != nil || status != http.StatusOK || !strings.Contains(string(body), `sluice_leases_total{connector="file-source",kind="source",status="succeeded"}`) {
		t.Fatalf("GET /metrics: %d %v\n%.2000s", status, err, body)
	}
	// The source's offsets API reads the offsets file.
	var offs offsetsBody
	if err := getJSON(first.url()+"/connectors/file-source/offsets", &offs); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(in)
	if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["filename"] != in || offs.Offsets[0].Offset["position"] != float64(info.Size()) {
		t.Errorf("GET /connectors/file-source/offsets = %+v, want position %d of %s", offs, info.Size(), in)
	}

	if err := first.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopping := time.Now()
	if err := first.Wait(t, 30*time.Second); err != nil {
		t.Errorf("%s after SIGTERM: %v", first.Name, err)
	}
	t.Logf("%s stopped %s after SIGTERM", first.Name, time.Since(stopping).Round(time.Millisecond))
	if !strings.Contains(first.Stdout.String(), "Stopping: finishing the leases in flight.") {
		t.Errorf("no graceful stop in the output:\n%s", first.Stdout.String())
	}

	writeLines(t, in, 100, 150)
	second := startProcess(t, "standalone-2nd", addr, allowTemp, args...)
	waitFor(second, 150)
	// Give the sink one more lag check to write any duplicate.
	time.Sleep(1500 * time.Millisecond)
	counts, n, err := lineCounts(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		if line := fmt.Sprintf("line-%04d", i); counts[line] != 1 {
			t.Errorf("%s written %d times", line, counts[line])
		}
	}
	if n != 150 {
		t.Errorf("%d lines written, want 150", n)
	}
}

// allowTemp lets the connectors of a process read and write the tests'
// temporary files.
var allowTemp = []string{"SLUICE_ALLOWED_PATHS=" + os.TempDir()}
