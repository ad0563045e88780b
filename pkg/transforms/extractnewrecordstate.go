package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// ExtractNewRecordState's keys and values (Debezium's
// ExtractNewRecordStateConfigDefinition).
const (
	enrsDeleteTombstoneHandling = "delete.tombstone.handling.mode"
	enrsDropTombstones          = "drop.tombstones"
	enrsDeleteHandling          = "delete.handling.mode"
	enrsRouteByField            = "route.by.field"
	enrsAddFields               = "add.fields"
	enrsAddFieldsPrefix         = "add.fields.prefix"
	enrsAddHeaders              = "add.headers"
	enrsAddHeadersPrefix        = "add.headers.prefix"

	enrsDeletedField = "__deleted"
)

func extractNewRecordStateConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: enrsDeleteTombstoneHandling, Type: config.String, Default: nil,
			Validator: config.LambdaValidator(func(name string, v any) error {
				if v == nil {
					return nil
				}
				return config.ValidString("drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone").Validate(name, v)
			}, "[drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone]"),
			Importance: config.Medium, Width: config.WidthMedium,
			Doc: "How delete events and tombstones are handled: drop (both removed), tombstone (the default when no legacy key is set: delete events removed, tombstones kept), " +
				"rewrite (delete events become their before state with __deleted=true, tombstones removed), rewrite-with-tombstone (the same, tombstones kept), " +
				"delete-to-tombstone (delete events become tombstones, original tombstones removed)."}).
		Define(config.Key{Name: enrsDropTombstones, Type: config.Boolean, Default: nil, Importance: config.Low, Width: config.WidthShort,
			Doc: "Legacy (Debezium 1.x/2.x): drop tombstones (default true). Used only when delete.tombstone.handling.mode is not set."}).
		Define(config.Key{Name: enrsDeleteHandling, Type: config.String, Default: nil,
			Validator: config.LambdaValidator(func(name string, v any) error {
				if v == nil {
					return nil
				}
				return config.ValidString("drop", "rewrite", "none").Validate(name, v)
			}, "[drop, rewrite, none]"),
			Importance: config.Medium, Width: config.WidthMedium,
			Doc: "Legacy (Debezium 1.x/2.x): delete events are dropped (drop, the default), rewritten with __deleted (rewrite), or passed on with a null value (none). Used only when delete.tombstone.handling.mode is not set."}).
		Define(config.Key{Name: enrsRouteByField, Type: config.String, Default: "", Importance: config.Low, Width: config.WidthLong,
			Doc: "A row field whose value replaces the topic name."}).
		Define(config.Key{Name: enrsAddFieldsPrefix, Type: config.String, Default: "__", Importance: config.Low, Width: config.WidthShort,
			Doc: "Prefix of the fields add.fields adds."}).
		Define(config.Key{Name: enrsAddFields, Type: config.List, Default: "", Importance: config.Low, Width: config.WidthLong,
			Doc: "Envelope fields to add to the row, prefixed: op, ts_ms, source fields (table, lsn or source.ts_ms), transaction fields (id); field:name renames."}).
		Define(config.Key{Name: enrsAddHeadersPrefix, Type: config.String, Default: "__", Importance: config.Low, Width: config.WidthShort,
			Doc: "Prefix of the headers add.headers adds."}).
		Define(config.Key{Name: enrsAddHeaders, Type: config.List, Default: "", Importance: config.Low, Width: config.WidthLong,
			Doc: "Envelope fields to add as headers, named as for add.fields."})
}

// ExtractNewRecordState is Debezium's io.debezium.transforms.ExtractNewRecordState:
// it replaces a change event's envelope by the row after the change (the
// row before it for rewritten deletes), drops or keeps delete events and
// tombstones as configured, and can copy envelope fields into the row or
// into headers. Records that are not change events pass unchanged. A
// configured ExtractNewRecordState is safe for concurrent use.
type ExtractNewRecordState struct {
	deletes    string // drop, tombstone or rewrite
	tombstones bool   // keep tombstones
	rewrite    bool   // __deleted on every row
	routeBy    string
	fields     []enrsField
	headers    []enrsField
}

