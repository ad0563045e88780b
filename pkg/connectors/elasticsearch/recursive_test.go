package elasticsearch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect"
)

// A record whose value schema is recursive (a recursive Avro record's) has
// no finite index mapping: with schema.ignore=false it is an invalid
// record (reported, so errors.tolerance decides) and no mapping is sent;
// Confluent's connector overflows the stack building it.
func TestRecursiveSchemaMapping(t *testing.T) {
	s := newServer(t)
	tc := &taskContext{}
	task := startTask(t, s.URL, tc, "schema.ignore", "false")
	list := recursivetest.List()
	r := sinkRecord("k", 1, nil)
	r.ValueSchema, r.Value = list, recursivetest.ListValue(list, 1, 2)
	if err := task.Put(context.Background(), []connect.SinkRecord{r}); err != nil {
		t.Fatal(err)
	}
	if len(tc.reported) != 1 || !strings.Contains(tc.reported[0],
		"an Elasticsearch mapping does not support recursive schemas: sluice.test.Node refers to itself (through next); set schema.ignore=true") {
		t.Fatalf("reported %q", tc.reported)
	}
	if reqs := s.reqs(); len(reqs) != 0 {
		t.Fatalf("requests sent: %q", reqs)
	}
}
