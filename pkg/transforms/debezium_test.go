package transforms

import (
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// changeEvent builds a PostgreSQL change event of table public.orders.
func changeEvent(op debezium.Op, before, after map[string]any) connect.TransformRecord {
	topic := "srv.public.orders"
	row := data.StructBuilder().Optional().Name(topic+".Value").
		Field("id", data.Int32Schema).Field("note", data.OptionalStringSchema).MustBuild()
	keySchema := data.StructBuilder().Name(topic+".Key").Field("id", data.Int32Schema).MustBuild()
	env := debezium.EnvelopeSchema(topic+".Envelope", row, debezium.PostgresSourceSchema)
	mk := func(m map[string]any) *data.Struct {
		if m == nil {
			return nil
		}
		s := data.NewStruct(row)
		for k, v := range m {
			s.Set(k, v)
		}
		return s
	}
	src := debezium.PostgresSource{Common: debezium.Common{Connector: "postgresql", Name: "srv", DB: "db", Time: time.UnixMilli(1700000000000)},
		Schema: "public", Table: "orders", TxID: 7, LSN: 1234}.Struct()
	value := debezium.NewEnvelope(env, op, mk(before), mk(after), src, nil, time.UnixMilli(1700000000500))
	id := after
	if id == nil {
		id = before
	}
	var key *data.Struct
	if id != nil {
		key = data.NewStruct(keySchema).Set("id", id["id"])
	}
	return connect.TransformRecord{Record: connect.Record{Topic: topic, KeySchema: keySchema, Key: key, ValueSchema: env, Value: value}, KafkaOffset: -1}
}

func tombstone() connect.TransformRecord {
	r := changeEvent(debezium.OpDelete, map[string]any{"id": int32(2)}, nil)
	r.ValueSchema, r.Value = nil, nil
	return r
}

func TestExtractNewRecordState(t *testing.T) {
	create := changeEvent(debezium.OpCreate, nil, map[string]any{"id": int32(1), "note": "n"})
	del := changeEvent(debezium.OpDelete, map[string]any{"id": int32(2), "note": "gone"}, nil)
	truncate := changeEvent(debezium.OpTruncate, nil, nil)
	heartbeatKey, heartbeatValue := debezium.Heartbeat("srv", time.Now())
	heartbeat := connect.TransformRecord{Record: connect.Record{Topic: "__debezium-heartbeat.srv", KeySchema: debezium.HeartbeatKeySchema,
		Key: heartbeatKey, ValueSchema: debezium.HeartbeatValueSchema, Value: heartbeatValue}}

	tests := []struct {
		name   string
		props  map[string]string
		in     connect.TransformRecord
		keep   bool
		fields []string // the value's fields, nil for a null value
		check  func(t *testing.T, r connect.TransformRecord)
	}{
		{name: "create becomes its row", in: create, keep: true, fields: []string{"id", "note"}},
		{name: "delete dropped by default (tombstone mode)", in: del, keep: false},
		{name: "tombstone kept by default", in: tombstone(), keep: true},
		{name: "truncate dropped", in: truncate, keep: false},
		{name: "not a change event", in: heartbeat, keep: true, fields: []string{"ts_ms"}},
		{name: "drop mode drops tombstones", props: map[string]string{enrsDeleteTombstoneHandling: "drop"}, in: tombstone(), keep: false},
		{name: "rewrite marks rows", props: map[string]string{enrsDeleteTombstoneHandling: "rewrite"}, in: create, keep: true,
			fields: []string{"id", "note", "__deleted"},
			check: func(t *testing.T, r connect.TransformRecord) {
				if v := r.Value.(*data.Struct).Get("__deleted"); v != "false" {
					t.Fatalf("__deleted = %v", v)
				}
			}},
		{name: "rewrite turns a delete into its before row", props: map[string]string{enrsDeleteTombstoneHandling: "rewrite"}, in: del, keep: true,
			fields: []string{"id", "note", "__deleted"},
			check: func(t *testing.T, r connect.TransformRecord) {
				v := r.Value.(*data.Struct)
				if v.Get("__deleted") != "true" || v.Get("note") != "gone" {
					t.Fatalf("rewritten delete = %v", v)
				}
			}},
		{name: "rewrite drops tombstones", props: map[string]string{enrsDeleteTombstoneHandling: "rewrite"}, in: tombstone(), keep: false},
		{name: "rewrite-with-tombstone keeps them", props: map[string]string{enrsDeleteTombstoneHandling: "rewrite-with-tombstone"}, in: tombstone(), keep: true},
		{name: "delete-to-tombstone", props: map[string]string{enrsDeleteTombstoneHandling: "delete-to-tombstone"}, in: del, keep: true,
			check: func(t *testing.T, r connect.TransformRecord) {
				if r.Value != nil || r.ValueSchema != nil || r.Key == nil {
					t.Fatalf("not a tombstone: %+v", r.Record)
				}
			}},
		{name: "legacy keys: none and tombstones kept", props: map[string]string{enrsDeleteHandling: "none", enrsDropTombstones: "false"}, in: tombstone(), keep: true},
		{name: "legacy default drops tombstones", props: map[string]string{enrsDeleteHandling: "drop"}, in: tombstone(), keep: false},
		{name: "add.fields", props: map[string]string{enrsAddFields: "op,table,source.ts_ms,lsn:pos"}, in: create, keep: true,
			fields: []string{"id", "note", "__op", "__table", "__source_ts_ms", "__pos"},
			check: func(t *testing.T, r connect.TransformRecord) {
				v := r.Value.(*data.Struct)
				if v.Get("__op") != "c" || v.Get("__table") != "orders" || v.Get("__source_ts_ms") != int64(1700000000000) || v.Get("__pos") != int64(1234) {
					t.Fatalf("added fields = %v", v)
				}
				if !r.ValueSchema.Field("__op").Schema.Optional {
					t.Fatal("added field not optional")
				}
			}},
		{name: "add.headers", props: map[string]string{enrsAddHeaders: "op,db"}, in: create, keep: true, fields: []string{"id", "note"},
			check: func(t *testing.T, r connect.TransformRecord) {
				op, ok := r.Headers.LastWithName("__op")
				db, ok2 := r.Headers.LastWithName("__db")
				if !ok || !ok2 || op.Value != "c" || db.Value != "db" {
					t.Fatalf("headers = %+v", r.Headers)
				}
			}},
		{name: "route.by.field", props: map[string]string{enrsRouteByField: "note"}, in: create, keep: true, fields: []string{"id", "note"},
			check: func(t *testing.T, r connect.TransformRecord) {
				if r.Topic != "n" {
					t.Fatalf("topic = %s", r.Topic)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewExtractNewRecordState()
			if err := x.Configure(tt.props); err != nil {
				t.Fatal(err)
			}
			r := tt.in
			keep, err := x.Apply(&r)
			if err != nil {
				t.Fatal(err)
			}
			if keep != tt.keep {
				t.Fatalf("keep = %v, want %v", keep, tt.keep)
			}
			if !keep {
				return
			}
			if tt.fields != nil {
				var got []string
				for _, f := range r.ValueSchema.Fields {
					got = append(got, f.Name)
				}
				if !slices.Equal(got, tt.fields) {
					t.Fatalf("fields = %v, want %v", got, tt.fields)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestByLogicalTableRouter(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		in      connect.TransformRecord
		topic   string
		keyName string
		keyID   any // the physical table identifier, nil when not added
	}{
		{name: "routed with a unique key", props: map[string]string{bltrTopicRegex: `(.*)\.public\.(.*)`, bltrTopicReplacement: "$1.all.$2"},
			in: changeEvent(debezium.OpCreate, nil, map[string]any{"id": int32(1)}), topic: "srv.all.orders", keyName: "srv.all.orders.Key", keyID: "srv.public.orders"},
		{name: "key field regex", props: map[string]string{bltrTopicRegex: `srv\.public\.(.*)`, bltrTopicReplacement: "all",
			bltrKeyFieldRegex: `srv\.public\.(.*)`, bltrKeyFieldRepl: "$1", bltrKeyFieldName: "tbl"},
			in: changeEvent(debezium.OpCreate, nil, map[string]any{"id": int32(1)}), topic: "all", keyName: "all.Key", keyID: "orders"},
		{name: "uniqueness off", props: map[string]string{bltrTopicRegex: `.*`, bltrTopicReplacement: "all", bltrKeyUnique: "false"},
			in: changeEvent(debezium.OpCreate, nil, map[string]any{"id": int32(1)}), topic: "all", keyName: "all.Key"},
		{name: "tombstone: key and topic only", props: map[string]string{bltrTopicRegex: `.*`, bltrTopicReplacement: "all"},
			in: tombstone(), topic: "all", keyName: "all.Key", keyID: "srv.public.orders"},
		{name: "no match", props: map[string]string{bltrTopicRegex: `other`, bltrTopicReplacement: "all"},
			in: changeEvent(debezium.OpCreate, nil, map[string]any{"id": int32(1)}), topic: "srv.public.orders", keyName: "srv.public.orders.Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewByLogicalTableRouter()
			if err := x.Configure(tt.props); err != nil {
				t.Fatal(err)
			}
			r := tt.in
			if keep, err := x.Apply(&r); err != nil || !keep {
				t.Fatal(keep, err)
			}
			if r.Topic != tt.topic || r.KeySchema.Name != tt.keyName {
				t.Fatalf("topic %s key schema %s", r.Topic, r.KeySchema.Name)
			}
			key := r.Key.(*data.Struct)
			field := tt.props[bltrKeyFieldName]
			if field == "" {
				field = "__dbz__physicalTableIdentifier"
			}
			if tt.keyID != nil && key.Get(field) != tt.keyID || tt.keyID == nil && key.Schema().Field(field) != nil {
				t.Fatalf("key = %v", key)
			}
			if r.Value != nil && r.Topic != tt.in.Topic {
				if r.ValueSchema.Name != tt.topic+".Envelope" || r.ValueSchema.Field("after").Schema.Name != tt.topic+".Value" {
					t.Fatalf("value schemas %s %s", r.ValueSchema.Name, r.ValueSchema.Field("after").Schema.Name)
				}
				if err := data.Validate(r.ValueSchema, r.Value); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