var _ connect.Transformation = (*ExtractNewRecordState)(nil)

// NewExtractNewRecordState returns an unconfigured transformation.
func NewExtractNewRecordState() *ExtractNewRecordState { return &ExtractNewRecordState{} }

// Config returns the transformation's keys.
func (t *ExtractNewRecordState) Config() *config.Def { return extractNewRecordStateConfig() }

// Configure reads the keys.
func (t *ExtractNewRecordState) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	mode, _ := vals.Get(enrsDeleteTombstoneHandling).(string)
	legacyDeletes, legacyTombstones := vals.Get(enrsDeleteHandling), vals.Get(enrsDropTombstones)
	if mode == "" && legacyDeletes == nil && legacyTombstones == nil {
		mode = "tombstone"
	}
	switch mode {
	case "drop":
		t.deletes, t.tombstones = "drop", false
	case "tombstone":
		t.deletes, t.tombstones = "drop", true
	case "rewrite":
		t.deletes, t.tombstones = "rewrite", false
	case "rewrite-with-tombstone":
		t.deletes, t.tombstones = "rewrite", true
	case "delete-to-tombstone":
		t.deletes, t.tombstones = "tombstone", false
	default: // the legacy keys
		t.deletes = "drop"
		switch legacyDeletes {
		case "rewrite":
			t.deletes = "rewrite"
		case "none":
			t.deletes = "tombstone"
		}
		t.tombstones = legacyTombstones == false
	}
	t.rewrite = t.deletes == "rewrite"
	t.routeBy = vals.String(enrsRouteByField)
	if t.fields, err = parseEnrsFields(vals.String(enrsAddFieldsPrefix), vals.List(enrsAddFields)); err != nil {
		return err
	}
	t.headers, err = parseEnrsFields(vals.String(enrsAddHeadersPrefix), vals.List(enrsAddHeaders))
	return err
}

// enrsField is an envelope field to copy: struct is "source", "transaction"
// or "" (op, ts_ms), and name is where it goes.
type enrsField struct {
	struct_, field, name string
}

func parseEnrsFields(prefix string, list []string) ([]enrsField, error) {
	var out []enrsField
	for _, spec := range list {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		parts := strings.Split(spec, ":")
		if len(parts) > 2 {
			return nil, fmt.Errorf("Unexpected field name: %s", spec)
		}
		var f enrsField
		if s, name, ok := strings.Cut(parts[0], "."); ok {
			f.struct_, f.field = s, name
			f.name = prefix + s + "_" + name
		} else {
			f.field = parts[0]
			switch f.field {
			case "id", "total_order", "data_collection_order":
				f.struct_ = debezium.FieldTransaction
			case debezium.FieldOp, debezium.FieldTsMs:
			default:
				f.struct_ = debezium.FieldSource
			}
			f.name = prefix + f.field
		}
		if len(parts) == 2 {
			f.name = prefix + parts[1]
		}
		out = append(out, f)
	}
	return out, nil
}

// lookup returns the field's schema (made optional) and value in an envelope.
func (f enrsField) lookup(env *data.Struct) (*data.Schema, any, bool) {
	parent, parentSchema := env, env.Schema()
	if f.struct_ != "" {
		fs := env.Schema().Field(f.struct_)
		if fs != nil {
			parentSchema = fs.Schema
			parent, _ = env.GetWithoutDefault(f.struct_).(*data.Struct)
		}
	}
	field := parentSchema.Field(f.field)
	if field == nil {
		if field = env.Schema().Field(f.field); field == nil {
			return nil, nil, false
		}
		parent = env
	}
	// Connect's SchemaUtil.copySchemaBasics(schema).optional(): the same
	// type, name, version, doc and parameters, optional, no default.
	c := *field.Schema
	c.Optional, c.Default = true, nil
	return &c, valueOf(parent, f.field), true
}

func valueOf(s *data.Struct, field string) any {
	if s == nil {
		return nil
	}
	return s.GetWithoutDefault(field)
}

