package jdbc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// source of a column's value in a record.
type source int

const (
	fromValue source = iota
	fromKeyField
	fromKey // a primitive key
	fromTopic
	fromPartition
	fromOffset
)

// sinkCol is one column a record writes.
type sinkCol struct {
	name   string
	schema *data.Schema
	from   source
	field  string // the key's or value's field
	key    bool
}

// shape is how the records of one topic and schema map to a table's
// columns: the key columns first, then the value's.
type shape struct {
	table     TableID
	cols      []sinkCol
	keys      []string
	keySchema *data.Schema
	valSchema *data.Schema
	keysShape *shape // the key columns alone, for deletes
	// rawCols is, per field of valSchema, the index of its column (-1 for
	// none), for rows read from their bytes (rawValues).
	rawCols []int
	// rawKeyCols is rawCols for the fields of keySchema, for keys read
	// from their bytes.
	rawKeyCols []int
}

func (s *shape) colNames() []string {
	out := make([]string, len(s.cols))
	for i, c := range s.cols {
		out[i] = c.name
	}
	return out
}

// tableFor applies table.name.format to a topic.
func (t *SinkTask) tableFor(topic string) TableID {
	name := strings.ReplaceAll(t.s.tableFormat, "${topic}", topic)
	if schema, table, ok := strings.Cut(name, "."); ok {
		return TableID{Schema: schema, Name: table}
	}
	return TableID{Name: name}
}

// shapeOf returns the shape of a record with a value, computing it when
// the schemas or topic differ from the last record's.
func (t *SinkTask) shapeOf(r *connect.SinkRecord) (*shape, error) {
	table := t.tableFor(r.Topic)
	if s := t.lastShape; s != nil && s.table == table && sameSchema(s.keySchema, r.KeySchema) && sameSchema(s.valSchema, r.ValueSchema) {
		return s, nil
	}
	s, err := t.newShape(table, r)
	if err != nil {
		return nil, err
	}
	t.lastShape = s
	return s, nil
}

func sameSchema(a, b *data.Schema) bool { return a == b || a != nil && b != nil && data.Equal(a, b) }

func (t *SinkTask) newShape(table TableID, r *connect.SinkRecord) (*shape, error) {
	vs := r.ValueSchema
	if vs == nil || vs.Type != data.TypeStruct {
		return nil, recordErrorf("the JDBC sink needs records whose value has a STRUCT schema (a schema-aware converter, "+
			"e.g. JsonConverter with schemas.enable=true); got %s", vs)
	}
	s := &shape{table: table, keySchema: r.KeySchema, valSchema: vs}
	addKey := func(c sinkCol) {
		c.key = true
		s.cols = append(s.cols, c)
		s.keys = append(s.keys, c.name)
	}
	var valueKeys []string
	switch t.s.pkMode {
	case PKModeKafka:
		names := kafkaPKFields
		if len(t.s.pkFields) == 3 {
			names = t.s.pkFields
		}
		addKey(sinkCol{name: names[0], schema: data.StringSchema, from: fromTopic})
		addKey(sinkCol{name: names[1], schema: data.Int32Schema, from: fromPartition})
		addKey(sinkCol{name: names[2], schema: data.Int64Schema, from: fromOffset})
	case PKModeRecordKey:
		ks := r.KeySchema
		switch {
		case ks == nil:
			return nil, recordErrorf("pk.mode=record_key needs records with a key schema; the key has none")
		case ks.Type == data.TypeStruct:
			fields := t.s.pkFields
			if len(fields) == 0 {
				for _, f := range ks.Fields {
					fields = append(fields, f.Name)
				}
			}
			for _, name := range fields {
				f := ks.Field(name)
				if f == nil {
					return nil, recordErrorf("pk.fields names %q, which the key's schema does not have", name)
				}
				addKey(sinkCol{name: name, schema: f.Schema, from: fromKeyField, field: name})
			}
		case ks.Type.Primitive():
			if len(t.s.pkFields) != 1 {
				return nil, recordErrorf("pk.mode=record_key with a primitive key needs exactly one column name in pk.fields")
			}
			addKey(sinkCol{name: t.s.pkFields[0], schema: ks, from: fromKey})
		default:
			return nil, recordErrorf("pk.mode=record_key: a %s key cannot be a primary key", strings.ToUpper(string(ks.Type)))
		}
	case PKModeRecordValue:
		valueKeys = t.s.pkFields
		if len(valueKeys) == 0 {
			for _, f := range vs.Fields {
				valueKeys = append(valueKeys, f.Name)
			}
		}
		for _, name := range valueKeys {
			f := vs.Field(name)
			if f == nil {
				return nil, recordErrorf("pk.fields names %q, which the value's schema does not have", name)
			}
			addKey(sinkCol{name: name, schema: f.Schema, field: name})
		}
	}
	for _, f := range vs.Fields {
		if slices.Contains(valueKeys, f.Name) || len(t.s.whitelist) > 0 && !slices.Contains(t.s.whitelist, f.Name) {
			continue
		}
		if slices.Contains(s.keys, f.Name) {
			continue // the key's column already
		}
		s.cols = append(s.cols, sinkCol{name: f.Name, schema: f.Schema, field: f.Name})
	}
	if len(s.cols) == 0 {
		return nil, recordErrorf("no column to write: the value has no field (after fields.whitelist) and there is no key")
	}
	return s, nil
}

