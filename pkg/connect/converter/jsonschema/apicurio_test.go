//go:build apicurio

package jsonschema

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/apicuriotest"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
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

// TestApicurioSchemaReferences registers Shipment, Address and Country
// (TestSchemaReferences's schemas) in the real registry with their
// references, and reads a Shipment record through it.
func TestApicurioSchemaReferences(t *testing.T) {
	reg := apicuriotest.Shared(t)
	cl, err := sr.NewClient(sr.URLs(reg.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	register := func(subject, text string, refs ...sr.SchemaReference) int {
		t.Helper()
		ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: text, Type: sr.TypeJSON, References: refs})
		if err != nil {
			t.Fatalf("registering %s: %v", subject, err)
		}
		return ss.ID
	}
	register("apicurio-country", country)
	register("apicurio-address", address, sr.SchemaReference{Name: "country.json", Subject: "apicurio-country", Version: 1})
	id := register("apicurio-shipments-value", shipment,
		sr.SchemaReference{Name: "address.json", Subject: "apicurio-address", Version: 1},
		sr.SchemaReference{Name: "https://sluice.test/address.json", Subject: "apicurio-address", Version: 1})

	c := apicuriotest.NewConverter(t, New(), reg.URL, "auto.register.schemas", "false")
	in := append(schemaregistry.AppendHeader(nil, id), `{"from":{"city":"Paris","country":{"code":"FR"}},"to":{"city":"Oslo","country":{"code":"NO"}}}`...)
	s, v, err := c.ToConnectData("apicurio-shipments", in)
	if err != nil {
		t.Fatal(err)
	}
	from := v.(*data.Struct).Get("from").(*data.Struct)
	if s.Name != "sluice.test.Shipment" || from.Get("city") != "Paris" ||
		from.Get("country").(*data.Struct).Get("code") != "FR" || from.Schema().Name != "sluice.test.Address" {
		t.Fatalf("read %s %v", s.Name, v)
	}
	bad := append(schemaregistry.AppendHeader(nil, id), `{"from":{"city":"Paris","country":{"code":"fr"}},"to":{"city":"Oslo","country":{"code":"NO"}}}`...)
	if _, _, err := c.ToConnectData("apicurio-shipments", bad); err == nil || !strings.Contains(err.Error(), "Validation error") {
		t.Fatalf("a country code that the referenced schema refuses: err = %v", err)
	}
}