// isEnvelope reports whether a record is a Debezium change event.
func isEnvelope(r *connect.TransformRecord) (*data.Struct, bool) {
	v, ok := r.Value.(*data.Struct)
	if !ok || r.ValueSchema == nil || !strings.HasSuffix(r.ValueSchema.Name, debezium.EnvelopeSuffix) ||
		r.ValueSchema.Field(debezium.FieldOp) == nil || r.ValueSchema.Field(debezium.FieldAfter) == nil {
		return nil, false
	}
	return v, true
}

// Apply flattens one record.
func (t *ExtractNewRecordState) Apply(r *connect.TransformRecord) (bool, error) {
	if r.Value == nil {
		if !t.tombstones {
			return false, nil
		}
		for _, h := range t.headers {
			if h.struct_ == "" && h.field == debezium.FieldOp {
				r.Headers = r.Headers.Clone()
				r.Headers.AddString(h.name, string(debezium.OpDelete))
			}
		}
		return true, nil
	}
	env, ok := isEnvelope(r)
	if !ok {
		return true, nil
	}
	if len(t.headers) > 0 {
		r.Headers = r.Headers.Clone()
		for _, h := range t.headers {
			if s, v, ok := h.lookup(env); ok {
				r.Headers.Add(h.name, s, v)
			}
		}
	}
	rowSchema := r.ValueSchema.Field(debezium.FieldAfter).Schema
	after, _ := env.GetWithoutDefault(debezium.FieldAfter).(*data.Struct)
	before, _ := env.GetWithoutDefault(debezium.FieldBefore).(*data.Struct)
	if after == nil && before == nil && env.GetWithoutDefault(debezium.FieldOp) == string(debezium.OpTruncate) {
		return false, nil
	}
	row, deleted := after, false
	if after == nil {
		switch t.deletes {
		case "drop":
			return false, nil
		case "tombstone":
			if t.routeBy != "" && before != nil {
				t.route(r, before)
			}
			r.ValueSchema, r.Value = nil, nil
			return true, nil
		}
		row, deleted = before, true
		if row == nil {
			return false, nil
		}
	}
	if t.routeBy != "" {
		t.route(r, row)
	}
	schema, value, err := t.extend(env, rowSchema, row, deleted)
	if err != nil {
		return false, err
	}
	r.ValueSchema, r.Value = schema, value
	return true, nil
}

func (t *ExtractNewRecordState) route(r *connect.TransformRecord, row *data.Struct) {
	if row.Schema().Field(t.routeBy) == nil {
		return
	}
	if s, ok := row.GetWithoutDefault(t.routeBy).(string); ok {
		r.Topic = s
	}
}

// extend adds the requested envelope fields and, when rewriting, __deleted.
func (t *ExtractNewRecordState) extend(env *data.Struct, rowSchema *data.Schema, row *data.Struct, deleted bool) (*data.Schema, any, error) {
	if len(t.fields) == 0 && !t.rewrite {
		return rowSchema, row, nil
	}
	type extra struct {
		name   string
		schema *data.Schema
		value  any
	}
	var extras []extra
	if t.rewrite {
		// Debezium 3.x puts __deleted before the added fields.
		extras = append(extras, extra{enrsDeletedField, data.OptionalStringSchema, fmt.Sprint(deleted)})
	}
	for _, f := range t.fields {
		if s, v, ok := f.lookup(env); ok {
			extras = append(extras, extra{f.name, s, v})
		}
	}
	b := copySchemaBasics(rowSchema, data.StructBuilder())
	for _, f := range rowSchema.Fields {
		b.Field(f.Name, f.Schema)
	}
	for _, x := range extras {
		b.Field(x.name, x.schema)
	}
	schema, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	out := data.NewStruct(schema)
	for _, f := range rowSchema.Fields {
		if err := out.Put(f.Name, row.GetWithoutDefault(f.Name)); err != nil {
			return nil, nil, err
		}
	}
	for _, x := range extras {
		if err := out.Put(x.name, x.value); err != nil {
			return nil, nil, err
		}
	}
	return schema, out, nil
}

// Close does nothing.
func (t *ExtractNewRecordState) Close() error { return nil }
