package protobuf

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// A schema that imports another registered schema through a schema
// reference, as Confluent's serializers register imports: the converter
// fetches the referenced version and compiles both.
func TestSchemaReferences(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	const common = `syntax = "proto3";
package acme.common;
message Money { string currency = 1; int64 units = 2; }
`
	const order = `syntax = "proto3";
package acme;
import "acme/common/money.proto";
import "google/protobuf/timestamp.proto";
message Order { int64 id = 1; acme.common.Money total = 2; google.protobuf.Timestamp at = 3; }
`
	reg.SeedSchema("acme/common/money.proto", 1, 10, sr.Schema{Schema: common, Type: sr.TypeProtobuf})
	reg.SeedSchema("orders-value", 1, 11, sr.Schema{Schema: order, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "acme/common/money.proto", Subject: "acme/common/money.proto", Version: 1}}})

	c := New()
	if err := c.Configure(map[string]string{schemaregistry.URLConfig: reg.URL()}, false); err != nil {
		t.Fatal(err)
	}
	// Encode a message with the same descriptors, independently of the
	// converter's writer.
	fd, err := compileSchema(t.Context(), sr.Schema{Schema: order, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "acme/common/money.proto", Subject: "acme/common/money.proto", Version: 1}}}, c.fetch)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().ByName("Order")
	m := newMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfInt64(5))
	total := m.Mutable(md.Fields().ByName("total")).Message()
	total.Set(total.Descriptor().Fields().ByName("currency"), protoreflect.ValueOfString("EUR"))
	total.Set(total.Descriptor().Fields().ByName("units"), protoreflect.ValueOfInt64(12))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	raw := schemaregistry.AppendMessageIndexes(schemaregistry.AppendHeader(nil, 11), []int{0})
	raw = append(raw, payload...)
	s, v, err := c.ToConnectData("orders", raw)
	if err != nil {
		t.Fatal(err)
	}
	money := s.Field("total").Schema
	if money.Name != "acme.common.Money" || s.Field("at").Schema.Name != data.TimestampName || *s.Version != 1 {
		t.Fatalf("schema %+v", s)
	}
	got := v.(*data.Struct)
	if got.Get("id") != int64(5) || got.Get("total").(*data.Struct).Get("currency") != "EUR" || got.Get("at") != nil {
		t.Fatalf("value %v", got)
	}
}
