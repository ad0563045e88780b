package avro_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

var benchOrder = data.StructBuilder().Name("io.sluice.datagen.Order").
	Field("order_id", data.Int64Schema).Field("customer_id", data.StringSchema).
	Field("item", data.StringSchema).Field("quantity", data.Int32Schema).
	Field("price", data.Float64Schema).Field("ordered_at", data.TimestampSchema().MustBuild()).MustBuild()

func benchValue() *data.Struct {
	return data.NewStruct(benchOrder).Set("order_id", int64(1234567)).
		Set("customer_id", "f6f50abe-c019-432b-afd8-ef9a6117de4c").
		Set("item", "Organic Cold Brew Coffee Concentrate, 32 oz").Set("quantity", int32(4)).
		Set("price", 18.99).Set("ordered_at", time.UnixMilli(1_704_067_205_000).UTC())
}

// BenchmarkToConnectData reads an order (the datagen shape) from Avro, its
// schema cached: the per-record cost of an Avro sink lease.
func BenchmarkToConnectData(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	c := avro.New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		b.Fatal(err)
	}
	raw, err := c.FromConnectData("orders", benchOrder, benchValue())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.ToConnectData("orders", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromConnectData writes an order as Avro, its schema registered.
func BenchmarkFromConnectData(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	c := avro.New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		b.Fatal(err)
	}
	v := benchValue()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FromConnectData("orders", benchOrder, v); err != nil {
			b.Fatal(err)
		}
	}
}
