package protobuf

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/srtest"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// A cold converter reading two versions of a topic's schema asks the
// registry once with TopicNameStrategy (the subject's listing), and by id
// then by schema with RecordNameStrategy; counted on the registry's side.
func TestReaderRegistryRequests(t *testing.T) {
	const v1 = "syntax = \"proto3\";\npackage sluice.test;\nmessage Item {\n  int64 id = 1;\n}\n"
	const v2 = "syntax = \"proto3\";\npackage sluice.test;\nmessage Item {\n  int64 id = 1;\n  string note = 2;\n}\n"
	tests := []struct {
		name, subject, strategy string
		want                    []string
	}{
		{"TopicNameStrategy", "items-value", "", []string{"GET /schemas x1"}},
		{"RecordNameStrategy", "sluice.test.Item", schemaregistry.RecordNameStrategyClass,
			[]string{"GET /schemas/ids/{id} x2", "POST /subjects/sluice.test.Item x2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := srtest.Start(t)
			reg.SeedSchema(tt.subject, 1, 31, sr.Schema{Schema: v1, Type: sr.TypeProtobuf})
			reg.SeedSchema(tt.subject, 2, 32, sr.Schema{Schema: v2, Type: sr.TypeProtobuf})
			props := map[string]string{schemaregistry.URLConfig: reg.CountingURL}
			if tt.strategy != "" {
				props[schemaregistry.ValSubjectStrategyConfig] = tt.strategy
			}
			c := New()
			if err := c.Configure(props, false); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				for id, version := range map[int]int32{31: 1, 32: 2} {
					in := append(schemaregistry.AppendHeader(nil, id), 0x00, 0x08, 0x05) // indexes [0], id=5
					s, _, err := c.ToConnectData("items", in)
					if err != nil {
						t.Fatal(err)
					}
					if s.Version == nil || *s.Version != version {
						t.Fatalf("schema id %d read as version %v, want %d", id, s.Version, version)
					}
				}
			}
			got := reg.Requests()
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("asked %v, want %v", got, tt.want)
			}
		})
	}
}
