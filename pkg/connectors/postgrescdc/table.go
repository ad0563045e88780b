package postgrescdc

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// column is one column of a captured table.
type column struct {
	name     string
	oid      uint32
	typmod   int32
	optional bool
	included bool // in change events (column.include/exclude.list)
	key      int  // position in the primary key, -1 when not part of it
	field    int  // index in the Value schema's fields, -1 when not included
	keyField int  // index in the Key schema's fields, -1 when not part of it
	schema   *data.Schema
	decode   decoder
}

// table is a captured table's shape and its change events' schemas. The
// column list is in the order PostgreSQL sends tuples (attnum order, dropped
// columns left out).
type table struct {
	schema, name string
	topic        string
	cols         []column
	keyCols      []int // indexes into cols, in primary key order
	keySchema    *data.Schema
	rowSchema    *data.Schema
	envelope     *data.Schema
	// streamSrc is the source block template of the transaction being
	// streamed (streamSource).
	streamSrc struct {
		tx       *txState
		lastEnd  pglogrepl.LSN
		template debezium.PostgresSourceTemplate
	}
}

// id is schema.table, the name filters and transaction metadata use.
func (t *table) id() string { return t.schema + "." + t.name }

// catalogColumn is what the catalog says about a column.
type catalogColumn struct {
	name     string
	oid      uint32
	typmod   int32
	optional bool
	key      int
}

// loadCatalog reads a table's columns (attnum order) and primary key.
func loadCatalog(ctx context.Context, conn *pgconn.PgConn, schema, name string) ([]catalogColumn, error) {
	const q = `SELECT a.attname, a.atttypid, a.atttypmod, NOT a.attnotnull,
  COALESCE(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1), -1)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`
	res := conn.ExecParams(ctx, q, [][]byte{[]byte(schema), []byte(name)}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("reading the columns of %s.%s: %w", schema, name, res.Err)
	}
	cols := make([]catalogColumn, 0, len(res.Rows))
	for _, r := range res.Rows {
		var c catalogColumn
		var oid, typmod, key int64
		if _, err := fmt.Sscan(string(r[1]), &oid); err != nil {
			return nil, err
		}
		if _, err := fmt.Sscan(string(r[2]), &typmod); err != nil {
			return nil, err
		}
		if _, err := fmt.Sscan(string(r[4]), &key); err != nil {
			return nil, err
		}
		c.name, c.oid, c.typmod, c.optional, c.key = string(r[0]), uint32(oid), int32(typmod), string(r[3]) == "t", int(key)
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s.%s not found", schema, name)
	}
	return cols, nil
}

// newTable builds a table's schemas from its columns.
func (s *settings) newTable(schema, name string, cat []catalogColumn) *table {
	t := &table{schema: schema, name: name, topic: debezium.Topic(s.prefix, schema, name)}
	rb := data.StructBuilder().Optional().Name(t.topic + debezium.ValueSuffix)
	keyPos := map[int]int{}
	fields := 0
	for _, c := range cat {
		col := column{name: c.name, oid: c.oid, typmod: c.typmod, optional: c.optional, key: c.key,
			included: c.key >= 0 || s.filter.column(schema, name, c.name), field: -1, keyField: -1}
		col.schema, col.decode = s.columnType(c.oid, c.typmod, c.optional && c.key < 0)
		if col.included {
			rb.Field(c.name, col.schema)
			col.field = fields
			fields++
		}
		if c.key >= 0 {
			keyPos[c.key] = len(t.cols)
		}
		t.cols = append(t.cols, col)
	}
	for i := 0; i < len(keyPos); i++ {
		if j, ok := keyPos[i]; ok {
			t.keyCols = append(t.keyCols, j)
		}
	}
	t.rowSchema = rb.MustBuild()
	if len(t.keyCols) > 0 {
		kb := data.StructBuilder().Name(t.topic + debezium.KeySuffix)
		for i, j := range t.keyCols {
			kb.Field(t.cols[j].name, t.cols[j].schema)
			t.cols[j].keyField = i
		}
		t.keySchema = kb.MustBuild()
	}
	t.envelope = debezium.EnvelopeSchema(t.topic+debezium.EnvelopeSuffix, t.rowSchema, debezium.PostgresSourceSchema)
	return t
}

// tupleValue is one column of a row as PostgreSQL sent it.
type tupleValue struct {
	text    string
	null    bool
	toasted bool // unchanged TOAST value PostgreSQL did not send
}

