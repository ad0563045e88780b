package jsonl

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/storage/format/formattest"
)

func TestFormatConformance(t *testing.T) {
	for _, props := range []map[string]string{nil, {"s3.compression.type": "gzip"}} {
		f, err := New(props)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.Extension(), func(t *testing.T) { formattest.Run(t, f, nil, records()) })
	}
}
