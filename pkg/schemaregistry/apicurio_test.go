//go:build apicurio

package schemaregistry

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/apicuriotest"
)

// These tests run the client against a real registry, Apicurio Registry
// 2.4.2.Final's Confluent-compatible API (make test-registry). Where its
// answers differ from Confluent's, the test says so.

func TestMain(m *testing.M) { os.Exit(apicuriotest.Main(m)) }

func TestApicurioRegisterLookupAndErrors(t *testing.T) {
	reg := apicuriotest.Shared(t)
	ctx := context.Background()
	orders := uniqueSubject("apicurio-orders")
	c := newTestClient(t, map[string]string{URLConfig: reg.URL})
	s := Schema{Schema: orderSchema}
	id, err := c.Register(ctx, orders, s, false)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.Register(ctx, orders, s, false); err != nil || again != id {
		t.Fatalf("registering again = %d, %v, want %d", again, err, id)
	}
	if n := c.Requests(); n != 1 {
		t.Fatalf("requests = %d, want 1 (the second register is cached)", n)
	}

	// A cold client: by id, by schema, latest, versions, subjects.
	c = newTestClient(t, map[string]string{URLConfig: reg.URL})
	got, err := c.SchemaByID(ctx, id)
	if err != nil || got.Schema != orderSchema {
		t.Fatalf("SchemaByID(%d) = %q, %v", id, got.Schema, err)
	}
	ss, err := c.Lookup(ctx, orders, s, false)
	if err != nil || ss.ID != id || ss.Version != 1 {
		t.Fatalf("Lookup = %+v, %v", ss, err)
	}
	latest, err := c.Latest(ctx, orders)
	if err != nil || latest.ID != id || latest.Version != 1 {
		t.Fatalf("Latest = %+v, %v", latest, err)
	}
	if vs, err := c.Versions(ctx, orders); err != nil || !slices.Equal(vs, []int{1}) {
		t.Fatalf("Versions = %v, %v", vs, err)
	}
	if subjects, err := c.Subjects(ctx); err != nil || !slices.Contains(subjects, orders) {
		t.Fatalf("Subjects = %v, %v", subjects, err)
	}
	// Apicurio 2.4 has no GET /schemas (404): the client asks by id and
	// then by schema, as Confluent's deserializers do.
	c = newTestClient(t, map[string]string{URLConfig: reg.URL})
	if ss, err := c.SchemaInSubject(ctx, orders, id); err != nil || ss.Version != 1 || ss.Schema.Schema != orderSchema {
		t.Fatalf("SchemaInSubject = %+v, %v", ss, err)
	}

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown id", func() error { _, err := c.SchemaByID(ctx, 4242); return err }, ErrSchemaNotFound},
		// Confluent answers 40401 (subject not found); Apicurio 40402.
		{"latest of an unknown subject", func() error { _, err := c.Latest(ctx, "apicurio-nope-value"); return err }, ErrVersionNotFound},
		{"unknown version", func() error { _, err := c.SchemaByVersion(ctx, orders, 7); return err }, ErrVersionNotFound},
		// Confluent answers 40403 (schema not found); Apicurio 40401.
		{"lookup of an unregistered schema", func() error {
			_, err := c.Lookup(ctx, orders, Schema{Schema: `"string"`}, false)
			return err
		}, ErrSubjectNotFound},
		{"invalid schema", func() error {
			_, err := c.Register(ctx, "apicurio-bad-value", Schema{Schema: `{"type":`}, false)
			return err
		}, ErrInvalidSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if IsRetriable(err) {
				t.Fatalf("%v is retriable", err)
			}
		})
	}
}

