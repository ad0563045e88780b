package srtest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Reader is the part of a Schema Registry converter ReaderRequests uses.
type Reader interface {
	Configure(props map[string]string, isKey bool) error
	ToConnectData(topic string, value []byte) (*data.Schema, any, error)
}

// ReaderRequests checks how often a cold value converter (made by newReader)
// asks the registry while it reads records of two versions (ids 31 and 32)
// of the schema of topic "items": once with TopicNameStrategy (the
// subject's listing), and by id then by schema with RecordNameStrategy
// (subject sluice.test.Item). typ, v1 and v2 are the schemas; payload is a
// record's body after the wire-format header (the same for both versions).
func ReaderRequests(t *testing.T, typ sr.SchemaType, v1, v2 string, payload []byte, newReader func() Reader) {
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
			reg := Start(t)
			reg.SeedSchema(tt.subject, 1, 31, sr.Schema{Schema: v1, Type: typ})
			reg.SeedSchema(tt.subject, 2, 32, sr.Schema{Schema: v2, Type: typ})
			props := map[string]string{schemaregistry.URLConfig: reg.CountingURL}
			if tt.strategy != "" {
				props[schemaregistry.ValSubjectStrategyConfig] = tt.strategy
			}
			c := newReader()
			if err := c.Configure(props, false); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				for id, version := range map[int]int32{31: 1, 32: 2} {
					in := append(schemaregistry.AppendHeader(nil, id), payload...)
					s, _, err := c.ToConnectData("items", in)
					if err != nil {
						t.Fatal(err)
					}
					if s.Version == nil || *s.Version != version {
						t.Fatalf("schema id %d read as version %v, want %d", id, s.Version, version)
					}
				}
			}
			if got := reg.Requests(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("asked %v, want %v", got, tt.want)
			}
		})
	}
}
