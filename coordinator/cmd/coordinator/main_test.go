package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpListsEveryVariable(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"--help"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"SLUICE_BOOTSTRAP_SERVERS", "SLUICE_EMBEDDED_KAFKA_ADDR", "SLUICE_DATA_DIR", "SLUICE_OFFSET_STORAGE_TOPIC",
		"SLUICE_LEASE_TIMEOUT", "SLUICE_SAFETY_MARGIN", "SLUICE_TASK_RETRIES", "127.0.0.1:9092", "SLUICE_GROUP_ID", "SLUICE_REST_LISTENER",
		"SLUICE_INVOKER", "SLUICE_LAMBDA_SOURCE_FUNCTION", "coordinator standalone worker.properties", "Usage:", "-health-check"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s:\n%s", v, out.String())
		}
	}
}

// A bad connector file is rejected, naming every problem, before any
// broker is started.
func TestBadConnectorFileFailsBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(path, []byte("name=x\nconnector.class=FileStreamSource\ntasks.max=many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("SLUICE_EMBEDDED_KAFKA_ADDR", "127.0.0.1:0")
	err := run([]string{path}, &strings.Builder{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"bad.properties", "4 error(s)", "tasks.max", `"file"`, `"topic"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a broker data folder was created before validation: %v", err)
	}
}

func TestMissingConnectorFile(t *testing.T) {
	err := run([]string{filepath.Join(t.TempDir(), "nope.properties")}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "nope.properties") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadLogLevelFailsBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLUICE_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("SLUICE_EMBEDDED_KAFKA_ADDR", "127.0.0.1:0")
	t.Setenv("SLUICE_LOG_LEVEL", "loud")
	err := run(nil, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), `SLUICE_LOG_LEVEL "loud"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a broker data folder was created before validation: %v", err)
	}
}