// values extracts a record's column values (Connect values) in shape order.
func (s *shape) values(r *connect.SinkRecord) ([]any, error) {
	out := make([]any, len(s.cols))
	var value *data.Struct
	if r.Value != nil {
		v, ok := r.Value.(*data.Struct)
		if !ok {
			return nil, recordErrorf("the value is a %T, not a Struct", r.Value)
		}
		value = v
	}
	for i, c := range s.cols {
		if c.from == fromValue {
			if value != nil {
				out[i] = value.Get(c.field)
			}
		} else {
			var err error
			if out[i], err = c.fromRecord(r); err != nil {
				return nil, err
			}
		}
		if c.key && out[i] == nil && (value != nil || c.from != fromValue) {
			return nil, recordErrorf("primary key column %q is null", c.name)
		}
	}
	return out, nil
}

// fromRecord is the Connect value of a column that is not the value's.
func (c *sinkCol) fromRecord(r *connect.SinkRecord) (any, error) {
	switch c.from {
	case fromKeyField:
		k, ok := r.Key.(*data.Struct)
		if !ok {
			return nil, recordErrorf("the key is a %T, not a Struct", r.Key)
		}
		return k.Get(c.field), nil
	case fromKey:
		return r.Key, nil
	case fromTopic:
		return r.Topic, nil
	case fromPartition:
		return r.KafkaPartition(), nil
	case fromOffset:
		return r.Offset, nil
	}
	return nil, nil
}

// keyString identifies a row's primary key, to keep the last of several
// rows with one key in a batch. Strings and bytes are length-prefixed, so
// that composite keys whose parts hold the separator stay apart; -0 is 0,
// as the database compares it. Keys the database equates in other ways
// (char padding, case-insensitive types) may stay apart here: the
// dialect's IsDataError then has the statement retried row by row.
func keyString(s *shape, args []any) string {
	var b []byte
	for i, c := range s.cols {
		if !c.key {
			continue
		}
		switch x := args[i].(type) {
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case string:
			b = strconv.AppendInt(b, int64(len(x)), 10)
			b = append(b, ':')
			b = append(b, x...)
		case []byte:
			b = strconv.AppendInt(b, int64(len(x)), 10)
			b = append(b, 'x')
			b = append(b, x...)
		case float64:
			if x == 0 {
				x = 0 // -0
			}
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		default:
			b = fmt.Append(b, x)
		}
		b = append(b, 0)
	}
	return string(b)
}

// updateSQL renders UPDATE table SET non-keys WHERE keys.
func updateSQL(d Dialect, table string, s *shape, quote bool) (string, []int) {
	var sets, where []string
	var order []int
	n := 0
	for i, c := range s.cols {
		if !c.key {
			n++
			sets = append(sets, d.Quote(c.name, quote)+" = "+d.Placeholder(n))
			order = append(order, i)
		}
	}
	for i, c := range s.cols {
		if c.key {
			n++
			where = append(where, d.Quote(c.name, quote)+" = "+d.Placeholder(n))
			order = append(order, i)
		}
	}
	return "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(where, " AND "), order
}

// deleteSQL renders DELETE FROM table WHERE (keys) IN ((...), ...) for rows rows.
func deleteSQL(d Dialect, table string, s *shape, rows int, quote bool) string {
	var keys []string
	for _, c := range s.cols {
		if c.key {
			keys = append(keys, d.Quote(c.name, quote))
		}
	}
	var b strings.Builder
	b.WriteString("DELETE FROM " + table + " WHERE (" + strings.Join(keys, ", ") + ") IN (")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for k := range keys {
			if k > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteString(d.Placeholder(n))
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}