// row decodes a row into the table's Value struct. Columns the tuple does
// not cover (an old key tuple) stay null.
func (t *table) row(vals []tupleValue) (*data.Struct, error) {
	out := data.NewStruct(t.rowSchema)
	for i := range t.cols {
		c := &t.cols[i]
		if !c.included {
			continue
		}
		if i >= len(vals) || vals[i].null {
			if !c.schema.Optional {
				// A key-only old tuple (REPLICA IDENTITY DEFAULT) lacks the
				// other columns; Debezium's converters fill a required
				// field with its type's fallback value.
				out.Set(c.name, zero(c.schema))
			}
			continue
		}
		v, err := t.value(c, vals[i])
		if err != nil {
			return nil, err
		}
		if err := out.PutAt(c.field, v); err != nil {
			return nil, fmt.Errorf("column %s of %s: %w", c.name, t.id(), err)
		}
	}
	return out, nil
}

func (t *table) value(c *column, v tupleValue) (any, error) {
	if v.toasted {
		switch c.schema.Type {
		case data.TypeString:
			return debezium.UnavailableValue, nil
		case data.TypeBytes:
			return []byte(debezium.UnavailableValue), nil
		}
		return nil, nil
	}
	x, err := c.decode(v.text)
	if err != nil {
		return nil, fmt.Errorf("column %s of %s: %w", c.name, t.id(), err)
	}
	return x, nil
}

// key decodes a row's primary key into the table's Key struct; nil when the
// table has no primary key.
func (t *table) key(vals []tupleValue) (*data.Struct, error) {
	if t.keySchema == nil {
		return nil, nil
	}
	k := data.NewStruct(t.keySchema)
	for _, j := range t.keyCols {
		if j >= len(vals) || vals[j].null {
			return nil, fmt.Errorf("primary key column %s of %s has no value", t.cols[j].name, t.id())
		}
		v, err := t.value(&t.cols[j], vals[j])
		if err != nil {
			return nil, err
		}
		if err := k.PutAt(t.cols[j].keyField, v); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// keyOf is key(vals) for a row already decoded into row (from vals): it
// takes the key columns' values from row instead of decoding them again.
func (t *table) keyOf(row *data.Struct, vals []tupleValue) (*data.Struct, error) {
	if t.keySchema == nil {
		return nil, nil
	}
	k := data.NewStruct(t.keySchema)
	for _, j := range t.keyCols {
		if j >= len(vals) || vals[j].null {
			return t.key(vals) // which says what is missing
		}
		if err := k.PutAt(t.cols[j].keyField, row.At(t.cols[j].field)); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// keyText returns the primary key's text values, for resuming a snapshot.
func (t *table) keyText(vals []tupleValue) []any {
	out := make([]any, len(t.keyCols))
	for i, j := range t.keyCols {
		out[i] = vals[j].text
	}
	return out
}

// source builds the source block of an event of the table.
func (t *table) source(s *settings, snapshot string, commit time.Time, txID, lsn, lastCommit int64) *data.Struct {
	return t.sourceInfo(s, snapshot, commit, txID, lsn, lastCommit).Struct()
}

func (t *table) sourceInfo(s *settings, snapshot string, commit time.Time, txID, lsn, lastCommit int64) debezium.PostgresSource {
	return debezium.PostgresSource{
		Common: debezium.Common{Connector: "postgresql", Name: s.prefix, DB: s.dbname, Snapshot: snapshot, Time: commit},
		Schema: t.schema, Table: t.name, TxID: txID, LSN: lsn, LastCommitLSN: lastCommit,
	}
}

// zero is the fallback value of a required field without a value
// (Debezium's JdbcValueConverters fallback).
func zero(s *data.Schema) any {
	if s.Name == data.DecimalName {
		scale, _ := data.DecimalScale(s)
		return data.NewDecimal(0, scale)
	}
	switch s.Type {
	case data.TypeInt8:
		return int8(0)
	case data.TypeInt16:
		return int16(0)
	case data.TypeInt32:
		if data.IsLogical(s) {
			return time.Unix(0, 0).UTC()
		}
		return int32(0)
	case data.TypeInt64:
		if data.IsLogical(s) {
			return time.Unix(0, 0).UTC()
		}
		return int64(0)
	case data.TypeFloat32:
		return float32(0)
	case data.TypeFloat64:
		return float64(0)
	case data.TypeBoolean:
		return false
	case data.TypeString:
		return ""
	case data.TypeBytes:
		return []byte{}
	}
	return nil
}
