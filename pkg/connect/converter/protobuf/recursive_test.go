package protobuf

import (
	"testing"

	"github.com/sluicehq/sluice/internal/recursivetest"
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
	recursivetest.CheckWriteRefused(t, c, "ProtobufConverter")
}
