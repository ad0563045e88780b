package debeziumgolden

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RecorderLib returns Debezium's class path directory, SLUICE_DEBEZIUM_LIB,
// and fails t when it is not set.
func RecorderLib(t testing.TB) string {
	t.Helper()
	lib := os.Getenv("SLUICE_DEBEZIUM_LIB")
	if lib == "" {
		t.Fatal("SLUICE_DEBEZIUM_LIB is not set: run testdata/debezium/record.sh")
	}
	return lib
}

// Recorder is a run of Debezium's embedded engine, DebeziumRecorder.java,
// which prints each record it emits as a golden file's line.
type Recorder struct {
	t     testing.TB
	ctx   context.Context
	lines chan string
	n     int
}

// StartRecorder runs script (DebeziumRecorder.java) on the class path lib
// with the connector properties props, for at most three minutes; it is
// stopped when the test ends.
func StartRecorder(t testing.TB, lib, script string, props map[string]string) *Recorder {
	t.Helper()
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + "=" + strings.ReplaceAll(v, `\`, `\\`) + "\n")
	}
	propsFile := filepath.Join(t.TempDir(), "golden.properties")
	if err := os.WriteFile(propsFile, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Abs(script)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cmd := osexec.CommandContext(ctx, "java", "-Xmx384m", "-cp", lib+"/*", src, propsFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"topic":`) {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	return &Recorder{t: t, ctx: ctx, lines: lines}
}

// Next returns the next record Debezium emitted, checked to be JSON; ok is
// false when none came within quiet (0: wait up to the time limit). It
// fails the test when Debezium stopped or the time limit passed.
func (r *Recorder) Next(quiet time.Duration) (line string, ok bool) {
	r.t.Helper()
	var after <-chan time.Time
	if quiet > 0 {
		after = time.After(quiet)
	}
	select {
	case l, ok := <-r.lines:
		if !ok {
			r.t.Fatalf("Debezium stopped after %d records", r.n)
		}
		var check map[string]any
		if err := json.Unmarshal([]byte(l), &check); err != nil {
			r.t.Fatalf("%v: %s", err, l)
		}
		r.n++
		return l, true
	case <-after:
		return "", false
	case <-r.ctx.Done():
		r.t.Fatalf("Debezium emitted %d records before the time limit", r.n)
	}
	return "", false
}

// Write writes lines, the records recorded, to testdata/debezium/<name>.
func Write(t testing.TB, name string, lines []string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", "debezium", name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
