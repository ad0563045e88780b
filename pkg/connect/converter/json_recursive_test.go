package converter

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/recursivetest"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// A recursive schema (a recursive Avro record's) has no JSON envelope:
// Connect's schema JSON has no references, and Connect's asJsonSchema
// recurses until the JVM's stack overflows. With schemas.enable=true the
// JsonConverter refuses it with a record error; without the envelope it
// writes the value, which is a finite tree, as Connect's convertToJson
// does.
func TestJSONConverterRecursiveSchema(t *testing.T) {
	list := recursivetest.List()
	v := recursivetest.ListValue(list, 1, 2, 3)
	tests := []struct {
		name    string
		props   map[string]string
		want    string
		wantErr string
	}{
		{"envelope", map[string]string{}, "", "JsonConverter's schema envelope does not support recursive schemas: sluice.test.Node refers to itself (through next); set schemas.enable=false"},
		{"no envelope", map[string]string{JSONSchemasEnable: "false"}, `{"value":1,"next":{"value":2,"next":{"value":3,"next":null}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewJSONConverter()
			if err := c.Configure(tt.props, false); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time through the schema cache
				out, err := c.FromConnectData("t", list, v)
				if tt.wantErr != "" {
					var de *data.Error
					if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want a *data.Error %q", err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(out) != tt.want {
					t.Fatalf("got  %s\nwant %s", out, tt.want)
				}
			}
		})
	}
}
