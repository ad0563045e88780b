//go:build apicurio

package avro

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/apicuriotest"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestMain(m *testing.M) { os.Exit(apicuriotest.Main(m)) }

// TestApicurioRoundTrips writes every Confluent vector's Connect value
// through a real registry (Apicurio 2.4.2, make test-registry), which
// registers its schema, and reads it back with a converter that fetches
// the schema by the registry's id.
func TestApicurioRoundTrips(t *testing.T) {
	reg := apicuriotest.Shared(t)
	vs := loadVectors(t)
	golden := newConverter(t, seededRegistry(t, vs).URL())
	write := apicuriotest.NewConverter(t, New(), reg.URL)
	read := apicuriotest.NewConverter(t, New(), reg.URL, "auto.register.schemas", "false")
	apicuriotest.RoundTrips(t, golden, write, read, vs, func(v vector) (string, string) { return v.Name, v.Hex })
}

// TestApicurioRecursiveRegisterLookup registers the recursive vectors'
// schemas (as Sluice writes them: references to a record by its name),
// with and without normalize.schemas, and looks each up
// (auto.register.schemas=false) with the same setting: the registry finds
// the id it gave and the payload is Confluent's. Without normalization a
// cold converter reads the value back with its cyclic schema. With it,
// Apicurio 2.4.2 keeps under the subject's version a canonical form whose
// record fields are sorted by name (a different binary layout, for any
// record, recursive or not), which a reader that takes the schema from
// the subject's versions would misread, so that reading is not checked.
func TestApicurioRecursiveRegisterLookup(t *testing.T) {
	reg := apicuriotest.Shared(t)
	vs := loadVectors(t)
	golden := newConverter(t, seededRegistry(t, vs).URL())
	read := apicuriotest.NewConverter(t, New(), reg.URL, "auto.register.schemas", "false")
	n := 0
	for _, v := range vs {
		if !strings.HasPrefix(v.Name, "recursive_") {
			continue
		}
		n++
		for _, normalize := range []string{"true", "false"} {
			t.Run(v.Name+"/normalize="+normalize, func(t *testing.T) {
				raw, _ := hex.DecodeString(v.Hex)
				topic := "apicurio-lookup-" + normalize + "-" + v.Name
				s, val, err := golden.ToConnectData(topic, raw)
				if err != nil {
					t.Fatal(err)
				}
				write := apicuriotest.NewConverter(t, New(), reg.URL, "normalize.schemas", normalize)
				registered, err := write.FromConnectData(topic, s, val)
				if err != nil {
					t.Fatalf("registering: %v", err)
				}
				if !bytes.Equal(registered[5:], raw[5:]) {
					t.Fatalf("payload %x, want Confluent's %x", registered[5:], raw[5:])
				}
				lookup := apicuriotest.NewConverter(t, New(), reg.URL, "auto.register.schemas", "false", "normalize.schemas", normalize)
				found, err := lookup.FromConnectData(topic, s, val)
				if err != nil {
					t.Fatalf("lookup: %v", err)
				}
				if !bytes.Equal(found, registered) {
					t.Fatalf("lookup wrote %x, want %x (the registered id)", found, registered)
				}
				if normalize == "true" {
					return
				}
				s2, v2, err := read.ToConnectData(topic, registered)
				if err != nil {
					t.Fatalf("reading back: %v", err)
				}
				if !data.Recursive(s2) {
					t.Fatalf("schema read back is not recursive: %s", s2)
				}
				again, err := golden.FromConnectData(topic, s2, v2)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again[5:], raw[5:]) {
					t.Fatalf("value read back (%v) encodes as %x, want %x", v2, again[5:], raw[5:])
				}
			})
		}
	}
	if n != 5 {
		t.Fatalf("%d recursive vectors, want 5", n)
	}
}
