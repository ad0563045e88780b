//go:build apicurio

package avro

import (
	"encoding/hex"
	"os"
	"testing"

	"github.com/sluicehq/sluice/internal/apicuriotest"
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
	write := apicurioConverter(t, reg.URL)
	read := apicurioConverter(t, reg.URL, "auto.register.schemas", "false")
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			raw, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			apicuriotest.RoundTrip(t, golden, write, read, "apicurio-"+v.Name, raw)
		})
	}
}

func apicurioConverter(t *testing.T, url string, extra ...string) *Converter {
	t.Helper()
	return newConverter(t, url, extra...)
}