// TestApicurioCompatibility: under BACKWARD, a field added without a
// default is refused by the compatibility check and by register (409,
// ErrIncompatible, not retriable); with a default it is accepted as
// version 2.
func TestApicurioCompatibility(t *testing.T) {
	reg := apicuriotest.Shared(t)
	ctx := context.Background()
	c := newTestClient(t, map[string]string{URLConfig: reg.URL})
	subject := uniqueSubject("apicurio-compat")
	if _, err := c.Register(ctx, subject, Schema{Schema: orderSchema}, false); err != nil {
		t.Fatal(err)
	}
	setCompatibility(t, reg.URL, subject, sr.CompatBackward)

	noDefault := Schema{Schema: `{"type":"record","name":"Order","namespace":"sluice.test","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`}
	withDefault := Schema{Schema: `{"type":"record","name":"Order","namespace":"sluice.test","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int","default":0}]}`}

	ok, _, err := c.CheckCompatibility(ctx, subject, -1, noDefault)
	if err != nil || ok {
		t.Fatalf("CheckCompatibility(no default) = %v, %v; want incompatible", ok, err)
	}
	// Apicurio gives its reason in "reason", not in Confluent's
	// "messages", so the client has no messages to return here.
	_, err = c.Register(ctx, subject, noDefault, false)
	if !errors.Is(err, ErrIncompatible) || IsRetriable(err) {
		t.Fatalf("Register(no default) err = %v, want ErrIncompatible", err)
	}
	if !strings.Contains(err.Error(), "qty") {
		t.Fatalf("the error %q does not name the field", err)
	}
	if ok, _, err := c.CheckCompatibility(ctx, subject, -1, withDefault); err != nil || !ok {
		t.Fatalf("CheckCompatibility(default) = %v, %v; want compatible", ok, err)
	}
	id, err := c.Register(ctx, subject, withDefault, false)
	if err != nil {
		t.Fatal(err)
	}
	if ss, err := c.Lookup(ctx, subject, withDefault, false); err != nil || ss.ID != id || ss.Version != 2 {
		t.Fatalf("Lookup = %+v, %v; want version 2", ss, err)
	}
}

// TestApicurioDownAndBack stops the registry: a cold client's calls fail
// with ErrUnavailable (retriable) after its retries; once the registry is
// back (same storage), the same client answers, and what it had cached
// it answered without the registry.
func TestApicurioDownAndBack(t *testing.T) {
	reg := apicuriotest.Start(t)
	ctx := context.Background()
	c := newTestClient(t, map[string]string{URLConfig: reg.URL, MaxRetriesConfig: "2"})
	id, err := c.Register(ctx, "apicurio-down-value", Schema{Schema: orderSchema}, false)
	if err != nil {
		t.Fatal(err)
	}
	reg.Stop()
	if s, err := c.SchemaByID(ctx, id); err != nil || s.Schema != orderSchema {
		t.Fatalf("cached SchemaByID with the registry down = %q, %v", s.Schema, err)
	}
	cold := newTestClient(t, map[string]string{URLConfig: reg.URL, MaxRetriesConfig: "2"})
	_, err = cold.SchemaByID(ctx, id)
	if !errors.Is(err, ErrUnavailable) || !IsRetriable(err) {
		t.Fatalf("registry down: err = %v, want ErrUnavailable", err)
	}
	if n := cold.Requests(); n != 3 {
		t.Fatalf("requests = %d, want 3 (the try and 2 retries)", n)
	}
	reg.Restart(t)
	if s, err := cold.SchemaByID(ctx, id); err != nil || s.Schema != orderSchema {
		t.Fatalf("registry back: %q, %v", s.Schema, err)
	}
}

// uniqueSubject names a subject that no earlier run of the test (-count)
// used in the shared registry.
func uniqueSubject(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-value"
}

// setCompatibility sets subject's compatibility level (PUT
// /config/{subject}) with franz-go's client: Sluice's has no call for it.
func setCompatibility(t *testing.T, url, subject string, level sr.CompatibilityLevel) {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	res := cl.SetCompatibility(context.Background(), sr.SetCompatibility{Level: level}, subject)
	if err := res[0].Err; err != nil {
		t.Fatal(err)
	}
}
