package protobuf

import (
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/srtest"
)

// A cold converter reading two versions of a topic's schema asks the
// registry once with TopicNameStrategy (the subject's listing), and by id
// then by schema with RecordNameStrategy; counted on the registry's side.
func TestReaderRegistryRequests(t *testing.T) {
	const v1 = "syntax = \"proto3\";\npackage sluice.test;\nmessage Item {\n  int64 id = 1;\n}\n"
	const v2 = "syntax = \"proto3\";\npackage sluice.test;\nmessage Item {\n  int64 id = 1;\n  string note = 2;\n}\n"
	payload := []byte{0x00, 0x08, 0x05} // indexes [0], id=5
	srtest.ReaderRequests(t, sr.TypeProtobuf, v1, v2, payload, func() srtest.Reader { return New() })
}
