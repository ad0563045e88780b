package sink

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// orderRecords returns n schemaless order-like records of about 200 bytes
// of JSON each, as the JSON converter decodes them.
func orderRecords(n int) []connect.SinkRecord {
	statuses := []string{"NEW", "PAID", "SHIPPED", "DELIVERED"}
	recs := make([]connect.SinkRecord, n)
	for i := range recs {
		recs[i].Value = map[string]any{
			"order_id":    "ord-" + strconv.Itoa(1000000+i),
			"customer_id": int64(i % 5000),
			"status":      statuses[i%len(statuses)],
			"amount":      float64(i%10000) / 100,
			"quantity":    int64(i%7 + 1),
			"sku":         "SKU-" + strconv.Itoa(i%997),
			"created_at":  int64(1700000000000 + i),
			"express":     i%3 == 0,
			"country":     "DE",
		}
	}
	return recs
}

var orderSchema = data.StructBuilder().Name("com.example.Order").
	Field("order_id", data.StringSchema).
	Field("customer_id", data.Int64Schema).
	Field("status", data.StringSchema).
	Field("amount", data.Float64Schema).
	Field("quantity", data.Int32Schema).
	Field("sku", data.OptionalStringSchema).
	Field("created_at", data.TimestampSchema().MustBuild()).
	Field("express", data.BooleanSchema).
	Field("country", data.StringSchema).
	MustBuild()

func structRecords(n int) []connect.SinkRecord {
	statuses := []string{"NEW", "PAID", "SHIPPED", "DELIVERED"}
	recs := make([]connect.SinkRecord, n)
	for i := range recs {
		recs[i].ValueSchema = orderSchema
		recs[i].Value = data.NewStruct(orderSchema).
			Set("order_id", "ord-"+strconv.Itoa(1000000+i)).
			Set("customer_id", int64(i%5000)).
			Set("status", statuses[i%len(statuses)]).
			Set("amount", float64(i%10000)/100).
			Set("quantity", int32(i%7+1)).
			Set("sku", "SKU-"+strconv.Itoa(i%997)).
			Set("created_at", time.UnixMilli(int64(1700000000000+i)).UTC()).
			Set("express", i%3 == 0).
			Set("country", "DE")
	}
	return recs
}

// BenchmarkParquetWrite writes 1,000,000 records per iteration into one
// snappy file; ns/op, allocs/op and B/op are per file of a million records.
func BenchmarkParquetWrite(b *testing.B) {
	const n = 1_000_000
	for _, bc := range []struct {
		name string
		recs []connect.SinkRecord
	}{
		{name: "schemaless", recs: orderRecords(n)},
		{name: "struct", recs: structRecords(n)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := NewParquetFormat(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w, err := f.NewWriter(io.Discard, bc.recs[0].ValueSchema)
				if err != nil {
					b.Fatal(err)
				}
				for i := range bc.recs {
					if err := w.Write(&bc.recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
		})
	}
}
