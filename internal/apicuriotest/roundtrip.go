package apicuriotest

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Converter is the part of a Schema Registry converter RoundTrip uses.
type Converter interface {
	ToConnectData(topic string, value []byte) (*data.Schema, any, error)
	FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error)
}

// RoundTrip reads raw, a record that Confluent's serializer wrote, with
// golden (a converter whose registry holds the record's schema), writes
// the Connect value with write (a converter of this registry, which
// registers the schema under topic's subject), and reads what it wrote
// with read (another converter of this registry, whose cache is cold, so
// that it fetches the schema by the id the registry gave). The payload
// after the 5-byte header must be what golden writes for the same value
// (the registry changes only the id); the value read back must have the
// same schema type and name and, written again by golden, give the same
// payload (its schema now carries the registry's version, so the values
// are compared through their encoding).
func RoundTrip(t *testing.T, golden, write, read Converter, topic string, raw []byte) {
	t.Helper()
	s, v, err := golden.ToConnectData(topic, raw)
	if err != nil {
		t.Fatalf("reading Confluent's record: %v", err)
	}
	want, err := golden.FromConnectData(topic, s, v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := write.FromConnectData(topic, s, v)
	if err != nil {
		t.Fatalf("writing through the registry: %v", err)
	}
	if !bytes.Equal(out[5:], want[5:]) {
		t.Fatalf("payload written through the registry:\n got %x\nwant %x", out[5:], want[5:])
	}
	s2, v2, err := read.ToConnectData(topic, out)
	if err != nil {
		t.Fatalf("reading back through the registry: %v", err)
	}
	if s2.Type != s.Type || s2.Name != s.Name {
		t.Fatalf("schema read back: %s %q, want %s %q", s2.Type, s2.Name, s.Type, s.Name)
	}
	again, err := golden.FromConnectData(topic, s2, v2)
	if err != nil {
		t.Fatalf("writing the value read back: %v", err)
	}
	if !bytes.Equal(again[5:], want[5:]) {
		t.Fatalf("value read back (%v) encodes as\n got %x\nwant %x", v2, again[5:], want[5:])
	}
}

// Configurable is a converter that Configure sets up from properties.
type Configurable interface {
	Converter
	Configure(props map[string]string, isKey bool) error
}

// NewConverter configures c, a new value converter, for the registry at
// url, with the extra properties given as key, value, key, value.
func NewConverter[C Configurable](t testing.TB, c C, url string, extra ...string) C {
	t.Helper()
	// schemaregistry.URLConfig: pkg/schemaregistry's own tests use this
	// package, so it cannot import that one.
	props := map[string]string{"schema.registry.url": url}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i]] = extra[i+1]
	}
	if err := c.Configure(props, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// RoundTrips runs RoundTrip as a subtest for each of the vectors (records
// Confluent's serializer wrote, whose name and hex bytes vector gives),
// under the topic "apicurio-<name>".
func RoundTrips[V any](t *testing.T, golden, write, read Converter, vectors []V, vector func(V) (name, hexBytes string)) {
	t.Helper()
	for _, v := range vectors {
		name, h := vector(v)
		t.Run(name, func(t *testing.T) {
			raw, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			RoundTrip(t, golden, write, read, "apicurio-"+name, raw)
		})
	}
}
