package debezium

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// TestNewEnvelope checks the envelope NewEnvelope builds, field by field,
// for EnvelopeSchema's order (set by index) and for another order (set by
// name).
func TestNewEnvelope(t *testing.T) {
	row := data.StructBuilder().Optional().Name("srv.public.items.Value").Field("id", data.Int64Schema).MustBuild()
	ordered := EnvelopeSchema("srv.public.items.Envelope", row, PostgresSourceSchema)
	reordered := data.StructBuilder().Name("srv.public.items.Envelope").
		Field(FieldOp, data.StringSchema).
		Field(FieldBefore, row).
		Field(FieldAfter, row).
		Field(FieldSource, PostgresSourceSchema).
		Field(FieldTransaction, TransactionBlockSchema).
		Field(FieldTsMs, data.OptionalInt64Schema).
		Field(FieldTsUs, data.OptionalInt64Schema).
		Field(FieldTsNs, data.OptionalInt64Schema).
		MustBuild()
	now := time.Date(2026, 12, 7, 5, 0, 0, 123456789, time.UTC)
	before := data.NewStruct(row).Set("id", int64(1))
	after := data.NewStruct(row).Set("id", int64(2))
	src := PostgresSource{Common: Common{Connector: "postgresql", Name: "srv", DB: "db", Time: now}, Schema: "public", Table: "items", LSN: 5}
	tx := &Tx{ID: "7:9", TotalOrder: 3, DataCollectionOrder: 2}
	tests := []struct {
		name   string
		schema *data.Schema
		op     Op
		tx     *Tx
	}{
		{name: "in order, update", schema: ordered, op: OpUpdate},
		{name: "in order, with a transaction block", schema: ordered, op: OpCreate, tx: tx},
		{name: "another order", schema: reordered, op: OpDelete, tx: tx},
		{name: "an op without a constant", schema: ordered, op: Op("x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewEnvelope(tc.schema, tc.op, before, after, src.Struct(), tc.tx, now)
			if err := v.Validate(); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{FieldBefore: before, FieldAfter: after, FieldOp: string(tc.op),
				FieldTsMs: now.UnixMilli(), FieldTsUs: now.UnixMicro(), FieldTsNs: now.UnixNano()}
			for name, w := range want {
				if got := v.Get(name); !data.ValuesEqual(got, w) {
					t.Errorf("%s = %v, want %v", name, got, w)
				}
			}
			if !data.ValuesEqual(v.Get(FieldSource), src.Struct()) {
				t.Errorf("source = %v", v.Get(FieldSource))
			}
			block, _ := v.Get(FieldTransaction).(*data.Struct)
			switch {
			case tc.tx == nil && block != nil:
				t.Errorf("transaction = %v, want none", block)
			case tc.tx != nil && (block == nil || block.Get("id") != tc.tx.ID || block.Get("total_order") != tc.tx.TotalOrder ||
				block.Get("data_collection_order") != tc.tx.DataCollectionOrder):
				t.Errorf("transaction = %v, want %+v", block, tc.tx)
			}
		})
	}
}

// NewEnvelope takes a row or source struct of the envelope's very field
// schema as it is (its fields were checked as they were set), and still
// refuses one of another schema whose values do not fit, as Put does.
func TestNewEnvelopeChecksOtherSchemas(t *testing.T) {
	row := data.StructBuilder().Optional().Name("srv.public.items.Value").Field("id", data.Int64Schema).MustBuild()
	env := EnvelopeSchema("srv.public.items.Envelope", row, PostgresSourceSchema)
	src := PostgresSource{Common: Common{Connector: "postgresql", Name: "srv", DB: "db"}, Schema: "public", Table: "items", LSN: 5}
	now := time.Now()
	v := NewEnvelope(env, OpCreate, nil, data.NewStruct(row).Set("id", int64(2)), src.Struct(), nil, now)
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	// An equal schema that is another object: validated as a whole.
	same := data.StructBuilder().Optional().Name("srv.public.items.Value").Field("id", data.Int64Schema).MustBuild()
	if v := NewEnvelope(env, OpCreate, nil, data.NewStruct(same).Set("id", int64(3)), src.Struct(), nil, now); v.Get(FieldAfter).(*data.Struct).Get("id") != int64(3) {
		t.Fatalf("after = %v", v.Get(FieldAfter))
	}
	other := data.StructBuilder().Optional().Name("srv.public.other.Value").Field("id", data.StringSchema).MustBuild()
	for name, after := range map[string]*data.Struct{
		"another schema":                    data.NewStruct(other).Set("id", "x"),
		"an equal schema, a required unset": data.NewStruct(same),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("NewEnvelope took it")
				}
			}()
			NewEnvelope(env, OpCreate, nil, after, src.Struct(), nil, now)
		})
	}
}
