package sink

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/storage/sink/formattest"
)

func TestJSONConformance(t *testing.T) {
	for _, props := range []map[string]string{nil, {"s3.compression.type": "gzip"}} {
		f, err := NewJSONFormat(props)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.Extension(), func(t *testing.T) { formattest.Run(t, f, nil, records()) })
	}
}
