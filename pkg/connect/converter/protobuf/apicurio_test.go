//go:build apicurio

package protobuf

import (
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
	vs, golden := setup(t)
	write := apicuriotest.NewConverter(t, New(), reg.URL)
	read := apicuriotest.NewConverter(t, New(), reg.URL, "auto.register.schemas", "false")
	apicuriotest.RoundTrips(t, golden, write, read, vs, func(v vector) (string, string) { return v.Name, v.Hex })
}
