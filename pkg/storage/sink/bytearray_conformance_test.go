package sink

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/storage/sink/formattest"
)

func TestByteArrayConformance(t *testing.T) {
	var recs []connect.SinkRecord
	for _, v := range []any{[]byte("one"), []byte{0, 0xff}, nil, []byte("two\nlines")} {
		var r connect.SinkRecord
		r.Topic, r.Value = "t", v
		recs = append(recs, r)
	}
	for _, props := range []map[string]string{nil, {"s3.compression.type": "gzip"}} {
		f, err := NewByteArrayFormat(props)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.Extension(), func(t *testing.T) { formattest.Run(t, f, nil, recs) })
	}
}
