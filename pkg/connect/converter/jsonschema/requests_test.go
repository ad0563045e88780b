package jsonschema

import (
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/srtest"
)

// A cold converter reading two versions of a topic's schema asks the
// registry once with TopicNameStrategy (the subject's listing), and by id
// then by schema with RecordNameStrategy; counted on the registry's side.
func TestReaderRegistryRequests(t *testing.T) {
	const v1 = `{"title":"sluice.test.Item","type":"object","properties":{"id":{"type":"integer"}}}`
	const v2 = `{"title":"sluice.test.Item","type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}}}`
	srtest.ReaderRequests(t, sr.TypeJSON, v1, v2, []byte(`{"id":5}`), func() srtest.Reader { return New() })
}
