package sink

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/storage/sink/formattest"
)

func TestParquetConformance(t *testing.T) {
	f, err := NewParquetFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("struct", func(t *testing.T) { formattest.Run(t, f, orderSchema, structRecords(100)) })
	t.Run("schemaless", func(t *testing.T) { formattest.Run(t, f, nil, orderRecords(100)) })
}
