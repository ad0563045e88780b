package jsonschema

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/srtest"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// The schemas of TestSchemaReferences: Shipment refers to Address, Address
// to Country.
const (
	country = `{"$id":"https://sluice.test/country.json","type":"object","title":"sluice.test.Country",` +
		`"definitions":{"code":{"type":"string","pattern":"^[A-Z]{2}$"}},` +
		`"properties":{"code":{"$ref":"#/definitions/code"}},"required":["code"]}`
	address = `{"$id":"https://sluice.test/address.json","type":"object","title":"sluice.test.Address",` +
		`"properties":{"city":{"type":"string"},"country":{"$ref":"country.json"}},"required":["city","country"]}`
	shipment = `{"$id":"https://sluice.test/shipment.json","type":"object","title":"sluice.test.Shipment",` +
		`"properties":{"from":{"$ref":"address.json"},"to":{"$ref":"https://sluice.test/address.json"},` +
		`"weight":{"type":"number"}},"required":["from","to"]}`
)

// Schema references: a record's JSON schema refers ("$ref") to schemas
// registered under other subjects, named in its "references" as
// Confluent's JsonSchemaConverter resolves them: Shipment refers to
// Address (subject address, by a relative name, and by a name relative to
// its $id), and Address to Country (subject country), whose local
// definition it uses. The referenced schemas are fetched once per
// reference and used both for the Connect schema and for validation.
func TestSchemaReferences(t *testing.T) {
	reg := srtest.Start(t)
	if _, _, err := reg.RegisterSchema("country", sr.Schema{Schema: country, Type: sr.TypeJSON}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.RegisterSchema("address", sr.Schema{Schema: address, Type: sr.TypeJSON,
		References: []sr.SchemaReference{{Name: "country.json", Subject: "country", Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	id, _, err := reg.RegisterSchema("shipments-value", sr.Schema{Schema: shipment, Type: sr.TypeJSON,
		References: []sr.SchemaReference{
			{Name: "address.json", Subject: "address", Version: 1},
			{Name: "https://sluice.test/address.json", Subject: "address", Version: 1},
		}})
	if err != nil {
		t.Fatal(err)
	}

	c := New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.CountingURL}, false); err != nil {
		t.Fatal(err)
	}
	record := func(payload string) []byte {
		return append(schemaregistry.AppendHeader(nil, id), payload...)
	}
	s, v, err := c.ToConnectData("shipments", record(`{"from":{"city":"Paris","country":{"code":"FR"}},"to":{"city":"Oslo","country":{"code":"NO"}},"weight":2.5}`))
	if err != nil {
		t.Fatal(err)
	}
	countryS := data.StructBuilder().Name("sluice.test.Country").Field("code", data.StringSchema).MustBuild()
	addressS := data.StructBuilder().Name("sluice.test.Address").Field("city", data.StringSchema).Field("country", countryS).MustBuild()
	want := data.StructBuilder().Name("sluice.test.Shipment").Version(1).Field("from", addressS).Field("to", addressS).
		Field("weight", data.OptionalFloat64Schema).MustBuild()
	if !data.Equal(s, want) {
		t.Fatalf("schema:\n got %s\nwant %s", dumpSchema(s), dumpSchema(want))
	}
	addr := func(city, code string) *data.Struct {
		return data.NewStruct(addressS).Set("city", city).Set("country", data.NewStruct(countryS).Set("code", code))
	}
	wantV := data.NewStruct(want).Set("from", addr("Paris", "FR")).Set("to", addr("Oslo", "NO")).Set("weight", 2.5)
	if !data.ValuesEqual(v, wantV) {
		t.Fatalf("value:\n got %v\nwant %v", v, wantV)
	}

	// The referenced schemas validate: a country code that is not two
	// capitals, and a missing city, are record errors.
	for _, bad := range []string{
		`{"from":{"city":"Paris","country":{"code":"fr"}},"to":{"city":"Oslo","country":{"code":"NO"}}}`,
		`{"from":{"country":{"code":"FR"}},"to":{"city":"Oslo","country":{"code":"NO"}}}`,
	} {
		_, _, err := c.ToConnectData("shipments", record(bad))
		var de *data.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "Validation error") {
			t.Fatalf("%s: err = %v, want a validation error", bad, err)
		}
	}
	// One request for the schema (and its version) and one per referenced
	// subject version, however many records.
	if got := strings.Join(reg.Requests(), ", "); !strings.Contains(got, "GET /subjects/address/versions/1 x1") ||
		!strings.Contains(got, "GET /subjects/country/versions/1 x1") {
		t.Fatalf("requests: %s", got)
	}

	// A reference that the registry does not have is a record error.
	missing, _, err := reg.RegisterSchema("orphans-value", sr.Schema{Schema: `{"type":"object","title":"sluice.test.Orphan","properties":{"a":{"$ref":"gone.json"}}}`, Type: sr.TypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ToConnectData("orphans", append(schemaregistry.AppendHeader(nil, missing), `{"a":{}}`...))
	var de *data.Error
	if !errors.As(err, &de) || schemaregistry.IsRetriable(err) {
		t.Fatalf("unresolvable reference: err = %v, want a record error", err)
	}
}

func dumpSchema(s *data.Schema) string {
	var b strings.Builder
	b.WriteString(string(s.Type))
	b.WriteString(" " + s.Name)
	if s.Optional {
		b.WriteString("?")
	}
	if len(s.Fields) > 0 {
		b.WriteString("{")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(f.Name + ":" + dumpSchema(f.Schema))
		}
		b.WriteString("}")
	}
	return b.String()
}
