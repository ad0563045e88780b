package jsonschema

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// A recursive schema (a recursive Avro record's, read by the
// AvroConverter) cannot be written by this converter yet: it is a record
// error naming the cycle, not a generator that loops, and the registry
// (an unreachable address here) is never asked.
func TestRecursiveSchemaIsARecordError(t *testing.T) {
	c := New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: "http://127.0.0.1:1"}, false); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*data.Schema{recursivetest.List(), recursivetest.Tree()} {
		var v any
		if s.Field("next") != nil {
			v = recursivetest.ListValue(s, 1, 2)
		} else {
			v = recursivetest.TreeNode(s, "root", recursivetest.TreeNode(s, "leaf"))
		}
		_, err := c.FromConnectData("t", s, v)
		var de *data.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "the JsonSchemaConverter does not support recursive schemas: "+s.Name) {
			t.Fatalf("err = %v (%T), want a *data.Error naming the cycle", err, err)
		}
	}
}
