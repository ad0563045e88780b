package sink

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SchemaCompatibilityConfig is schema.compatibility, Confluent's
// StorageSchemaCompatibility: NONE (default), BACKWARD, FORWARD or FULL.
const SchemaCompatibilityConfig = "schema.compatibility"

// compatibility decides, for a record whose value schema is not its
// file's, whether the file is committed and a new one started with the
// record's schema, or the record is projected to the file's schema
// (data.Project, Connect's SchemaProjector). The file's schema is the
// schema of its first record, so the decision depends only on the records
// of the lease's range: files stay a pure function of the range.
//
//   - NONE: any other schema starts a new file.
//   - BACKWARD and FULL: a record of a newer version starts a new file;
//     one of an older version is projected to the file's newer schema.
//   - FORWARD: a record of an older version starts a new file; one of a
//     newer version is projected to the file's older schema.
//
// BACKWARD, FORWARD and FULL need schema versions (the Avro, Protobuf and
// JSON Schema converters set the registry's); a record without one fails,
// as Confluent's "Schema version required".
type compatibility string

const (
	compatNone     compatibility = "NONE"
	compatBackward compatibility = "BACKWARD"
	compatForward  compatibility = "FORWARD"
	compatFull     compatibility = "FULL"
)

func parseCompatibility(s string) compatibility {
	return compatibility(strings.ToUpper(strings.TrimSpace(s)))
}

// change reports whether a record of schema rec must start a new file
// whose current schema is cur.
func (c compatibility) change(cur, rec *data.Schema) (bool, error) {
	if cur == rec || data.Equal(cur, rec) {
		return false, nil
	}
	if c == compatNone || c == "" || cur == nil || rec == nil {
		return true, nil
	}
	if cur.Version == nil || rec.Version == nil {
		return false, &data.Error{Msg: fmt.Sprintf("Schema version required for %s compatibility", c)}
	}
	if c == compatForward {
		return *cur.Version > *rec.Version, nil
	}
	return *cur.Version < *rec.Version, nil
}

// project returns r with its value projected to the file's schema, or r
// itself when the schemas are the same.
func (c compatibility) project(r *connect.SinkRecord, to *data.Schema) (*connect.SinkRecord, error) {
	if c == compatNone || c == "" || r.ValueSchema == to || r.ValueSchema == nil || data.Equal(r.ValueSchema, to) {
		return r, nil
	}
	v, err := data.Project(r.ValueSchema, r.Value, to)
	if err != nil {
		return nil, &data.Error{Msg: "projecting the record to the file's schema: " + err.Error()}
	}
	p := *r
	p.ValueSchema, p.Value = to, v
	return &p, nil
}
