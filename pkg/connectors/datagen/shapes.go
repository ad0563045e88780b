package datagen

import (
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// The shapes of generated data.
const (
	ShapeOrders    = "orders"
	ShapeUsers     = "users"
	ShapePageviews = "pageviews"
	ShapeBytes     = "bytes"
)

// Schema names of the generated structs.
const (
	OrderSchemaName    = "io.sluice.datagen.Order"
	UserSchemaName     = "io.sluice.datagen.User"
	PageviewSchemaName = "io.sluice.datagen.Pageview"
)

// Epoch is the event time of record 0; record i happens i seconds later.
// Event times never come from the clock, so that replays are identical.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// The schemas, shared by every record.
var (
	// OrderSchema is the orders shape's value schema.
	OrderSchema = data.StructBuilder().Name(OrderSchemaName).
			Field("order_id", data.Int64Schema).
			Field("customer_id", data.StringSchema).
			Field("item", data.StringSchema).
			Field("quantity", data.Int32Schema).
			Field("price", data.Float64Schema).
			Field("ordered_at", data.TimestampSchema().MustBuild()).
			MustBuild()
	// UserSchema is the users shape's value schema: the fields of Confluent
	// datagen's users quickstart.
	UserSchema = data.StructBuilder().Name(UserSchemaName).
			Field("registertime", data.Int64Schema).
			Field("userid", data.StringSchema).
			Field("regionid", data.StringSchema).
			Field("gender", data.StringSchema).
			MustBuild()
	// PageviewSchema is the pageviews shape's value schema: the fields of
	// Confluent datagen's pageviews quickstart.
	PageviewSchema = data.StructBuilder().Name(PageviewSchemaName).
			Field("viewtime", data.Int64Schema).
			Field("userid", data.StringSchema).
			Field("pageid", data.StringSchema).
			MustBuild()
)

// generate fills in the key, value and timestamp of record i; r is the
// record's own generator.
type generate func(rec *connect.Record, r *rng, task, i int64)

// eventTime is the event time of record i.
func eventTime(i int64) time.Time { return Epoch.Add(time.Duration(i) * time.Second) }

// orderIDsPerTask spaces the order ids of tasks apart, so that they are
// unique across tasks and readable (task 2's record 7 is order 2000000000007).
const orderIDsPerTask = 1_000_000_000_000

// customers is how many distinct customers place orders.
const customers = 50_000

type product struct {
	name  any // string
	price any // float64
}

// catalog holds the items of orders, boxed once so that records share them.
var catalog = func() []product {
	items := []struct {
		name  string
		cents int
	}{
		{"Stainless Steel Insulated Water Bottle, 750 ml", 2499},
		{"Organic Cold Brew Coffee Concentrate, 32 oz", 1899},
		{"Wireless Noise-Cancelling Over-Ear Headphones", 19900},
		{"Ergonomic Mesh Office Chair with Lumbar Support", 34950},
		{"Cast Iron Skillet, Pre-Seasoned, 12 inch", 3995},
		{"Bamboo Cutting Board Set with Juice Groove", 2850},
		{"Merino Wool Crew Socks, Pack of 3, Medium", 3600},
		{"USB-C Fast Charger 65 W with Braided Cable", 4299},
		{"Hardcover Notebook, Dotted Grid, A5, 192 pages", 1650},
		{"LED Desk Lamp with Wireless Charging Pad", 5999},
		{"Trail Running Shoes, Waterproof, Size 42", 12900},
		{"Ceramic Pour-Over Coffee Dripper with Filters", 2275},
		{"Yoga Mat, Non-Slip, 6 mm, Forest Green", 3450},
		{"Mechanical Keyboard, Hot-Swappable, Brown Switches", 11900},
		{"Reusable Beeswax Food Wraps, Assorted Sizes", 1799},
		{"Smart Indoor Herb Garden Kit with Grow Light", 8999},
	}
	out := make([]product, len(items))
	for i, it := range items {
		out[i] = product{name: it.name, price: float64(it.cents) / 100}
	}
	return out
}()

// quantities are the boxed order quantities 1 to 5.
var quantities = []any{int32(1), int32(2), int32(3), int32(4), int32(5)}

// numbered returns prefix1 … prefixN, boxed.
func numbered(prefix string, from, to int) []any {
	out := make([]any, 0, to-from+1)
	for n := from; n <= to; n++ {
		out = append(out, prefix+strconv.Itoa(n))
	}
	return out
}

// Values of Confluent's users and pageviews quickstarts.
var (
	userIDs   = numbered("User_", 1, 9)
	regionIDs = numbered("Region_", 1, 9)
	pageIDs   = numbered("Page_", 1, 99)
	genders   = []any{"MALE", "FEMALE", "OTHER"}
)

// generator returns the generator of a shape; seed picks the customers of
// orders, which are the same in every task.
func generator(shape string, seed int64, valueSize int) generate {
	switch shape {
	case ShapeUsers:
		return genUser
	case ShapePageviews:
		return genPageview
	case ShapeBytes:
		return func(rec *connect.Record, r *rng, _, i int64) { genBytes(rec, r, i, valueSize) }
	}
	c := &customerIDs{seed: mix64(uint64(seed) ^ 0x6a09e667f3bcc909), ids: make([]any, customers)}
	return func(rec *connect.Record, r *rng, task, i int64) { genOrder(rec, r, task, i, c) }
}

// customerIDs renders customer ids once per task, boxed, as customers
// place many orders.
type customerIDs struct {
	seed uint64
	ids  []any // string; nil until first used
}

func (c *customerIDs) get(n int) any {
	if c.ids[n] == nil {
		c.ids[n] = customerID(c.seed, n)
	}
	return c.ids[n]
}

func genOrder(rec *connect.Record, r *rng, task, i int64, c *customerIDs) {
	at := eventTime(i)
	customer := c.get(r.intn(customers))
	p := catalog[r.intn(len(catalog))]
	v := data.NewStruct(OrderSchema).
		Set("order_id", task*orderIDsPerTask+i).
		Set("customer_id", customer).
		Set("item", p.name).
		Set("quantity", quantities[r.intn(len(quantities))]).
		Set("price", p.price).
		Set("ordered_at", at)
	rec.KeySchema, rec.Key = data.StringSchema, customer
	rec.ValueSchema, rec.Value = OrderSchema, v
	rec.Timestamp = at
}

// customerID renders customer n as a version-4-shaped UUID derived from
// the seed, so that a customer has the same id in every task.
func customerID(customerSeed uint64, n int) string {
	const hex = "0123456789abcdef"
	hi := mix64(customerSeed ^ uint64(n))
	lo := mix64(hi ^ golden)
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	var b [36]byte
	pos := 0
	for k := 0; k < 32; k++ {
		if k == 8 || k == 12 || k == 16 || k == 20 {
			b[pos] = '-'
			pos++
		}
		word, shift := hi, 60-4*k
		if k >= 16 {
			word, shift = lo, 60-4*(k-16)
		}
		b[pos] = hex[(word>>uint(shift))&0xf]
		pos++
	}
	return string(b[:])
}

func genUser(rec *connect.Record, r *rng, _, i int64) {
	at := eventTime(i)
	user := userIDs[r.intn(len(userIDs))]
	v := data.NewStruct(UserSchema).
		Set("registertime", at.UnixMilli()).
		Set("userid", user).
		Set("regionid", regionIDs[r.intn(len(regionIDs))]).
		Set("gender", genders[r.intn(len(genders))])
	rec.KeySchema, rec.Key = data.StringSchema, user
	rec.ValueSchema, rec.Value = UserSchema, v
	rec.Timestamp = at
}

func genPageview(rec *connect.Record, r *rng, _, i int64) {
	at := eventTime(i)
	user := userIDs[r.intn(len(userIDs))]
	v := data.NewStruct(PageviewSchema).
		Set("viewtime", at.UnixMilli()).
		Set("userid", user).
		Set("pageid", pageIDs[r.intn(len(pageIDs))])
	rec.KeySchema, rec.Key = data.StringSchema, user
	rec.ValueSchema, rec.Value = PageviewSchema, v
	rec.Timestamp = at
}

func genBytes(rec *connect.Record, r *rng, i int64, size int) {
	b := make([]byte, size)
	for k := 0; k < size; k += 8 {
		x := r.next()
		for j := k; j < min(k+8, size); j++ {
			b[j] = byte(x)
			x >>= 8
		}
	}
	rec.ValueSchema, rec.Value = data.BytesSchema, b
	rec.Timestamp = eventTime(i)
}
