// Package formattest is the acceptance suite every storage.Format runs: the
// contract the storage sink engine relies on. An object's bytes are a pure
// function of its records (rule 2 of docs/architecture.md: a replayed lease
// overwrites an object with identical bytes), the extension names the
// format, a writer with no records still closes, and a writer only writes
// to the writer it was given.
package formattest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// Run runs the contract tests against f with records, which must all have
// valueSchema (nil for schemaless records) and be ones f accepts. records
// needs at least two records.
func Run(t *testing.T, f storage.Format, valueSchema *data.Schema, records []connect.SinkRecord) {
	t.Helper()
	if len(records) < 2 {
		t.Fatalf("formattest: %d records, want at least two", len(records))
	}
	t.Run("extension", func(t *testing.T) {
		ext := f.Extension()
		if !strings.HasPrefix(ext, ".") || len(ext) < 2 || strings.ContainsAny(ext, "/+ ") {
			t.Fatalf("Extension() = %q, want a dot and a name without '/', '+' or spaces", ext)
		}
	})
	t.Run("same records, same bytes", func(t *testing.T) {
		first, second := write(t, f, valueSchema, records), write(t, f, valueSchema, records)
		if len(first) == 0 {
			t.Fatal("no bytes written for the records")
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("two writes of the same %d records differ (%d and %d bytes): a replayed lease would change the object",
				len(records), len(first), len(second))
		}
	})
	t.Run("different records, different bytes", func(t *testing.T) {
		all, fewer := write(t, f, valueSchema, records), write(t, f, valueSchema, records[:len(records)-1])
		if bytes.Equal(all, fewer) {
			t.Fatal("writing one record less gives the same bytes")
		}
	})
	t.Run("no records", func(t *testing.T) {
		write(t, f, valueSchema, nil)
	})
}

// write encodes records into one object and returns its bytes.
func write(t *testing.T, f storage.Format, valueSchema *data.Schema, records []connect.SinkRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, valueSchema)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for i := range records {
		if err := w.Write(&records[i]); err != nil {
			t.Fatalf("Write record %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}
